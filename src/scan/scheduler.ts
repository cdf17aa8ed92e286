/**
 * The periodic regular scan and the retention purge (spec 4.7, 6.2 last paragraph, 6.3).
 *
 * A regular scan starts every `registryScanPeriodMs` of the stored scan settings (0 = off), counted
 * from the start of the latest regular run, so a console restart keeps the rhythm; a run left
 * interrupted by a crash is followed by a scan right away (spec 6.1: "When the Console restarts, the
 * periodic scan restarts"). A tick that finds a regular scan running is skipped. `reschedule()`
 * re-arms after the settings changed. After every completed regular run (periodic or requested),
 * results not rescanned for `registryScanRetentionDays` days are purged.
 */
import type { ConsoleStore, ScanRun } from "../store/console-store.js";
import { ScanRequestError } from "./control.js";

const DAY_MS = 86_400_000;
/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days): longer periods wait in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** What the scheduler needs of the orchestrator. */
export interface ScheduledScans {
  isRegularScanRunning(): boolean;
  startRegularScan(): Promise<void>;
  /** Calls `listener` with each regular run as it finishes; returns the unsubscribe function. */
  onRegularScanFinished(listener: (run: ScanRun) => void | Promise<void>): () => void;
}

export interface SchedulerOptions {
  store: ConsoleStore;
  scans: ScheduledScans;
  now?: () => Date;
  /** Where failures of a periodic start or a purge go (the console logs them). */
  onError?: (error: unknown) => void;
}

/** The cut-off of a purge after `run`: never later than the run's own start, so its results stay. */
export function purgeCutoff(run: ScanRun, retentionDays: number, now: Date): string {
  const byRetention = now.getTime() - retentionDays * DAY_MS;
  return new Date(Math.min(byRetention, Date.parse(run.startedAt))).toISOString();
}

export class RegistryScanScheduler {
  private timer: NodeJS.Timeout | undefined;
  private dueAt: number | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => Date;
  private readonly onError: (error: unknown) => void;
  /** Bumped by every re-arm, so a reschedule racing an earlier one cannot leave a stale timer. */
  private generation = 0;

  constructor(private readonly options: SchedulerOptions) {
    this.now = options.now ?? (() => new Date());
    this.onError = options.onError ?? (() => {});
  }

  async start(): Promise<void> {
    this.unsubscribe ??= this.options.scans.onRegularScanFinished((run) => this.purgeAfter(run));
    await this.reschedule();
  }

  /** Re-reads the period from the scan settings and arms the next tick (none when the period is 0). */
  async reschedule(): Promise<void> {
    const generation = ++this.generation;
    const { registryScanPeriodMs: period } = await this.options.store.getScanSettings();
    const latest = await this.options.store.latestRun("regular");
    if (generation !== this.generation) return;
    this.disarm();
    if (!(period > 0)) return;
    const now = this.now().getTime();
    let due: number;
    if (latest === undefined) due = now + period;
    else if (latest.state === "interrupted") due = now;
    else due = Date.parse(latest.startedAt) + period;
    this.arm(Math.max(due, now));
  }

  /** When the next periodic scan is due (epoch ms), or undefined when periodic scanning is off. */
  nextDueAt(): number | undefined {
    return this.dueAt;
  }

  stop(): void {
    this.generation++;
    this.disarm();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dueAt = undefined;
  }

  private arm(dueAt: number): void {
    this.dueAt = dueAt;
    const wait = Math.min(Math.max(0, dueAt - this.now().getTime()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      if (this.now().getTime() < dueAt) this.arm(dueAt);
      else void this.tick();
    }, wait);
    // A pending periodic scan must not keep the process alive on its own.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const generation = this.generation;
    this.timer = undefined;
    const { scans, store } = this.options;
    if (!scans.isRegularScanRunning()) {
      try {
        await scans.startRegularScan();
      } catch (error) {
        // A scan requested through the API in the meantime: this tick is skipped.
        if (!(error instanceof ScanRequestError)) this.onError(error);
      }
    }
    if (generation !== this.generation) return;
    try {
      const { registryScanPeriodMs: period } = await store.getScanSettings();
      if (generation === this.generation && period > 0) this.arm(this.now().getTime() + period);
    } catch (error) {
      this.onError(error);
    }
  }

  private async purgeAfter(run: ScanRun): Promise<void> {
    if (run.state !== "completed") return;
    try {
      const { registryScanRetentionDays } = await this.options.store.getScanSettings();
      await this.options.store.purgeResultsOlderThan(purgeCutoff(run, registryScanRetentionDays, this.now()));
    } catch (error) {
      this.onError(error);
    }
  }
}
