// Three-way merge of two edits of one document: `base` is the version both started from, `mine` the
// unsaved drawing, `theirs` the version someone else saved. Nodes merge by name, cables by their two
// ends, top-level fields by key, positions per node. An item only one side changed takes that side;
// an item both changed the same way is taken once; an item both changed differently (or one changed
// and the other deleted) is a conflict, shown with both sides. Pure: no DOM, unit-tested.

import { canonical, linkKey, normalLink, normalNode } from "./docdiff";
import type { LinkSpec, NodeSpec, Point, TopologyDoc } from "./types";

export interface Conflict {
  kind: "node" | "cable" | "field";
  key: string;
  base: unknown;
  mine: unknown;
  theirs: unknown;
}

export interface MergeResult {
  /** The merged document; conflicting items take `prefer`'s side (theirs unless told otherwise). */
  doc: TopologyDoc;
  conflicts: Conflict[];
  /** Keys of what each side changed that made it into the merge ("node red", "cable a:x — b:y"). */
  mine: string[];
  theirs: string[];
}

type Side = "mine" | "theirs";

function keyed<T>(items: T[] | undefined, key: (t: T) => string): Map<string, T> {
  return new Map((items ?? []).map((t) => [key(t), t]));
}

function mergeItems<T>(
  kind: Conflict["kind"],
  label: string,
  base: Map<string, T>,
  mine: Map<string, T>,
  theirs: Map<string, T>,
  norm: (t: T) => unknown,
  prefer: Side,
  out: MergeResult,
): T[] {
  const same = (a: T | undefined, b: T | undefined) =>
    a === undefined || b === undefined ? a === b : canonical(norm(a)) === canonical(norm(b));
  // Order: theirs first (what the others see), then what only mine has.
  const keys = [...theirs.keys(), ...[...mine.keys()].filter((k) => !theirs.has(k)), ...[...base.keys()].filter((k) => !theirs.has(k) && !mine.has(k))];
  const result: T[] = [];
  for (const k of keys) {
    const b = base.get(k);
    const m = mine.get(k);
    const t = theirs.get(k);
    let pick: T | undefined;
    if (same(m, t)) pick = t;
    else if (same(m, b)) {
      pick = t;
      out.theirs.push(`${label} ${k}`);
    } else if (same(t, b)) {
      pick = m;
      out.mine.push(`${label} ${k}`);
    } else {
      out.conflicts.push({ kind, key: k, base: b ?? null, mine: m ?? null, theirs: t ?? null });
      pick = prefer === "mine" ? m : t;
    }
    if (pick !== undefined) result.push(pick);
  }
  return result;
}

function mergeLayout(base: TopologyDoc, mine: TopologyDoc, theirs: TopologyDoc, nodes: NodeSpec[]): Record<string, Point> {
  const lb = base.layout ?? {};
  const lm = mine.layout ?? {};
  const lt = theirs.layout ?? {};
  const out: Record<string, Point> = {};
  for (const n of nodes) {
    const moved = lm[n.name] && (!lb[n.name] || lb[n.name].x !== lm[n.name].x || lb[n.name].y !== lm[n.name].y);
    const p = moved ? lm[n.name] : (lt[n.name] ?? lm[n.name]);
    if (p) out[n.name] = p;
  }
  return out;
}

const FIELDS_APART = new Set(["format", "nodes", "links", "layout"]);

export function merge3(base: TopologyDoc, mine: TopologyDoc, theirs: TopologyDoc, prefer: Side = "theirs"): MergeResult {
  const out: MergeResult = { doc: { ...theirs }, conflicts: [], mine: [], theirs: [] };
  const nodes = mergeItems<NodeSpec>("node", "node", keyed(base.nodes, (n) => n.name), keyed(mine.nodes, (n) => n.name),
    keyed(theirs.nodes, (n) => n.name), normalNode, prefer, out);
  const links = mergeItems<LinkSpec>("cable", "cable", keyed(base.links, linkKey), keyed(mine.links, linkKey),
    keyed(theirs.links, linkKey), normalLink, prefer, out);
  const doc: Record<string, unknown> = { format: "netdesigner/v1" };
  const fieldKeys = new Set([...Object.keys(base), ...Object.keys(mine), ...Object.keys(theirs)].filter((k) => !FIELDS_APART.has(k)));
  const asMap = (d: TopologyDoc) => new Map(Object.entries(d).filter(([k, v]) => fieldKeys.has(k) && v !== undefined));
  const fields = mergeItems<[string, unknown]>("field", "field",
    new Map([...asMap(base)].map(([k, v]) => [k, [k, v]])), new Map([...asMap(mine)].map(([k, v]) => [k, [k, v]])),
    new Map([...asMap(theirs)].map(([k, v]) => [k, [k, v]])), (e) => e[1], prefer, out);
  for (const [k, v] of fields) doc[k] = v;
  // A cable whose node the other side removed cannot be kept: that is a conflict too.
  const names = new Set(nodes.map((n) => n.name));
  const kept: LinkSpec[] = [];
  for (const l of links) {
    if (names.has(l.a.node) && names.has(l.b.node)) kept.push(l);
    else if (!out.conflicts.some((c) => c.kind === "cable" && c.key === linkKey(l))) {
      out.conflicts.push({ kind: "cable", key: linkKey(l), base: null, mine: l, theirs: "its node was removed" });
    }
  }
  doc.nodes = nodes;
  doc.links = kept;
  doc.layout = mergeLayout(base, mine, theirs, nodes);
  out.doc = doc as TopologyDoc;
  return out;
}

/** A side of a conflict in a few words, for the banner. */
export function sideText(v: unknown): string {
  if (v === null || v === undefined) return "deleted";
  if (typeof v === "string") return v;
  const text = canonical(v);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}
