import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  backoffDelay,
  defaultRetryPolicy,
  HostPause,
  parseRateLimitBudget,
  parseRetryAfter,
  type RetryPolicy,
  Semaphore,
  sleep,
} from "./backoff.js";

const noJitter: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0 };
const jittery: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, jitter: 0.2 };
const fixed = (v: number) => () => v;
/** Just below 1: Math.random() never returns 1 itself. */
const almostOne = 1 - Number.EPSILON;

describe("backoffDelay", () => {
  const growth: [retry: number, want: number][] = [
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_000], // 1600 capped
    [6, 1_000],
    [30, 1_000],
    [2_000, 1_000], // 2 ** 1999 is Infinity: still capped, never NaN
  ];
  for (const [retry, want] of growth) {
    test(`doubles from the base and caps: retry ${retry} → ${want} ms`, () => {
      assert.equal(backoffDelay(retry, noJitter, fixed(0.5)), want);
    });
  }

  test("retry 0 or negative is treated as the first retry", () => {
    assert.equal(backoffDelay(0, noJitter, fixed(0.5)), 100);
    assert.equal(backoffDelay(-3, noJitter, fixed(0.5)), 100);
  });

  test("without jitter the random source does not matter", () => {
    for (const r of [0, 0.25, 0.5, almostOne]) assert.equal(backoffDelay(3, noJitter, fixed(r)), 400);
  });

  const jitterCases: [retry: number, random: number, want: number][] = [
    [1, 0, 80], // 100 × (1 − 0.2)
    [1, 0.5, 100],
    [1, almostOne, 120], // 100 × (1 + 0.2)
    [3, 0, 320],
    [3, 0.75, 440],
    [3, almostOne, 480],
    [4, almostOne, 960],
    [5, 0, 800], // capped at 1000 first, then jittered down
    [5, almostOne, 1_000], // jitter never pushes past the cap
    [9, almostOne, 1_000],
  ];
  for (const [retry, random, want] of jitterCases) {
    test(`jitter ±20 %: retry ${retry}, random ${random.toFixed(2)} → ${want} ms`, () => {
      assert.equal(backoffDelay(retry, jittery, fixed(random)), want);
    });
  }

  test("jittered delays stay within [d·(1−j), min(d·(1+j), cap)] for many random draws", () => {
    let seed = 42;
    const lcg = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let retry = 1; retry <= 8; retry++) {
      const d = Math.min(100 * 2 ** (retry - 1), 1_000);
      for (let i = 0; i < 500; i++) {
        const got = backoffDelay(retry, jittery, lcg);
        assert.ok(Number.isInteger(got), `${got} is not an integer`);
        assert.ok(
          got >= Math.floor(d * 0.8) && got <= Math.min(Math.ceil(d * 1.2), 1_000),
          `retry ${retry}: ${got}`,
        );
      }
    }
  });

  test("the default policy grows and stays under its cap", () => {
    const delays = [1, 2, 3, 4, 5, 10, 20].map((r) => backoffDelay(r, defaultRetryPolicy, fixed(0.5)));
    for (let i = 1; i < delays.length; i++)
      assert.ok((delays[i] ?? 0) >= (delays[i - 1] ?? 0), String(delays));
    for (const d of delays) assert.ok(d <= defaultRetryPolicy.maxDelayMs);
    assert.equal(delays[0], defaultRetryPolicy.baseDelayMs);
  });

  test("full jitter (1.0) can reach zero but never goes negative", () => {
    const policy = { ...noJitter, jitter: 1 };
    assert.equal(backoffDelay(1, policy, fixed(0)), 0);
    assert.equal(backoffDelay(2, policy, fixed(0.5)), 200);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2025, 0, 15, 12, 0, 0); // Wed, 15 Jan 2025 12:00:00 GMT
  const cases: [value: string | undefined, want: number | undefined][] = [
    [undefined, undefined],
    ["", undefined],
    ["   ", undefined],
    // delay-seconds
    ["0", 0],
    ["1", 1_000],
    ["120", 120_000],
    [" 30 ", 30_000],
    ["007", 7_000],
    ["2099", 2_099_000], // digits are always delay-seconds, never a year
    // HTTP-date: IMF-fixdate, the obsolete RFC 850 and asctime forms
    ["Wed, 15 Jan 2025 12:00:30 GMT", 30_000],
    ["Wed, 15 Jan 2025 13:00:00 GMT", 3_600_000],
    ["Wednesday, 15-Jan-25 12:01:00 GMT", 60_000],
    ["Wed Jan 15 12:00:10 2025", 10_000], // asctime has no zone and means GMT, whatever TZ says
    ["Thu Jan 16 12:00:00 2025", 86_400_000],
    ["Sat Feb  1 12:00:00 2025", 17 * 86_400_000], // asctime pads a one-digit day with a space
    // dates in the past or now: ignored
    ["Wed, 15 Jan 2025 12:00:00 GMT", undefined],
    ["Wed, 15 Jan 2025 11:59:59 GMT", undefined],
    ["Sun, 06 Nov 1994 08:49:37 GMT", undefined],
    // garbage
    ["soon", undefined],
    ["-5", undefined],
    ["1.5", undefined],
    ["10s", undefined],
    ["12abc", undefined],
    ["0x10", undefined],
    ["1e3", undefined],
    ["NaN", undefined],
    ["Infinity", undefined],
    // lenient Date.parse would read these as future dates and stall a whole host
    ["next 2030", undefined],
    ["retry in 2099", undefined],
    ["2030-01-01", undefined],
  ];
  for (const [value, want] of cases) {
    test(`${JSON.stringify(value)} → ${want}`, () => {
      assert.equal(parseRetryAfter(value, now), want);
    });
  }

  test("defaults `now` to the current time", () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    const got = parseRetryAfter(inAMinute);
    assert.ok(got !== undefined && got > 55_000 && got <= 60_000, String(got));
  });
});

describe("sleep", () => {
  test("waits at least the given time", async () => {
    const started = performance.now();
    await sleep(30);
    assert.ok(performance.now() - started >= 25);
  });

  test("rejects at once with the reason of an already-aborted signal", async () => {
    const reason = new Error("stop");
    await assert.rejects(sleep(10_000, AbortSignal.abort(reason)), (e) => e === reason);
  });

  test("rejects when the signal aborts during the wait, well before the timer", async () => {
    const ac = new AbortController();
    const started = performance.now();
    setTimeout(() => ac.abort(new Error("cancelled")), 10);
    await assert.rejects(sleep(10_000, ac.signal), /cancelled/);
    assert.ok(performance.now() - started < 2_000);
  });
});

describe("HostPause", () => {
  test("wait resolves at once when no pause was set", async () => {
    const started = performance.now();
    await new HostPause().wait();
    assert.ok(performance.now() - started < 20);
  });

  test("wait lasts until the pause ends", async () => {
    const p = new HostPause();
    p.pause(60);
    const started = performance.now();
    await p.wait();
    assert.ok(performance.now() - started >= 50);
  });

  test("a shorter pause does not cut a longer one short", async () => {
    const p = new HostPause();
    p.pause(80);
    p.pause(1);
    const started = performance.now();
    await p.wait();
    assert.ok(performance.now() - started >= 65);
  });

  test("a longer pause extends a shorter one", async () => {
    const p = new HostPause();
    p.pause(10);
    p.pause(80);
    const started = performance.now();
    await p.wait();
    assert.ok(performance.now() - started >= 65);
  });

  test("every concurrent waiter is held", async () => {
    const p = new HostPause();
    p.pause(50);
    const started = performance.now();
    const ends = await Promise.all([1, 2, 3].map(() => p.wait().then(() => performance.now() - started)));
    for (const e of ends) assert.ok(e >= 40, String(ends));
  });

  test("an expired pause no longer delays", async () => {
    const p = new HostPause();
    p.pause(10);
    await sleep(30);
    const started = performance.now();
    await p.wait();
    assert.ok(performance.now() - started < 15);
  });

  test("wait is abortable", async () => {
    const p = new HostPause();
    p.pause(10_000);
    await assert.rejects(p.wait(AbortSignal.timeout(20)));
  });
});

/** Lets every queued promise continuation run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Semaphore", () => {
  for (const limit of [1, 2, 3, 5]) {
    test(`never more than ${limit} holders at once, and all tasks finish`, async () => {
      const sem = new Semaphore(limit);
      let active = 0;
      let peak = 0;
      let done = 0;
      const task = async (i: number) => {
        const release = await sem.acquire();
        active++;
        peak = Math.max(peak, active);
        await sleep(i % 3);
        active--;
        done++;
        release();
      };
      await Promise.all(Array.from({ length: 25 }, (_, i) => task(i)));
      assert.equal(peak, limit);
      assert.equal(done, 25);
    });
  }

  test("waiters are served first in, first out", async () => {
    const sem = new Semaphore(1);
    const first = await sem.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3, 4].map((n) =>
      sem.acquire().then((release) => {
        order.push(n);
        release();
      }),
    );
    await settle();
    assert.deepEqual(order, []);
    first();
    await Promise.all(waiters);
    assert.deepEqual(order, [1, 2, 3, 4]);
  });

  test("a new caller does not jump the queue when a slot is handed over", async () => {
    const sem = new Semaphore(1);
    const first = await sem.acquire();
    const order: string[] = [];
    const queued = sem.acquire().then((r) => {
      order.push("queued");
      return r;
    });
    first();
    const late = sem.acquire().then((r) => {
      order.push("late");
      r();
    });
    (await queued)();
    await late;
    assert.deepEqual(order, ["queued", "late"]);
  });

  test("releasing twice frees only one slot", async () => {
    const sem = new Semaphore(1);
    const a = await sem.acquire();
    let bHeld = false;
    let cHeld = false;
    const b = sem.acquire().then((r) => {
      bHeld = true;
      return r;
    });
    const c = sem.acquire().then((r) => {
      cHeld = true;
      return r;
    });
    a();
    a(); // must not also let c in
    await settle();
    assert.equal(bHeld, true);
    assert.equal(cHeld, false);
    (await b)();
    await settle();
    assert.equal(cHeld, true);
    (await c)();
  });

  test("releasing twice with nobody waiting does not raise the limit", async () => {
    const sem = new Semaphore(2);
    const a = await sem.acquire();
    a();
    a();
    a();
    const held = [await sem.acquire(), await sem.acquire()];
    let third = false;
    const t = sem.acquire().then((r) => {
      third = true;
      r();
    });
    await settle();
    assert.equal(third, false, "a third holder got in with limit 2");
    held[0]?.();
    await t;
    assert.equal(third, true);
    held[1]?.();
  });

  test("a slot can be reused many times by one holder after another", async () => {
    const sem = new Semaphore(1);
    for (let i = 0; i < 100; i++) (await sem.acquire())();
    const r = await Promise.race([sem.acquire(), sleep(100).then(() => undefined)]);
    assert.ok(r, "semaphore leaked its only slot");
    r();
  });

  test("an infinite limit admits everyone", async () => {
    const sem = new Semaphore(Number.POSITIVE_INFINITY);
    const held = await Promise.all(Array.from({ length: 50 }, () => sem.acquire()));
    for (const r of held) r();
  });

  for (const bad of [0, -1, 1.5, Number.NaN]) {
    test(`rejects a limit of ${bad} instead of hanging or admitting everyone`, () => {
      assert.throws(() => new Semaphore(bad), RangeError);
    });
  }
});

describe("parseRateLimitBudget", () => {
  const now = 1_700_000_000_000;
  const cases: [
    name: string,
    headers: Record<string, string>,
    want: ReturnType<typeof parseRateLimitBudget>,
  ][] = [
    ["none", {}, undefined],
    [
      "Docker Hub registry window",
      { "ratelimit-remaining": "76;w=21600" },
      { remaining: 76, resetAt: now + 21_600_000, header: "ratelimit-remaining" },
    ],
    [
      "Docker Hub registry exhausted",
      { "ratelimit-remaining": "0;w=21600" },
      { remaining: 0, resetAt: now + 21_600_000, header: "ratelimit-remaining" },
    ],
    [
      "IETF draft delta reset",
      { "ratelimit-remaining": "3", "ratelimit-reset": "30" },
      { remaining: 3, resetAt: now + 30_000, header: "ratelimit-reset" },
    ],
    [
      "GitLab unix reset",
      { "ratelimit-remaining": "0", "ratelimit-reset": "1700000060" },
      { remaining: 0, resetAt: 1_700_000_060_000, header: "ratelimit-reset" },
    ],
    [
      "GitHub / Hub API",
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000120" },
      { remaining: 0, resetAt: 1_700_000_120_000, header: "x-ratelimit-reset" },
    ],
    [
      "Hub API 429 X-Retry-After",
      { "x-ratelimit-remaining": "0", "x-retry-after": "1700000090" },
      { remaining: 0, resetAt: 1_700_000_090_000, header: "x-retry-after" },
    ],
    [
      "X-Retry-After alone",
      { "x-retry-after": "1700000090" },
      { remaining: 0, resetAt: 1_700_000_090_000, header: "x-retry-after" },
    ],
    [
      "remaining without reset",
      { "x-ratelimit-remaining": "5" },
      { remaining: 5, header: "x-ratelimit-remaining" },
    ],
    ["garbage remaining", { "ratelimit-remaining": "lots" }, undefined],
    [
      "garbage reset ignored",
      { "x-ratelimit-remaining": "2", "x-ratelimit-reset": "soon" },
      { remaining: 2, header: "x-ratelimit-remaining" },
    ],
  ];
  for (const [name, headers, want] of cases) {
    test(name, () => {
      assert.deepEqual(
        parseRateLimitBudget((n) => headers[n], now),
        want,
      );
    });
  }
});
