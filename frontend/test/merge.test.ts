// Three-way merge: a table of (base, mine, theirs) -> merged items and conflicts.
import { describe, expect, it } from "vitest";
import { merge3 } from "../src/merge";
import type { LinkSpec, NodeSpec, TopologyDoc } from "../src/types";

const red: NodeSpec = { name: "red", kind: "namespace" };
const blue: NodeSpec = { name: "blue", kind: "namespace" };
const cable: LinkSpec = { a: { node: "red", interface: "veth-red", addresses: ["10.0.0.1/24"] }, b: { node: "blue", interface: "veth-blue" } };

function doc(nodes: NodeSpec[], links: LinkSpec[] = [], extra: Partial<TopologyDoc> = {}): TopologyDoc {
  return { format: "netdesigner/v1", name: "lab", nodes, links, layout: {}, ...extra };
}

const base = doc([red, blue], [cable]);
const names = (d: TopologyDoc) => d.nodes.map((n) => n.name).sort();

describe("merge3", () => {
  const cases: [string, TopologyDoc, TopologyDoc, string[], number, string[], string[]][] = [
    // name, mine, theirs, merged node names, conflicts, mine keys, theirs keys
    ["nobody changed", base, base, ["blue", "red"], 0, [], []],
    ["both added different nodes", doc([red, blue, { name: "green", kind: "namespace" }], [cable]),
      doc([red, blue, { name: "v-net-0", kind: "bridge" }], [cable]), ["blue", "green", "red", "v-net-0"], 0, ["node green"], ["node v-net-0"]],
    ["I changed red, they changed blue", doc([{ ...red, forwarding: true }, blue], [cable]),
      doc([red, { ...blue, forwarding: true }], [cable]), ["blue", "red"], 0, ["node red"], ["node blue"]],
    ["both made the same change", doc([{ ...red, forwarding: true }, blue], [cable]),
      doc([{ ...red, forwarding: true }, blue], [cable]), ["blue", "red"], 0, [], []],
    ["both changed red differently", doc([{ ...red, forwarding: true }, blue], [cable]),
      doc([{ ...red, routes: [{ to: "default", via: "10.0.0.2" }] }, blue], [cable]), ["blue", "red"], 1, [], []],
    ["I deleted blue's cable, they added a node", doc([red, blue]), doc([red, blue, { name: "lan", kind: "external" }], [cable]),
      ["blue", "lan", "red"], 0, ["cable blue:veth-blue — red:veth-red"], ["node lan"]],
    ["they deleted red, I changed it", doc([{ ...red, forwarding: true }, blue], [cable]), doc([blue]), ["blue"], 1, [], ["cable blue:veth-blue — red:veth-red"]],
    ["forwarding false is no change", doc([{ ...red, forwarding: false }, blue], [cable]), doc([red, { ...blue, forwarding: true }], [cable]),
      ["blue", "red"], 0, [], ["node blue"]],
  ];
  it.each(cases)("%s", (_name, mine, theirs, merged, conflicts, mineKeys, theirKeys) => {
    const r = merge3(base, mine, theirs);
    expect(names(r.doc)).toEqual(merged);
    expect(r.conflicts.length).toBe(conflicts);
    expect(r.mine).toEqual(mineKeys);
    expect(r.theirs).toEqual(theirKeys);
  });

  it("a conflict shows both sides and takes the preferred one", () => {
    const mine = doc([{ ...red, forwarding: true }, blue], [cable]);
    const theirs = doc([{ ...red, routes: [{ to: "default", via: "10.0.0.2" }] }, blue], [cable]);
    const r = merge3(base, mine, theirs);
    expect(r.conflicts[0]).toMatchObject({ kind: "node", key: "red", mine: { forwarding: true }, theirs: { routes: [{ to: "default" }] } });
    expect(r.doc.nodes.find((n) => n.name === "red")?.routes).toHaveLength(1);
    expect(merge3(base, mine, theirs, "mine").doc.nodes.find((n) => n.name === "red")?.forwarding).toBe(true);
  });

  it("a cable whose node the other side removed is a conflict, not a dangling cable", () => {
    const mine = doc([red, blue, { name: "green", kind: "namespace" }], [cable, { a: { node: "green", interface: "g0" }, b: { node: "blue", interface: "b1" } }]);
    const theirs = doc([red], []);
    const r = merge3(base, mine, theirs);
    for (const l of r.doc.links) for (const e of [l.a, l.b]) expect(names(r.doc)).toContain(e.node);
    expect(r.conflicts.map((c) => c.kind)).toContain("cable");
  });

  it("fields and positions merge too", () => {
    const b = doc([red, blue], [], { description: "x", layout: { red: { x: 0, y: 0 }, blue: { x: 10, y: 0 } } });
    const mine = { ...b, layout: { red: { x: 50, y: 5 }, blue: { x: 10, y: 0 } } };
    const theirs = { ...b, description: "y", layout: { red: { x: 0, y: 0 }, blue: { x: 99, y: 9 } } };
    const r = merge3(b, mine, theirs);
    expect(r.doc.description).toBe("y");
    expect(r.doc.layout).toEqual({ red: { x: 50, y: 5 }, blue: { x: 99, y: 9 } });
    expect(merge3(b, { ...b, description: "z" }, theirs).conflicts).toEqual([{ kind: "field", key: "description", base: ["description", "x"], mine: ["description", "z"], theirs: ["description", "y"] }]);
  });
});
