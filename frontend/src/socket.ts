// The lab's websocket: typed messages in, reconnects with backoff when the connection drops.

import { parseMessage, type ServerMessage } from "./protocol";

export class LabSocket {
  private ws: WebSocket | null = null;
  private retry = 500;
  private closed = false;

  constructor(
    private path: string,
    private onMessage: (m: ServerMessage) => void,
    private onState: (connected: boolean) => void,
    private onRefused: (code: number) => void = () => {},
  ) {}

  open(): void {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}${this.path}`);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 500;
      this.onState(true);
    };
    ws.onmessage = (ev) => {
      const msg = parseMessage(String(ev.data));
      if (msg) this.onMessage(msg);
    };
    ws.onclose = (ev) => {
      this.onState(false);
      // 4401: logged out, 4403: no role on the lab any more: retrying cannot help.
      if (ev.code === 4401 || ev.code === 4403) {
        if (!this.closed) this.onRefused(ev.code);
        this.closed = true;
      }
      if (this.closed) return;
      // 4429: this user has too many sockets open (other tabs); try again slowly, one may close.
      if (ev.code === 4429) this.retry = 15000;
      setTimeout(() => this.open(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    };
    ws.onerror = () => {
      /* onclose follows and reconnects; nothing to log (keeps the console clean) */
    };
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }
}
