import { describe, expect, it, vi } from "vitest";
import { Emitter } from "../src/store";

describe("Emitter", () => {
  it("calls every subscriber, in order, until it unsubscribes", () => {
    const e = new Emitter<{ saved: number; changed: undefined }>();
    const seen: string[] = [];
    const off = e.on("saved", (v) => seen.push(`a${v}`));
    e.on("saved", (v) => seen.push(`b${v}`));
    e.on("changed", () => seen.push("c"));
    e.emit("saved", 2);
    off();
    e.emit("saved", 3);
    expect(seen).toEqual(["a2", "b2", "b3"]);
  });
  it("a failing listener does not stop the others", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const e = new Emitter<{ x: number }>();
    const got: number[] = [];
    e.on("x", () => {
      throw new Error("boom");
    });
    e.on("x", (v) => got.push(v));
    e.emit("x", 1);
    expect(got).toEqual([1]);
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();
  });
});
