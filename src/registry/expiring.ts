/**
 * A value that expires and is obtained again: ECR's 12-hour authorization tokens, ACR refresh
 * tokens, OAuth2 access tokens (Google, Entra ID, Docker Hub's API), IBM IAM tokens. Long scans
 * outlive them, so the value is renewed ahead of its expiry, and after a rejection (a 401) the
 * caller invalidates it to get a fresh one.
 */

export interface Expiring<T> {
  value: T;
  /** Epoch milliseconds; undefined = does not expire. */
  expiresAt?: number | undefined;
}

/** Renew this long before expiry at most… */
const MAX_RENEWAL_MARGIN_MS = 5 * 60_000;
/** …and at most this share of the lifetime, so short-lived tokens are still used for most of it. */
const RENEWAL_MARGIN_SHARE = 0.25;

interface Held<T> {
  value: T;
  /** When to obtain anew (epoch ms); Infinity = never. */
  renewAt: number;
}

export class ExpiringValue<T> {
  private held: Held<T> | undefined;
  private pending: Promise<Held<T>> | undefined;
  private readonly now: () => number;
  private count = 0;

  constructor(
    private readonly obtain: (signal?: AbortSignal) => Promise<Expiring<T>>,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** How many times the value was obtained (for tests and progress output). */
  get obtained(): number {
    return this.count;
  }

  /** The held value, or a fresh one when none is held or it is due for renewal. */
  async get(signal?: AbortSignal): Promise<T> {
    const held = this.held;
    if (held !== undefined && this.now() < held.renewAt) return held.value;
    // Concurrent callers share one obtain; a failure is not kept, so the next call tries again.
    if (this.pending === undefined) {
      const attempt = this.fetch(signal).finally(() => {
        if (this.pending === attempt) this.pending = undefined;
      });
      this.pending = attempt;
    }
    return (await this.pending).value;
  }

  /** Drops the held value (the service rejected it): the next get() obtains a fresh one. */
  invalidate(): void {
    this.held = undefined;
  }

  private async fetch(signal?: AbortSignal): Promise<Held<T>> {
    const startedAt = this.now();
    const { value, expiresAt } = await this.obtain(signal);
    this.count++;
    const held = { value, renewAt: renewalTime(startedAt, expiresAt) };
    this.held = held;
    return held;
  }
}

/** When a value obtained at `obtainedAt` that expires at `expiresAt` is due for renewal. */
export function renewalTime(obtainedAt: number, expiresAt: number | undefined): number {
  if (expiresAt === undefined || !Number.isFinite(expiresAt)) return Number.POSITIVE_INFINITY;
  const lifetime = Math.max(0, expiresAt - obtainedAt);
  return expiresAt - Math.min(MAX_RENEWAL_MARGIN_MS, lifetime * RENEWAL_MARGIN_SHARE);
}
