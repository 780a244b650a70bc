// What changed between two documents, as a person sees it on the canvas: nodes by name, cables by
// their two ends (the same keys as the server's `documents_diff`). Pure: no DOM, unit-tested.

import type { LinkSpec, NodeSpec, Point, TopologyDoc } from "./types";

export type Change = "added" | "removed" | "changed" | "same";

export interface ItemChange<T> {
  key: string;
  change: Change;
  before: T | null;
  after: T | null;
  /** Top-level fields that differ (for "changed"). */
  fields: string[];
}

export interface DocDiff {
  nodes: ItemChange<NodeSpec>[];
  links: ItemChange<LinkSpec>[];
  /** Nodes drawn somewhere else (layout only: not a design change). */
  moved: string[];
}

/** A node as the engine reads it: no empty fields, and `forwarding` only when it differs from the
 * kind's default (on for the host, off elsewhere), so `forwarding: false` on a namespace and no
 * `forwarding` at all are one and the same node (they were "changed since apply" apart). */
export function normalNode(spec: NodeSpec): NodeSpec {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  if (typeof spec.forwarding === "boolean" && spec.forwarding === (spec.kind === "host")) delete out.forwarding;
  return out as NodeSpec;
}

/** A cable end or cable without empty fields. */
export function normalLink(spec: LinkSpec): LinkSpec {
  const clean = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => !(v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0))));
  return { ...clean(spec), a: clean(spec.a), b: clean(spec.b) } as LinkSpec;
}

export function linkKey(l: LinkSpec): string {
  return [l.a, l.b].map((e) => `${e?.node}:${e?.interface}`).sort().join(" — ");
}

/** A stable JSON text: object keys sorted, so {a,b} and {b,a} compare equal. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

function fieldsDiffer(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => canonical(a[k]) !== canonical(b[k])).sort();
}

function section<T extends object>(before: T[], after: T[], key: (t: T) => string): ItemChange<T>[] {
  const old = new Map(before.map((t) => [key(t), t]));
  const out: ItemChange<T>[] = [];
  const seen = new Set<string>();
  for (const t of after) {
    const k = key(t);
    seen.add(k);
    const o = old.get(k);
    if (!o) out.push({ key: k, change: "added", before: null, after: t, fields: [] });
    else {
      const fields = fieldsDiffer(o as Record<string, unknown>, t as Record<string, unknown>);
      out.push({ key: k, change: fields.length ? "changed" : "same", before: o, after: t, fields });
    }
  }
  for (const [k, o] of old) if (!seen.has(k)) out.push({ key: k, change: "removed", before: o, after: null, fields: [] });
  return out;
}

export function diffDocs(before: TopologyDoc, after: TopologyDoc): DocDiff {
  const lb = before.layout ?? {};
  const la = after.layout ?? {};
  const moved = Object.keys(la).filter((k) => lb[k] && (lb[k].x !== la[k].x || lb[k].y !== la[k].y)).sort();
  return {
    nodes: section((before.nodes ?? []).map(normalNode), (after.nodes ?? []).map(normalNode), (n) => n.name),
    links: section((before.links ?? []).map(normalLink), (after.links ?? []).map(normalLink), linkKey),
    moved,
  };
}

/** Both versions in one drawing: the newer one plus what it removed, in diff order (nodes, links),
 * so element i of the drawing is item i of the diff. */
export function unionDoc(before: TopologyDoc, after: TopologyDoc, diff: DocDiff): TopologyDoc {
  const layout: Record<string, Point> = { ...(before.layout ?? {}), ...(after.layout ?? {}) };
  return {
    format: "netdesigner/v1",
    name: after.name,
    nodes: diff.nodes.map((c) => (c.after ?? c.before) as NodeSpec),
    links: diff.links.map((c) => (c.after ?? c.before) as LinkSpec),
    layout,
  };
}

export function summarise(diff: DocDiff): string {
  const count = (items: ItemChange<unknown>[], c: Change) => items.filter((i) => i.change === c).length;
  const parts: string[] = [];
  for (const [label, items] of [["node", diff.nodes], ["cable", diff.links]] as const) {
    for (const c of ["added", "removed", "changed"] as const) {
      const n = count(items as ItemChange<unknown>[], c);
      if (n) parts.push(`${n} ${label}${n > 1 ? "s" : ""} ${c}`);
    }
  }
  return parts.length ? parts.join(", ") : "no design change";
}
