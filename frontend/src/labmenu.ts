// The lab's own actions in the top bar (rename, delete) and the page shown once access is gone.

import { h } from "./dom";

/** Replaces the page with a message and a way out (access removed, lab deleted). */
export function showNoAccess(mount: HTMLElement, why: string): void {
  mount.replaceChildren(
    h("div", { class: "no-access", role: "alert" },
      h("h1", { text: why }),
      h("p", {}, h("a", { href: "/labs/", text: "Back to your labs" }))),
  );
  document.title = "No access · NetDesigner";
}
