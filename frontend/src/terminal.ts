// The Terminal tab: a shell in a node's network namespace (xterm.js), one sub-tab per node, resized to
// its box, copy/paste. The socket is /ws/labs/{id}/nodes/{node}/terminal/ (shared/spec/interfaces.md
// "Terminal"); the shell runs on the lab's worker, sandboxed (docs/SECURITY.md "Terminal").

import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { h } from "./dom";
import type { Editor } from "./editor";
import type { Role } from "./types";
import { canOperate } from "./types";

/** What the browser sends. */
export type TerminalClientMessage =
  | { type: "input"; data: string }
  | { type: "resize"; cols: number; rows: number };

/** What the server sends. */
export type TerminalServerMessage =
  | { type: "output"; data: string }
  | { type: "exit"; code: number | null; reason?: string }
  | { type: "error"; message: string };

const CLOSE_REASONS: Record<number, string> = {
  4401: "you are logged out: log in again",
  4403: "a terminal needs the operator role on this lab",
};

class NodeTerminal {
  readonly tab: HTMLButtonElement;
  readonly pane: HTMLElement;
  private term: Terminal;
  private fit = new FitAddon();
  private ws: WebSocket | null = null;
  private observer: ResizeObserver;
  private status: HTMLElement;
  private screen: HTMLElement;
  private ended = false;

  constructor(
    private labId: number,
    readonly node: string,
    private onClose: (t: NodeTerminal) => void,
    private onSelect: (t: NodeTerminal) => void,
  ) {
    this.tab = h("button", { type: "button", role: "tab", class: "term-tab", "data-node": node, "aria-selected": "false" }, node);
    const close = h("button", { type: "button", class: "term-close", "aria-label": `Close the terminal of ${node}`, text: "×" });
    this.tab.append(close);
    this.tab.addEventListener("click", (ev) => {
      if (ev.target === close) this.close();
      else this.onSelect(this);
    });
    this.status = h("p", { class: "term-status muted small", role: "status" });
    const screen = (this.screen = h("div", { class: "term-screen", "data-testid": `terminal-${node}`, "aria-label": `Terminal of ${node}` }));
    const copy = h("button", { type: "button", text: "Copy", title: "Copy the selection (Ctrl+Shift+C)" });
    const paste = h("button", { type: "button", text: "Paste", title: "Paste (Ctrl+Shift+V)" });
    copy.addEventListener("click", () => void this.copy());
    paste.addEventListener("click", () => void this.paste());
    this.pane = h("div", { class: "term-pane", role: "tabpanel", hidden: true },
      h("div", { class: "term-tools" }, copy, paste, this.status), screen);
    this.term = new Terminal({ cursorBlink: true, fontSize: 13, convertEol: false, scrollback: 5000,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" });
    this.term.loadAddon(this.fit);
    this.term.open(screen);
    this.term.attachCustomKeyEventHandler((ev) => {
      if (ev.type === "keydown" && ev.ctrlKey && ev.shiftKey && (ev.key === "C" || ev.key === "c")) {
        void this.copy();
        return false;
      }
      if (ev.type === "keydown" && ev.ctrlKey && ev.shiftKey && (ev.key === "V" || ev.key === "v")) {
        void this.paste();
        return false;
      }
      return true;
    });
    this.term.onData((data) => this.send({ type: "input", data }));
    this.term.onResize(({ cols, rows }) => this.sendSize(cols, rows));
    this.observer = new ResizeObserver(() => this.refit());
    this.observer.observe(screen);
    this.connect();
  }

  private connect(): void {
    this.refit();
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const size = `cols=${this.term.cols}&rows=${this.term.rows}`;
    const ws = new WebSocket(`${proto}//${location.host}/ws/labs/${this.labId}/nodes/${encodeURIComponent(this.node)}/terminal/?${size}`);
    this.ws = ws;
    this.say("Connecting…");
    ws.onopen = () => {
      this.say("");
      this.refit();
      this.sendSize(this.term.cols, this.term.rows); // it may have been fitted while connecting
    };
    ws.onmessage = (ev) => {
      let m: TerminalServerMessage;
      try {
        m = JSON.parse(String(ev.data)) as TerminalServerMessage;
      } catch {
        return;
      }
      if (m.type === "output") this.term.write(m.data);
      else if (m.type === "exit") this.end(`Session ended${m.code !== null ? ` (exit ${m.code})` : ""}${m.reason ? `: ${m.reason}` : ""}.`);
      else if (m.type === "error") this.end(`No terminal: ${m.message}`);
    };
    ws.onclose = (ev) => {
      if (!this.ended) this.end(CLOSE_REASONS[ev.code] ? `No terminal: ${CLOSE_REASONS[ev.code]}` : "Disconnected.");
    };
  }

  private end(text: string): void {
    this.ended = true;
    this.say(text);
    this.term.write(`\r\n\x1b[2m[${text}]\x1b[0m\r\n`);
    this.tab.classList.add("ended");
  }

  private say(text: string): void {
    this.status.textContent = text;
  }

  private send(m: TerminalClientMessage): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private sendSize(cols: number, rows: number): void {
    this.screen.dataset.cols = String(cols);
    this.screen.dataset.rows = String(rows);
    this.send({ type: "resize", cols, rows });
  }

  refit(): void {
    if (this.pane.hidden) return;
    try {
      this.fit.fit();
    } catch {
      /* not laid out yet */
    }
  }

  show(on: boolean): void {
    this.pane.hidden = !on;
    this.tab.setAttribute("aria-selected", String(on));
    if (on) {
      requestAnimationFrame(() => {
        this.refit();
        this.term.focus();
      });
    }
  }

  private async copy(): Promise<void> {
    const text = this.term.getSelection();
    if (text) await navigator.clipboard.writeText(text).catch(() => this.say("The browser refused the clipboard."));
    this.term.focus();
  }

  private async paste(): Promise<void> {
    const text = await navigator.clipboard.readText().catch(() => "");
    this.term.focus();
    if (text) this.term.paste(text);
    else this.say("Nothing to paste (or the browser refused the clipboard: use Ctrl+V in the terminal).");
  }

  close(): void {
    this.ended = true;
    this.ws?.close();
    this.observer.disconnect();
    this.term.dispose();
    this.tab.remove();
    this.pane.remove();
    this.onClose(this);
  }
}

export class Terminals {
  private picker: HTMLSelectElement;
  private tabs: HTMLElement;
  private panes: HTMLElement;
  private open = new Map<string, NodeTerminal>();

  constructor(
    root: HTMLElement,
    private editor: Editor,
    private labId: number,
    role: Role,
  ) {
    this.picker = h("select", { id: "terminal-node" });
    this.tabs = h("div", { class: "term-tabs", role: "tablist", "aria-label": "Open terminals" });
    this.panes = h("div", { class: "term-panes" });
    if (!canOperate(role)) {
      root.append(h("h2", { text: "Terminal" }), h("p", { class: "muted", text: "A terminal needs the operator role." }));
      return;
    }
    const openButton = h("button", { type: "button", class: "primary", "data-action": "open-terminal", text: "Open terminal" });
    openButton.addEventListener("click", () => this.openNode(this.picker.value));
    root.append(
      h("h2", { text: "Terminal" }),
      h("p", { class: "muted small", text: "A shell inside the node's network namespace, sandboxed: it can change this lab, nothing else. Changes show as drift." }),
      h("div", { class: "ping-form" },
        h("div", { class: "field" }, h("label", { for: "terminal-node", text: "Node" }), this.picker), openButton),
      this.tabs,
      this.panes,
    );
  }

  /** Refills the node picker after the drawing changed (a bridge opens its host's namespace). */
  refreshNodes(): void {
    const names = this.editor.model.nodes.map((n) => n.spec.name);
    const cur = this.picker.value;
    this.picker.replaceChildren(...names.map((n) => h("option", { value: n, text: n })));
    if (names.includes(cur)) this.picker.value = cur;
  }

  openNode(node: string): void {
    if (!node) return;
    let t = this.open.get(node);
    if (!t) {
      t = new NodeTerminal(this.labId, node, (gone) => {
        this.open.delete(gone.node);
        const next = [...this.open.values()].pop();
        if (next) this.select(next);
      }, (picked) => this.select(picked));
      this.open.set(node, t);
      this.tabs.append(t.tab);
      this.panes.append(t.pane);
    }
    this.select(t);
  }

  private select(t: NodeTerminal): void {
    for (const other of this.open.values()) other.show(other === t);
  }

  /** The tab became visible: the terminals can measure their box now. */
  shown(): void {
    for (const t of this.open.values()) t.refit();
  }
}
