// The Deploy tab: the plan (operations as commands) before applying, Apply and Destroy with a progress
// bar fed by job.progress, and the drawing marked deployed / changed / drifted / failed (by pattern and
// a text badge, not colour alone).

import { api } from "./api";
import { h } from "./dom";
import { addKeepButtons } from "./driftkeep";
import { canonical, normalLink, normalNode } from "./docdiff";
import { driftMarks } from "./driftmarks";
import type { Editor } from "./editor";
import type { Status } from "./graph";
import type { Model } from "./model";
import type { JobFinished, JobProgress } from "./protocol";
import type { LabInfo, LinkSpec, NodeSpec, Operation, Role, TopologyDoc } from "./types";
import { canOperate } from "./types";

function nodeKey(spec: NodeSpec, links: LinkSpec[]): string {
  const ends = links
    .map(normalLink)
    .flatMap((l) => [l.a, l.b].filter((e) => e.node === spec.name).map((e) => ({ ...e, mtu: l.mtu })))
    .sort((x, y) => x.interface.localeCompare(y.interface));
  return canonical([normalNode(spec), ends]);
}

/** Per element: deployed when it matches the applied document, changed otherwise. */
export function compareToDeployed(model: Model, deployed: TopologyDoc): Map<string, Status> {
  const out = new Map<string, Status>();
  const doc = model.toDoc();
  const before = new Map(deployed.nodes.map((n) => [n.name, nodeKey(n, deployed.links)]));
  model.nodes.forEach((n, i) => {
    out.set(n.id, before.get(n.spec.name) === nodeKey(doc.nodes[i], doc.links) ? "deployed" : "changed");
  });
  const linkKeys = new Set(deployed.links.map((l) => canonical(normalLink(l))));
  model.links.forEach((l, i) => out.set(l.id, linkKeys.has(canonical(normalLink(doc.links[i]))) ? "deployed" : "changed"));
  return out;
}

/** One drift item ({"node","kind","what","expected","actual"}) in words. */
function driftText(it: unknown): string {
  if (!it || typeof it !== "object") return String(it);
  const d = it as { node?: unknown; kind?: unknown; what?: unknown; expected?: unknown; actual?: unknown };
  const show = (v: unknown) => (v === null || v === undefined ? "nothing" : typeof v === "string" ? v : JSON.stringify(v));
  return `${String(d.node ?? "?")}: ${String(d.what ?? d.kind ?? "differs")} (designed ${show(d.expected)}, kernel has ${show(d.actual)})`;
}

export class Deploy {
  private ops: HTMLOListElement;
  private driftList: HTMLOListElement;
  /** The lab version the plan list was made for: a save makes it stale. */
  private planVersion: number | null = null;
  private progress: HTMLProgressElement;
  private progressText: HTMLElement;
  private jobStatus: HTMLElement;
  private deployState: HTMLElement;
  private job: number | null = null;
  private jobKind = "";
  private deployedDoc: TopologyDoc | null = null;
  private deployedVersion: number | null = null;
  /** The last drift report: kept raw and mapped onto the drawing on every recolour (names may change). */
  private driftItems: unknown[] = [];
  private buttons: Record<string, HTMLButtonElement> = {};

  constructor(
    root: HTMLElement,
    private editor: Editor,
    private labId: number,
    role: Role,
    private announce: (text: string) => void,
  ) {
    const op = canOperate(role);
    const mk = (name: string, label: string, cls = "") => {
      const b = h("button", { type: "button", class: cls, "data-action": name, text: label });
      this.buttons[name] = b;
      return b;
    };
    this.ops = h("ol", { class: "ops", "aria-label": "Planned operations" });
    this.driftList = h("ol", { class: "ops", "aria-label": "Drift: differences from the design", "data-testid": "drift-list" });
    this.progress = h("progress", { max: "1", value: "0", "aria-label": "Job progress", id: "job-progress" });
    this.progressText = h("span", { class: "progress-text", "data-testid": "progress-text" });
    this.jobStatus = h("p", { class: "job-status", role: "status", "data-testid": "job-status" });
    this.deployState = h("p", { class: "deploy-state", "data-testid": "deploy-state" });
    root.append(
      h("h2", { text: "Deploy" }),
      this.deployState,
      h("div", { class: "row" }, mk("plan", "Plan"), op ? mk("apply", "Apply", "primary") : null, op ? mk("destroy", "Destroy", "danger") : null, mk("drift", "Check drift")),
      h("div", { class: "progress-row" }, this.progress, this.progressText),
      this.jobStatus,
      h("h3", { text: "Plan" }),
      this.ops,
      h("h3", { text: "Drift" }),
      this.driftList,
      h("div", { class: "legend", "aria-label": "Legend" },
        h("span", { class: "lg lg-deployed", text: "✓ deployed" }),
        h("span", { class: "lg lg-changed", text: "✎ changed since apply" }),
        h("span", { class: "lg lg-drifted", text: "⚠ drifted" }),
        h("span", { class: "lg lg-cable-drifted", text: "⚠ drifted cable (dotted)" }),
        h("span", { class: "lg lg-failed", text: "✗ failed" })),
    );
    if (!op) root.append(h("p", { class: "muted", text: "Applying and destroying need the operator role." }));
    this.buttons.plan.addEventListener("click", () => void this.plan());
    this.buttons.apply?.addEventListener("click", () => void this.start("apply"));
    this.buttons.destroy?.addEventListener("click", () => void this.start("destroy"));
    this.buttons.drift.addEventListener("click", () => void this.drift());
  }

  refreshButtons(): void {
    const dirty = this.editor.dirty && !this.editor.readOnly;
    const busy = this.job !== null;
    if (this.buttons.apply) {
      this.buttons.apply.disabled = busy || dirty;
      this.buttons.apply.title = dirty ? "Save your changes first" : "";
    }
    if (this.buttons.destroy) this.buttons.destroy.disabled = busy;
    this.buttons.plan.disabled = dirty;
    this.buttons.plan.title = dirty ? "Save your changes first" : "";
  }

  async plan(): Promise<void> {
    this.ops.replaceChildren(h("li", { class: "muted", text: "Planning…" }));
    try {
      const res = await api.plan(this.labId);
      this.planVersion = this.editor.version;
      this.showOps(res.operations, "In sync: nothing to do.");
    } catch (e) {
      this.ops.replaceChildren(h("li", { class: "error", text: `Plan failed: ${(e as Error).message}` }));
    }
  }

  private showOps(ops: Operation[], empty: string, list: HTMLOListElement = this.ops): void {
    list.replaceChildren(...(ops.length ? ops.map((o) => h("li", {}, h("code", { text: o.command }))) : [h("li", { class: "muted", text: empty })]));
  }

  /** Results that no longer describe the lab are taken down rather than left to mislead. */
  private forget(what: "plan" | "drift", why: string): void {
    const list = what === "plan" ? this.ops : this.driftList;
    if (list.childElementCount) list.replaceChildren(h("li", { class: "muted", text: why }));
    if (what === "plan") this.planVersion = null;
  }

  private async start(kind: "apply" | "destroy"): Promise<void> {
    if (kind === "destroy" && !window.confirm("Destroy everything this lab made in the kernel?")) return;
    try {
      this.early = [];
      const res = kind === "apply" ? await api.apply(this.labId) : await api.destroy(this.labId);
      this.job = res.job;
      this.jobKind = kind;
      this.progress.value = 0;
      this.progress.max = 1;
      this.progressText.textContent = `${kind}: queued`;
      this.jobStatus.textContent = `${kind} job ${res.job} queued`;
      this.announce(`${kind} started`);
      this.refreshButtons();
      const early = this.early.filter((e) => e.job === res.job);
      this.early = [];
      for (const e of early) {
        if (e.type === "job.progress") this.onProgress(e);
        else this.onFinished(e);
      }
      if (this.job === res.job) void this.poll(res.job);
    } catch (e) {
      this.jobStatus.textContent = `${kind} refused: ${(e as Error).message}`;
    }
  }

  /** Fallback for missed websocket events: the job row is the truth. */
  private async poll(job: number): Promise<void> {
    for (let i = 0; i < 600 && this.job === job; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      if (this.job !== job) return;
      try {
        const row = await api.job(job);
        if (row.total) this.onProgress({ type: "job.progress", job, done: row.done, total: row.total, step: "" });
        if (row.status === "succeeded" || row.status === "failed" || row.status === "superseded") {
          this.onFinished({ type: "job.finished", job, kind: row.kind, status: row.status, error: row.error });
          return;
        }
      } catch {
        /* transient: try again */
      }
    }
  }

  /** Events that came before the POST answer named the job (a fast worker): replayed once it does. */
  private early: (JobProgress | JobFinished)[] = [];

  onProgress(m: JobProgress): void {
    if (m.job !== this.job) {
      this.early = [...this.early.slice(-20), m];
      return;
    }
    this.progress.max = Math.max(1, m.total);
    this.progress.value = m.done;
    this.progressText.textContent = `${this.jobKind}: ${m.done}/${m.total}${m.step ? ` · ${m.step}` : ""}`;
    if (m.step) this.announce(`${m.done} of ${m.total}: ${m.step}`);
  }

  onFinished(m: JobFinished): void {
    if (m.job !== this.job) {
      this.early = [...this.early.slice(-20), m];
      return;
    }
    this.job = null;
    this.driftItems = []; // the kernel changed: the last drift report no longer says anything
    this.forget("drift", `The kernel changed (${this.jobKind}): check drift again.`);
    this.forget("plan", `The kernel changed (${this.jobKind}): plan again.`);
    const ok = m.status === "succeeded";
    if (ok) this.progress.value = this.progress.max;
    this.progressText.textContent = `${this.jobKind}: ${ok ? "done" : "failed"}`;
    this.jobStatus.textContent = ok
      ? `${this.jobKind} succeeded`
      : m.status === "superseded"
        ? `${this.jobKind} did not run: ${m.error ?? "a newer request replaced it"}`
        : `${this.jobKind} failed: ${m.error ?? "unknown error"}`;
    this.jobStatus.classList.toggle("error", !ok);
    this.announce(this.jobStatus.textContent);
    this.refreshButtons();
    void this.refresh();
  }

  /** Re-reads the deployment and recolours the drawing. */
  async refresh(known: LabInfo | null = null): Promise<void> {
    try {
      const lab = known ?? (await api.lab(this.labId));
      this.editor.lab = lab;
      if (this.planVersion !== null && lab.version !== this.planVersion) this.forget("plan", `Version ${lab.version} was saved since: plan again.`);
      const d = lab.deployment;
      const state = d?.state ?? "not deployed";
      const ver = typeof d?.version === "number" ? d.version : null;
      this.deployState.textContent = d
        ? `Deployment: ${state}${ver ? ` (version ${ver})` : ""}${d.tag ? ` · tag ${d.tag}` : ""}${state === "failed" && d.error ? `: ${d.error}` : ""}`
        : "Not deployed";
      if (!d || state === "destroyed" || state === "pending") {
        this.deployedDoc = null;
      } else if (ver !== null && ver !== this.deployedVersion) {
        this.deployedDoc = ver === lab.version ? lab.topology : await this.fetchVersion(ver);
      } else if (ver === null) {
        this.deployedDoc = lab.topology;
      }
      this.deployedVersion = ver;
      this.recolour();
    } catch {
      /* the page keeps its last state */
    }
  }

  private async fetchVersion(n: number): Promise<TopologyDoc | null> {
    try {
      const v = await api.version(this.labId, n);
      return v.topology ?? v.document ?? null;
    } catch {
      return null;
    }
  }

  recolour(): void {
    const state = this.editor.lab?.deployment?.state;
    const status = new Map<string, Status>();
    const model = this.editor.model;
    if (state === "failed") {
      for (const item of [...model.nodes, ...model.links]) status.set(item.id, "failed");
    } else if (this.deployedDoc) {
      for (const [k, v] of compareToDeployed(model, this.deployedDoc)) status.set(k, v);
    }
    const marks = driftMarks(this.driftItems, model);
    for (const id of [...marks.nodes, ...marks.links]) status.set(id, "drifted");
    this.editor.setStatus(status, marks.ends);
  }

  private async drift(): Promise<void> {
    this.jobStatus.textContent = "Checking drift…";
    try {
      const items = await api.drift(this.labId);
      this.driftItems = items;
      this.jobStatus.textContent = items.length ? `Drift: ${items.length} difference(s)` : "No drift: the kernel matches the applied version";
      this.showOps(items.map((it) => ({ op: "drift", command: driftText(it) })), "No drift.", this.driftList);
      if (!this.editor.readOnly) {
        addKeepButtons(this.driftList, items, this.labId, () => this.editor.version, (summary) => {
          this.announce(summary);
          void this.editor.load().then(() => this.drift());
        });
      }
      this.recolour();
    } catch (e) {
      this.jobStatus.textContent = `Drift check failed: ${(e as Error).message}`;
    }
  }
}
