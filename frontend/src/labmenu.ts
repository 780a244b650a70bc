// The lab's own actions in the top bar (rename, delete) and the page shown once access is gone.

import { api } from "./api";
import { fieldId, h } from "./dom";
import type { LabInfo, Role } from "./types";
import { canEdit } from "./types";

/** Replaces the page with a message and a way out (access removed, lab deleted). */
export function showNoAccess(mount: HTMLElement, why: string): void {
  mount.replaceChildren(
    h("div", { class: "no-access", role: "alert" },
      h("h1", { text: why }),
      h("p", {}, h("a", { href: "/labs/", text: "Back to your labs" }))),
  );
  document.title = "No access · NetDesigner";
}

/** Rename (editor) and Delete (owner) in the top bar. Delete warns when the lab is in the kernel:
 * the server destroys it first (a `delete` job), then deletes it. */
export class LabMenu {
  private dialog: HTMLDialogElement;

  constructor(
    mount: HTMLElement,
    private labId: number,
    role: Role,
    private lab: () => LabInfo | null,
    private say: (text: string) => void,
    private onRenamed: (name: string) => void,
  ) {
    this.dialog = h("dialog", { class: "share-dialog" });
    document.body.append(this.dialog);
    const wrap = h("span", { class: "lab-menu" });
    if (canEdit(role)) wrap.append(h("button", { type: "button", text: "Rename", "aria-haspopup": "dialog", onclick: () => this.rename() }));
    if (canEdit(role)) {
      this.resetButton = h("button", { type: "button", text: "Reset copy", hidden: true, title: "Back to the version this copy was made from", onclick: () => void this.reset() });
      wrap.append(this.resetButton);
    }
    if (role === "owner") wrap.append(h("a", { href: `/labs/${labId}/class/`, class: "menu-link", text: "Class" }));
    if (role === "owner") wrap.append(h("button", { type: "button", text: "Delete lab", "aria-haspopup": "dialog", onclick: () => this.confirmDelete() }));
    if (wrap.childElementCount) mount.append(wrap);
  }

  close(): void {
    if (this.dialog.open) this.dialog.close();
    this.dialog.remove();
  }

  private resetButton: HTMLButtonElement | null = null;

  /** Called once the lab is loaded: a copy offers its reset. */
  update(lab: LabInfo): void {
    if (this.resetButton) this.resetButton.hidden = typeof lab.template_version !== "number";
  }

  private async reset(): Promise<void> {
    const from = this.lab()?.template_version;
    if (!window.confirm(`Reset this copy to version ${String(from)} of the lab it was copied from? It is saved as a new version; your history stays.`)) return;
    try {
      const res = await api.reset(this.labId);
      this.say(`Reset: saved as version ${res.version}`);
    } catch (e) {
      this.say(`Not reset: ${(e as Error).message}`);
    }
  }

  private show(title: string, ...body: (Node | null)[]): void {
    const id = fieldId();
    this.dialog.setAttribute("aria-labelledby", id);
    this.dialog.replaceChildren(h("h2", { id, text: title }), ...body.filter((n): n is Node => n !== null));
    if (!this.dialog.open) this.dialog.showModal();
  }

  private rename(): void {
    const id = fieldId();
    const input = h("input", { id, type: "text", maxlength: "100", required: true, value: this.lab()?.name ?? "" });
    const status = h("p", { role: "status", class: "share-status" });
    const form = h("form", {},
      h("div", { class: "field" }, h("label", { for: id, text: "Lab name" }), input),
      status,
      h("div", { class: "row end" },
        h("button", { type: "button", text: "Cancel", onclick: () => this.dialog.close() }),
        h("button", { type: "submit", class: "primary", text: "Rename" })));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void api.rename(this.labId, input.value.trim()).then(
        (lab) => {
          this.dialog.close();
          this.onRenamed(lab.name);
          this.say(`Renamed to ${lab.name}`);
        },
        (e: Error) => {
          status.textContent = `Not renamed: ${e.message}`;
          status.classList.add("error");
        },
      );
    });
    this.show("Rename this lab", form);
    input.select();
  }

  private confirmDelete(): void {
    const lab = this.lab();
    const state = lab?.deployment?.state;
    const live = !!state && state !== "destroyed" && state !== "pending";
    const status = h("p", { role: "status", class: "share-status" });
    const go = h("button", { type: "button", class: "danger", text: live ? "Destroy and delete" : "Delete" });
    go.addEventListener("click", () => void this.remove(go, status));
    this.show(`Delete ${lab?.name ?? "this lab"}?`,
      h("p", { text: "Its drawing, every saved version and its members' access are deleted. This cannot be undone." }),
      live ? h("p", { class: "error", "data-testid": "delete-warning",
        text: `It is ${state} in the kernel (tag ${String(lab?.deployment?.tag ?? "?")}): its namespaces are destroyed first, then the lab is deleted.` }) : null,
      status,
      h("div", { class: "row end" }, h("button", { type: "button", text: "Cancel", onclick: () => this.dialog.close() }), go));
  }

  private async remove(go: HTMLButtonElement, status: HTMLElement): Promise<void> {
    go.disabled = true;
    try {
      const res = await api.remove(this.labId);
      if (res && typeof res.job === "number") {
        status.textContent = "Destroying the lab in the kernel, then deleting it…";
        for (;;) {
          await new Promise((r) => setTimeout(r, 500));
          const job = await api.job(res.job);
          if (job.status === "failed") throw new Error(`the destroy failed, so the lab was kept: ${job.error ?? ""}`);
          if (job.status === "succeeded") break;
        }
      }
      window.location.assign("/labs/");
    } catch (e) {
      go.disabled = false;
      status.textContent = `Not deleted: ${(e as Error).message}`;
      status.classList.add("error");
    }
  }
}
