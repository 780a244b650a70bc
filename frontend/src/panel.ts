// The side panel: edits the selected node or cable. Every input carries the document path it edits
// (`links[0].a.addresses`), so a 422 error's path finds its input and is shown right under it.

import { fieldId, h } from "./dom";
import { natSubnetFor } from "./localcheck";
import type { Model } from "./model";
import { validName } from "./model";
import type { Endpoint, FieldError, LinkSpec, Nat, NodeSpec, PortForward, Route } from "./types";

export interface PanelHost {
  model: Model;
  readOnly: boolean;
  errors: FieldError[];
  beginEdit(): void; // before the first change of an input: snapshot for undo
  edited(redrawPanel: boolean): void; // after a change: redraw the canvas (and the panel)
  clearErrors(path: string): void; // the field at `path` was edited: its server errors are stale
  select(id: string | null): void;
  /** The lab's one name (the document's `name` follows it on save). */
  labName?(): string;
  /** Cables node `a` to node `b` (by item id): the keyboard's way to cable. */
  connect?(a: string, b: string): void;
}

function splitList(v: string): string[] {
  return v
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Errors for an input: its own path or anything under it. */
function errorsFor(errors: FieldError[], path: string): FieldError[] {
  return errors.filter((e) => e.path === path || e.path.startsWith(`${path}.`) || e.path.startsWith(`${path}[`));
}

export class Panel {
  private claimed = new Set<string>();

  constructor(
    private root: HTMLElement,
    private host: PanelHost,
  ) {}

  render(selected: string[]): void {
    this.claimed.clear();
    const body: HTMLElement[] = [];
    const { model } = this.host;
    if (selected.length === 1) {
      const node = model.node(selected[0]);
      const link = model.link(selected[0]);
      if (node) body.push(this.nodeForm(model.pathOf(node.id) ?? "", node.id, node.spec));
      else if (link) body.push(this.linkForm(model.pathOf(link.id) ?? "", link.spec));
    } else if (selected.length > 1) {
      body.push(h("p", { class: "muted", text: `${selected.length} items selected. Delete removes them all.` }));
    } else {
      body.push(this.labForm());
    }
    const rest = this.host.errors.filter((e) => !this.claimed.has(e.path));
    const summary = rest.length
      ? h(
          "div",
          { class: "error-summary", role: "alert" },
          h("strong", { text: `${this.host.errors.length} problem(s) in the document` }),
          h(
            "ul",
            {},
            ...rest.map((e) => {
              const target = model.itemForPath(e.path);
              return h(
                "li",
                {},
                target
                  ? h("button", { type: "button", class: "linklike", onclick: () => this.host.select(target), text: e.path })
                  : h("code", { text: e.path }),
                `: ${e.message}`,
              );
            }),
          ),
        )
      : null;
    this.root.replaceChildren(...(summary ? [summary] : []), ...body);
  }

  // ----- building blocks -------------------------------------------------------------------------

  private field(label: string, path: string, input: HTMLInputElement | HTMLSelectElement, hint?: string): HTMLElement {
    // Ids from the document path: a re-render (a selection settling a frame later) keeps them, so an
    // error's aria-describedby read a moment ago still names the same element.
    const id = path ? `fld-${path.replace(/[^A-Za-z0-9_-]/g, "_")}` : fieldId();
    input.id = id;
    input.dataset.path = path;
    const errs = errorsFor(this.host.errors, path);
    errs.forEach((e) => this.claimed.add(e.path));
    const errEl = errs.length ? h("p", { class: "field-error", id: `${id}-err`, text: errs.map((e) => e.message).join("; ") }) : null;
    if (errEl) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", `${id}-err`);
    }
    if (this.host.readOnly) input.disabled = true;
    const isCheck = input instanceof HTMLInputElement && input.type === "checkbox";
    return h(
      "div",
      { class: `field${isCheck ? " check" : ""}${errEl ? " invalid" : ""}` },
      isCheck ? input : null,
      h("label", { for: id, text: label }),
      isCheck ? null : input,
      hint ? h("small", { class: "muted", text: hint }) : null,
      errEl,
    );
  }

  private text(value: string, onValue: (v: string) => void, placeholder = "", redraw = false): HTMLInputElement {
    const input = h("input", { type: "text", value, placeholder, autocomplete: "off", spellcheck: "false" });
    this.wire(input, () => onValue(input.value), redraw);
    return input;
  }

  private wire(input: HTMLInputElement | HTMLSelectElement, apply: () => void, redraw: boolean): void {
    let started = false;
    const begin = () => {
      if (!started) {
        started = true;
        this.host.beginEdit();
      }
    };
    input.addEventListener("input", () => {
      begin();
      const path = input.dataset.path;
      if (path && input.getAttribute("aria-invalid") === "true") {
        input.removeAttribute("aria-invalid");
        input.closest(".field")?.classList.remove("invalid");
        if (input.getAttribute("aria-describedby")) document.getElementById(input.getAttribute("aria-describedby") ?? "")?.remove();
        input.removeAttribute("aria-describedby");
        this.host.clearErrors(path);
      }
      apply();
      this.host.edited(false);
    });
    input.addEventListener("change", () => {
      begin();
      apply();
      started = false;
      this.host.edited(redraw);
    });
  }

  private check(value: boolean, onValue: (v: boolean) => void): HTMLInputElement {
    const input = h("input", { type: "checkbox" });
    input.checked = value;
    this.wire(input, () => onValue(input.checked), true);
    return input;
  }

  private section(title: string, ...children: (HTMLElement | null)[]): HTMLElement {
    return h("fieldset", {}, h("legend", { text: title }), ...children);
  }

  private listEditor<T extends object>(
    title: string,
    path: string,
    rows: T[],
    columns: { key: keyof T & string; label: string; placeholder: string; number?: boolean }[],
    make: () => T,
    setRows: (rows: T[]) => void,
  ): HTMLElement {
    const items = rows.map((row, i) => {
      const rowPath = `${path}[${i}]`;
      const fields = columns.map((c) => {
        const raw = row[c.key];
        const input = this.text(raw === undefined ? "" : String(raw), (v) => {
          const r = row as Record<string, unknown>;
          if (v.trim() === "") delete r[c.key];
          else r[c.key] = c.number && /^\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim();
        }, c.placeholder);
        return this.field(c.label, `${rowPath}.${c.key}`, input);
      });
      const rowErrs = this.host.errors.filter((e) => e.path === rowPath);
      rowErrs.forEach((e) => this.claimed.add(e.path));
      return h(
        "div",
        { class: "list-row" },
        ...fields,
        rowErrs.length ? h("p", { class: "field-error", text: rowErrs.map((e) => e.message).join("; ") }) : null,
        this.host.readOnly
          ? null
          : h("button", {
              type: "button",
              class: "small danger",
              "aria-label": `Remove ${title.toLowerCase()} ${i + 1}`,
              text: "Remove",
              onclick: () => {
                this.host.beginEdit();
                setRows(rows.filter((_, j) => j !== i));
                this.host.edited(true);
              },
            }),
      );
    });
    const listErrs = this.host.errors.filter((e) => e.path === path);
    listErrs.forEach((e) => this.claimed.add(e.path));
    return this.section(
      title,
      ...items,
      listErrs.length ? h("p", { class: "field-error", text: listErrs.map((e) => e.message).join("; ") }) : null,
      this.host.readOnly
        ? null
        : h("button", {
            type: "button",
            class: "small",
            text: `Add ${title.toLowerCase().replace(/s$/, "")}`,
            onclick: () => {
              this.host.beginEdit();
              setRows([...rows, make()]);
              this.host.edited(true);
            },
          }),
    );
  }

  // ----- forms ---------------------------------------------------------------------------------------

  private labForm(): HTMLElement {
    const m = this.host.model;
    return h(
      "div",
      { class: "form" },
      h("h2", { text: "Lab" }),
      h("div", { class: "field" }, h("span", { class: "label", text: "Lab name" }),
        h("strong", { "data-testid": "lab-name", text: this.host.labName?.() ?? m.name }),
        h("small", { class: "muted", text: this.host.readOnly ? "" : "Rename the lab from the top bar; its document carries the same name." })),
      this.field("Description", "description", this.text(m.description ?? "", (v) => (m.description = v || undefined))),
      this.cableForm(null),
      h("p", {
        class: "muted",
        text: this.host.readOnly
          ? "Read only: your role lets you look, not edit."
          : "Add nodes from the palette, then cable them: drag from the dot on a node (shown on hover) to another node, or use the Cable tool (C). Select a node or cable to edit it.",
      }),
    );
  }

  private nodeForm(path: string, id: string, spec: NodeSpec): HTMLElement {
    const nameInput = this.text(spec.name, (v) => {
      const name = v.trim();
      this.host.model.renameNode(id, name);
      nameInput.toggleAttribute("aria-invalid", !validName(name));
    });
    const parts: (HTMLElement | null)[] = [
      h("h2", {}, `${spec.kind[0].toUpperCase()}${spec.kind.slice(1)} `, h("span", { class: "muted", text: spec.name })),
      this.field("Name", `${path}.name`, nameInput, "a-z, 0-9, - and _; starts with a letter"),
    ];
    if (spec.kind !== "bridge") {
      parts.push(this.field("IP forwarding", `${path}.forwarding`, this.check(spec.forwarding ?? spec.kind === "host", (v) => (spec.forwarding = v))));
    }
    if (spec.kind === "bridge") {
      parts.push(
        this.field(
          "Bridge addresses (host side)",
          `${path}.addresses`,
          this.text((spec.addresses ?? []).join(", "), (v) => (spec.addresses = splitList(v)), "192.168.15.5/24"),
          "CIDR, comma-separated",
        ),
      );
    } else {
      parts.push(
        this.listEditor<Route>("Routes", `${path}.routes`, spec.routes ?? [], [
          { key: "to", label: "To", placeholder: "e.g. default or 10.0.0.0/24" },
          { key: "via", label: "Via", placeholder: "e.g. 192.168.15.5" },
          { key: "dev", label: "Device", placeholder: "e.g. veth-red" },
        ], () => ({ to: "default" }), (rows) => (spec.routes = rows)),
      );
      const natOk = spec.kind === "host" || spec.forwarding;
      if (natOk || (spec.nat?.length ?? 0) > 0 || (spec.port_forwards?.length ?? 0) > 0) {
        parts.push(
          this.listEditor<Nat>("NAT rules", `${path}.nat`, spec.nat ?? [], [
            { key: "source", label: "Source subnet", placeholder: "e.g. 192.168.15.0/24" },
            { key: "out_interface", label: "Out interface", placeholder: "e.g. eth0" },
          ], () => ({ action: "masquerade" as const, ...this.natSource(spec.name) }), (rows) => (spec.nat = rows)),
          this.listEditor<PortForward>("Port forwards", `${path}.port_forwards`, spec.port_forwards ?? [], [
            { key: "protocol", label: "Protocol", placeholder: "tcp or udp" },
            { key: "port", label: "Port", placeholder: "e.g. 8080", number: true },
            { key: "to", label: "To address", placeholder: "e.g. 192.168.15.2" },
            { key: "to_port", label: "To port", placeholder: "same as port", number: true },
            { key: "in_interface", label: "In interface", placeholder: "e.g. eth0" },
          ], () => ({ protocol: "tcp" as const, port: 8080, to: "" }), (rows) => (spec.port_forwards = rows)),
        );
      } else {
        parts.push(h("p", { class: "muted", text: "Turn on IP forwarding to add NAT rules and port forwards." }));
      }
    }
    parts.push(this.cableForm(id));
    return h("div", { class: "form" }, ...parts);
  }

  /** Cabling without a mouse: pick the two nodes (or, on a node's form, the other one) and press
   * "Add cable"; the new cable is selected, its form next. */
  private cableForm(fromId: string | null): HTMLElement | null {
    const { model } = this.host;
    const connect = this.host.connect?.bind(this.host);
    if (this.host.readOnly || !connect || model.nodes.length < 2) return null;
    const pick = (except: string | null) => {
      const select = h("select");
      for (const n of model.nodes) if (n.id !== except) select.append(h("option", { value: n.id, text: n.spec.name }));
      return select;
    };
    const from = fromId ? null : pick(null);
    const to = pick(fromId);
    if (from && to.options.length > 1) to.selectedIndex = 1;
    const add = h("button", { type: "button", class: "small", text: "Add cable" });
    add.addEventListener("click", () => {
      const a = fromId ?? from?.value;
      if (a && to.value && a !== to.value) connect(a, to.value);
    });
    const label = (text: string, el: HTMLSelectElement) => {
      const id = fieldId();
      el.id = id;
      return h("div", { class: "field" }, h("label", { for: id, text }), el);
    };
    return this.section(fromId ? "Cable to another node" : "New cable",
      from ? label("Cable from", from) : null, label("Cable to", to), add);
  }

  /** A new NAT rule starts from a real value (a subnet the node is on) rather than an empty rule,
   * which would masquerade everything; empty is refused on save (localcheck.ts). */
  private natSource(node: string): { source?: string } {
    const subnet = natSubnetFor(this.host.model.toDoc(), node);
    return subnet ? { source: subnet } : {};
  }

  private endForm(path: string, label: string, end: Endpoint): HTMLElement {
    const onBridge = this.host.model.nodeByName(end.node)?.spec.kind === "bridge";
    return this.section(
      `${label}: ${end.node}${onBridge ? " (bridge port)" : ""}`,
      this.field(`Interface on ${end.node}`, `${path}.interface`, this.text(end.interface, (v) => (end.interface = v.trim()), "", true), "at most 15 bytes"),
      onBridge
        ? h("p", { class: "muted", text: "Bridge ports take no address: address the bridge instead." })
        : this.field(
            `Addresses of ${end.interface || "this end"}`,
            `${path}.addresses`,
            this.text((end.addresses ?? []).join(", "), (v) => (end.addresses = splitList(v)), "192.168.15.1/24"),
            "CIDR, comma-separated",
          ),
      this.field(`MAC of ${end.interface || "this end"}`, `${path}.mac`, this.text(end.mac ?? "", (v) => (end.mac = v.trim() || undefined), "optional, aa:bb:cc:dd:ee:ff")),
    );
  }

  private linkForm(path: string, spec: LinkSpec): HTMLElement {
    const mtu = this.text(spec.mtu === undefined ? "" : String(spec.mtu), (v) => {
      const t = v.trim();
      if (!t) delete spec.mtu;
      else spec.mtu = /^\d+$/.test(t) ? Number(t) : (t as unknown as number);
    }, "1500");
    return h(
      "div",
      { class: "form" },
      h("h2", {}, "Cable ", h("span", { class: "muted", text: `${spec.a.node} ⟷ ${spec.b.node}` })),
      this.endForm(`${path}.a`, "End A", spec.a),
      this.endForm(`${path}.b`, "End B", spec.b),
      this.field("MTU", `${path}.mtu`, mtu),
    );
  }
}
