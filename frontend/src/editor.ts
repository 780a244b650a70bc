// The editor: the model, the canvas and the side panel kept in step; undo/redo, palette, keyboard,
// saving with the version number (409: merge theirs, conflict.ts), import/export. What it announces
// (changed, loaded, saved) goes through `events` (store.ts), which any module may subscribe to.

import type cytoscape from "cytoscape";
import { api, ApiError } from "./api";
import { download, h } from "./dom";
import { autoLayout, createCanvas, fitCheap, readPositions, syncCanvas, type Canvas, type Status } from "./graph";
import { HANDLE_HINT, HoverHandle } from "./handle";
import { History, Model } from "./model";
import { Panel, type PanelHost } from "./panel";
import type { Shell } from "./shell";
import { selectTabByKey } from "./shell";
import { localProblems } from "./localcheck";
import { mergeIntoEditor } from "./conflict";
import { Emitter } from "./store";
import type { FieldError, LabInfo, NodeKind, Role, TopologyDoc } from "./types";
import { canEdit } from "./types";

export interface EditorEvents extends Record<string, unknown> {
  changed: undefined;
  loaded: LabInfo;
  saved: number;
}

export class Editor implements PanelHost {
  model = new Model();
  errors: FieldError[] = [];
  readOnly: boolean;
  version = 0;
  lab: LabInfo | null = null;
  status = new Map<string, Status>();
  /** Cable ends ("<link id>:a|b") named by the last drift report: they carry the badge. */
  driftEnds: ReadonlySet<string> = new Set();
  canvas: Canvas;
  cy: cytoscape.Core;
  /** The dot on a hovered node to drag a cable from (null for read-only users). */
  handle: HoverHandle | null = null;
  private history = new History();
  private panel: Panel;
  private saved = "";
  private pendingSnapshot: string | null = null;
  private grabSnapshot: string | null = null;
  /** What the editor announces; modules subscribe (the onX slots below stay for older wiring). */
  readonly events = new Emitter<EditorEvents>();
  onChange: () => void = () => {};
  onLoaded: () => void = () => {};
  onSaved: () => void = () => {};

  constructor(
    private shell: Shell,
    private labId: number,
    role: Role,
  ) {
    this.readOnly = !canEdit(role);
    this.canvas = createCanvas(shell.canvas, (a, b) => this.connect(a, b));
    this.cy = this.canvas.cy;
    if (this.readOnly) {
      this.canvas.eh.disable();
      this.cy.autoungrabify(true);
    } else {
      this.handle = new HoverHandle(this.cy, this.canvas.eh, shell.canvas, (text) => this.say(text));
    }
    this.panel = new Panel(shell.panel, this);
    this.cy.on("select unselect", () => this.schedulePanel());
    this.cy.on("grab", "node", () => {
      this.grabSnapshot = this.snapshot();
    });
    this.cy.on("dragfree", "node", () => {
      if (this.grabSnapshot) this.history.record(this.grabSnapshot);
      this.grabSnapshot = null;
      readPositions(this.cy, this.model);
      this.changed();
    });
    this.wireToolbar();
  }

  /** Tears the editor down (the page is rebuilt for a new role): no canvas stays behind (main.ts
   * unwires the keyboard it wired). */
  destroy(): void {
    this.events.clear();
    this.cy.destroy();
  }

  // ----- loading and saving ------------------------------------------------------------------------

  /** Loads (or reloads) the lab; `pending` is a fetch the page already started, to overlap it with setup. */
  async load(pending: Promise<LabInfo> | null = null): Promise<void> {
    const lab = await (pending ?? api.lab(this.labId));
    this.lab = lab;
    this.shell.title.textContent = lab.name;
    document.title = `${lab.name} · NetDesigner`;
    this.replaceDoc(lab.topology, lab.version, true);
    this.onLoaded();
    this.events.emit("loaded", lab);
  }

  /** Shows a document (from the server or the history) and remembers it as the saved state. */
  replaceDoc(doc: TopologyDoc, version: number, fit: boolean): void {
    this.model = Model.fromDoc(doc);
    this.version = version;
    this.errors = [];
    this.history.clear();
    this.redraw(fit);
    this.saved = this.snapshot();
    this.changed();
    // The panel shows fields of the document (its description, a node's routes): after another
    // user's save they must show the new values, not the ones read before.
    this.renderPanel();
  }

  /** Takes `doc` as an unsaved edit of the loaded version (kept across a rebuild of the page). */
  adopt(doc: TopologyDoc): void {
    this.beginEdit();
    this.model = Model.fromDoc(doc);
    this.edited(true);
  }

  /** The document as last loaded or saved: the base of a three-way merge. */
  savedDoc(): TopologyDoc {
    return JSON.parse(this.saved) as TopologyDoc;
  }

  snapshot(): string {
    readPositions(this.cy, this.model);
    return JSON.stringify(this.model.toDoc());
  }

  get dirty(): boolean {
    return this.snapshot() !== this.saved;
  }

  /** The save in flight, if any: a topology.updated for our own save can arrive before its answer. */
  inflight: Promise<boolean> | null = null;

  async save(overwrite = false): Promise<boolean> {
    if (this.readOnly) return false;
    const run = this.doSave(overwrite);
    this.inflight = run;
    try {
      return await run;
    } finally {
      if (this.inflight === run) this.inflight = null;
    }
  }

  private async doSave(overwrite: boolean): Promise<boolean> {
    // One name for a lab: the document is saved under the lab's name (renamed from the top bar).
    if (this.lab?.name) this.model.name = this.lab.name;
    const doc = JSON.parse(this.snapshot()) as TopologyDoc;
    const local = localProblems(doc);
    if (local.length) {
      this.errors = local;
      this.say(`Not saved: ${local.length} problem(s), shown next to their fields`);
      this.markErrors();
      const first = local.map((x) => this.model.itemForPath(x.path)).find(Boolean);
      if (first) this.select(first);
      else this.renderPanel();
      selectTabByKey("panel");
      return false;
    }
    this.say("Saving…");
    let version = this.version;
    if (overwrite) version = (await api.lab(this.labId)).version;
    try {
      const res = await api.save(this.labId, version, doc);
      this.version = res.version;
      this.saved = JSON.stringify(doc);
      this.errors = [];
      this.hideBanner();
      this.say(`Saved as version ${res.version}`);
      this.changed();
      this.renderPanel();
      this.onSaved();
      this.events.emit("saved", res.version);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        this.errors = e.fieldErrors;
        this.say(`Not saved: ${this.errors.length} problem(s), shown next to their fields`);
        this.markErrors();
        const first = this.errors.map((x) => this.model.itemForPath(x.path)).find(Boolean);
        if (first) this.select(first);
        else this.renderPanel();
        selectTabByKey("panel");
      } else if (e instanceof ApiError && e.status === 409) {
        // Someone saved in between: merge theirs under mine, save a clean merge, ask only on a conflict.
        const theirs = await api.lab(this.labId);
        this.say(`Not saved yet: version ${theirs.version} was saved meanwhile; merging`);
        await mergeIntoEditor(this, theirs, "someone else", true);
      } else {
        this.say(`Not saved: ${(e as Error).message}`);
      }
      return false;
    }
  }

  // ----- editing ---------------------------------------------------------------------------------

  beginEdit(): void {
    this.pendingSnapshot = this.snapshot();
    this.history.record(this.pendingSnapshot);
  }

  edited(redrawPanel: boolean): void {
    this.redraw(false);
    if (redrawPanel) this.renderPanel();
    this.changed();
  }

  clearErrors(path: string): void {
    this.errors = this.errors.filter((e) => !(e.path === path || e.path.startsWith(`${path}.`) || e.path.startsWith(`${path}[`)));
    this.markErrors();
  }

  select(id: string | null): void {
    this.cy.elements(":selected").unselect();
    if (id) {
      const el = this.cy.getElementById(id);
      el.select();
      if (el.isNode() && !el.renderedBoundingBox().x1) this.cy.center(el);
    }
    this.renderPanel();
  }

  addNode(kind: NodeKind, pos: { x: number; y: number }): void {
    this.beginEdit();
    const item = this.model.addNode(kind, pos);
    this.redraw(false);
    this.select(item.id);
    this.changed();
    this.say(`Added ${kind} ${item.spec.name}`);
  }

  labName(): string {
    return this.lab?.name ?? this.model.name;
  }

  connect(a: string, b: string): void {
    this.beginEdit();
    const link = this.model.addLink(a, b);
    this.redraw(false);
    if (link) {
      this.select(link.id);
      this.say(`Cable ${link.spec.a.node} ⟷ ${link.spec.b.node}: ${link.spec.a.interface} / ${link.spec.b.interface}`);
    }
    this.changed();
  }

  deleteSelection(): void {
    const ids = new Set(this.cy.elements(":selected").map((e) => e.id()));
    if (!ids.size) return;
    this.beginEdit();
    this.model.remove(ids);
    this.redraw(false);
    this.renderPanel();
    this.changed();
    this.say(`Deleted ${ids.size} item(s)`);
  }

  undo(): void {
    const prev = this.history.undo(this.snapshot());
    if (prev) this.restoreSnapshot(prev);
  }

  redo(): void {
    const next = this.history.redo(this.snapshot());
    if (next) this.restoreSnapshot(next);
  }

  private restoreSnapshot(s: string): void {
    this.model = Model.fromDoc(JSON.parse(s) as TopologyDoc);
    this.redraw(false);
    this.renderPanel();
    this.changed();
  }

  // ----- drawing ---------------------------------------------------------------------------------

  redraw(fit: boolean): void {
    syncCanvas(this.cy, this.model, this.status, this.model.links.length <= 300, this.driftEnds);
    const placed = new Set(this.model.nodes.filter((n) => n.pos).map((n) => n.id));
    const missing = this.cy.nodes().filter((n) => !placed.has(n.id()));
    if (missing.nonempty()) {
      if (missing.length === this.cy.nodes().length) autoLayout(this.cy);
      else missing.forEach((n, i) => void n.position({ x: 60 + (i % 10) * 110, y: -120 - Math.floor(i / 10) * 90 }));
      readPositions(this.cy, this.model);
    }
    this.markErrors();
    if (fit) fitCheap(this.cy);
  }

  setStatus(status: Map<string, Status>, driftEnds: ReadonlySet<string> = new Set()): void {
    const key = (m: Map<string, Status>, ends: ReadonlySet<string>) => [...m].map(([k, v]) => `${k}=${v}`).join(",") + [...ends].join(",");
    if (key(status, driftEnds) === key(this.status, this.driftEnds)) return;
    this.status = status;
    this.driftEnds = driftEnds;
    syncCanvas(this.cy, this.model, this.status, this.model.links.length <= 300, this.driftEnds);
  }

  private markErrors(): void {
    this.cy.elements(".has-error").removeClass("has-error");
    for (const e of this.errors) {
      const id = this.model.itemForPath(e.path);
      if (id) this.cy.getElementById(id).addClass("has-error");
    }
  }

  private panelQueued = false;
  private schedulePanel(): void {
    if (this.panelQueued) return;
    this.panelQueued = true;
    requestAnimationFrame(() => {
      this.panelQueued = false;
      this.renderPanel();
    });
  }

  renderPanel(): void {
    const sel = this.cy.elements(":selected").map((e) => e.id());
    const connect = this.shell.buttons.connect;
    if (connect) connect.disabled = this.cy.nodes(":selected").length !== 2;
    this.panel.render(sel);
  }

  changed(): void {
    const dirty = this.dirty;
    this.shell.emptyHint.hidden = this.model.nodes.length > 0;
    this.shell.version.textContent = `version ${this.version}`;
    this.shell.saveState.textContent = this.readOnly ? "read only" : dirty ? "● unsaved changes" : "saved";
    this.shell.saveState.classList.toggle("dirty", dirty);
    const b = this.shell.buttons;
    if (b.undo) b.undo.disabled = !this.history.canUndo;
    if (b.redo) b.redo.disabled = !this.history.canRedo;
    this.onChange();
    this.events.emit("changed", undefined);
  }

  // ----- chrome ----------------------------------------------------------------------------------

  say(text: string): void {
    this.shell.status.textContent = text;
  }

  showBanner(text: string, actions: [string, () => void][], detail: HTMLElement | null = null): void {
    const bn = this.shell.banner;
    bn.replaceChildren(
      h("span", { text }),
      ...actions.map(([label, fn]) => h("button", { type: "button", onclick: fn, text: label })),
      ...(detail ? [detail] : []),
    );
    bn.hidden = false;
  }

  hideBanner(): void {
    this.shell.banner.hidden = true;
  }

  private wireToolbar(): void {
    const b = this.shell.buttons;
    b.undo?.addEventListener("click", () => this.undo());
    b.redo?.addEventListener("click", () => this.redo());
    b.delete?.addEventListener("click", () => this.deleteSelection());
    b.connect?.addEventListener("click", () => {
      const nodes = this.cy.nodes(":selected");
      if (nodes.length === 2) this.connect(nodes[0].id(), nodes[1].id());
      else this.say("Select exactly two nodes (Shift-click) to cable them");
    });
    b.cable?.addEventListener("click", () => this.toggleCable());
    b.layout.addEventListener("click", () => {
      if (!this.readOnly) this.history.record(this.snapshot());
      autoLayout(this.cy);
      readPositions(this.cy, this.model);
      fitCheap(this.cy);
      this.changed();
    });
    b.fit.addEventListener("click", () => fitCheap(this.cy));
    b.save?.addEventListener("click", () => void this.save());
    b["export-json"].addEventListener("click", () =>
      download(`${this.model.name || "lab"}.json`, JSON.stringify(JSON.parse(this.snapshot()), null, 2) + "\n", "application/json"),
    );
    b["export-sh"].addEventListener("click", async () => {
      try {
        const text = await api.exportText(this.labId, "sh");
        download(`${this.model.name || "lab"}.sh`, text, "text/x-shellscript");
        this.say("Exported the saved version as a shell script");
      } catch (e) {
        this.say(`Export failed: ${(e as Error).message}`);
      }
    });
    b.import?.addEventListener("click", () => this.shell.fileInput.click());
    this.shell.fileInput.addEventListener("change", async () => {
      const file = this.shell.fileInput.files?.[0];
      if (!file) return;
      try {
        const doc = JSON.parse(await file.text()) as TopologyDoc;
        if (!doc || !Array.isArray(doc.nodes)) throw new Error("not a netdesigner/v1 document");
        this.beginEdit();
        this.model = Model.fromDoc(doc);
        this.redraw(true);
        this.renderPanel();
        this.changed();
        this.say(`Imported ${file.name}: save to keep it`);
      } catch (e) {
        this.say(`Import failed: ${(e as Error).message}`);
      }
      this.shell.fileInput.value = "";
    });
  }

  private cableOn = false;
  toggleCable(on = !this.cableOn): void {
    this.cableOn = on;
    if (this.handle) this.handle.enabled = !on;
    if (on) this.canvas.eh.enableDrawMode();
    else this.canvas.eh.disableDrawMode();
    this.shell.buttons.cable?.setAttribute("aria-pressed", String(on));
    this.shell.canvas.classList.toggle("cable-mode", on);
    this.say(on ? "Cable tool: drag from one node to another (C or Esc to stop)" : `Select tool: ${HANDLE_HINT.toLowerCase()}`);
  }
}
