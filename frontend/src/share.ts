// The Share dialog: the lab's members and their roles. Everyone may look; an owner adds a user by
// name with a role, changes a role and removes a member. The server applies every change to the
// members' open pages itself (a `role.changed` event), so this dialog only refreshes its list.

import "./class.css";
import { api, ApiError } from "./api";
import { fieldId, h } from "./dom";
import type { LabInfo, Member, Role } from "./types";
import { ROLES } from "./types";

export class ShareDialog {
  readonly button: HTMLButtonElement;
  private dialog: HTMLDialogElement;
  private list: HTMLTableSectionElement;
  private status: HTMLElement;
  private owner: boolean;
  private teamNote: HTMLElement;

  constructor(
    mount: HTMLElement,
    private labId: number,
    role: Role,
    private me: string,
    private lab: () => LabInfo | null = () => null,
  ) {
    this.owner = role === "owner";
    this.button = h("button", { type: "button", class: "share-button", "data-action": "share", "aria-haspopup": "dialog", text: "Share…" });
    this.list = h("tbody");
    this.status = h("p", { class: "share-status", role: "status" });
    this.teamNote = h("p", { class: "muted small", "data-testid": "team-note", hidden: true });
    const titleId = fieldId();
    this.dialog = h("dialog", { class: "share-dialog", "aria-labelledby": titleId },
      h("h2", { id: titleId, text: "Share this lab" }),
      h("p", { class: "muted small", text: this.owner
        ? "Viewers look, editors draw and save, operators also apply, destroy and ping, owners also share."
        : "Only the lab's owners can change who has access." }),
      h("table", { class: "members" },
        h("caption", { class: "visually-hidden", text: "Members and their roles" }),
        h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "User" }), h("th", { scope: "col", text: "Role" }), h("th", { scope: "col", text: "" }))),
        this.list),
      this.teamNote,
      this.owner ? this.addForm() : null,
      this.status,
      h("div", { class: "row end" }, h("button", { type: "button", text: "Close", onclick: () => this.dialog.close() })),
    );
    this.button.addEventListener("click", () => void this.open());
    mount.append(this.button);
    document.body.append(this.dialog);
  }

  private addForm(): HTMLFormElement {
    const nameId = fieldId();
    const roleId = fieldId();
    const name = h("input", { id: nameId, name: "username", type: "text", autocomplete: "off", required: true });
    const role = this.roleSelect("viewer", roleId);
    const form = h("form", { class: "share-add" },
      h("div", { class: "field" }, h("label", { for: nameId, text: "User name" }), name),
      h("div", { class: "field" }, h("label", { for: roleId, text: "Role" }), role),
      h("button", { type: "submit", class: "primary", text: "Add" }));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const username = name.value.trim();
      if (!username) return;
      void this.run(`Added ${username} as ${role.value}`, () => api.memberAdd(this.labId, username, role.value as Role)).then((ok) => {
        if (ok) name.value = "";
      });
    });
    return form;
  }

  private roleSelect(value: Role, id: string, label?: string): HTMLSelectElement {
    const select = h("select", { id, ...(label ? { "aria-label": label } : {}) });
    for (const r of ROLES.filter((x) => x !== "owner")) select.append(h("option", { value: r, text: r, selected: r === value }));
    return select;
  }

  async open(): Promise<void> {
    const team = this.lab()?.team;
    this.teamNote.hidden = !team;
    this.teamNote.textContent = team ? `This is a lab of team ${team}: the team's members also have their team role here (the higher role counts).` : "";
    if (!this.dialog.open) this.dialog.showModal();
    await this.refresh();
  }

  close(): void {
    if (this.dialog.open) this.dialog.close();
    this.dialog.remove();
  }

  /** Re-reads the members (called when any role on the lab changed, if the dialog is open). */
  async refresh(): Promise<void> {
    if (!this.dialog.open) return;
    try {
      const members = await api.members(this.labId);
      this.list.replaceChildren(...members.map((m) => this.row(m)));
    } catch (e) {
      this.status.textContent = `Members unavailable: ${(e as Error).message}`;
    }
  }

  private row(m: Member): HTMLTableRowElement {
    const you = m.username === this.me ? " (you)" : "";
    if (!this.owner || m.role === "owner") {
      return h("tr", { "data-member": m.username }, h("td", { text: m.username + you }), h("td", { text: m.role }), h("td"));
    }
    const select = this.roleSelect(m.role, fieldId(), `Role of ${m.username}`);
    select.addEventListener("change", () =>
      void this.run(`${m.username} is now ${select.value}`, () => api.memberChange(this.labId, m.username, select.value as Role)));
    const remove = h("button", { type: "button", class: "small danger", text: "Remove", "aria-label": `Remove ${m.username}` });
    remove.addEventListener("click", () => {
      if (!window.confirm(`Remove ${m.username} from this lab? Their open pages lose access at once.`)) return;
      void this.run(`Removed ${m.username}`, () => api.memberRemove(this.labId, m.username));
    });
    return h("tr", { "data-member": m.username }, h("td", { text: m.username + you }), h("td", {}, select), h("td", {}, remove));
  }

  private async run(done: string, call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call();
      this.status.textContent = done;
      this.status.classList.remove("error");
      await this.refresh();
      return true;
    } catch (e) {
      const fields = e instanceof ApiError ? e.fieldErrors.map((f) => f.message) : [];
      this.status.textContent = `Not changed: ${fields.length ? fields.join("; ") : (e as Error).message}`;
      this.status.classList.add("error");
      return false;
    }
  }
}
