import assert from "node:assert/strict";
import { test } from "node:test";
import type { ApiError } from "./errors.js";
import { queryBool, queryInt, queryList, queryPage, searchTerm } from "./query.js";

test("booleans are read leniently, the SDK's glued query included", () => {
  const cases: [string | string[] | undefined, boolean][] = [
    [undefined, false],
    ["true", true],
    ["TRUE", true],
    ["True", true],
    ["true?limit=50", true],
    ["1", true],
    ["false", false],
    ["false?limit=50", false],
    ["0", false],
    ["", false],
    [["false", "true"], true],
  ];
  for (const [value, expected] of cases)
    assert.equal(queryBool({ compact: value }, "compact"), expected, String(value));
  for (const bad of ["yes", "maybe", "2"]) {
    assert.throws(
      () => queryBool({ compact: bad }, "compact"),
      (e: ApiError) => e.status === 400 && /compact/.test(e.message),
    );
  }
});

test("lists accept repeated keys and comma lists", () => {
  const cases: [string | string[] | undefined, string[] | undefined][] = [
    [undefined, undefined],
    ["a", ["a"]],
    ["a,b", ["a", "b"]],
    [
      ["a", "b,c"],
      ["a", "b", "c"],
    ],
    [",", undefined],
  ];
  for (const [value, expected] of cases) assert.deepEqual(queryList({ id: value }, "id"), expected);
});

test("offset and limit: defaults, cap, and 400 on bad values", () => {
  const cases: [Record<string, string>, { offset: number; limit: number }][] = [
    [{}, { offset: 0, limit: 50 }],
    [{ offset: "100" }, { offset: 100, limit: 50 }],
    [{ limit: "10" }, { offset: 0, limit: 10 }],
    [{ limit: "1000" }, { offset: 0, limit: 250 }],
    [{ limit: "0" }, { offset: 0, limit: 50 }],
  ];
  for (const [query, expected] of cases) assert.deepEqual(queryPage(query), expected);
  for (const query of [{ offset: "-1" }, { limit: "ten" }, { offset: "1.5" }, { limit: "50?offset=0" }]) {
    assert.throws(
      () => queryPage(query),
      (e: ApiError) => e.status === 400,
    );
  }
  assert.throws(() => queryInt({ n: "0" }, "n", { min: 1 }), /at least 1/);
});

test("search undoes the UI client's escapes", () => {
  const cases: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ["", undefined],
    ["ubuntu", "ubuntu"],
    ["127\\.0\\.0\\.1%3A5000/alpine", "127.0.0.1:5000/alpine"],
    ["alpine%3A3\\.19", "alpine:3.19"],
    ["100%", "100%"],
  ];
  for (const [raw, expected] of cases) assert.equal(searchTerm(raw), expected, String(raw));
});
