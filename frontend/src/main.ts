// Entry: reads the page's config, builds the shell for the user's role, wires the editor, the
// deploy/watch/history tabs and the websocket.

import "./style.css";
import { api } from "./api";
import { Capture } from "./capture";
import { h } from "./dom";
import { Deploy } from "./deploy";
import { Editor } from "./editor";
import { Explain } from "./explain";
import { presenceNames, type ServerMessage, type TopologyUpdated } from "./protocol";
import { buildShell } from "./shell";
import { LabSocket } from "./socket";
import { Terminals } from "./terminal";
import type { Role } from "./types";
import { Versions } from "./versions";
import { Watch } from "./watch";

interface PageConfig {
  labId: number;
  role: Role;
  user: string;
  wsPath: string;
}

function readConfig(): PageConfig {
  const el = document.getElementById("canvas-config");
  if (!el?.textContent) throw new Error("canvas-config missing");
  return JSON.parse(el.textContent) as PageConfig;
}

async function main(): Promise<void> {
  const cfg = readConfig();
  const first = api.lab(cfg.labId); // in flight while the page and Cytoscape are set up
  const mount = document.getElementById("app");
  if (!mount) return;
  const shell = buildShell(mount, cfg.role);
  const announce = (text: string) => {
    shell.live.textContent = text;
  };
  const editor = new Editor(shell, cfg.labId, cfg.role);
  const deploy = new Deploy(shell.deploy, editor, cfg.labId, cfg.role, announce);
  const watch = new Watch(shell.watch, editor, cfg.labId, cfg.role, announce);
  const versions = new Versions(shell.history, editor, cfg.labId);
  const explain = new Explain(shell.watch, editor, cfg.labId, cfg.role);
  const terminals = new Terminals(shell.terminal, editor, cfg.labId, cfg.role);
  document.getElementById("tab-terminal")?.addEventListener("click", () => requestAnimationFrame(() => terminals.shown()));
  const capture = new Capture(shell.watch, editor, cfg.labId, cfg.role, announce, () => watch.ping());
  // The pickers and the status colours follow edits a moment later, once per burst of edits:
  // with 1,000 nodes rebuilding them on every keystroke would cost more than the edit itself.
  let later = 0;
  editor.onChange = () => {
    deploy.refreshButtons();
    window.clearTimeout(later);
    later = window.setTimeout(() => {
      watch.refreshNodes();
      explain.refresh();
      terminals.refreshNodes();
      capture.refreshPoints();
      deploy.recolour();
    }, 120);
  };
  editor.onLoaded = () => {
    // After the drawing's first frame: these compete with it for the main thread on big labs.
    window.setTimeout(() => {
      void deploy.refresh(editor.lab);
      void versions.load();
    }, 50);
  };
  editor.onSaved = () => {
    void versions.load();
    void deploy.refresh();
  };
  // Selecting one node shows its tables (once per selection gesture, not once per box-selected node).
  let pickQueued = false;
  editor.cy.on("select", "node", () => {
    if (pickQueued) return;
    pickQueued = true;
    requestAnimationFrame(() => {
      pickQueued = false;
      const sel = editor.cy.nodes(":selected");
      if (sel.length === 1) watch.selectTablesNode(String(sel.data("name")));
    });
  });

  const onUpdated = async (m: TopologyUpdated) => {
    if (editor.inflight) await editor.inflight;
    if (m.version <= editor.version) return;
    void versions.load();
    if (editor.dirty) {
      editor.showBanner(`${m.by} saved version ${m.version} while you have unsaved changes.`, [
        ["Load theirs (drop mine)", () => void editor.load().then(() => editor.hideBanner())],
        ["Keep mine (overwrite on save)", () => editor.hideBanner()],
      ]);
    } else {
      await editor.load();
      editor.say(`Updated to version ${m.version}, saved by ${m.by}`);
    }
  };

  const onMessage = (m: ServerMessage) => {
    switch (m.type) {
      case "job.progress":
        deploy.onProgress(m);
        capture.onProgress(m);
        break;
      case "job.finished":
        deploy.onFinished(m);
        watch.onFinished(m);
        capture.onFinished(m);
        break;
      case "capture.packet":
        capture.onPacket(m);
        break;
      case "ping.reply":
        watch.onReply(m);
        break;
      case "tables.snapshot":
        watch.onSnapshot(m);
        break;
      case "topology.updated":
        void onUpdated(m);
        break;
      case "presence":
        shell.presence.replaceChildren(...presenceNames(m).map((u) => h("li", { text: u === cfg.user ? `${u} (you)` : u })));
        break;
    }
  };
  const socket = new LabSocket(cfg.wsPath, onMessage, (up) => shell.root.classList.toggle("offline", !up));
  window.addEventListener("beforeunload", (ev) => {
    if (!editor.readOnly && editor.dirty) ev.preventDefault();
  });
  // For bench/canvas_bench.py: when the first frame with the lab's drawing was painted.
  const marks: { loaded?: number; firstRender?: number } = {};
  (window as unknown as { netdesignerMarks: unknown }).netdesignerMarks = marks;
  try {
    await editor.load(first);
    marks.loaded = performance.now();
    editor.cy.one("render", () => requestAnimationFrame(() => (marks.firstRender = performance.now())));
    editor.say(editor.readOnly ? "Read only" : "Ready");
  } catch (e) {
    editor.say(`Could not load the lab: ${(e as Error).message}`);
  }
  editor.renderPanel();
  socket.open();
  (window as unknown as { netdesigner: unknown }).netdesigner = { editor, cy: editor.cy };
}

void main();
