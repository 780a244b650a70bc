// Every websocket message the server sends on /ws/labs/{id}/, declared once as a `type`-tagged union
// (shared/spec/interfaces.md). Code that handles a message switches on `type` and gets the fields typed.

import type { ArpRow, InterfaceRow, Role, RouteRow } from "./types";

export interface JobProgress {
  type: "job.progress";
  job: number;
  done: number;
  total: number;
  step: string;
}

export interface JobFinished {
  type: "job.finished";
  job: number;
  kind: string;
  status: "succeeded" | "failed";
  error: string | null;
}

export interface PingReply {
  type: "ping.reply";
  job: number;
  source: string;
  target: string;
  seq: number;
  ttl: number;
  rtt_ms: number;
}

export interface TablesSnapshot {
  type: "tables.snapshot";
  node: string;
  arp: ArpRow[];
  routes: RouteRow[];
  interfaces: InterfaceRow[];
}

export interface TopologyUpdated {
  type: "topology.updated";
  version: number;
  by: string;
}

export interface Presence {
  type: "presence";
  users: string[];
}

/** A user's role on the lab changed (null: they lost access); their open pages re-render. */
export interface RoleChanged {
  type: "role.changed";
  user: string;
  role: Role | null;
}

/** The lab was deleted (after its destroy): open pages leave. */
export interface LabDeleted {
  type: "lab.deleted";
  by: string;
}

/** The lab was renamed or described (PATCH /api/labs/{id}). */
export interface LabUpdated {
  type: "lab.updated";
  name?: string;
  description?: string;
  by: string;
}

export type ServerMessage = LabUpdated | JobProgress | JobFinished | PingReply | TablesSnapshot | TopologyUpdated | Presence | RoleChanged | LabDeleted;

export type ServerMessageType = ServerMessage["type"];

const KNOWN: ReadonlySet<string> = new Set<ServerMessageType>([
  "job.progress",
  "job.finished",
  "ping.reply",
  "tables.snapshot",
  "topology.updated",
  "presence",
  "role.changed",
  "lab.deleted",
  "lab.updated",
]);

/** Parses one frame; unknown or malformed messages give null (the server may add types later). */
export function parseMessage(raw: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string" || !KNOWN.has(type)) return null;
  return value as ServerMessage;
}

/** Presence users may arrive as names or as objects with a username; normalise to names. */
export function presenceNames(msg: Presence): string[] {
  return (msg.users as unknown[]).map((u) =>
    typeof u === "string" ? u : String((u as { username?: unknown; name?: unknown }).username ?? (u as { name?: unknown }).name ?? "?"),
  );
}
