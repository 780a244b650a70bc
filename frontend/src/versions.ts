// The History tab: the lab's saved versions; view one (its JSON), restore one as the newest version.

import { api } from "./api";
import { DiffView, diffList } from "./diffview";
import { fieldId, h } from "./dom";
import type { Editor } from "./editor";
import type { TopologyDoc, VersionRow } from "./types";

export class Versions {
  private list: HTMLOListElement;
  private view: HTMLElement;
  private diff: DiffView;
  private from: HTMLSelectElement;
  private to: HTMLSelectElement;

  constructor(
    root: HTMLElement,
    private editor: Editor,
    private labId: number,
  ) {
    this.list = h("ol", { class: "versions", "aria-label": "Saved versions" });
    this.view = h("div", { class: "version-view" });
    const refresh = h("button", { type: "button", class: "small", text: "Refresh" });
    refresh.addEventListener("click", () => void this.load());
    const canvas = editor.cy.container() as HTMLElement;
    this.diff = new DiffView(canvas.parentElement ?? canvas, canvas.closest(".app")?.querySelector(".banner") ?? canvas);
    const fromId = fieldId();
    const toId = fieldId();
    this.from = h("select", { id: fromId });
    this.to = h("select", { id: toId });
    const compare = h("button", { type: "button", class: "small", text: "Compare on canvas" });
    compare.addEventListener("click", () => void this.compare(Number(this.from.value), Number(this.to.value)));
    root.append(
      h("div", { class: "row spread" }, h("h2", { text: "Versions" }), refresh),
      h("div", { class: "compare-form" },
        h("div", { class: "field" }, h("label", { for: fromId, text: "Compare version" }), this.from),
        h("div", { class: "field" }, h("label", { for: toId, text: "with version" }), this.to),
        compare),
      this.list, this.view);
  }

  /** Both versions drawn as one over the canvas, and the changes listed here. */
  async compare(a: number, b: number): Promise<void> {
    if (!a || !b) return;
    try {
      const [before, after] = await Promise.all([this.doc(a), this.doc(b)]);
      const diff = this.diff.show(before, after, `Version ${a} → ${b}`);
      this.view.replaceChildren(h("h3", { text: `Changes from version ${a} to ${b}` }), diffList(diff));
    } catch (e) {
      this.view.replaceChildren(h("p", { class: "error", text: `Cannot compare: ${(e as Error).message}` }));
    }
  }

  private async doc(n: number): Promise<TopologyDoc> {
    const v = await api.version(this.labId, n);
    return (v.topology ?? v.document) as TopologyDoc;
  }

  async load(): Promise<void> {
    try {
      const res = await api.versions(this.labId);
      const rows: VersionRow[] = Array.isArray(res) ? res : res.items ?? [];
      rows.sort((a, b) => b.number - a.number);
      this.list.replaceChildren(...rows.map((r) => this.row(r)));
      const options = (sel: HTMLSelectElement, pick: number) =>
        sel.replaceChildren(...rows.map((r) => h("option", { value: String(r.number), text: `v${r.number}`, selected: r.number === pick })));
      options(this.from, rows[1]?.number ?? rows[0]?.number ?? 0);
      options(this.to, rows[0]?.number ?? 0);
      if (!rows.length) this.list.append(h("li", { class: "muted", text: "No versions yet." }));
    } catch (e) {
      this.list.replaceChildren(h("li", { class: "muted", text: `Versions unavailable: ${(e as Error).message}` }));
    }
  }

  private row(r: VersionRow): HTMLElement {
    const when = r.created ? new Date(r.created).toLocaleString() : "";
    const who = typeof r.author === "string" ? r.author : r.author ? String((r.author as { username?: string }).username ?? "") : "";
    const current = r.number === this.editor.version;
    const view = h("button", { type: "button", class: "small", text: "View", "aria-label": `View version ${r.number}` });
    view.addEventListener("click", () => void this.show(r.number));
    const restore = !this.editor.readOnly && !current ? h("button", { type: "button", class: "small", text: "Restore", "aria-label": `Restore version ${r.number}` }) : null;
    restore?.addEventListener("click", () => void this.restore(r.number));
    const diff = r.number > 1 ? h("button", { type: "button", class: "small", text: "Diff", "aria-label": `Compare version ${r.number} with version ${r.number - 1}` }) : null;
    diff?.addEventListener("click", () => void this.compare(r.number - 1, r.number));
    return h("li", {},
      h("strong", { text: `v${r.number}` }), current ? h("span", { class: "badge", text: "current" }) : null,
      h("span", { class: "muted", text: ` ${who}${who && when ? " · " : ""}${when}` }),
      r.note ? h("div", { class: "muted", text: r.note }) : null,
      h("div", { class: "row" }, view, diff, restore));
  }

  private async show(n: number): Promise<void> {
    try {
      const v = await api.version(this.labId, n);
      const doc = v.topology ?? v.document ?? v;
      const d = doc as { nodes?: unknown[]; links?: unknown[] };
      this.view.replaceChildren(
        h("h3", { text: `Version ${n}: ${d.nodes?.length ?? 0} nodes, ${d.links?.length ?? 0} cables` }),
        h("pre", { text: JSON.stringify(doc, null, 2) }),
      );
    } catch (e) {
      this.view.replaceChildren(h("p", { class: "error", text: `Cannot show version ${n}: ${(e as Error).message}` }));
    }
  }

  private async restore(n: number): Promise<void> {
    const unsaved = this.editor.dirty ? " Your unsaved changes are dropped." : "";
    const text = `Restore version ${n}? Its drawing is saved as a new version ${this.editor.version + 1}; nothing of the history is lost.${unsaved}`;
    if (!window.confirm(text)) return;
    this.diff.close();
    try {
      const res = await api.restore(this.labId, n);
      await this.editor.load();
      this.editor.say(`Restored version ${n} as version ${res.version ?? this.editor.version}`);
      await this.load();
    } catch (e) {
      this.editor.say(`Restore failed: ${(e as Error).message}`);
    }
  }
}
