import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { DefenderPool, defenderPlatform, defendersFor, withRetries } from "./defender-pool.js";

describe("defendersFor (spec 6.7 scanners)", () => {
  const cases: [number | undefined, number][] = [
    [undefined, 1],
    [0, 1],
    [-2, 1],
    [1.5, 1],
    [1, 1],
    [4, 4],
  ];
  for (const [scanners, expected] of cases)
    test(`${scanners} → ${expected}`, () => assert.equal(defendersFor(scanners), expected));
});

describe("defenderPlatform (spec 6.1, 6.7 os)", () => {
  const cases: [string | undefined, ReturnType<typeof defenderPlatform>][] = [
    [undefined, { os: "linux", architecture: "amd64" }],
    ["", { os: "linux", architecture: "amd64" }],
    ["linux", { os: "linux", architecture: "amd64" }],
    ["linuxARM64", { os: "linux", architecture: "arm64" }],
    ["windows", undefined],
  ];
  for (const [os, expected] of cases) test(`${os}`, () => assert.deepEqual(defenderPlatform(os), expected));
});

describe("DefenderPool", () => {
  for (const size of [1, 2, 5]) {
    test(`${size} Defenders: every item once, never more than ${size} at a time`, async () => {
      const pool = new DefenderPool(size);
      let running = 0;
      let peak = 0;
      const seen: number[] = [];
      const defenders = new Set<number>();
      await pool.run(
        Array.from({ length: 12 }, (_, i) => i),
        async (item, defender) => {
          running++;
          peak = Math.max(peak, running);
          defenders.add(defender);
          await sleep(2);
          seen.push(item);
          running--;
        },
      );
      assert.deepEqual(
        seen.sort((a, b) => a - b),
        Array.from({ length: 12 }, (_, i) => i),
      );
      assert.equal(peak, size);
      assert.deepEqual(
        [...defenders].sort(),
        Array.from({ length: size }, (_, i) => i + 1),
      );
    });
  }

  test("an abort starts no further item", async () => {
    const controller = new AbortController();
    const started: number[] = [];
    await new DefenderPool(2).run(
      [1, 2, 3, 4, 5, 6],
      async (item) => {
        started.push(item);
        if (item === 2) controller.abort();
        await sleep(1);
      },
      controller.signal,
    );
    assert.deepEqual(started, [1, 2]);
  });

  test("a pool of no Defender is refused", () => {
    assert.throws(() => new DefenderPool(0), RangeError);
  });
});

describe("withRetries", () => {
  const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
  const cases: [string, number, number | "throws"][] = [
    ["succeeds first time", 0, 1],
    ["succeeds on the last try", 2, 3],
    ["fails every try", 5, "throws"],
  ];
  for (const [name, failures, expected] of cases) {
    test(name, async () => {
      let tries = 0;
      const retried: number[] = [];
      const run = withRetries(
        async (n) => {
          tries = n;
          if (n <= failures) throw new Error(`try ${n}`);
          return n;
        },
        policy,
        undefined,
        (n) => {
          retried.push(n);
        },
      );
      if (expected === "throws") {
        await assert.rejects(run, /try 3/);
        assert.equal(tries, 3);
        assert.deepEqual(retried, [1, 2]);
      } else {
        assert.equal(await run, expected);
        assert.equal(retried.length, expected - 1);
      }
    });
  }

  test("an abort during the backoff wait ends it at once", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const run = withRetries(
      async () => {
        setTimeout(() => controller.abort(), 10);
        throw new Error("transient");
      },
      { attempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000 },
      controller.signal,
    );
    await assert.rejects(run, { name: "AbortError" });
    assert.ok(Date.now() - started < 1000);
  });

  test("an error after an abort is not retried", async () => {
    const controller = new AbortController();
    let tries = 0;
    await assert.rejects(
      withRetries(
        async () => {
          tries++;
          controller.abort();
          throw new Error("aborted pull");
        },
        policy,
        controller.signal,
      ),
      /aborted pull/,
    );
    assert.equal(tries, 1);
  });
});
