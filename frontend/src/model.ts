// The editable drawing: the document's nodes and links, each with a stable id that the canvas uses,
// so renaming a node or reordering never confuses the drawing. Undo/redo keeps whole snapshots:
// simple, and cheap enough even for 1,000 nodes (one JSON string per edit).

import { normalNode } from "./docdiff";
import type { LinkSpec, NodeKind, NodeSpec, Point, TopologyDoc } from "./types";

export interface NodeItem {
  id: string;
  spec: NodeSpec;
  pos: Point | null;
}

export interface LinkItem {
  id: string;
  spec: LinkSpec;
  // The node ids of the two ends: renaming a node follows these, never names (two nodes may share
  // a name for a moment while someone types).
  aId: string | undefined;
  bId: string | undefined;
}

let counter = 0;
export function newId(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}`;
}

const NAME_RE = /^[a-z][a-z0-9_-]{0,31}$/;

export class Model {
  name = "lab";
  description: string | undefined;
  extra: Record<string, unknown> = {};
  nodes: NodeItem[] = [];
  links: LinkItem[] = [];

  static fromDoc(doc: TopologyDoc): Model {
    const m = new Model();
    const { format: _f, name, description, nodes, links, layout, ...extra } = doc;
    void _f;
    m.name = name || "lab";
    m.description = description;
    m.extra = extra;
    const lay = layout ?? {};
    m.nodes = (nodes ?? []).map((spec) => ({ id: newId("n"), spec: structuredClone(spec), pos: lay[spec.name] ?? null }));
    const byName = new Map<string, string>();
    for (const n of [...m.nodes].reverse()) byName.set(n.spec.name, n.id);
    m.links = (links ?? []).map((spec) => ({
      id: newId("l"),
      spec: structuredClone(spec),
      aId: byName.get(spec.a?.node),
      bId: byName.get(spec.b?.node),
    }));
    return m;
  }

  toDoc(): TopologyDoc {
    const layout: Record<string, Point> = {};
    for (const n of this.nodes) if (n.pos) layout[n.spec.name] = { x: Math.round(n.pos.x), y: Math.round(n.pos.y) };
    const doc: TopologyDoc = { format: "netdesigner/v1", name: this.name, ...this.extra, nodes: [], links: [] };
    if (this.description) doc.description = this.description;
    doc.nodes = this.nodes.map((n) => cleanNode(n.spec));
    doc.links = this.links.map((l) => cleanLink(l.spec));
    doc.layout = layout;
    return doc;
  }

  node(id: string): NodeItem | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  nodeByName(name: string): NodeItem | undefined {
    return this.nodes.find((n) => n.spec.name === name);
  }

  link(id: string): LinkItem | undefined {
    return this.links.find((l) => l.id === id);
  }

  /** A fresh unique name for a new node of `kind`: red, blue, ... for namespaces, v-net-N for bridges. */
  proposeName(kind: NodeKind): string {
    const taken = new Set(this.nodes.map((n) => n.spec.name));
    const pools: Record<NodeKind, string[]> = {
      namespace: ["red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan"],
      bridge: [],
      host: ["host"],
      external: ["lan"],
    };
    for (const c of pools[kind]) if (!taken.has(c)) return c;
    const base = { namespace: "ns", bridge: "v-net", host: "host", external: "ext" }[kind];
    for (let i = kind === "bridge" ? 0 : 1; ; i++) {
      const c = `${base}-${i}`;
      if (!taken.has(c)) return c;
    }
  }

  addNode(kind: NodeKind, pos: Point): NodeItem {
    const spec: NodeSpec = { name: this.proposeName(kind), kind };
    if (kind === "host") spec.forwarding = true;
    const item = { id: newId("n"), spec, pos };
    this.nodes.push(item);
    return item;
  }

  /** Interface names in use where `node` keeps its interfaces (bridges share the host's namespace). */
  private usedInterfaces(nodeName: string): Set<string> {
    const node = this.nodeByName(nodeName);
    const hostSide = (name: string): boolean => {
      const k = this.nodeByName(name)?.spec.kind;
      return k === "bridge" || k === "host";
    };
    const scopeHost = node ? hostSide(nodeName) : false;
    const used = new Set<string>();
    for (const l of this.links) {
      for (const e of [l.spec.a, l.spec.b]) {
        if (e.node === nodeName || (scopeHost && hostSide(e.node))) used.add(e.interface);
      }
    }
    if (scopeHost) for (const n of this.nodes) if (n.spec.kind === "bridge") used.add(n.spec.name);
    return used;
  }

  private unique(base: string, used: Set<string>): string {
    const cut = (s: string) => s.slice(0, 15);
    let c = cut(base);
    for (let i = 1; used.has(c); i++) c = cut(base.slice(0, 15 - String(i).length - 1)) + `-${i}`;
    used.add(c);
    return c;
  }

  /** Cables follow the tutorial's names: veth-red on red, veth-red-br on the bridge. */
  addLink(aId: string, bId: string): LinkItem | null {
    const a = this.node(aId);
    const b = this.node(bId);
    if (!a || !b || a === b) return null;
    const aName = a.spec.name;
    const bName = b.spec.name;
    const aIsBridge = a.spec.kind === "bridge";
    const bIsBridge = b.spec.kind === "bridge";
    let aIf: string;
    let bIf: string;
    if (bIsBridge && !aIsBridge) {
      aIf = this.unique(`veth-${aName}`, this.usedInterfaces(aName));
      bIf = this.unique(`veth-${aName}-br`, this.usedInterfaces(bName));
    } else if (aIsBridge && !bIsBridge) {
      bIf = this.unique(`veth-${bName}`, this.usedInterfaces(bName));
      aIf = this.unique(`veth-${bName}-br`, this.usedInterfaces(aName));
    } else {
      aIf = this.unique(`veth-${aName}`, this.usedInterfaces(aName));
      bIf = this.unique(`veth-${bName}`, this.usedInterfaces(bName));
    }
    const spec: LinkSpec = { a: { node: aName, interface: aIf }, b: { node: bName, interface: bIf } };
    const item = { id: newId("l"), spec, aId, bId };
    this.links.push(item);
    return item;
  }

  renameNode(id: string, name: string): void {
    const n = this.node(id);
    if (!n) return;
    n.spec.name = name;
    for (const l of this.links) {
      if (l.aId === id) l.spec.a.node = name;
      if (l.bId === id) l.spec.b.node = name;
    }
  }

  remove(ids: Set<string>): void {
    this.nodes = this.nodes.filter((n) => !ids.has(n.id));
    this.links = this.links.filter((l) => !ids.has(l.id) && !ids.has(l.aId ?? "") && !ids.has(l.bId ?? ""));
  }

  /** Which item an error path like `links[0].a.addresses[0]` or `nodes[2].name` is about. */
  itemForPath(path: string): string | undefined {
    const m = path.match(/^(nodes|links)\[(\d+)\]/);
    if (!m) return undefined;
    const i = Number(m[2]);
    return m[1] === "nodes" ? this.nodes[i]?.id : this.links[i]?.id;
  }

  /** The error-path prefix of an item: `nodes[3]` or `links[0]`. */
  pathOf(id: string): string | undefined {
    const ni = this.nodes.findIndex((n) => n.id === id);
    if (ni >= 0) return `nodes[${ni}]`;
    const li = this.links.findIndex((l) => l.id === id);
    return li >= 0 ? `links[${li}]` : undefined;
  }
}

export function validName(name: string): boolean {
  return NAME_RE.test(name) && !/[-_]$/.test(name);
}

function dropEmpty<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

function cleanNode(spec: NodeSpec): NodeSpec {
  return normalNode(spec);
}

function cleanLink(spec: LinkSpec): LinkSpec {
  return dropEmpty({ ...spec, a: dropEmpty({ ...spec.a }), b: dropEmpty({ ...spec.b }) });
}

/** Undo/redo over whole-document snapshots. */
export class History {
  private past: string[] = [];
  private future: string[] = [];

  constructor(private limit = 100) {}

  record(snapshot: string): void {
    if (this.past[this.past.length - 1] === snapshot) return;
    this.past.push(snapshot);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
  }

  undo(current: string): string | null {
    const prev = this.past.pop();
    if (prev === undefined) return null;
    this.future.push(current);
    return prev;
  }

  redo(current: string): string | null {
    const next = this.future.pop();
    if (next === undefined) return null;
    this.past.push(current);
    return next;
  }

  clear(): void {
    this.past = [];
    this.future = [];
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }
}
