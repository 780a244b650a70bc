// Input: the palette (pointer-drag a kind onto the canvas, or click/Enter to add) and the keyboard
// shortcuts. Kept apart from the editor so each stays small.

import type cytoscape from "cytoscape";
import { h } from "./dom";
import type { Shell } from "./shell";
import type { NodeKind } from "./types";

/** What the palette and the shortcuts drive: the editor implements it, and this module never imports
 * the editor (nor the editor this one: main.ts wires them), so each can change without the other. */
export interface InputTarget {
  readonly cy: cytoscape.Core;
  addNode(kind: NodeKind, pos: { x: number; y: number }): void;
  save(): Promise<boolean>;
  undo(): void;
  redo(): void;
  deleteSelection(): void;
  toggleCable(on?: boolean): void;
  select(id: string | null): void;
}

/** Palette: pointer-drag a kind onto the canvas, or click it to add near the middle of the view. */
export function wirePalette(editor: InputTarget, shell: Shell): void {
  const palette = shell.palette;
  if (!palette) return;
  palette.querySelectorAll<HTMLButtonElement>(".palette-item").forEach((item) => {
    const kind = item.dataset.kind as NodeKind;
    item.addEventListener("pointerdown", (down) => {
      if (down.button !== 0) return;
      down.preventDefault();
      let ghost: HTMLElement | null = null;
      const move = (ev: PointerEvent) => {
        if (!ghost && Math.hypot(ev.clientX - down.clientX, ev.clientY - down.clientY) > 6) {
          ghost = h("div", { class: `drag-ghost kind-${kind}`, text: kind });
          document.body.append(ghost);
        }
        if (ghost) ghost.style.transform = `translate(${ev.clientX - 30}px, ${ev.clientY - 15}px)`;
      };
      const up = (ev: PointerEvent) => {
        window.removeEventListener("pointermove", move);
        window.removeEventListener("pointerup", up);
        if (!ghost) {
          editor.addNode(kind, freeSpot(editor.cy));
          return;
        }
        ghost.remove();
        const r = shell.canvas.getBoundingClientRect();
        if (ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom) {
          const pan = editor.cy.pan();
          const zoom = editor.cy.zoom();
          editor.addNode(kind, { x: (ev.clientX - r.left - pan.x) / zoom, y: (ev.clientY - r.top - pan.y) / zoom });
        }
      };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
    });
    item.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        editor.addNode(kind, freeSpot(editor.cy));
      }
    });
  });
}

/** A spot near the view's centre not covered by another node. */
function freeSpot(cy: cytoscape.Core): { x: number; y: number } {
  const ext = cy.extent();
  const c = { x: (ext.x1 + ext.x2) / 2, y: (ext.y1 + ext.y2) / 2 };
  for (let i = 0; i < 200; i++) {
    const p = { x: c.x + ((i % 5) - 2) * 120, y: c.y + (Math.floor(i / 5) % 5 - 2) * 90 };
    const taken = cy.nodes().toArray().some((n) => {
      const q = (n as cytoscape.NodeSingular).position();
      return Math.abs(q.x - p.x) < 90 && Math.abs(q.y - p.y) < 60;
    });
    if (!taken) return p;
  }
  return c;
}

/** Shortcuts: Ctrl+S, Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y), Delete, C for the Cable tool, Esc.
 * Returns the function that unwires them (the page is rebuilt when the user's role changes). */
export function wireKeyboard(editor: InputTarget): () => void {
  const onKey = (ev: KeyboardEvent) => {
    const t = ev.target as HTMLElement;
    const typing = t.closest("input, textarea, select, [contenteditable]") !== null;
    const mod = ev.ctrlKey || ev.metaKey;
    if (mod && ev.key.toLowerCase() === "s") {
      ev.preventDefault();
      void editor.save();
    } else if (typing) {
      return;
    } else if (mod && ev.key.toLowerCase() === "z") {
      ev.preventDefault();
      if (ev.shiftKey) editor.redo();
      else editor.undo();
    } else if (mod && ev.key.toLowerCase() === "y") {
      ev.preventDefault();
      editor.redo();
    } else if (ev.key === "Delete" || ev.key === "Backspace") {
      editor.deleteSelection();
    } else if (ev.key === "c" && !mod) {
      editor.toggleCable();
    } else if (ev.key === "Escape") {
      editor.toggleCable(false);
      editor.select(null);
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
