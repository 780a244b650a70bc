import { describe, expect, it } from "vitest";
import { localProblems, natSubnetFor, networkOf } from "../src/localcheck";
import type { TopologyDoc } from "../src/types";

const doc = (nat: { action: "masquerade"; source?: string; out_interface?: string }[]): TopologyDoc => ({
  format: "netdesigner/v1", name: "x",
  nodes: [{ name: "host", kind: "host", nat }, { name: "v-net-0", kind: "bridge", addresses: ["192.168.15.5/24"] }],
  links: [],
});

describe("localProblems", () => {
  it.each([
    [[{ action: "masquerade" as const }], ["nodes[0].nat[0]"]],
    [[{ action: "masquerade" as const, source: "192.168.15.0/24" }], []],
    [[{ action: "masquerade" as const, out_interface: "eth0" }], []],
    [[{ action: "masquerade" as const, source: "0.0.0.0/0" }], []],
  ])("%j", (nat, paths) => {
    expect(localProblems(doc(nat)).map((p) => p.path)).toEqual(paths);
  });
});

describe("natSubnetFor", () => {
  it("proposes the bridge's subnet for the host", () => expect(natSubnetFor(doc([]), "host")).toBe("192.168.15.0/24"));
  it("nothing when the node has no address", () => expect(natSubnetFor(doc([]), "v-net-0")).toBeNull());
  it.each([
    ["192.168.15.5/24", "192.168.15.0/24"], ["10.1.2.3/8", "10.0.0.0/8"], ["10.1.2.3/32", "10.1.2.3/32"],
    ["10.1.2.3/0", "0.0.0.0/0"], ["fe80::1/64", null], ["300.1.1.1/24", null], ["10.0.0.1/33", null],
  ])("networkOf(%s) = %s", (cidr, net) => expect(networkOf(cidr)).toBe(net));
});
