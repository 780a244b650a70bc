// Entry: reads the page's config, builds the shell for the user's role, wires the editor, the
// deploy/watch/history tabs and the websocket.

import "./style.css";
import { api } from "./api";
import { Capture } from "./capture";
import { h } from "./dom";
import { Deploy } from "./deploy";
import { Editor } from "./editor";
import { Explain } from "./explain";
import { wireKeyboard, wirePalette } from "./input";
import { presenceNames, type ServerMessage, type TopologyUpdated } from "./protocol";
import { buildShell } from "./shell";
import { ShareDialog } from "./share";
import { LabMenu, showNoAccess } from "./labmenu";
import { mergeIntoEditor } from "./conflict";
import { LabSocket } from "./socket";
import { Terminals } from "./terminal";
import type { Role, TopologyDoc } from "./types";
import { canEdit } from "./types";
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

/** Builds the page for `cfg.role`; called again, after a teardown, when the user's role changes
 * (`carry`: the unsaved drawing, kept when the new role may still edit). */
async function main(cfg: PageConfig = readConfig(), carry: TopologyDoc | null = null): Promise<void> {
  const first = api.lab(cfg.labId); // in flight while the page and Cytoscape are set up
  const mount = document.getElementById("app");
  if (!mount) return;
  const shell = buildShell(mount, cfg.role);
  const share = new ShareDialog(shell.title.parentElement ?? shell.root, cfg.labId, cfg.role, cfg.user, () => editor.lab);
  const announce = (text: string) => {
    shell.live.textContent = text;
  };
  const editor = new Editor(shell, cfg.labId, cfg.role);
  // Palette and shortcuts drive the editor through input.ts's InputTarget (neither imports the other).
  if (!editor.readOnly) wirePalette(editor, shell);
  const unwireKeys = editor.readOnly ? () => {} : wireKeyboard(editor);
  const menu = new LabMenu(shell.title.parentElement ?? shell.root, cfg.labId, cfg.role, () => editor.lab, (t) => editor.say(t), (name) => {
    shell.title.textContent = name;
    document.title = `${name} · NetDesigner`;
    if (editor.lab) editor.lab.name = name;
  });
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
  editor.events.on("changed", () => {
    deploy.refreshButtons();
    window.clearTimeout(later);
    later = window.setTimeout(() => {
      watch.refreshNodes();
      explain.refresh();
      terminals.refreshNodes();
      capture.refreshPoints();
      deploy.recolour();
    }, 120);
  });
  editor.events.on("loaded", (lab) => menu.update(lab));
  editor.events.on("loaded", () => {
    // After the drawing's first frame: these compete with it for the main thread on big labs.
    window.setTimeout(() => {
      void deploy.refresh(editor.lab);
      void versions.load();
    }, 50);
  });
  editor.events.on("saved", () => {
    void versions.load();
    void deploy.refresh();
  });
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
      await mergeIntoEditor(editor, await api.lab(cfg.labId), m.by, false);
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
      case "role.changed":
        void share.refresh();
        if (m.user === cfg.user) roleChanged(m.role);
        break;
      case "lab.updated":
        if (m.name && editor.lab) {
          editor.lab.name = m.name;
          shell.title.textContent = m.name;
          document.title = `${m.name} · NetDesigner`;
        }
        break;
      case "lab.deleted":
        leave(`This lab was deleted by ${m.by}.`);
        break;
      case "presence":
        shell.presence.replaceChildren(...presenceNames(m).map((u) => h("li", { text: u === cfg.user ? `${u} (you)` : u })));
        break;
    }
  };
  const socket = new LabSocket(cfg.wsPath, onMessage, (up) => shell.root.classList.toggle("offline", !up), () =>
    leave("You no longer have access to this lab."));
  const teardown = () => {
    alive = false;
    window.clearTimeout(later);
    socket.close();
    share.close();
    menu.close();
    unwireKeys();
    editor.destroy();
  };
  const leave = (why: string) => {
    teardown();
    showNoAccess(mount, why);
  };
  /** Another owner changed my role: rebuild the page with the controls of the new role, no reload. */
  const roleChanged = (role: Role | null) => {
    if (role === cfg.role) return;
    if (!role) return leave("You no longer have access to this lab.");
    const unsaved = !editor.readOnly && editor.dirty && canEdit(role) ? (JSON.parse(editor.snapshot()) as TopologyDoc) : null;
    teardown();
    void main({ ...cfg, role }, unsaved).then(() => {
      const text = `Your role on this lab is now ${role}${unsaved ? " (your unsaved changes are kept)" : ""}`;
      // The new page's live region and status bar (this closure's shell is gone).
      for (const sel of ["#live", ".statusbar"]) {
        const el = document.querySelector(sel);
        if (el) el.textContent = text;
      }
    });
  };
  let alive = true;
  window.addEventListener("beforeunload", (ev) => {
    if (alive && !editor.readOnly && editor.dirty) ev.preventDefault();
  });
  // For bench/canvas_bench.py: when the first frame with the lab's drawing was painted.
  const marks: { loaded?: number; firstRender?: number } = {};
  (window as unknown as { netdesignerMarks: unknown }).netdesignerMarks = marks;
  try {
    await editor.load(first);
    marks.loaded = performance.now();
    editor.cy.one("render", () => requestAnimationFrame(() => (marks.firstRender = performance.now())));
    editor.say(editor.readOnly ? "Read only" : "Ready");
    if (carry) editor.adopt(carry);
  } catch (e) {
    editor.say(`Could not load the lab: ${(e as Error).message}`);
  }
  editor.renderPanel();
  socket.open();
  (window as unknown as { netdesigner: unknown }).netdesigner = { editor, cy: editor.cy };
}

void main();
