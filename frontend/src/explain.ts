// Explain (beside Ping): why a node can or cannot reach a target. The path is drawn hop by hop on the
// cables (request solid blue, reply dashed green), the failing node marked red, the reason in words,
// the kernel's measurement beside the prediction, and each fix as a preview that an editor applies to
// the drawing in one click (then saves and applies as usual). Below: the lab's checks, editable, with
// pass/fail badges on the canvas after "Run checks".

import type cytoscape from "cytoscape";
import { api } from "./api";
import { h } from "./dom";
import type { Editor } from "./editor";
import "./explain.css";
import { Model } from "./model";
import type { Job, Nat, NodeSpec, Role, Route, TopologyDoc } from "./types";
import { canEdit, canOperate } from "./types";

interface Hop { node: string; in_interface: string | null; out_interface: string | null; action: string; detail: string; direction?: string }
interface FixChange { node: string; kind: string; route?: Route; replaces?: Route; nat?: Nat }
interface FixRow { node: string; summary: string; document: TopologyDoc; changes?: FixChange[] }
interface Predicted { verdict: string; reason: string; hops: Hop[]; fix: FixRow[]; failed_hop: number | null }
interface Measured { verdict: string; detail: string; parted?: string | null }
export interface ExplainResult { source: string; target: string; predicted: Predicted; measured: Measured | null; agree: boolean | null }
export interface Check { from: string; to: string; protocol?: string; port?: number; expect: string; name?: string }
interface CheckRow { check: Check; passed: boolean; measured: string; explain: ExplainResult | null }

const STYLES: [string, Record<string, unknown>][] = [
  ["edge.explain-req", { "line-color": "#2563eb", width: 5 }],
  ["edge.explain-rep", { "line-color": "#16a34a", "line-style": "dashed", width: 5 }],
  ["edge.explain-req.explain-rep", { "line-color": "#0d9488", "line-style": "solid", width: 6 }],
  ["node.explain-node", { "border-color": "#2563eb", "border-width": 4 }],
  ["node.explain-fail", { "border-color": "#dc2626", "border-width": 6, "background-color": "#fee2e2" }],
  ["node.check-pass", { "underlay-color": "#16a34a", "underlay-opacity": 0.35, "underlay-padding": 8 }],
  ["node.check-fail", { "underlay-color": "#dc2626", "underlay-opacity": 0.35, "underlay-padding": 8 }],
];
const POLL_MS = 300;
const POLL_LIMIT = 400; // 2 minutes: a test of many checks takes a few seconds each

async function finished(jobId: number): Promise<Job> {
  for (let i = 0; i < POLL_LIMIT; i++) {
    const job = await api.job(jobId);
    if (job.status === "succeeded" || job.status === "failed") return job;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error("the worker did not finish in time");
}

async function post<T>(path: string, body: unknown): Promise<T> {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  const res = await fetch(`/api${path}`, {
    method: "POST", credentials: "same-origin", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": m ? decodeURIComponent(m[1]) : "" },
  });
  const data = (await res.json().catch(() => ({}))) as { detail?: string; errors?: { path: string; message: string }[] };
  if (!res.ok) throw new Error(data.errors?.map((e) => `${e.path}: ${e.message}`).join("; ") || data.detail || `HTTP ${res.status}`);
  return data as T;
}

const sameRoute = (a: Route, b: Route) => a.to === b.to && (a.via ?? "") === (b.via ?? "") && (a.dev ?? "") === (b.dev ?? "");

function applyChange(spec: NodeSpec, c: FixChange): void {
  if (c.kind === "forwarding") spec.forwarding = true;
  else if (c.kind === "nat" && c.nat) spec.nat = [...(spec.nat ?? []), { ...c.nat }];
  else if (c.kind === "route" && c.route) spec.routes = [...(spec.routes ?? []), { ...c.route }];
  else if (c.kind === "reroute" && c.route && c.replaces) {
    const old = c.replaces;
    spec.routes = (spec.routes ?? []).map((r) => (sameRoute(r, old) ? { ...(c.route as Route) } : r));
  }
}

export class Explain {
  private source = h("select", { id: "explain-source" });
  private target = h("input", { id: "explain-target", type: "text", list: "ping-targets", placeholder: "node or address", autocomplete: "off" });
  private protocol = h("select", { id: "explain-protocol" }, ...["icmp", "tcp", "udp"].map((p) => h("option", { value: p, text: p })));
  private port = h("input", { id: "explain-port", type: "number", min: "1", max: "65535", placeholder: "port" });
  private out = h("div", { class: "explain-out", "data-testid": "explain" });
  private checksBox = h("div", { class: "checks", "data-testid": "checks" });
  private results = new Map<number, CheckRow>();

  constructor(root: HTMLElement, private editor: Editor, private labId: number, private role: Role) {
    const cy = editor.cy;
    for (const [sel, style] of STYLES) cy.style().selector(sel).style(style);
    cy.style().update();
    const op = canOperate(role);
    const run = h("button", { type: "button", "data-action": "explain", text: "Explain" });
    run.addEventListener("click", () => void this.explain());
    root.append(
      h("h2", { text: "Explain" }),
      op
        ? h("div", { class: "ping-form" },
            h("div", { class: "field" }, h("label", { for: "explain-source", text: "Explain source" }), this.source),
            h("div", { class: "field" }, h("label", { for: "explain-target", text: "Explain target" }), this.target),
            h("div", { class: "field narrow" }, h("label", { for: "explain-protocol", text: "Explain protocol" }), this.protocol),
            h("div", { class: "field narrow" }, h("label", { for: "explain-port", text: "Explain port" }), this.port),
            run)
        : h("p", { class: "muted", text: "Explaining needs the operator role." }),
      this.out,
      h("h2", { text: "Checks" }),
      this.checksBox,
    );
  }

  /** After the drawing changed: refill the source picker and the checks list. */
  refresh(): void {
    const names = this.editor.model.nodes.map((n) => n.spec.name);
    const cur = this.source.value;
    this.source.replaceChildren(...names.map((n) => h("option", { value: n, text: n })));
    if (names.includes(cur)) this.source.value = cur;
    this.renderChecks();
  }

  private checks(): Check[] {
    const c = this.editor.model.extra.checks;
    return Array.isArray(c) ? (c as Check[]) : [];
  }

  async explain(): Promise<void> {
    const body = { source: this.source.value, target: this.target.value.trim(), protocol: this.protocol.value,
      port: this.protocol.value === "icmp" || !this.port.value ? null : Number(this.port.value) };
    this.out.replaceChildren(h("p", { role: "status", text: `Explaining ${body.source} → ${body.target}…` }));
    try {
      const { job } = await post<{ job: number }>(`/labs/${this.labId}/explain`, body);
      const row = await finished(job);
      if (row.status === "failed") throw new Error(row.error ?? "the explain job failed");
      this.show(row.result as unknown as ExplainResult);
    } catch (e) {
      this.out.replaceChildren(h("p", { class: "error", role: "status", text: `Explain refused: ${(e as Error).message}` }));
    }
  }

  show(r: ExplainResult): void {
    const p = r.predicted;
    this.draw(p);
    const verdict = (v: string) => h("strong", { class: `verdict v-${v}`, text: v });
    const hops = h("ol", { class: "hops", "data-testid": "explain-hops" },
      ...p.hops.map((hop, i) => h("li", { class: `hop ${hop.direction ?? "request"}${i === p.failed_hop ? " failed" : ""}` },
        h("span", { class: "hop-node", text: `${hop.node} ${hop.action}` }), ` ${hop.detail}`)));
    const fixes = p.fix.map((f, i) => {
      const li = h("li", { class: "fix", "data-testid": `fix-${i}` }, h("span", { text: f.summary }));
      if (canEdit(this.role)) {
        const apply = h("button", { type: "button", "data-action": "apply-fix", text: "Apply to drawing" });
        apply.addEventListener("click", () => this.applyFix(f));
        li.append(" ", apply);
      }
      li.addEventListener("mouseenter", () => this.mark([f.node], "explain-node"));
      return li;
    });
    this.out.replaceChildren(
      h("p", { "data-testid": "explain-predicted" }, "Predicted: ", verdict(p.verdict)),
      h("p", { class: "reason", "data-testid": "explain-reason", text: p.reason }),
      h("p", { "data-testid": "explain-measured" }, "Measured: ",
        r.measured ? verdict(r.measured.verdict) : h("span", { class: "muted", text: "not deployed" }),
        r.measured ? ` ${r.measured.detail}` : "",
        r.agree === false ? h("span", { class: "error", text: ` · disagrees${r.measured?.parted ? `: ${r.measured.parted}` : ""}` }) : ""),
      hops,
      fixes.length ? h("h3", { text: "Fixes" }) : "",
      fixes.length ? h("ul", { class: "fixes" }, ...fixes) : "",
    );
  }

  /** One click, an ordinary edit (undo, save, apply as usual): the fix's changes go onto the current
   * drawing, so edits made since the explained version stay; when a change names a node the drawing
   * does not have (the undrawn host), the drawing becomes the fix's whole document instead. */
  private applyFix(f: FixRow): void {
    const changes = f.changes ?? [];
    const specs = changes.map((c) => this.editor.model.nodeByName(c.node)?.spec);
    this.editor.beginEdit();
    if (changes.length && specs.every((s) => s)) {
      changes.forEach((c, i) => applyChange(specs[i] as NodeSpec, c));
    } else {
      this.editor.model = Model.fromDoc(structuredClone(f.document));
    }
    this.editor.edited(true);
    this.editor.say(`Fix applied to the drawing: ${f.summary}. Save, then apply.`);
  }

  private nodeId(name: string): string | null {
    return this.editor.model.nodeByName(name)?.id ?? null;
  }

  private mark(names: string[], cls: string): void {
    const cy = this.editor.cy;
    for (const n of names) {
      const id = this.nodeId(n);
      if (id) cy.getElementById(id).addClass(cls);
    }
  }

  private draw(p: Predicted): void {
    const cy: cytoscape.Core = this.editor.cy;
    cy.elements(".explain-req, .explain-rep, .explain-node, .explain-fail").removeClass("explain-req explain-rep explain-node explain-fail");
    let prev: Hop | null = null;
    for (const hop of p.hops) {
      this.mark([hop.node], "explain-node");
      if (prev && prev.node !== hop.node && prev.direction === hop.direction) {
        const a = this.nodeId(prev.node);
        const b = this.nodeId(hop.node);
        if (a && b) {
          cy.edges().filter((e) => (e.source().id() === a && e.target().id() === b) || (e.source().id() === b && e.target().id() === a))
            .addClass(hop.direction === "reply" ? "explain-rep" : "explain-req");
        }
      }
      prev = hop;
    }
    if (p.failed_hop !== null && p.hops[p.failed_hop]) this.mark([p.hops[p.failed_hop].node], "explain-fail");
  }

  // ----- checks ----------------------------------------------------------------------------------

  private renderChecks(): void {
    const checks = this.checks();
    const edit = canEdit(this.role);
    const rows = checks.map((c, i) => {
      const res = this.results.get(i);
      const badge = res ? h("span", { class: `badge ${res.passed ? "pass" : "fail"}`, text: res.passed ? "pass" : "fail" }) : h("span", { class: "badge muted", text: "not run" });
      const li = h("li", { "data-testid": `check-${i}` }, badge,
        ` ${c.name ? `${c.name}: ` : ""}${c.from} → ${c.to}${c.port ? ` ${c.protocol} ${c.port}` : ""} expects ${c.expect}`);
      if (res && !res.passed) li.append(h("div", { class: "why", text: `measured ${res.measured}. ${res.explain?.measured?.parted ?? res.explain?.predicted.reason ?? ""}` }));
      for (const e of this.editor.errors.filter((x) => x.path === `checks[${i}]` || x.path.startsWith(`checks[${i}].`))) {
        li.append(h("div", { class: "why", role: "alert", text: `${e.path}: ${e.message}` }));
      }
      if (edit) {
        const del = h("button", { type: "button", "aria-label": `Remove check ${i + 1}`, text: "Remove" });
        del.addEventListener("click", () => this.setChecks(checks.filter((_c, j) => j !== i)));
        li.append(" ", del);
      }
      return li;
    });
    const kids: (Node | string)[] = [rows.length ? h("ul", { class: "check-list" }, ...rows) : h("p", { class: "muted", text: "No checks yet." })];
    if (canOperate(this.role)) {
      const run = h("button", { type: "button", "data-action": "run-checks", text: "Run checks" });
      run.addEventListener("click", () => void this.runChecks());
      kids.push(run);
    }
    if (edit) kids.push(this.addForm());
    this.checksBox.replaceChildren(...kids);
  }

  private addForm(): HTMLElement {
    const from = h("input", { "aria-label": "Check source", placeholder: "from", size: 8 });
    const to = h("input", { "aria-label": "Check target", placeholder: "to", size: 10 });
    const proto = h("select", { "aria-label": "Check protocol" }, ...["icmp", "tcp", "udp"].map((p) => h("option", { value: p, text: p })));
    const port = h("input", { "aria-label": "Check port", type: "number", placeholder: "port", size: 5 });
    const expect = h("select", { "aria-label": "Check expects" }, ...["reachable", "unreachable", "no-reply"].map((p) => h("option", { value: p, text: p })));
    const add = h("button", { type: "button", "data-action": "add-check", text: "Add check" });
    add.addEventListener("click", () => {
      if (!from.value.trim() || !to.value.trim()) return;
      const c: Check = { from: from.value.trim(), to: to.value.trim(), expect: expect.value };
      if (proto.value !== "icmp") {
        c.protocol = proto.value;
        c.port = Number(port.value) || undefined;
      }
      this.setChecks([...this.checks(), c]);
    });
    return h("div", { class: "ping-form check-form" }, from, to, proto, port, expect, add);
  }

  private setChecks(checks: Check[]): void {
    this.editor.beginEdit();
    if (checks.length) this.editor.model.extra.checks = checks;
    else delete this.editor.model.extra.checks;
    this.results.clear();
    this.editor.edited(false);
    this.renderChecks();
  }

  async runChecks(): Promise<void> {
    this.checksBox.prepend(h("p", { role: "status", text: "Running the checks…" }));
    try {
      const { job } = await post<{ job: number }>(`/labs/${this.labId}/test`, {});
      const row = await finished(job);
      if (row.status === "failed") throw new Error(row.error ?? "the test job failed");
      const result = row.result as unknown as { checks: CheckRow[] };
      this.results.clear();
      result.checks.forEach((c, i) => this.results.set(i, c));
      this.badges(result.checks);
      this.renderChecks();
    } catch (e) {
      this.checksBox.prepend(h("p", { class: "error", role: "status", text: `Checks not run: ${(e as Error).message}` }));
    }
  }

  /** A badge on each check's source node: red when any of its checks failed. */
  private badges(rows: CheckRow[]): void {
    const cy = this.editor.cy;
    cy.nodes(".check-pass, .check-fail").removeClass("check-pass check-fail");
    const failed = new Set(rows.filter((r) => !r.passed).map((r) => r.check.from));
    for (const r of rows) this.mark([r.check.from], failed.has(r.check.from) ? "check-fail" : "check-pass");
  }
}
