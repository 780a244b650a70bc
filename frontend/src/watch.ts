// The Watch tab: ping from a node to a node or address, each reply listed as it arrives, the path lit
// on the drawing, a growing RTT chart; and a node's live tables (interfaces, ARP, routes).

import { api } from "./api";
import { h } from "./dom";
import type { Editor } from "./editor";
import { highlightPath } from "./graph";
import type { JobFinished, PingReply, TablesSnapshot } from "./protocol";
import type { PingResult, Role, Tables } from "./types";
import { canOperate } from "./types";

const SVG = "http://www.w3.org/2000/svg";

export class Watch {
  private source: HTMLSelectElement;
  private target: HTMLInputElement;
  private count: HTMLInputElement;
  private replies: HTMLOListElement;
  private summary: HTMLElement;
  private chart: SVGSVGElement;
  private rtts: number[] = [];
  private seen = new Set<number>();
  private job: number | null = null;
  private tablesNode: HTMLSelectElement;
  private tablesBox: HTMLElement;
  private targets: HTMLDataListElement;
  private pingButton: HTMLButtonElement | null = null;

  constructor(
    root: HTMLElement,
    private editor: Editor,
    private labId: number,
    role: Role,
    private announce: (text: string) => void,
  ) {
    this.source = h("select", { id: "ping-source" });
    this.target = h("input", { id: "ping-target", type: "text", list: "ping-targets", placeholder: "node or address", autocomplete: "off" });
    this.targets = h("datalist", { id: "ping-targets" });
    this.count = h("input", { id: "ping-count", type: "number", min: "1", max: "20", value: "4" });
    this.replies = h("ol", { class: "replies", "aria-live": "polite", "aria-label": "Ping replies", "data-testid": "ping-replies" });
    this.summary = h("p", { class: "ping-summary", role: "status", "data-testid": "ping-summary" });
    this.chart = document.createElementNS(SVG, "svg");
    this.chart.setAttribute("class", "rtt-chart");
    this.chart.setAttribute("viewBox", "0 0 300 80");
    this.chart.setAttribute("role", "img");
    this.chart.setAttribute("aria-label", "Round-trip times");
    this.tablesNode = h("select", { id: "tables-node" });
    this.tablesBox = h("div", { class: "tables", "data-testid": "tables" });
    const op = canOperate(role);
    if (op) {
      this.pingButton = h("button", { type: "button", class: "primary", "data-action": "ping", text: "Ping" });
      this.pingButton.addEventListener("click", () => void this.ping());
    }
    root.append(
      h("h2", { text: "Ping" }),
      op
        ? h("div", { class: "ping-form" },
            h("div", { class: "field" }, h("label", { for: "ping-source", text: "From node" }), this.source),
            h("div", { class: "field" }, h("label", { for: "ping-target", text: "To node or address" }), this.target, this.targets),
            h("div", { class: "field narrow" }, h("label", { for: "ping-count", text: "Count" }), this.count),
            this.pingButton)
        : h("p", { class: "muted", text: "Pinging needs the operator role." }),
      this.summary,
      this.chart,
      this.replies,
      h("h2", { text: "Tables" }),
      h("div", { class: "field" }, h("label", { for: "tables-node", text: "Tables of node" }), this.tablesNode),
      this.tablesBox,
    );
    this.tablesNode.addEventListener("change", () => void this.loadTables());
  }

  /** Refills the node pickers after the drawing changed. */
  refreshNodes(): void {
    const nodes = this.editor.model.nodes.map((n) => n.spec).filter((s) => s.kind !== "bridge");
    const names = nodes.map((s) => s.name);
    const keep = (sel: HTMLSelectElement) => {
      const cur = sel.value;
      sel.replaceChildren(...names.map((n) => h("option", { value: n, text: n })));
      if (names.includes(cur)) sel.value = cur;
    };
    keep(this.source);
    const cur = this.tablesNode.value;
    keep(this.tablesNode);
    if (cur !== this.tablesNode.value) this.tablesBox.replaceChildren();
    const addrs = this.editor.model.links.flatMap((l) => [...(l.spec.a.addresses ?? []), ...(l.spec.b.addresses ?? [])]).map((a) => a.split("/")[0]);
    const bridgeAddrs = this.editor.model.nodes.flatMap((n) => n.spec.addresses ?? []).map((a) => a.split("/")[0]);
    this.targets.replaceChildren(...[...names, ...addrs, ...bridgeAddrs].map((v) => h("option", { value: v })));
  }

  /** The node a ping target names: a node name, or the node owning that address. */
  private targetNodeId(target: string): string | null {
    const m = this.editor.model;
    const byName = m.nodeByName(target);
    if (byName) return byName.id;
    const owns = (addresses: string[] | undefined) => (addresses ?? []).some((a) => a.split("/")[0] === target);
    for (const l of m.links) {
      if (owns(l.spec.a.addresses)) return l.aId ?? null;
      if (owns(l.spec.b.addresses)) return l.bId ?? null;
    }
    const br = m.nodes.find((n) => (n.spec.addresses ?? []).some((a) => a.split("/")[0] === target));
    return br?.id ?? null;
  }

  async ping(): Promise<void> {
    const source = this.source.value;
    const target = this.target.value.trim();
    if (!source || !target) {
      this.summary.textContent = "Pick a source node and a target.";
      return;
    }
    const count = Math.min(20, Math.max(1, Number(this.count.value) || 4));
    this.replies.replaceChildren();
    this.rtts = [];
    this.seen.clear();
    this.drawChart();
    const src = this.editor.model.nodeByName(source);
    if (src) highlightPath(this.editor.cy, src.id, this.targetNodeId(target));
    this.summary.textContent = `Pinging ${target} from ${source}…`;
    this.summary.classList.remove("error");
    try {
      this.early = [];
      const res = await api.ping(this.labId, source, target, count);
      this.job = res.job;
      for (const m of this.early.filter((e) => e.job === res.job)) this.onReply(m);
      this.early = [];
      if (this.pingButton) this.pingButton.disabled = true;
      void this.poll(res.job);
    } catch (e) {
      this.summary.textContent = `Ping refused: ${(e as Error).message}`;
      this.summary.classList.add("error");
    }
  }

  /** Replies can arrive before the POST answer tells us the job id: keep them until it does. */
  private early: PingReply[] = [];

  onReply(m: PingReply): void {
    if (this.job === null || m.job !== this.job) {
      this.early = [...this.early.slice(-50), m];
      return;
    }
    if (!this.seen.has(m.seq)) this.addReply(m.seq, m.ttl, m.rtt_ms);
  }

  private addReply(seq: number, ttl: number, rtt: number): void {
    this.seen.add(seq);
    const item = h("li", { "data-seq": String(seq), "data-rtt": String(rtt), text: `seq=${seq} ttl=${ttl} time=${rtt.toFixed(3)} ms` });
    const rows = [...this.replies.querySelectorAll<HTMLElement>("li")];
    this.replies.insertBefore(item, rows.find((li) => Number(li.dataset.seq) > seq) ?? null);
    this.rtts = [...this.replies.querySelectorAll<HTMLElement>("li")].map((li) => Number(li.dataset.rtt));
    this.drawChart();
  }

  private async poll(job: number): Promise<void> {
    for (let i = 0; i < 120 && this.job === job; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      if (this.job !== job) return;
      try {
        const row = await api.job(job);
        if (row.status === "succeeded" || row.status === "failed" || row.status === "superseded") {
          this.finish(job, row.status === "superseded" ? "failed" : row.status, row.error, (row.result as PingResult | null) ?? null);
          return;
        }
      } catch {
        /* try again */
      }
    }
  }

  onFinished(m: JobFinished): void {
    if (m.job !== this.job) return;
    const job = m.job;
    void api.job(job).then(
      (row) => this.finish(job, row.status, row.error, (row.result as PingResult | null) ?? null),
      () => this.finish(job, m.status, m.error, null),
    );
  }

  private finish(job: number, status: string, error: string | null, result: PingResult | null): void {
    if (this.job !== job) return;
    this.job = null;
    if (this.pingButton) this.pingButton.disabled = false;
    for (const r of result?.replies ?? []) if (!this.seen.has(r.seq)) this.addReply(r.seq, r.ttl, r.rtt_ms);
    let text: string;
    if (result) {
      const loss = result.sent ? Math.round((100 * (result.sent - result.received)) / result.sent) : 100;
      text = `${result.sent} sent, ${result.received} received, ${loss}% loss`;
      if (result.error) text = `${result.error} (${text})`;
    } else {
      text = status === "succeeded" ? "Ping finished" : `Ping failed: ${error ?? "unknown error"}`;
    }
    if (status === "failed" && error && !text.includes(error)) text = `${error} (${text})`;
    const bad = status === "failed" || !!result?.error || (result !== null && result.received === 0);
    this.summary.textContent = text;
    this.summary.classList.toggle("error", bad);
    this.announce(text);
    void this.loadTables();
  }

  private drawChart(): void {
    const w = 300;
    const hgt = 80;
    const max = Math.max(0.1, ...this.rtts) * 1.2;
    const n = Math.max(this.rtts.length, 10);
    const pts = this.rtts.map((r, i) => `${(i * (w - 20)) / (n - 1) + 10},${hgt - 10 - (r / max) * (hgt - 20)}`);
    const kids: SVGElement[] = [];
    const axis = document.createElementNS(SVG, "line");
    for (const [k, v] of Object.entries({ x1: "10", y1: String(hgt - 10), x2: String(w - 10), y2: String(hgt - 10), class: "axis" })) axis.setAttribute(k, v);
    kids.push(axis);
    if (pts.length) {
      const line = document.createElementNS(SVG, "polyline");
      line.setAttribute("points", pts.join(" "));
      line.setAttribute("class", "rtt-line");
      kids.push(line);
      for (const p of pts) {
        const [x, y] = p.split(",");
        const dot = document.createElementNS(SVG, "circle");
        dot.setAttribute("cx", x);
        dot.setAttribute("cy", y);
        dot.setAttribute("r", "2.5");
        kids.push(dot);
      }
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", "12");
      label.setAttribute("y", "12");
      label.textContent = `max ${Math.max(...this.rtts).toFixed(3)} ms`;
      kids.push(label);
    }
    this.chart.replaceChildren(...kids);
  }

  // ----- tables ----------------------------------------------------------------------------------

  async loadTables(): Promise<void> {
    const node = this.tablesNode.value;
    const state = this.editor.lab?.deployment?.state;
    if (!node) return;
    if (state !== "deployed" && state !== "applying") {
      this.tablesBox.replaceChildren(h("p", { class: "muted", text: "Tables appear once the lab is applied." }));
      return;
    }
    try {
      this.showTables(node, await api.tables(this.labId, node));
    } catch (e) {
      this.tablesBox.replaceChildren(h("p", { class: "muted", text: `No tables for ${node}: ${(e as Error).message}` }));
    }
  }

  onSnapshot(m: TablesSnapshot): void {
    if (m.node === this.tablesNode.value) this.showTables(m.node, m);
  }

  private showTables(node: string, t: Tables): void {
    const table = (caption: string, cols: string[], rows: string[][]) =>
      h("table", { "data-table": caption.toLowerCase() },
        h("caption", { text: `${caption} of ${node}` }),
        h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, ...(rows.length ? rows.map((r) => h("tr", {}, ...r.map((c, i) => h("td", { text: c, class: cols[i] === "MAC" ? "mac" : undefined })))) : [h("tr", {}, h("td", { colspan: String(cols.length), class: "muted", text: "empty" }))])),
      );
    this.tablesBox.replaceChildren(
      table("Interfaces", ["name", "MAC", "state", "addresses"], (t.interfaces ?? []).map((i) => [i.name, i.mac, i.state, (i.addresses ?? []).join(", ")])),
      table("ARP", ["IP", "MAC", "interface", "state"], (t.arp ?? []).map((a) => [a.ip, a.mac, a.interface, a.state])),
      table("Routes", ["to", "via", "dev", "proto", "scope"], (t.routes ?? []).map((r) => [r.to, r.via ?? "", r.dev ?? "", r.proto ?? "", r.scope ?? ""])),
    );
  }

  selectTablesNode(name: string): void {
    if ([...this.tablesNode.options].some((o) => o.value === name)) {
      this.tablesNode.value = name;
      void this.loadTables();
    }
  }
}
