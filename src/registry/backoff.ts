/**
 * Retry timing: exponential backoff with jitter, Retry-After (RFC 9110 §10.2.3: delay-seconds or
 * HTTP-date), and a per-host pause so that one 429 slows every request to that host (as regclient does).
 */
export interface RetryPolicy {
  /** Total tries of one request, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  /** Cap on any single wait, Retry-After included. */
  maxDelayMs: number;
  /** Fraction of the delay randomised (0.2 → ±20 %). */
  jitter: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 30_000,
  jitter: 0.2,
};

/** Delay before retry number `retry` (1 = the first retry). */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, retry - 1);
  const capped = Math.min(exponential, policy.maxDelayMs);
  const jittered = capped * (1 + policy.jitter * (2 * random() - 1));
  return Math.max(0, Math.round(Math.min(jittered, policy.maxDelayMs)));
}

const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const LONG_DAY = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "\\d{2}:\\d{2}:\\d{2}";
/** RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms (which has no zone: GMT). */
const IMF_FIXDATE = new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`, "i");
const RFC850_DATE = new RegExp(`^${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`, "i");
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} (?: \\d|\\d{2}) ${TIME} \\d{4}$`, "i");

/** Milliseconds to wait as a Retry-After header says; undefined when absent, invalid, or a date in the past. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse alone is far too lenient ("next 2030" is a date to it) and reads asctime as local time.
  let date = Number.NaN;
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) date = Date.parse(text);
  else if (ASCTIME_DATE.test(text)) date = Date.parse(`${text} GMT`);
  if (Number.isNaN(date) || date <= now) return undefined;
  return date - now;
}

/** Shared pause for one host: set by a 429/503 with Retry-After, awaited by every request to that host. */
export class HostPause {
  private until = 0;

  pause(ms: number): void {
    this.until = Math.max(this.until, Date.now() + ms);
  }

  async wait(signal?: AbortSignal): Promise<void> {
    const ms = this.until - Date.now();
    if (ms > 0) await sleep(ms, signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Counting semaphore with explicit release: a blob stream holds its slot until the body is consumed,
 * which a promise-returning limiter (p-limit) cannot express.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    // 0 would make every acquire() wait forever; NaN would admit everyone.
    if (!(Number.isInteger(limit) || limit === Number.POSITIVE_INFINITY) || limit < 1) {
      throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
    }
  }

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/** What a response's rate-limit headers say about the budget left on its host. */
export interface RateLimitBudget {
  remaining: number;
  /** Epoch ms when the budget is renewed; undefined when no header says. */
  resetAt?: number;
  /** The header the reset (or, without one, the remaining count) was read from, for error messages. */
  header: string;
}

// Reset values this large are unix seconds (GitLab, GitHub); smaller ones are delta seconds (IETF draft).
const UNIX_SECONDS_THRESHOLD = 1_000_000_000;

function resetFromSeconds(value: string | undefined, now: number): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  const seconds = Number(value);
  return seconds >= UNIX_SECONDS_THRESHOLD ? seconds * 1000 : now + seconds * 1000;
}

/**
 * Reads `ratelimit-remaining: N;w=S` (Docker Hub registry: N pulls left in a window of S seconds, so
 * the budget is renewed within S seconds), `RateLimit-Remaining` + `RateLimit-Reset` (GitLab, IETF
 * draft), `X-RateLimit-Remaining` + `X-RateLimit-Reset` (Docker Hub API, GitHub: unix seconds) and
 * `X-Retry-After` (Docker Hub API on 429: unix seconds). Undefined when none is present or parseable.
 */
export function parseRateLimitBudget(
  header: (name: string) => string | null | undefined,
  now: number = Date.now(),
): RateLimitBudget | undefined {
  const retryAfter = resetFromSeconds(header("x-retry-after") ?? undefined, now);
  for (const prefix of ["ratelimit", "x-ratelimit"]) {
    const remainingText = header(`${prefix}-remaining`);
    const match = remainingText?.trim().match(/^(\d+)(?:\s*;\s*w\s*=\s*(\d+))?/i);
    if (!match) continue;
    const remaining = Number(match[1]);
    const reset = resetFromSeconds(header(`${prefix}-reset`) ?? undefined, now);
    if (reset !== undefined) return { remaining, resetAt: reset, header: `${prefix}-reset` };
    if (retryAfter !== undefined) return { remaining, resetAt: retryAfter, header: "x-retry-after" };
    if (match[2] !== undefined) {
      return { remaining, resetAt: now + Number(match[2]) * 1000, header: `${prefix}-remaining` };
    }
    return { remaining, header: `${prefix}-remaining` };
  }
  if (retryAfter !== undefined) return { remaining: 0, resetAt: retryAfter, header: "x-retry-after" };
  return undefined;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
