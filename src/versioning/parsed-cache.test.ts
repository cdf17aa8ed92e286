import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareDigits, ParsedCache, stripZeros } from "./parsed-cache.js";

describe("ParsedCache", () => {
  test("parses each input once and caches invalid inputs too", () => {
    let calls = 0;
    const cache = new ParsedCache((s) => {
      calls++;
      return s === "bad" ? null : s.length;
    });
    assert.equal(cache.get("abc"), 3);
    assert.equal(cache.get("abc"), 3);
    assert.equal(cache.get("bad"), null);
    assert.equal(cache.get("bad"), null);
    assert.equal(calls, 2);
  });
  test("stays within its bound, dropping the oldest entry", () => {
    const cache = new ParsedCache((s) => s, 3);
    for (const k of ["a", "b", "c", "d", "e"]) cache.get(k);
    assert.equal(cache.size, 3);
    let calls = 0;
    const counting = new ParsedCache((s) => {
      calls++;
      return s;
    }, 2);
    counting.get("a");
    counting.get("b");
    counting.get("c"); // evicts "a"
    counting.get("b");
    assert.equal(calls, 3);
    counting.get("a");
    assert.equal(calls, 4);
  });
});

describe("compareDigits", () => {
  const cases: [string, string, number][] = [
    ["0", "0", 0],
    ["0", "000", 0],
    ["007", "7", 0],
    ["9", "10", -1],
    ["10", "9", 1],
    ["9007199254740993", "9007199254740992", 1],
    ["123456789012345678901234567890", "123456789012345678901234567891", -1],
  ];
  for (const [a, b, want] of cases) test(`${a} vs ${b}`, () => assert.equal(compareDigits(a, b), want));
  test("stripZeros keeps one zero", () => {
    assert.equal(stripZeros("000"), "0");
    assert.equal(stripZeros("0010"), "10");
    assert.equal(stripZeros("10"), "10");
  });
});
