// The hover handle: a small dot on the node under the pointer; dragging from it draws a cable in the
// normal select mode, while dragging the node body still moves the node. edgehandles 4 draws no
// handle of its own (it only offers `start(node)`), so the dot is a DOM element over the canvas that
// starts the extension's gesture; the Cable tool and "Connect selected" stay for touch and keyboard.

import type cytoscape from "cytoscape";
import type { Canvas } from "./graph";

export const HANDLE_HINT = "Drag from the dot on a node to cable it";

const DOT = 22; // the hit area in px (the visible dot inside is smaller)

export class HoverHandle {
  readonly dot: HTMLElement;
  private node: cytoscape.NodeSingular | null = null;
  private hideTimer = 0;
  private drawing = false;
  private moved = false;
  private completed = false;
  private on = true;

  constructor(
    private cy: cytoscape.Core,
    private eh: Canvas["eh"],
    private container: HTMLElement,
    private say: (text: string) => void,
  ) {
    const dot = document.createElement("div");
    dot.className = "eh-handle";
    dot.hidden = true;
    dot.title = HANDLE_HINT;
    // Mouse only: keyboard and touch users have "Connect selected" and the Cable tool.
    dot.setAttribute("aria-hidden", "true");
    dot.dataset.testid = "cable-handle";
    this.dot = dot;
    (container.parentElement ?? container).append(dot);

    cy.on("mouseover", "node", (e) => this.show(e.target as cytoscape.NodeSingular));
    // Cytoscape sends no mouseover when the pointer comes back to the node it left through the page
    // (not the canvas), so a move over a node without the dot shows it too.
    cy.on("mousemove", "node", (e) => {
      if (this.dot.hidden || !this.node?.same(e.target as cytoscape.NodeSingular)) this.show(e.target as cytoscape.NodeSingular);
    });
    cy.on("mouseout", "node", () => this.hideSoon());
    cy.on("grab", "node", () => this.hide());
    cy.on("free", "node", (e) => this.show(e.target as cytoscape.NodeSingular));
    cy.on("remove", "node", (e) => {
      if (this.node && this.node.same(e.target as cytoscape.NodeSingular)) this.hide();
    });
    cy.on("viewport", () => this.place());
    cy.on("ehstart", () => {
      this.drawing = true;
      this.hide();
    });
    cy.on("ehstop", () => {
      this.drawing = false;
    });
    cy.on("ehcomplete", () => {
      this.completed = true;
    });
    dot.addEventListener("mouseenter", () => window.clearTimeout(this.hideTimer));
    dot.addEventListener("mouseleave", () => this.hideSoon());
    dot.addEventListener("mousedown", (ev) => this.begin(ev));
  }

  /** Off while the Cable tool is on (the whole node is the handle then) and for read-only users. */
  set enabled(on: boolean) {
    this.on = on;
    if (!on) this.hide();
  }

  private show(node: cytoscape.NodeSingular): void {
    if (!this.on || this.drawing || node.hasClass("eh-ghost-node") || node.removed()) return;
    window.clearTimeout(this.hideTimer);
    this.node = node;
    this.place();
  }

  /** Puts the dot on the node's top edge (above it when the node is drawn too small to share). */
  private place(): void {
    const n = this.node;
    if (!n || n.removed()) {
      this.hide();
      return;
    }
    const bb = n.renderedBoundingBox({ includeLabels: false, includeOverlays: false });
    const x = (bb.x1 + bb.x2) / 2;
    const y = bb.h >= 28 ? bb.y1 + 1 : bb.y1 - DOT / 2;
    const w = this.container.clientWidth;
    const hgt = this.container.clientHeight;
    if (x < 0 || y < 0 || x > w || y > hgt) {
      this.dot.hidden = true;
      return;
    }
    this.dot.style.transform = `translate(${x - DOT / 2}px, ${y - DOT / 2}px)`;
    this.dot.hidden = false;
  }

  private hideSoon(): void {
    window.clearTimeout(this.hideTimer);
    if (!this.drawing) this.hideTimer = window.setTimeout(() => this.hide(), 350);
  }

  private hide(): void {
    window.clearTimeout(this.hideTimer);
    this.dot.hidden = true;
    if (!this.drawing) this.node = null;
  }

  private modelPos(ev: MouseEvent): { x: number; y: number } {
    const r = this.container.getBoundingClientRect();
    const pan = this.cy.pan();
    const zoom = this.cy.zoom();
    return { x: (ev.clientX - r.left - pan.x) / zoom, y: (ev.clientY - r.top - pan.y) / zoom };
  }

  /** Starts the edgehandles gesture from the hovered node and follows the mouse until it is released. */
  private begin(down: MouseEvent): void {
    const source = this.node;
    if (down.button !== 0 || !source) return;
    down.preventDefault(); // no text selection while dragging
    down.stopPropagation();
    this.moved = false;
    this.completed = false;
    this.eh.start(source);
    if (!this.drawing) return; // edgehandles refused (disabled, or a gesture is already running)
    this.say(`Cable from ${String(source.data("name"))}: release over another node`);
    this.eh.update(this.modelPos(down));
    // Cytoscape did not see the press (it was on the dot), so it sends no tapend: follow the mouse here.
    const move = (ev: MouseEvent) => {
      if (Math.hypot(ev.clientX - down.clientX, ev.clientY - down.clientY) > 4) this.moved = true;
      this.eh.update(this.modelPos(ev));
    };
    const up = () => {
      window.removeEventListener("mousemove", move, true);
      window.removeEventListener("mouseup", up, true);
      this.eh.stop();
      if (!this.moved) this.say(`${HANDLE_HINT}: hold the button and move onto another node`);
      else if (!this.completed) this.say("No cable: release over another node to connect");
    };
    window.addEventListener("mousemove", move, true);
    window.addEventListener("mouseup", up, true);
  }
}
