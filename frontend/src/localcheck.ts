// Checks the browser makes before saving, for mistakes the document format allows but a person
// rarely means. Pure functions over the document; unit-tested.

import type { FieldError, TopologyDoc } from "./types";

/** Problems to fix before a save reaches the server (same {path, message} shape as a 422). */
export function localProblems(doc: TopologyDoc): FieldError[] {
  const out: FieldError[] = [];
  (doc.nodes ?? []).forEach((node, i) => {
    (node.nat ?? []).forEach((rule, j) => {
      if (!rule.source && !rule.out_interface) {
        out.push({
          path: `nodes[${i}].nat[${j}]`,
          message: "this rule names no source subnet and no out interface, so it would masquerade everything that " +
            "leaves the node; give the subnet to hide (e.g. 192.168.15.0/24), or 0.0.0.0/0 if you mean everything",
        });
      }
    });
  });
  return out;
}

/** Network of an IPv4 CIDR ("192.168.15.5/24" -> "192.168.15.0/24"); null when not IPv4 CIDR. */
export function networkOf(cidr: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) return null;
  const bits = Number(m[5]);
  const parts = m.slice(1, 5).map(Number);
  if (bits > 32 || parts.some((p) => p > 255)) return null;
  const value = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const net = (value & mask) >>> 0;
  return `${[net >>> 24, (net >>> 16) & 255, (net >>> 8) & 255, net & 255].join(".")}/${bits}`;
}

/** The subnet a new NAT rule of `node` most likely hides: that of the node's bridge addresses (the
 * host's v-net-0 in the tutorial), else of its first addressed cable end; null when it has none. */
export function natSubnetFor(doc: TopologyDoc, node: string): string | null {
  const spec = (doc.nodes ?? []).find((n) => n.name === node);
  const candidates: string[] = [];
  if (spec?.kind === "host") for (const b of doc.nodes ?? []) if (b.kind === "bridge") candidates.push(...(b.addresses ?? []));
  for (const l of doc.links ?? []) for (const e of [l.a, l.b]) if (e.node === node) candidates.push(...(e.addresses ?? []));
  for (const c of candidates) {
    const net = networkOf(c);
    if (net) return net;
  }
  return null;
}
