// When someone else saved while I have unsaved edits: merge theirs and mine (merge.ts). Edits of
// different nodes and cables merge and the page says so; only a real conflict (both changed the
// same item differently) asks, showing both sides.

import { h } from "./dom";
import type { Editor } from "./editor";
import { merge3, sideText, type MergeResult } from "./merge";
import type { LabInfo, TopologyDoc } from "./types";

function listOf(keys: string[]): string {
  return keys.length ? keys.join(", ") : "nothing";
}

/** Takes `theirs` (the newest saved lab) under my unsaved edits. With `save`, saves the merge at once
 * when it is clean (the user had asked to save). Returns whether it merged without conflict. */
export async function mergeIntoEditor(editor: Editor, theirs: LabInfo, by: string, save: boolean): Promise<boolean> {
  const base = editor.savedDoc();
  const mine = JSON.parse(editor.snapshot()) as TopologyDoc;
  const result = merge3(base, mine, theirs.topology);
  if (!result.conflicts.length) {
    take(editor, theirs, result.doc);
    const text = `${by} saved version ${theirs.version}; merged with your unsaved changes (theirs: ${listOf(result.theirs)}; yours: ${listOf(result.mine)}).`;
    editor.hideBanner();
    if (save) {
      const ok = await editor.save();
      if (ok) editor.say(`${text} Saved the merge as version ${editor.version}.`);
    } else {
      editor.say(`${text} Save to keep them.`);
    }
    return true;
  }
  showConflicts(editor, theirs, by, base, mine, result);
  return false;
}

function take(editor: Editor, theirs: LabInfo, doc: TopologyDoc): void {
  editor.lab = theirs;
  editor.replaceDoc(theirs.topology, theirs.version, false);
  editor.adopt(doc);
}

function showConflicts(editor: Editor, theirs: LabInfo, by: string, base: TopologyDoc, mine: TopologyDoc, result: MergeResult): void {
  const detail = h("ul", { class: "conflicts", "data-testid": "conflicts" },
    ...result.conflicts.map((c) => h("li", {},
      h("strong", { text: `${c.kind} ${c.key}` }),
      h("div", { class: "side mine" }, h("span", { class: "muted", text: "yours: " }), h("code", { text: sideText(c.mine) })),
      h("div", { class: "side theirs" }, h("span", { class: "muted", text: `${by}'s: ` }), h("code", { text: sideText(c.theirs) })))));
  const merged = result.mine.length + result.theirs.length ? ` Everything else merges (theirs: ${listOf(result.theirs)}; yours: ${listOf(result.mine)}).` : "";
  editor.showBanner(`${by} saved version ${theirs.version}, and you both changed the same ${result.conflicts.length === 1 ? "item" : `${result.conflicts.length} items`}.${merged} Which side wins?`, [
    ["Keep mine for these", () => {
      take(editor, theirs, merge3(base, mine, theirs.topology, "mine").doc);
      editor.hideBanner();
      editor.say("Merged, with your side of the conflicts: save to keep it");
    }],
    ["Take theirs for these", () => {
      take(editor, theirs, merge3(base, mine, theirs.topology, "theirs").doc);
      editor.hideBanner();
      editor.say(`Merged, with ${by}'s side of the conflicts: save to keep your other changes`);
    }],
  ], detail);
}
