/**
 * The feed-source plug-in interface: each source reads one upstream format into advisories. A
 * source never downloads by itself; `db update` fetches what it names (from the official URL, a
 * configured URL or path, or a mirror folder laid out like ../shared/vulndata) and hands it over.
 */
import type { Advisory } from "./types.js";

export interface FeedInput {
  /** A local file (zip, tar.xz, json, gz…) or a directory, already fetched. */
  path: string;
  /** Where it came from, for messages and `db status`. */
  origin: string;
}

export interface FeedContext {
  /** Non-fatal problems (one bad record never fails the feed). */
  warn(message: string): void;
  /** Called with records read so far, for progress bars. */
  progress?(records: number): void;
}

export interface FeedSource {
  /** Stable name, used with `--source NAME=URL|PATH`. */
  readonly name: string;
  /** Bump when parsing changes (a database built with an older version is rebuilt). */
  readonly version: number;
  /** The format specification implemented. */
  readonly spec: string;
  /**
   * What to fetch by default: the official upstream location(s), and the same under a mirror folder
   * (paths relative to it, laid out as ../shared/vulndata). A source with several files names them all.
   * `optional` inputs may be absent (a release branch not published yet, a file a mirror lacks):
   * the fetcher skips a missing optional input with a warning instead of failing the source.
   */
  readonly inputs: { url: string; mirrorPath: string; optional?: boolean }[];
  /**
   * Advisories from the fetched inputs (same order as `inputs`, a directory or file per input;
   * missing optional inputs are left out, so sources tell inputs apart by `origin` or content).
   */
  read(inputs: FeedInput[], ctx: FeedContext): AsyncIterable<Advisory>;
}
