// Packet capture in the Watch tab: capture on a cable end or an interface (from the panel, or the
// canvas's right-click menu on a cable or a node), every packet listed as it arrives and sent as a dot
// along its cable; "Capture the path" beside Ping captures on every hop and then pings, so the NAT
// rewrite shows on both sides of the host; the pcap is one click away once the capture has ended.

import "./capture.css";
import { api } from "./api";
import { h } from "./dom";
import type { Editor } from "./editor";
import type { CapturePacket, JobFinished, JobProgress } from "./protocol";
import type { Role } from "./types";
import { canOperate } from "./types";

export interface CapturePoint {
  node: string;
  interface: string;
}

interface CaptureResult {
  packets?: number;
  reason?: string;
}

const MAX_ROWS = 1000;
const MAX_DOTS = 40;
const DOT_MS = 700;
const READY_WAIT_MS = 15_000;
const REASONS: Record<string, string> = { time: "its time limit", packets: "its packet limit", bytes: "its size limit", gone: "an interface going away", stopped: "Stop" };

/** Every interface a capture can name, from the drawing: cable ends, and each bridge's own device. */
export function capturePoints(editor: Editor): CapturePoint[] {
  const out: CapturePoint[] = [];
  for (const l of editor.model.links) for (const e of [l.spec.a, l.spec.b]) if (e.node && e.interface) out.push({ node: e.node, interface: e.interface });
  for (const n of editor.model.nodes) if (n.spec.kind === "bridge") out.push({ node: n.spec.name, interface: n.spec.name });
  return out;
}

export class Capture {
  private pointSelect: HTMLSelectElement;
  private seconds: HTMLInputElement;
  private status: HTMLElement;
  private list: HTMLOListElement;
  private download: HTMLAnchorElement;
  private filter: HTMLInputElement;
  private dots: HTMLElement;
  private menu: HTMLElement | null = null;
  private startButton: HTMLButtonElement | null = null;
  private pathButton: HTMLButtonElement | null = null;
  private stopButton: HTMLButtonElement | null = null;
  private job: number | null = null;
  private count = 0;
  private flying = 0;
  private early: (CapturePacket | JobProgress)[] = [];
  private onReady: (() => void) | null = null;
  private readonly operate: boolean;

  constructor(
    root: HTMLElement,
    private editor: Editor,
    private labId: number,
    role: Role,
    private announce: (text: string) => void,
    private ping: () => Promise<void>,
  ) {
    this.operate = canOperate(role);
    this.pointSelect = h("select", { id: "capture-point" });
    this.seconds = h("input", { id: "capture-seconds", type: "number", min: "1", max: "120", value: "10" });
    this.status = h("p", { class: "capture-status", role: "status", "data-testid": "capture-status" });
    this.list = h("ol", { class: "capture-packets", "aria-label": "Captured packets", "data-testid": "capture-packets" });
    this.filter = h("input", { id: "capture-filter", type: "search", placeholder: "e.g. icmp, 192.168.1.2, eth0", autocomplete: "off" });
    this.filter.addEventListener("input", () => {
      for (const li of this.list.querySelectorAll<HTMLElement>("li")) li.hidden = !this.matches(li.textContent ?? "");
    });
    this.download = h("a", { class: "button capture-download", "data-testid": "capture-download", hidden: true, text: "Download pcap" });
    const section = h("section", { class: "capture", "aria-label": "Packet capture" }, h("h2", { text: "Capture" }));
    if (this.operate) {
      this.startButton = h("button", { type: "button", class: "primary", "data-action": "capture", text: "Capture" });
      this.startButton.addEventListener("click", () => {
        const [node, iface] = this.pointSelect.value.split("/");
        if (node && iface) void this.start({ points: [{ node, interface: iface }] });
      });
      this.stopButton = h("button", { type: "button", "data-action": "capture-stop", text: "Stop", hidden: true });
      this.stopButton.addEventListener("click", () => {
        if (this.job !== null) void api.captureStop(this.labId, this.job).catch((e: Error) => this.setStatus(`Could not stop: ${e.message}`, true));
      });
      section.append(h("div", { class: "capture-form" },
        h("div", { class: "field" }, h("label", { for: "capture-point", text: "Capture on" }), this.pointSelect),
        h("div", { class: "field narrow" }, h("label", { for: "capture-seconds", text: "Seconds" }), this.seconds),
        this.startButton, this.stopButton));
      this.pathButton = h("button", { type: "button", "data-action": "capture-path", text: "Capture the path", title: "Capture on every hop from the ping's source to its target, then ping" });
      this.pathButton.addEventListener("click", () => void this.capturePath());
      root.querySelector(".ping-form")?.append(this.pathButton);
    } else {
      section.append(h("p", { class: "muted", text: "Capturing needs the operator role; captures others start show here." }));
    }
    section.append(this.status, this.download,
      h("div", { class: "field" }, h("label", { for: "capture-filter", text: "Show only packets with" }), this.filter), this.list);
    const tables = [...root.querySelectorAll("h2")].find((e) => e.textContent === "Tables");
    root.insertBefore(section, tables ?? null);
    const wrap = editor.cy.container()?.parentElement ?? document.body;
    this.dots = h("div", { class: "capture-dots", "aria-hidden": "true" });
    wrap.append(this.dots);
    if (this.operate) this.contextMenus(wrap);
  }

  /** Refills the interface picker after the drawing changed. */
  refreshPoints(): void {
    const cur = this.pointSelect.value;
    const names = capturePoints(this.editor).map((p) => `${p.node}/${p.interface}`);
    this.pointSelect.replaceChildren(...names.map((n) => h("option", { value: n, text: n })));
    if (names.includes(cur)) this.pointSelect.value = cur;
  }

  private secondsValue(): number {
    return Math.min(120, Math.max(1, Number(this.seconds.value) || 10));
  }

  /** Starts a capture; resolves with the job once its sockets are open (null when refused). */
  async start(body: { points?: CapturePoint[]; path?: { source: string; target: string } }): Promise<number | null> {
    this.list.replaceChildren();
    this.count = 0;
    this.download.hidden = true;
    this.setStatus("Starting the capture…", false);
    const ready = new Promise<void>((resolve) => {
      this.onReady = resolve;
      window.setTimeout(resolve, READY_WAIT_MS);
    });
    try {
      const res = await api.capture(this.labId, { ...body, seconds: this.secondsValue(), max_packets: 1000 });
      this.job = res.job;
      this.setButtons(true);
      for (const m of this.early.filter((e) => e.job === res.job)) (m.type === "job.progress" ? this.onProgress(m) : this.onPacket(m));
      this.early = [];
      await ready;
      return res.job;
    } catch (e) {
      this.setStatus(`Capture refused: ${(e as Error).message}`, true);
      this.onReady = null;
      return null;
    }
  }

  /** Capture on every hop from the ping form's source to its target, then ping once it listens. */
  async capturePath(): Promise<void> {
    const source = (document.getElementById("ping-source") as HTMLSelectElement | null)?.value ?? "";
    const target = (document.getElementById("ping-target") as HTMLInputElement | null)?.value.trim() ?? "";
    if (!source || !target) {
      this.setStatus("Pick the ping's source node and target first.", true);
      return;
    }
    const job = await this.start({ path: { source, target } });
    if (job !== null) await this.ping();
  }

  onProgress(m: JobProgress): void {
    if (this.job === null || m.job !== this.job) {
      if (m.step.startsWith("capturing on")) this.early = [...this.early.slice(-200), m];
      return;
    }
    if (m.step.startsWith("capturing on")) {
      this.setStatus(`${m.step[0].toUpperCase()}${m.step.slice(1)}…`, false);
      this.onReady?.();
      this.onReady = null;
    }
  }

  onPacket(m: CapturePacket): void {
    if (this.job === null && !this.operate) {
      this.job = m.job; // a viewer follows the capture someone else started
      this.list.replaceChildren();
      this.count = 0;
    }
    if (this.job === null || m.job !== this.job) {
      this.early = [...this.early.slice(-200), m];
      return;
    }
    this.count += 1;
    if (this.list.children.length < MAX_ROWS) {
      const when = new Date(m.ts * 1000);
      const clock = `${when.toLocaleTimeString("en-GB", { hour12: false })}.${String(when.getMilliseconds()).padStart(3, "0")}`;
      const row = h("li", { "data-node": m.node, "data-interface": m.interface },
        h("time", { text: clock }), h("span", { class: "where", text: `${m.node}/${m.interface}` }), h("span", { class: "summary", text: m.summary }));
      row.hidden = !this.matches(row.textContent ?? "");
      this.list.append(row);
    }
    this.fly(m);
  }

  onFinished(m: JobFinished): void {
    if (m.job !== this.job || m.kind !== "capture") return;
    const job = m.job;
    this.setButtons(false);
    this.onReady?.();
    this.onReady = null;
    if (m.status === "failed") {
      this.setStatus(`Capture failed: ${m.error ?? "unknown error"}`, true);
      this.job = this.operate ? job : null;
      return;
    }
    void api.job(job).then((row) => {
      const r = (row.result as CaptureResult | null) ?? {};
      const text = `Captured ${r.packets ?? this.count} packet(s), ended by ${REASONS[r.reason ?? ""] ?? r.reason ?? "its end"}.`;
      this.setStatus(text, false);
      this.announce(text);
    }, () => this.setStatus(`Captured ${this.count} packet(s).`, false));
    if (this.operate) {
      this.download.href = `/api/jobs/${job}/pcap`;
      this.download.setAttribute("download", `capture-${job}.pcap`);
      this.download.hidden = false;
    }
    if (!this.operate) this.job = null;
  }

  private matches(text: string): boolean {
    const want = this.filter.value.trim().toLowerCase();
    return !want || text.toLowerCase().includes(want);
  }

  private setStatus(text: string, bad: boolean): void {
    this.status.textContent = text;
    this.status.classList.toggle("error", bad);
  }

  private setButtons(running: boolean): void {
    if (this.startButton) this.startButton.disabled = running;
    if (this.pathButton) this.pathButton.disabled = running;
    if (this.stopButton) this.stopButton.hidden = !running;
  }

  // ----- the canvas: dots along cables, right-click menus -------------------------------------

  /** The two node ids a packet travels between: its cable's ends, or a bridge and the host it lives in. */
  private ends(m: CapturePacket): [string, string] | null {
    const model = this.editor.model;
    for (const l of model.links) {
      if (!l.aId || !l.bId) continue;
      if (l.spec.a.node === m.node && l.spec.a.interface === m.interface) return [l.aId, l.bId];
      if (l.spec.b.node === m.node && l.spec.b.interface === m.interface) return [l.bId, l.aId];
    }
    const host = model.nodes.find((n) => n.spec.kind === "host");
    const bridge = model.nodeByName(m.node)?.spec.kind === "bridge" ? model.nodeByName(m.node) : model.nodeByName(m.interface);
    if (host && bridge && bridge.spec.kind === "bridge") return m.node === bridge.spec.name ? [bridge.id, host.id] : [host.id, bridge.id];
    return null;
  }

  private fly(m: CapturePacket): void {
    const ends = this.ends(m);
    if (!ends || this.flying >= MAX_DOTS) return;
    const [mine, other] = ends;
    const a = this.editor.cy.getElementById(mine);
    const b = this.editor.cy.getElementById(other);
    if (a.empty() || b.empty()) return;
    const [from, to] = m.outgoing === false ? [b.renderedPosition(), a.renderedPosition()] : [a.renderedPosition(), b.renderedPosition()];
    const dot = h("span", { class: `packet-dot${m.summary.startsWith("ARP") ? " arp" : ""}`, "data-summary": m.summary });
    this.dots.append(dot);
    this.flying += 1;
    const anim = dot.animate(
      [{ transform: `translate(${from.x}px, ${from.y}px)` }, { transform: `translate(${to.x}px, ${to.y}px)` }],
      { duration: DOT_MS, easing: "ease-in-out" },
    );
    anim.onfinish = () => {
      dot.remove();
      this.flying -= 1;
    };
  }

  private contextMenus(wrap: HTMLElement): void {
    const cy = this.editor.cy;
    cy.on("cxttap", "edge", (ev) => {
      const link = this.editor.model.link(String(ev.target.id()));
      if (link) this.openMenu(ev.renderedPosition, [link.spec.a, link.spec.b].map((e) => ({ node: e.node, interface: e.interface })), wrap);
    });
    cy.on("cxttap", "node", (ev) => {
      const name = String(ev.target.data("name"));
      const points = capturePoints(this.editor).filter((p) => p.node === name);
      if (points.length) this.openMenu(ev.renderedPosition, points, wrap);
    });
    cy.on("tap", () => this.closeMenu());
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") this.closeMenu();
    });
  }

  private openMenu(at: { x: number; y: number }, points: CapturePoint[], wrap: HTMLElement): void {
    this.closeMenu();
    const menu = h("div", { class: "capture-menu", role: "menu", "aria-label": "Capture" });
    for (const p of points) {
      const item = h("button", { type: "button", role: "menuitem", text: `Capture on ${p.node}/${p.interface}` });
      item.addEventListener("click", () => {
        this.closeMenu();
        document.getElementById("tab-watch")?.click();
        void this.start({ points: [p] });
      });
      menu.append(item);
    }
    menu.style.left = `${at.x}px`;
    menu.style.top = `${at.y}px`;
    wrap.append(menu);
    this.menu = menu;
    menu.querySelector<HTMLButtonElement>("button")?.focus();
  }

  private closeMenu(): void {
    this.menu?.remove();
    this.menu = null;
  }
}
