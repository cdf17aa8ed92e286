/**
 * Failed-login limiting for POST /authenticate and Basic authentication (spec 1.3): after
 * `maxFailures` failures within `windowMs`, further attempts for that user name — or from that
 * client address, whatever user it names — are refused until the window has passed, without checking
 * the password. Counting per user stops guessing one account from many addresses; per address stops
 * trying many accounts from one. A successful login clears the user's count (not the address's).
 */

export interface LoginLimiterOptions {
  maxFailures?: number;
  windowMs?: number;
  /** Failures counted per address: a higher bound, since one address may serve many users (NAT). */
  maxAddressFailures?: number;
  now?: () => number;
}

interface Window {
  failures: number;
  startedAt: number;
}

export class LoginLimiter {
  private readonly byUser = new Map<string, Window>();
  private readonly byAddress = new Map<string, Window>();
  private readonly maxFailures: number;
  private readonly maxAddressFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(options: LoginLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 5;
    this.maxAddressFailures = options.maxAddressFailures ?? 20;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until an attempt is allowed again, or 0 when it is allowed now. */
  retryAfterMs(username: string, address: string): number {
    return Math.max(
      this.blockedFor(this.byUser, username, this.maxFailures),
      this.blockedFor(this.byAddress, address, this.maxAddressFailures),
    );
  }

  recordFailure(username: string, address: string): void {
    this.bump(this.byUser, username);
    this.bump(this.byAddress, address);
  }

  recordSuccess(username: string): void {
    this.byUser.delete(username);
  }

  private blockedFor(windows: Map<string, Window>, key: string, max: number): number {
    const window = this.current(windows, key);
    if (!window || window.failures < max) return 0;
    return window.startedAt + this.windowMs - this.now();
  }

  private bump(windows: Map<string, Window>, key: string): void {
    const window = this.current(windows, key);
    if (window) window.failures++;
    else windows.set(key, { failures: 1, startedAt: this.now() });
    // Bounded memory under a flood of made-up names: expired windows go first.
    if (windows.size > 10_000)
      for (const k of windows.keys()) if (!this.current(windows, k)) windows.delete(k);
  }

  private current(windows: Map<string, Window>, key: string): Window | undefined {
    const window = windows.get(key);
    if (window && this.now() - window.startedAt >= this.windowMs) {
      windows.delete(key);
      return undefined;
    }
    return window;
  }
}
