/** What a benchmark module (`bench/<name>.ts`) exports, and what bench/run.ts hands it. */
import type { ParseArgsConfig } from "node:util";

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface BenchContext {
  /** Measured rounds (`--rounds`, default 3); each method runs once per round, interleaved. */
  rounds: number;
  /** Every parsed command-line option, the benchmark's own (see BenchModule.options) included. */
  options: OptionValues;
  /** Progress for the person waiting: goes to stderr, never into the results. */
  progress(message: string): void;
}

export interface BenchResult {
  /** The human report, printed to stdout. */
  text: string;
  /** The machine-readable copy, written to bench/results/<name>.json (with machine info added). */
  json: Record<string, unknown>;
  /** One line per target the run missed; a missed target is reported, it is not an error. */
  missed: string[];
}

export interface BenchModule {
  /** One line for `npm run bench -- --list`. */
  description: string;
  /** Extra options this benchmark accepts (node:util parseArgs syntax), e.g. `--concurrency`. */
  options?: ParseArgsConfig["options"];
  run(ctx: BenchContext): Promise<BenchResult>;
}
