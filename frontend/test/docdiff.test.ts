import { describe, expect, it } from "vitest";
import { canonical, diffDocs, normalNode, summarise, unionDoc } from "../src/docdiff";
import type { TopologyDoc } from "../src/types";

const v1: TopologyDoc = {
  format: "netdesigner/v1", name: "pair",
  nodes: [{ name: "red", kind: "namespace" }, { name: "blue", kind: "namespace" }],
  links: [{ a: { node: "red", interface: "veth-red" }, b: { node: "blue", interface: "veth-blue" } }],
  layout: { red: { x: 0, y: 0 }, blue: { x: 100, y: 0 } },
};

describe("normalNode", () => {
  it.each([
    [{ name: "red", kind: "namespace", forwarding: false }, { name: "red", kind: "namespace" }],
    [{ name: "red", kind: "namespace", forwarding: true }, { name: "red", kind: "namespace", forwarding: true }],
    [{ name: "host", kind: "host", forwarding: true }, { name: "host", kind: "host" }],
    [{ name: "host", kind: "host", forwarding: false }, { name: "host", kind: "host", forwarding: false }],
    [{ name: "red", kind: "namespace", routes: [], nat: [] }, { name: "red", kind: "namespace" }],
  ] as const)("%j -> %j", (input, out) => {
    expect(normalNode(input as never)).toEqual(out);
  });
});

describe("diffDocs", () => {
  it("marks added, removed, changed and same, and moves apart", () => {
    const v2: TopologyDoc = {
      ...v1,
      nodes: [{ name: "red", kind: "namespace", forwarding: true }, { name: "blue", kind: "namespace" }, { name: "green", kind: "namespace" }],
      links: [],
      layout: { red: { x: 5, y: 0 }, blue: { x: 100, y: 0 }, green: { x: 0, y: 90 } },
    };
    const d = diffDocs(v1, v2);
    expect(d.nodes.map((c) => [c.key, c.change, c.fields])).toEqual([
      ["red", "changed", ["forwarding"]], ["blue", "same", []], ["green", "added", []]]);
    expect(d.links.map((c) => c.change)).toEqual(["removed"]);
    expect(d.moved).toEqual(["red"]);
    expect(summarise(d)).toBe("1 node added, 1 node changed, 1 cable removed");
    const u = unionDoc(v1, v2, d);
    expect(u.nodes.map((n) => n.name)).toEqual(["red", "blue", "green"]);
    expect(u.links).toHaveLength(1);
  });
  it("key order and forwarding defaults are no change", () => {
    const again: TopologyDoc = { ...v1, nodes: [{ kind: "namespace", name: "red", forwarding: false }, { name: "blue", kind: "namespace" }] };
    expect(summarise(diffDocs(v1, again))).toBe("no design change");
  });
  it("canonical sorts keys", () => {
    expect(canonical({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });
});
