import { describe, expect, it } from "vitest";
import { parseMessage } from "../src/protocol";

describe("parseMessage", () => {
  it.each([
    ['{"type":"role.changed","user":"bob","role":"editor"}', "role.changed"],
    ['{"type":"lab.deleted","by":"alice"}', "lab.deleted"],
    ['{"type":"topology.updated","version":2,"by":"a"}', "topology.updated"],
    ['{"type":"made.up"}', null],
    ["not json", null],
    ["[1,2]", null],
  ])("%s", (raw, type) => {
    expect(parseMessage(raw)?.type ?? null).toBe(type);
  });
});
