/**
 * The in-process Defenders (spec 6.1, 6.7): a specification's `scanners` value is how many of them
 * work on its images at once. The console runs its scanners in-process, so a Defender is a worker
 * loop here; the "N Defender(s)" of the progress titles is this pool's size.
 *
 * Also the image retry loop: one image is tried up to `attempts` times with exponential backoff
 * before it is recorded failed (issue 5, "Orchestration").
 */
import { setTimeout as sleep } from "node:timers/promises";
import { backoffDelay } from "../registry/backoff.js";

/** The status error of a spec whose `os` no in-process Defender runs (spec 6.1). */
export const NO_DEFENDER = "No available Defender was found";

export interface ImageRetryPolicy {
  /** Tries of one image, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_IMAGE_RETRY: ImageRetryPolicy = { attempts: 3, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** A spec's `scanners` as a pool size: absent, zero or invalid means one Defender. */
export function defendersFor(scanners: number | undefined): number {
  return scanners !== undefined && Number.isInteger(scanners) && scanners > 0 ? scanners : 1;
}

/** The platform a Defender of this spec `os` pulls, or undefined when no in-process Defender runs it. */
export function defenderPlatform(os: string | undefined): { os: string; architecture: string } | undefined {
  switch (os ?? "linux") {
    case "":
    case "linux":
      return { os: "linux", architecture: "amd64" };
    case "linuxARM64":
      return { os: "linux", architecture: "arm64" };
    default:
      // Windows images need a Windows Defender; the console's in-process scanners run on Linux.
      return undefined;
  }
}

export class DefenderPool {
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`a Defender pool needs at least one Defender, got ${size}`);
  }

  /**
   * Runs `task` for every item with at most `size` in flight; Defender numbers start at 1. Once
   * `signal` aborts, no further item is started (the running ones see the same signal). A task's
   * rejection is not caught here: tasks record their own failures.
   */
  async run<T>(
    items: Iterable<T>,
    task: (item: T, defender: number) => Promise<void>,
    signal?: AbortSignal,
  ): Promise<void> {
    const queue = items[Symbol.iterator]();
    const defender = async (id: number) => {
      while (!signal?.aborted) {
        const next = queue.next();
        if (next.done) return;
        await task(next.value, id);
      }
    };
    await Promise.all(Array.from({ length: this.size }, (_, i) => defender(i + 1)));
  }
}

/**
 * Calls `attempt` until it resolves, at most `policy.attempts` times, waiting the backoff between
 * tries; the last error is rethrown. An abort ends the loop at once (also during a wait).
 */
export async function withRetries<T>(
  attempt: (tryNumber: number) => Promise<T>,
  policy: ImageRetryPolicy,
  signal?: AbortSignal,
  onRetry?: (tryNumber: number, error: unknown) => void | Promise<void>,
): Promise<T> {
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      return await attempt(tryNumber);
    } catch (error) {
      if (signal?.aborted || tryNumber >= policy.attempts) throw error;
      await onRetry?.(tryNumber, error);
      const delay = backoffDelay(tryNumber, { maxAttempts: policy.attempts, jitter: 0.2, ...policy });
      await sleep(delay, undefined, signal ? { signal } : {});
    }
  }
}
