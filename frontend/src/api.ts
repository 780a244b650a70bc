// The REST client: session cookie + CSRF header (Django reads X-CSRFToken against the csrftoken cookie).

import type { CopyRow, MemberOut, VersionOut } from "./generated/api";
import type { FieldError, Job, LabInfo, Member, Operation, Role, Tables, TopologyDoc, VersionRow } from "./types";

export class ApiError extends Error {
  constructor(
    public status: number,
    public body: unknown,
  ) {
    super(ApiError.describe(status, body));
  }

  static describe(status: number, body: unknown): string {
    if (body && typeof body === "object") {
      const b = body as { detail?: unknown; message?: unknown; errors?: FieldError[] };
      if (typeof b.detail === "string") return b.detail;
      if (typeof b.message === "string") return b.message;
      if (Array.isArray(b.errors) && b.errors.length) return b.errors.map((e) => `${e.path}: ${e.message}`).join("; ");
    }
    return `HTTP ${status}`;
  }

  get fieldErrors(): FieldError[] {
    const b = this.body as { errors?: unknown } | null;
    return b && Array.isArray(b.errors) ? (b.errors as FieldError[]) : [];
  }
}

function csrfToken(): string {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (m) return decodeURIComponent(m[1]);
  const input = document.querySelector<HTMLInputElement>("input[name=csrfmiddlewaretoken]");
  return input?.value ?? "";
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`/api${path}`, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data as T;
}

async function callText(path: string): Promise<string> {
  const res = await fetch(`/api${path}`, { credentials: "same-origin" });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, text);
  return text;
}

export const api = {
  lab: (id: number) => call<LabInfo>("GET", `/labs/${id}`),
  save: (id: number, version: number, topology: TopologyDoc) =>
    call<{ version: number }>("PUT", `/labs/${id}/topology`, { version, topology }),
  plan: (id: number) => call<{ operations: Operation[] }>("POST", `/labs/${id}/plan`),
  apply: (id: number) => call<{ job: number }>("POST", `/labs/${id}/apply`),
  destroy: (id: number) => call<{ job: number }>("POST", `/labs/${id}/destroy`),
  ping: (id: number, source: string, target: string, count: number) =>
    call<{ job: number }>("POST", `/labs/${id}/ping`, { source, target, count }),
  job: (jobId: number) => call<Job>("GET", `/jobs/${jobId}`),
  capture: (id: number, body: unknown) => call<{ job: number }>("POST", `/labs/${id}/captures`, body),
  captureStop: (id: number, job: number) => call<{ job: number }>("POST", `/labs/${id}/captures/${job}/stop`),
  tables: (id: number, node: string) => call<Tables>("GET", `/labs/${id}/nodes/${encodeURIComponent(node)}/tables`),
  drift: (id: number) => call<unknown[]>("GET", `/labs/${id}/drift`),
  keepDrift: (id: number, version: number, item: unknown) =>
    call<{ version: number; summary: string }>("POST", `/labs/${id}/drift/keep`, { version, item }),
  versions: (id: number) => call<VersionRow[] | { items: VersionRow[] }>("GET", `/labs/${id}/versions`),
  version: (id: number, n: number) => call<{ topology?: TopologyDoc; document?: TopologyDoc } & VersionRow>("GET", `/labs/${id}/versions/${n}`),
  restore: (id: number, n: number) => call<{ version: number }>("POST", `/labs/${id}/versions/${n}/restore`),
  exportText: (id: number, format: "json" | "sh") => callText(`/labs/${id}/export?format=${format}`),
  // Sharing, rename and delete, copies (class.ts, share.ts, labmenu.ts)
  members: (id: number) => call<(MemberOut & Member)[]>("GET", `/labs/${id}/members`),
  memberAdd: (id: number, username: string, role: Role) => call<Member>("POST", `/labs/${id}/members`, { username, role }),
  memberChange: (id: number, username: string, role: Role) =>
    call<Member>("PUT", `/labs/${id}/members/${encodeURIComponent(username)}`, { role }),
  memberRemove: (id: number, username: string) => call<null>("DELETE", `/labs/${id}/members/${encodeURIComponent(username)}`),
  rename: (id: number, name: string) => call<LabInfo>("PATCH", `/labs/${id}`, { name }),
  describe: (id: number, description: string) => call<LabInfo>("PATCH", `/labs/${id}`, { description }),
  reset: (id: number) => call<VersionOut>("POST", `/labs/${id}/reset`),
  copies: (id: number) => call<CopyRow[]>("GET", `/labs/${id}/copies`),
  remove: (id: number) => call<{ job: number } | null>("DELETE", `/labs/${id}`),
};
