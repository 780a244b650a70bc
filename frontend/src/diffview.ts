// The History tab's comparison: two versions drawn as one on a read-only canvas laid over the editor's
// (added nodes and cables marked green and "+", removed red, dashed and "−", changed amber and "~"),
// and the same changes as a list. The editor's own drawing is untouched underneath.

import type cytoscape from "cytoscape";
import { h } from "./dom";
import { diffDocs, summarise, unionDoc, type Change, type DocDiff } from "./docdiff";
import { createCanvas, fitCheap, syncCanvas } from "./graph";
import { Model } from "./model";
import type { TopologyDoc } from "./types";

const MARK: Record<Exclude<Change, "same">, string> = { added: "+", removed: "−", changed: "~" };

const DIFF_STYLE: [string, Record<string, unknown>][] = [
  ["node.d-added", { "border-color": "#15803d", "border-width": 4 }],
  ["edge.d-added", { "line-color": "#16a34a", width: 4 }],
  ["node.d-removed", { "border-color": "#b91c1c", "border-width": 4, "border-style": "dashed", opacity: 0.75 }],
  ["edge.d-removed", { "line-color": "#dc2626", "line-style": "dashed", opacity: 0.75, width: 4 }],
  ["node.d-changed", { "border-color": "#b45309", "border-width": 4, "border-style": "double" }],
  ["edge.d-changed", { "line-color": "#d97706", width: 4 }],
  [".d-same", { opacity: 0.45 }],
];

export class DiffView {
  private overlay: HTMLElement | null = null;
  private cy: cytoscape.Core | null = null;
  readonly bar: HTMLElement;

  constructor(private canvasWrap: HTMLElement, barMount: HTMLElement) {
    this.bar = h("div", { class: "diff-bar", hidden: true, role: "status", "data-testid": "diff-bar" });
    barMount.before(this.bar);
  }

  get open(): boolean {
    return this.overlay !== null;
  }

  /** Draws `before` → `after` over the canvas; returns the diff (for the list). */
  show(before: TopologyDoc, after: TopologyDoc, title: string): DocDiff {
    this.close();
    const diff = diffDocs(before, after);
    const model = Model.fromDoc(unionDoc(before, after, diff));
    const changes = [...diff.nodes.map((c) => c.change), ...diff.links.map((c) => c.change)];
    const items = [...model.nodes, ...model.links];
    this.overlay = h("div", { class: "canvas diff-canvas", "data-testid": "diff-canvas", "aria-label": `${title}: ${summarise(diff)}`, role: "img" });
    this.canvasWrap.append(this.overlay);
    const canvas = createCanvas(this.overlay, () => {});
    canvas.eh.disable();
    const cy = canvas.cy;
    this.cy = cy;
    cy.autoungrabify(true);
    syncCanvas(cy, model, new Map(), true, new Set());
    let style = cy.style();
    for (const [sel, css] of DIFF_STYLE) style = style.selector(sel).style(css);
    style.update();
    items.forEach((item, i) => {
      const change = changes[i];
      const el = cy.getElementById(item.id);
      el.addClass(`d-${change}`);
      el.data("change", change);
      if (change !== "same" && el.isNode()) el.data("label", `${MARK[change]} ${String(el.data("label"))}`);
    });
    fitCheap(cy);
    (window as unknown as { netdesignerDiff: unknown }).netdesignerDiff = cy; // for the browser tests
    const close = h("button", { type: "button", class: "small", text: "Close comparison" });
    close.addEventListener("click", () => this.close());
    this.bar.replaceChildren(h("strong", { text: title }), h("span", { text: summarise(diff) }),
      h("span", { class: "muted small", text: "green + added · red − removed · amber ~ changed" }), close);
    this.bar.hidden = false;
    return diff;
  }

  close(): void {
    this.cy?.destroy();
    this.cy = null;
    this.overlay?.remove();
    this.overlay = null;
    this.bar.hidden = true;
  }
}

/** The changes as list items, newest drawing's order. */
export function diffList(diff: DocDiff): HTMLElement {
  const rows: HTMLElement[] = [];
  for (const [label, items] of [["node", diff.nodes], ["cable", diff.links]] as const) {
    for (const c of items) {
      if (c.change === "same") continue;
      const what = c.change === "changed" ? ` (${c.fields.join(", ")})` : "";
      rows.push(h("li", { class: `d-${c.change}`, "data-change": c.change }, `${MARK[c.change]} ${label} ${c.key} ${c.change}${what}`));
    }
  }
  if (diff.moved.length) rows.push(h("li", { class: "muted" }, `moved on the drawing: ${diff.moved.join(", ")}`));
  if (!rows.length) rows.push(h("li", { class: "muted" }, "No differences."));
  return h("ul", { class: "diff-list", "aria-label": "Changes between the versions", "data-testid": "diff-list" }, ...rows);
}
