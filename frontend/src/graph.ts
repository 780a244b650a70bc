// The Cytoscape canvas: styles, mirroring the model into elements, status marks and highlights.
// Kept cheap for 1,000 nodes: one canvas, simple styles, textures while panning, no per-node DOM.

import cytoscape from "cytoscape";
import edgehandles from "cytoscape-edgehandles";
import type { Model } from "./model";

cytoscape.use(edgehandles);

export type Status = "deployed" | "changed" | "drifted" | "failed" | "";

export const STATUS_TEXT: Record<Exclude<Status, "">, string> = {
  deployed: "✓ deployed",
  changed: "✎ changed",
  drifted: "⚠ drifted",
  failed: "✗ failed",
};

// Shapes and colours come from per-kind classes (k-bridge...): cheaper than data-mapped styles.
const KIND_SIZE: Record<string, { w: number; h: number }> = {
  namespace: { w: 70, h: 44 },
  bridge: { w: 96, h: 30 },
  host: { w: 84, h: 50 },
  external: { w: 76, h: 50 },
};

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: "node",
    style: {
      shape: "round-rectangle",
      "background-color": "#dbeafe",
      width: "data(w)",
      height: "data(h)",
      "border-width": 1.5,
      "border-color": "#475569",
      label: "data(label)",
      "text-wrap": "wrap",
      "text-valign": "center",
      "text-halign": "center",
      "font-size": 12,
      "font-family": "system-ui, sans-serif",
      color: "#0f172a",
      "min-zoomed-font-size": 6,
    },
  },
  { selector: "node.k-bridge", style: { shape: "rectangle", "background-color": "#fef3c7" } },
  { selector: "node.k-host", style: { shape: "barrel", "background-color": "#e5e7eb" } },
  { selector: "node.k-external", style: { shape: "hexagon", "background-color": "#dcfce7" } },
  {
    selector: "edge",
    style: {
      width: 2,
      "line-color": "#64748b",
      // Haystack lines are Cytoscape's cheapest edges: no control points, no end projections.
      "curve-style": "haystack",
      "haystack-radius": 0,
    },
  },
  {
    // Interface names on cable ends only on small drawings (big ones skip the label work).
    selector: "edge.labelled",
    style: {
      "curve-style": "straight",
      "source-label": "data(alabel)",
      "text-wrap": "wrap",
      "target-label": "data(blabel)",
      "source-text-offset": 38,
      "target-text-offset": 38,
      "font-size": 9,
      color: "#334155",
      "text-background-color": "#f8fafc",
      "text-background-opacity": 0.85,
      "text-background-padding": "1px",
      "min-zoomed-font-size": 7,
    },
  },
  { selector: ".st-deployed", style: { "border-color": "#15803d", "border-width": 3, "line-color": "#16a34a" } },
  {
    selector: ".st-changed",
    style: { "border-color": "#b45309", "border-width": 3, "border-style": "dashed", "line-color": "#d97706", "line-style": "dashed" },
  },
  {
    selector: ".st-drifted",
    style: { "border-color": "#7c3aed", "border-width": 3, "border-style": "double", "line-color": "#7c3aed", "line-style": "dotted" },
  },
  { selector: "node.st-failed", style: { "border-color": "#b91c1c", "border-width": 4 } },
  // Cables: a pattern per state besides the colour (solid, dashed, dotted, dash-dot); a drifted cable
  // also carries a text badge: on the drifted end's label, or in its middle when ends are unlabelled.
  { selector: "edge.st-failed", style: { "line-color": "#dc2626", "line-style": "dashed", "line-dash-pattern": [10, 3, 2, 3], width: 3 } },
  {
    // Text colour and background apply to all of an edge's labels: its ends and the middle badge.
    selector: "edge.st-drifted",
    style: {
      "curve-style": "straight",
      width: 3,
      label: "data(label)",
      "font-size": 10,
      color: "#5b21b6",
      "text-background-color": "#f5f3ff",
      "text-background-opacity": 0.95,
      "text-background-padding": "1px",
      "min-zoomed-font-size": 5,
    },
  },
  { selector: ".has-error", style: { "overlay-color": "#dc2626", "overlay-opacity": 0.18, "overlay-padding": 6 } },
  { selector: "edge.path", style: { "line-color": "#2563eb", width: 5 } },
  { selector: "node.path", style: { "border-color": "#2563eb", "border-width": 4, "background-color": "#bfdbfe" } },
  { selector: ":selected", style: { "overlay-color": "#2563eb", "overlay-opacity": 0.2, "overlay-padding": 5 } },
  // edgehandles also puts eh-preview on the target node: the edge-only style must not shrink it.
  { selector: "edge.eh-preview, edge.eh-ghost-edge", style: { "line-color": "#2563eb", "line-style": "dashed", width: 2 } },
  { selector: ".eh-ghost-edge.eh-preview-active", style: { opacity: 0 } },
  { selector: ".eh-source, .eh-target", style: { "border-color": "#2563eb", "border-width": 3 } },
  { selector: ".eh-ghost-node", style: { width: 1, height: 1, opacity: 0, label: "" } },
];

export interface Canvas {
  cy: cytoscape.Core;
  eh: {
    enableDrawMode(): void;
    disableDrawMode(): void;
    disable(): void;
    enable(): void;
    /** Starts a cable gesture from a node (what the hover handle does on press). */
    start(node: cytoscape.NodeSingular): void;
    /** Moves the loose end to a model position (snaps to a node near it). */
    update(pos: { x: number; y: number }): void;
    /** Ends the gesture: a cable if the end is on a node, nothing otherwise. */
    stop(): void;
  };
}

export function createCanvas(container: HTMLElement, onConnect: (a: string, b: string) => void): Canvas {
  const cy = cytoscape({
    container,
    style: STYLE,
    textureOnViewport: true,
    hideEdgesOnViewport: true,
    motionBlur: false,
    pixelRatio: 1,
    minZoom: 0.05,
    maxZoom: 4,
    boxSelectionEnabled: true,
    selectionType: "single", // Shift/Ctrl-click or Shift-drag a box adds to the selection
  });
  const eh = (cy as unknown as { edgehandles(o: object): Canvas["eh"] }).edgehandles({
    canConnect: (s: cytoscape.NodeSingular, t: cytoscape.NodeSingular) => !s.same(t) && !t.hasClass("eh-ghost-node"),
    edgeParams: () => ({ data: { temp: true } }),
    snap: true,
    snapThreshold: 30,
    hoverDelay: 50,
  });
  cy.on("ehcomplete", (_e: cytoscape.EventObject, ...extra: unknown[]) => {
    const [source, target, added] = extra as [cytoscape.NodeSingular, cytoscape.NodeSingular, cytoscape.EdgeSingular];
    added.remove();
    onConnect(source.id(), target.id());
  });
  return { cy, eh };
}

function nodeLabel(name: string, status: Status, addresses: string[] | undefined): string {
  const lines = [name, ...(addresses ?? [])];
  if (status) lines.push(STATUS_TEXT[status]);
  return lines.join("\n");
}

function endLabel(iface: string, addresses: string[] | undefined, drifted: boolean): string {
  return [iface, ...(addresses ?? []), ...(drifted ? [STATUS_TEXT.drifted] : [])].join("\n");
}

/** Makes the elements match the model: adds, updates and removes only what differs. `driftEnds` holds
 * "<link id>:a" / "<link id>:b" for cable ends the last drift report named. */
export function syncCanvas(
  cy: cytoscape.Core,
  model: Model,
  status: Map<string, Status>,
  showLabels: boolean,
  driftEnds: ReadonlySet<string> = new Set(),
): void {
  cy.batch(() => {
    const want = new Set<string>();
    const added: cytoscape.ElementDefinition[] = [];
    for (const n of model.nodes) {
      want.add(n.id);
      const k = KIND_SIZE[n.spec.kind] ?? KIND_SIZE.namespace;
      const st = status.get(n.id) ?? "";
      const label = nodeLabel(n.spec.name, st, n.spec.addresses);
      const lines = label.split("\n");
      const w = Math.max(k.w, 7.2 * Math.max(...lines.map((x) => x.length)) + 16);
      const hgt = Math.max(k.h, 15 * lines.length + 14);
      const data = { id: n.id, name: n.spec.name, kind: n.spec.kind, label, w, h: hgt };
      const el = cy.getElementById(n.id);
      if (el.empty()) {
        added.push({ group: "nodes", data, classes: `k-${n.spec.kind}`, position: n.pos ? { ...n.pos } : { x: 0, y: 0 } });
      } else if (el.data("label") !== data.label || el.data("name") !== data.name) {
        el.data({ name: data.name, label, w, h: hgt });
      }
    }
    for (const l of model.links) {
      const s = l.aId;
      const t = l.bId;
      if (!s || !t) continue;
      want.add(l.id);
      const st = status.get(l.id) ?? "";
      const data = {
        id: l.id,
        source: s,
        target: t,
        alabel: showLabels ? endLabel(l.spec.a.interface, l.spec.a.addresses, driftEnds.has(`${l.id}:a`)) : "",
        blabel: showLabels ? endLabel(l.spec.b.interface, l.spec.b.addresses, driftEnds.has(`${l.id}:b`)) : "",
        // Only drift gets a badge on cables: the other states are the same for most cables at once.
        label: st === "drifted" && !showLabels ? STATUS_TEXT.drifted : "",
      };
      const el = cy.getElementById(l.id);
      if (el.nonempty() && (el.data("source") !== s || el.data("target") !== t)) el.remove();
      if (el.empty() || el.removed()) {
        added.push({ group: "edges", data, classes: showLabels ? "labelled" : "" });
      } else {
        if (el.data("alabel") !== data.alabel || el.data("blabel") !== data.blabel || el.data("label") !== data.label) {
          el.data({ alabel: data.alabel, blabel: data.blabel, label: data.label });
        }
        if (el.hasClass("labelled") !== showLabels) el.toggleClass("labelled", showLabels);
      }
    }
    cy.elements().forEach((el) => {
      if (!want.has(el.id()) && !el.hasClass("eh-preview") && !el.hasClass("eh-ghost")) el.remove();
    });
    if (added.length) cy.add(added);
    for (const st of ["deployed", "changed", "drifted", "failed"]) cy.elements(`.st-${st}`).removeClass(`st-${st}`);
    for (const [id, st] of status) if (st) cy.getElementById(id).addClass(`st-${st}`);
  });
}

/** Positions of nodes back into the model (before saving or snapshotting). */
export function readPositions(cy: cytoscape.Core, model: Model): void {
  for (const n of model.nodes) {
    const el = cy.getElementById(n.id);
    if (el.nonempty()) {
      const p = el.position();
      n.pos = { x: p.x, y: p.y };
    }
  }
}

/** Auto-layout: breadthfirst for small drawings, a cheap grid for big ones. */
export function autoLayout(cy: cytoscape.Core, onlyMissing: cytoscape.NodeCollection | null = null): void {
  const eles = onlyMissing ?? cy.elements();
  const big = cy.nodes().length > 300;
  const opts: cytoscape.LayoutOptions = big
    ? { name: "grid", animate: false, avoidOverlap: true, condense: true, spacingFactor: 1.1 }
    : ({ name: "breadthfirst", animate: false, spacingFactor: 1.2, directed: false, padding: 30 } as cytoscape.LayoutOptions);
  eles.layout(opts).run();
}

/** Shortest path (in cables) between two nodes, for the ping highlight. */
export function highlightPath(cy: cytoscape.Core, fromId: string, toId: string | null): void {
  cy.elements(".path").removeClass("path");
  if (!toId) return;
  const from = cy.getElementById(fromId);
  const to = cy.getElementById(toId);
  if (from.empty() || to.empty()) return;
  const res = cy.elements().aStar({ root: from, goal: to, directed: false });
  if (res.found) res.path.addClass("path");
}

/** Zoom to fit from node positions alone: cy.fit() measures every label first, which costs about a
 * second with 1,000 nodes; positions plus a margin for the node size are enough to frame the drawing. */
export function fitCheap(cy: cytoscape.Core, padding = 40, maxZoom = 1.6): void {
  const nodes = cy.nodes();
  if (nodes.empty()) return;
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  nodes.forEach((n) => {
    const p = n.position();
    const hw = Number(n.data("w") ?? 80) / 2 + 10;
    const hh = Number(n.data("h") ?? 40) / 2 + 10;
    x1 = Math.min(x1, p.x - hw);
    y1 = Math.min(y1, p.y - hh);
    x2 = Math.max(x2, p.x + hw);
    y2 = Math.max(y2, p.y + hh);
  });
  const w = cy.width() - 2 * padding;
  const h = cy.height() - 2 * padding;
  const zoom = Math.min(maxZoom, Math.max(cy.minZoom(), Math.min(w / Math.max(1, x2 - x1), h / Math.max(1, y2 - y1))));
  cy.viewport({
    zoom,
    pan: { x: (cy.width() - zoom * (x1 + x2)) / 2, y: (cy.height() - zoom * (y1 + y2)) / 2 },
  });
}
