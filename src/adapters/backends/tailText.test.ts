import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeTailText } from "./tailText.ts";

describe("makeTailText", () => {
  it("keeps everything under the limit", () => {
    const tail = makeTailText(10);
    tail.append("abc");
    tail.append("");
    tail.append("def");
    assert.equal(tail.text(), "abcdef");
  });

  it("keeps the last `limit` characters and says how many were dropped", () => {
    const tail = makeTailText(5);
    for (let i = 0; i < 10; i += 1) tail.append(String(i));
    assert.equal(tail.text(), "[... 5 earlier characters omitted]\n56789");
    tail.append("abcdefghijklmnop");
    assert.equal(tail.text(), "[... 21 earlier characters omitted]\nlmnop");
  });

  it("stays fast and bounded for many megabytes of appends", () => {
    const tail = makeTailText(1_000);
    const chunk = "x".repeat(1_023);
    for (let i = 0; i < 20_000; i += 1) tail.append(chunk);
    const text = tail.text();
    assert.ok(text.endsWith("x".repeat(1_000)));
    assert.ok(text.length < 1_100);
  });
});
