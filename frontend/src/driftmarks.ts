// Which drawn elements a drift report names. The report speaks kernel ({"node","kind","what",...}:
// "what" starts with an interface name for interface items), the drawing speaks nodes and cables:
// a cable is drifted when one of its ends is the (node, interface) an item names.

import type { Model } from "./model";

/** Drift kinds whose "what" starts with an interface name ("address" is "<iface> <cidr>"). */
const IFACE_KINDS = new Set(["link", "master", "state", "mtu", "mac", "address"]);

export interface DriftMarks {
  nodes: Set<string>; // element ids
  links: Set<string>; // element ids
  ends: Set<string>; // "<link id>:a" / "<link id>:b": the cable ends whose interface drifted
}

interface Item {
  node: string;
  kind: string;
  iface: string | null;
}

function parse(it: unknown): Item | null {
  if (!it || typeof it !== "object") return null;
  const d = it as { node?: unknown; kind?: unknown; what?: unknown };
  const node = typeof d.node === "string" ? d.node : "";
  if (!node) return null;
  const kind = typeof d.kind === "string" ? d.kind : "";
  const what = typeof d.what === "string" ? d.what.trim() : "";
  const iface = IFACE_KINDS.has(kind) && what ? what.split(/\s+/)[0] : null;
  return { node, kind, iface };
}

/** The nodes and cables a drift report names, as element ids of the current drawing. */
export function driftMarks(items: unknown[], model: Model): DriftMarks {
  const out: DriftMarks = { nodes: new Set(), links: new Set(), ends: new Set() };
  const byName = new Map(model.nodes.map((n) => [n.spec.name, n]));
  const kindOf = (name: string) => byName.get(name)?.spec.kind;
  for (const raw of items) {
    const it = parse(raw);
    if (!it) continue;
    const node = byName.get(it.node);
    if (node) out.nodes.add(node.id);
    if (!it.iface) continue;
    // A bridge is a device in the host's namespace, so drift names the host for the bridge and its ports.
    const onHost = kindOf(it.node) === "host";
    const bridge = byName.get(it.iface);
    if (onHost && bridge?.spec.kind === "bridge") out.nodes.add(bridge.id);
    for (const l of model.links) {
      for (const [side, e] of [["a", l.spec.a], ["b", l.spec.b]] as const) {
        if (e.interface !== it.iface) continue;
        if (e.node === it.node || (onHost && kindOf(e.node) === "bridge")) {
          out.links.add(l.id);
          out.ends.add(`${l.id}:${side}`);
          const end = byName.get(e.node);
          if (end) out.nodes.add(end.id);
        }
      }
    }
  }
  return out;
}
