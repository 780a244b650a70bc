// "Keep this" on a drift item: a hand change (an address or a route added or removed in a node's
// terminal) taken into the design as a new version (POST /api/labs/{id}/drift/keep). The other way,
// undoing the hand change, is Apply.

import { api, ApiError } from "./api";
import { h } from "./dom";

const KEEPABLE = new Set(["address", "route"]);

interface Item {
  node: string;
  kind: string;
  what: string;
  expected: unknown;
  actual: unknown;
}

function keepable(it: unknown): it is Item {
  if (!it || typeof it !== "object") return false;
  const d = it as Partial<Item>;
  return typeof d.node === "string" && typeof d.kind === "string" && KEEPABLE.has(d.kind) && typeof d.what === "string";
}

function label(it: Item): string {
  const kept = it.actual !== null && it.actual !== undefined;
  return it.kind === "route" ? (kept ? "Keep this route" : "Drop this route from the design") : kept ? "Keep this address" : "Drop this address from the design";
}

function message(e: unknown): string {
  if (e instanceof ApiError && e.body && typeof e.body === "object" && "detail" in e.body) return String((e.body as { detail: unknown }).detail);
  return (e as Error).message;
}

/** Adds a keep button to each drift row (the list's items are in the report's order). */
export function addKeepButtons(list: HTMLElement, items: unknown[], labId: number, version: () => number,
                               onKept: (summary: string) => void): void {
  const rows = [...list.querySelectorAll<HTMLElement>(":scope > li")];
  items.forEach((it, i) => {
    const row = rows[i];
    if (!row || !keepable(it)) return;
    const b = h("button", { type: "button", class: "keep small", "data-action": "keep-drift", text: label(it),
      title: "Change the design to what the kernel has now (a new version); Apply would undo the change instead" });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const res = await api.keepDrift(labId, version(), it);
        onKept(res.summary);
      } catch (e) {
        b.disabled = false;
        row.append(h("span", { class: "error small", text: ` ${message(e)}` }));
      }
    });
    row.append(" ", b);
  });
}
