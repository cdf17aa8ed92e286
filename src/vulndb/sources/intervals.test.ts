import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Interval, intersect, intervalEvents, isEmpty, subtract, subtractAll } from "./intervals.js";

// Versions are plain numbers here: the algebra only needs an order.
const cmp = (a: string, b: string) => Number(a) - Number(b);
const inc = (version: string, tag?: string) => ({ version, inclusive: true, tag });
const exc = (version: string, tag?: string) => ({ version, inclusive: false, tag });
const show = (list: Interval[]) =>
  list.map(
    (i) =>
      `${i.lo ? (i.lo.inclusive ? "[" : "(") + i.lo.version : "(-"},${i.hi ? i.hi.version + (i.hi.inclusive ? "]" : ")") : "+)"}`,
  );

describe("intervals", () => {
  test("emptiness and intersection", () => {
    assert.equal(isEmpty({ lo: inc("2"), hi: exc("2") }, cmp), true);
    assert.equal(isEmpty({ lo: inc("2"), hi: inc("2") }, cmp), false);
    assert.equal(isEmpty({ lo: inc("3"), hi: inc("2") }, cmp), true);
    assert.equal(isEmpty({}, cmp), false);
    assert.deepEqual(show([intersect({ lo: inc("1") }, { hi: exc("5") }, cmp) as Interval]), ["[1,5)"]);
    // At equal versions the exclusive bound is the tighter one.
    assert.deepEqual(
      show([intersect({ lo: inc("1"), hi: inc("5") }, { lo: exc("1"), hi: exc("5") }, cmp) as Interval]),
      ["(1,5)"],
    );
    assert.equal(intersect({ hi: exc("1") }, { lo: inc("1") }, cmp), undefined);
  });

  test("subtraction flips the inclusiveness of the removed interval's bounds", () => {
    assert.deepEqual(show(subtract({}, { lo: inc("2"), hi: exc("4") }, cmp)), ["(-,2)", "[4,+)"]);
    assert.deepEqual(show(subtract({}, { lo: exc("2"), hi: inc("4") }, cmp)), ["(-,2]", "(4,+)"]);
    assert.deepEqual(show(subtract({ lo: inc("1"), hi: exc("9") }, { lo: inc("5") }, cmp)), ["[1,5)"]);
    assert.deepEqual(show(subtract({ lo: inc("1"), hi: exc("3") }, { lo: inc("5") }, cmp)), ["[1,3)"]);
    // A point.
    assert.deepEqual(show(subtract({}, { lo: inc("3"), hi: inc("3") }, cmp)), ["(-,3)", "(3,+)"]);
  });

  test("subtractAll keeps tags and sorts", () => {
    const rest = subtractAll(
      [
        { lo: inc("10", "v"), hi: exc("20", "line-end") },
        { lo: inc("1", "v"), hi: exc("9", "line-end") },
      ],
      [{ lo: inc("4", "p"), hi: exc("9", "line-end") }, { lo: inc("15", "p") }],
      cmp,
    );
    assert.deepEqual(show(rest), ["[1,4)", "[10,15)"]);
    assert.deepEqual(
      rest.map((i) => [i.lo?.tag, i.hi?.tag]),
      [
        ["v", "p"],
        ["v", "p"],
      ],
    );
  });

  test("events", () => {
    assert.deepEqual(intervalEvents({}).events, [{ introduced: "0" }]);
    assert.deepEqual(intervalEvents({ lo: inc("1"), hi: exc("2") }).events, [
      { introduced: "1" },
      { fixed: "2" },
    ]);
    assert.deepEqual(intervalEvents({ hi: inc("2") }).events, [{ introduced: "0" }, { last_affected: "2" }]);
    assert.deepEqual(intervalEvents({ lo: exc("1") }), {
      events: [{ introduced: "1" }],
      approximated: "> 1 written as introduced 1",
    });
    assert.deepEqual(intervalEvents({ lo: exc("1") }, { successor: (v) => `${v}.5` }), {
      events: [{ introduced: "1.5" }],
      approximated: undefined,
    });
    assert.deepEqual(
      intervalEvents(
        { lo: inc("1"), hi: exc("2", "line-end") },
        { exclusiveUpper: (b) => ({ limit: b.version }) },
      ).events,
      [{ introduced: "1" }, { limit: "2" }],
    );
  });
});
