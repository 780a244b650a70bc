// Every websocket message the server sends on /ws/labs/{id}/, declared once as a `type`-tagged union
// (shared/spec/interfaces.md). Code that handles a message switches on `type` and gets the fields typed.

// The shapes are generated from the server's declarations (topology/contract.py -> generated/events.ts):
// one place, and `tsc` fails here when the server drops a field the page reads.
import { SERVER_MESSAGE_TYPES, type Presence, type ServerMessage } from "./generated/events";

export type {
  CapturePacket,
  ExplainResult,
  JobFinished,
  JobProgress,
  LabDeleted,
  LabUpdated,
  PingReply,
  Presence,
  RoleChanged,
  ServerMessage,
  TablesSnapshot,
  TestResult,
  TopologyUpdated,
} from "./generated/events";

export type ServerMessageType = ServerMessage["type"];

const KNOWN: ReadonlySet<string> = new Set<string>(SERVER_MESSAGE_TYPES);

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
