import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExpiringValue, renewalTime } from "./expiring.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("renewalTime", () => {
  const cases: Array<[string, number, number | undefined, number]> = [
    ["never expires", 0, undefined, Number.POSITIVE_INFINITY],
    ["ECR's 12 hours: five minutes early", 0, 12 * HOUR, 12 * HOUR - 5 * MINUTE],
    ["an hour's OAuth token: five minutes early", 0, HOUR, HOUR - 5 * MINUTE],
    ["Docker Hub API's 10 minutes: a quarter early", 0, 10 * MINUTE, 7.5 * MINUTE],
    ["a 60 s registry token: 15 s early", 1000, 61_000, 46_000],
    ["already expired: at once", 5000, 4000, 4000],
  ];
  for (const [name, obtainedAt, expiresAt, expected] of cases) {
    test(name, () => assert.equal(renewalTime(obtainedAt, expiresAt), expected));
  }
});

describe("ExpiringValue", () => {
  function counter(lifetimeMs: number | undefined, clock: { now: number }) {
    let n = 0;
    return new ExpiringValue(
      async () => {
        n++;
        return {
          value: `token-${n}`,
          expiresAt: lifetimeMs === undefined ? undefined : clock.now + lifetimeMs,
        };
      },
      { now: () => clock.now },
    );
  }

  test("is obtained once, then held until due for renewal", async () => {
    const clock = { now: 0 };
    const value = counter(HOUR, clock);
    assert.equal(await value.get(), "token-1");
    clock.now = HOUR - 5 * MINUTE - 1;
    assert.equal(await value.get(), "token-1");
    clock.now = HOUR - 5 * MINUTE;
    assert.equal(await value.get(), "token-2");
    assert.equal(value.obtained, 2);
  });

  test("concurrent callers share one obtain", async () => {
    const value = counter(HOUR, { now: 0 });
    const values = await Promise.all(Array.from({ length: 20 }, () => value.get()));
    assert.deepEqual(new Set(values), new Set(["token-1"]));
    assert.equal(value.obtained, 1);
  });

  test("invalidate makes the next get obtain anew; a value without expiry is otherwise kept", async () => {
    const value = counter(undefined, { now: 0 });
    assert.equal(await value.get(), "token-1");
    assert.equal(await value.get(), "token-1");
    value.invalidate();
    assert.equal(await value.get(), "token-2");
  });

  test("a failed obtain is not kept: the next call tries again", async () => {
    let calls = 0;
    const value = new ExpiringValue(async () => {
      calls++;
      if (calls === 1) throw new Error("token endpoint down");
      return { value: "ok" };
    });
    await assert.rejects(value.get(), /token endpoint down/);
    assert.equal(await value.get(), "ok");
    assert.equal(value.obtained, 1);
  });
});
