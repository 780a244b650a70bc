// The History tab: the lab's saved versions; view one (its JSON), restore one as the newest version.

import { api } from "./api";
import { h } from "./dom";
import type { Editor } from "./editor";
import type { VersionRow } from "./types";

export class Versions {
  private list: HTMLOListElement;
  private view: HTMLElement;

  constructor(
    root: HTMLElement,
    private editor: Editor,
    private labId: number,
  ) {
    this.list = h("ol", { class: "versions", "aria-label": "Saved versions" });
    this.view = h("div", { class: "version-view" });
    const refresh = h("button", { type: "button", class: "small", text: "Refresh" });
    refresh.addEventListener("click", () => void this.load());
    root.append(h("div", { class: "row spread" }, h("h2", { text: "Versions" }), refresh), this.list, this.view);
  }

  async load(): Promise<void> {
    try {
      const res = await api.versions(this.labId);
      const rows: VersionRow[] = Array.isArray(res) ? res : res.items ?? [];
      rows.sort((a, b) => b.number - a.number);
      this.list.replaceChildren(...rows.map((r) => this.row(r)));
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
    return h("li", {},
      h("strong", { text: `v${r.number}` }), current ? h("span", { class: "badge", text: "current" }) : null,
      h("span", { class: "muted", text: ` ${who}${who && when ? " · " : ""}${when}` }),
      r.note ? h("div", { class: "muted", text: r.note }) : null,
      h("div", { class: "row" }, view, restore));
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
    if (this.editor.dirty && !window.confirm("Restoring drops your unsaved changes. Go on?")) return;
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
