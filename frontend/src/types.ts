// The topology document, format netdesigner/v1 (shared/spec/topology-v1.md), and the REST shapes.

export type NodeKind = "namespace" | "bridge" | "host" | "external";

export interface Route {
  to: string;
  via?: string;
  dev?: string;
}

export interface Nat {
  action: "masquerade";
  source?: string;
  out_interface?: string;
}

export interface PortForward {
  protocol: "tcp" | "udp";
  port: number;
  to: string;
  to_port?: number;
  in_interface?: string;
}

export interface NodeSpec {
  name: string;
  kind: NodeKind;
  forwarding?: boolean;
  routes?: Route[];
  addresses?: string[];
  nat?: Nat[];
  port_forwards?: PortForward[];
  [extra: string]: unknown;
}

export interface Endpoint {
  node: string;
  interface: string;
  addresses?: string[];
  mac?: string;
  [extra: string]: unknown;
}

export interface LinkSpec {
  a: Endpoint;
  b: Endpoint;
  mtu?: number;
  [extra: string]: unknown;
}

export interface Point {
  x: number;
  y: number;
}

export interface TopologyDoc {
  format: "netdesigner/v1";
  name: string;
  description?: string;
  nodes: NodeSpec[];
  links: LinkSpec[];
  layout?: Record<string, Point>;
  [extra: string]: unknown;
}

export type Role = "viewer" | "editor" | "operator" | "owner";

export interface Deployment {
  state?: string;
  version?: number | null;
  tag?: string;
  error?: string;
  [extra: string]: unknown;
}

export interface LabInfo {
  id: number;
  slug: string;
  name: string;
  version: number;
  topology: TopologyDoc;
  deployment: Deployment | null;
  role?: Role;
  template?: number | null;
  template_version?: number | null;
  team?: string | null;
  owner?: string;
}

export interface FieldError {
  path: string;
  message: string;
}

export interface Operation {
  op: string;
  node?: string | null;
  command: string;
  [extra: string]: unknown;
}

export interface Job {
  id: number;
  kind: string;
  status: "queued" | "running" | "succeeded" | "failed" | "superseded";
  done: number;
  total: number;
  error: string | null;
  result?: PingResult | Record<string, unknown> | null;
}

export interface PingReplyRow {
  seq: number;
  ttl: number;
  rtt_ms: number;
}

export interface PingResult {
  sent: number;
  received: number;
  replies: PingReplyRow[];
  error: string | null;
}

export interface InterfaceRow {
  name: string;
  mac: string;
  state: string;
  addresses: string[];
}

export interface ArpRow {
  ip: string;
  mac: string;
  interface: string;
  state: string;
}

export interface RouteRow {
  to: string;
  via?: string | null;
  dev?: string | null;
  proto?: string | null;
  scope?: string | null;
}

export interface Tables {
  interfaces: InterfaceRow[];
  arp: ArpRow[];
  routes: RouteRow[];
}

export interface VersionRow {
  number: number;
  created?: string;
  author?: string | null;
  note?: string;
  [extra: string]: unknown;
}

export interface Member {
  username: string;
  role: Role;
}

export const ROLES: Role[] = ["viewer", "editor", "operator", "owner"];

export const ROLE_RANK: Record<Role, number> = { viewer: 1, editor: 2, operator: 3, owner: 4 };

export function canEdit(role: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK.editor;
}

export function canOperate(role: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK.operator;
}
