// The page's static structure, built once from the user's role: a viewer gets no edit controls at
// all (not just disabled ones), an operator also gets Apply/Destroy/Ping.

import { h } from "./dom";
import { HANDLE_HINT } from "./handle";
import type { Role } from "./types";
import { canEdit } from "./types";

export interface Shell {
  root: HTMLElement;
  canvas: HTMLElement;
  panel: HTMLElement;
  deploy: HTMLElement;
  watch: HTMLElement;
  terminal: HTMLElement;
  history: HTMLElement;
  toolbar: HTMLElement;
  palette: HTMLElement | null;
  title: HTMLElement;
  version: HTMLElement;
  saveState: HTMLElement;
  presence: HTMLElement;
  banner: HTMLElement;
  emptyHint: HTMLElement;
  live: HTMLElement;
  status: HTMLElement;
  buttons: Record<string, HTMLButtonElement>;
  fileInput: HTMLInputElement;
}

function btn(label: string, name: string, buttons: Record<string, HTMLButtonElement>, extra: Record<string, string> = {}): HTMLButtonElement {
  const b = h("button", { type: "button", "data-action": name, ...extra }, label);
  buttons[name] = b;
  return b;
}

const KINDS: [string, string, string][] = [
  ["namespace", "Namespace", "a container's network (ip netns)"],
  ["bridge", "Bridge", "a virtual switch on the host"],
  ["host", "Host", "the machine the namespaces run on"],
  ["external", "External", "a machine outside the host"],
];

export function buildShell(mount: HTMLElement, role: Role): Shell {
  const b: Record<string, HTMLButtonElement> = {};
  const edit = canEdit(role);
  const fileInput = h("input", { type: "file", accept: "application/json,.json", class: "visually-hidden", "aria-label": "Import a JSON document", tabindex: "-1" });

  const toolbar = h(
    "div",
    { class: "toolbar", role: "toolbar", "aria-label": "Drawing tools" },
    edit ? btn("Undo", "undo", b, { title: "Undo (Ctrl+Z)" }) : null,
    edit ? btn("Redo", "redo", b, { title: "Redo (Ctrl+Shift+Z)" }) : null,
    edit ? btn("Cable tool", "cable", b, { "aria-pressed": "false", title: `Draw cables: drag from node to node (C). Without it: ${HANDLE_HINT.toLowerCase()}.` }) : null,
    edit ? btn("Connect selected", "connect", b, { title: "Cable the two selected nodes (keyboard alternative to dragging)" }) : null,
    edit ? btn("Delete", "delete", b, { title: "Delete the selection (Del)" }) : null,
    btn("Auto-layout", "layout", b),
    btn("Zoom to fit", "fit", b),
    h("span", { class: "sep" }),
    edit ? btn("Import JSON", "import", b) : null,
    btn("Export JSON", "export-json", b),
    btn("Export shell script", "export-sh", b),
    edit ? h("span", { class: "sep" }) : null,
    edit ? btn("Save", "save", b, { class: "primary", title: "Save (Ctrl+S)" }) : null,
  );

  const palette = edit
    ? h(
        "nav",
        { class: "palette", "aria-label": "Palette: drag onto the canvas or click to add" },
        h("h2", { text: "Add" }),
        ...KINDS.map(([kind, label, hint]) =>
          h("button", { type: "button", class: `palette-item kind-${kind}`, "data-kind": kind, title: hint, "aria-label": `Add ${label}` },
            h("span", { class: "swatch", "aria-hidden": "true" }), label),
        ),
        h("p", { class: "muted small", text: "Drag onto the canvas, or click to add." }),
      )
    : null;

  const tabs: [string, string][] = [
    ["panel", "Edit"],
    ["deploy", "Deploy"],
    ["watch", "Watch"],
    ["terminal", "Terminal"],
    ["history", "History"],
  ];
  const tabList = h("div", { class: "tabs", role: "tablist", "aria-label": "Side panel" });
  const panes: Record<string, HTMLElement> = {};
  for (const [key, label] of tabs) {
    const tab = h("button", { type: "button", role: "tab", id: `tab-${key}`, "aria-controls": `pane-${key}`, "aria-selected": key === "panel" ? "true" : "false", "data-tab": key }, label);
    tabList.append(tab);
    panes[key] = h("section", { role: "tabpanel", id: `pane-${key}`, "aria-labelledby": `tab-${key}`, class: "pane", hidden: key !== "panel" });
    tab.addEventListener("click", () => selectTab(key));
  }
  function selectTab(key: string): void {
    for (const [k] of tabs) {
      document.getElementById(`tab-${k}`)?.setAttribute("aria-selected", String(k === key));
      panes[k].hidden = k !== key;
    }
    root.classList.toggle("side-wide", key === "terminal"); // a terminal wants ~80 columns
  }

  const title = h("h1", { class: "lab-title" });
  const version = h("span", { class: "badge", "data-testid": "version" });
  const saveState = h("span", { class: "save-state", role: "status" });
  const presence = h("ul", { class: "presence", "aria-label": "People on this lab" });
  const banner = h("div", { class: "banner", hidden: true, role: "alert" });
  const live = h("div", { class: "visually-hidden", "aria-live": "polite", id: "live" });
  const status = h("div", { class: "statusbar", role: "status" });
  const canvas = h("div", { class: "canvas", id: "cy", "aria-label": "Topology drawing", role: "application" });
  const emptyHint = h("div", { class: "empty-hint", hidden: true },
    h("strong", { text: "An empty lab" }),
    h("span", { text: edit ? `Drag a Namespace or a Bridge from the palette onto the canvas, then cable them: ${HANDLE_HINT.toLowerCase()} and drop it on another node.` : "Nothing drawn yet." }));

  const root = h(
    "div",
    { class: `app role-${role}` },
    h("header", { class: "topbar" },
      title, version, saveState,
      h("span", { class: "role-badge", text: `Role: ${role}` }),
      h("div", { class: "presence-wrap" }, h("span", { class: "muted", text: "Here:" }), presence),
    ),
    toolbar,
    banner,
    h("div", { class: `workspace${palette ? "" : " no-palette"}` },
      palette,
      h("div", { class: "canvas-wrap" }, canvas, emptyHint,
        edit ? h("p", { class: "canvas-hint", "data-testid": "canvas-hint" },
          h("span", { class: "hint-dot", "aria-hidden": "true" }), `${HANDLE_HINT} · drag the node itself to move it · Shift-click to select several`) : null),
      h("aside", { class: "side" }, tabList, ...Object.values(panes)),
    ),
    status,
    live,
    fileInput,
  );
  mount.replaceChildren(root);
  return {
    root, canvas, panel: panes.panel, deploy: panes.deploy, watch: panes.watch, terminal: panes.terminal, history: panes.history,
    toolbar, palette, title, version, saveState, presence, banner, emptyHint, live, status, buttons: b, fileInput,
  };
}

export function selectTabByKey(key: string): void {
  document.getElementById(`tab-${key}`)?.click();
}
