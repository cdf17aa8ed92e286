/**
 * Benchmark runner: `npm run bench [-- NAME...] [--rounds N] [--list]`.
 *
 * Every `bench/<name>.ts` beside this file is a benchmark: it exports a BenchModule (`description`,
 * optional `options`, `run(ctx)`). Named ones run, or all of them, in name order; each prints its human
 * report to stdout and its JSON copy goes to bench/results/<name>.json. Progress goes to stderr.
 * Exit status: 0 when every benchmark ran (missed targets are reported, not failures), 1 when one
 * failed, 2 on a usage error.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { BenchModule } from "./lib/bench.js";
import { describeMachine, machineInfo } from "./lib/machine.js";

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(benchDir, "results");

class UsageError extends Error {}

async function discover(): Promise<Map<string, BenchModule>> {
  const names = (await fs.readdir(benchDir))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== "run.ts")
    .map((f) => f.slice(0, -3))
    .sort();
  const modules = new Map<string, BenchModule>();
  for (const name of names) {
    const mod = (await import(pathToFileURL(path.join(benchDir, `${name}.ts`)).href)) as Partial<BenchModule>;
    if (typeof mod.run !== "function" || typeof mod.description !== "string") {
      throw new Error(`bench/${name}.ts does not export description and run()`);
    }
    modules.set(name, mod as BenchModule);
  }
  return modules;
}

function optionsOf(modules: Map<string, BenchModule>): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = {
    rounds: { type: "string", default: "3" },
    list: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  };
  for (const [name, mod] of modules) {
    for (const [key, spec] of Object.entries(mod.options ?? {})) {
      const known = options[key];
      if (known && known.type !== spec.type) throw new Error(`bench/${name}.ts redefines --${key}`);
      options[key] = spec;
    }
  }
  return options;
}

function usage(modules: Map<string, BenchModule>): string {
  const list = [...modules].map(([name, mod]) => `  ${name.padEnd(16)} ${mod.description}`).join("\n");
  const extra = [...modules]
    .flatMap(([name, mod]) => Object.keys(mod.options ?? {}).map((k) => `--${k} (${name})`))
    .join(", ");
  return `usage: npm run bench -- [NAME...] [--rounds N] [--list]${extra ? `\n  also: ${extra}` : ""}\nbenchmarks:\n${list}`;
}

async function main(argv: string[]): Promise<number> {
  const modules = await discover();
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: optionsOf(modules), allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || values.list) {
    process.stdout.write(`${usage(modules)}\n`);
    return 0;
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds must be a positive integer`);
  const unknown = positionals.filter((n) => !modules.has(n));
  if (unknown.length > 0) throw new UsageError(`unknown benchmark ${unknown.join(", ")}\n${usage(modules)}`);
  const selected = positionals.length > 0 ? [...new Set(positionals)] : [...modules.keys()];

  const machine = await machineInfo();
  process.stdout.write(`${describeMachine(machine)}\n`);
  await fs.mkdir(resultsDir, { recursive: true });
  const failed: string[] = [];
  const missed: string[] = [];
  for (const name of selected) {
    const mod = modules.get(name) as BenchModule;
    process.stdout.write(`\n== ${name}: ${mod.description}\n`);
    const startedAt = new Date().toISOString();
    try {
      const result = await mod.run({
        rounds,
        options: values,
        progress: (message) => process.stderr.write(`[${name}] ${message}\n`),
      });
      process.stdout.write(`${result.text}\n`);
      const file = path.join(resultsDir, `${name}.json`);
      const json = {
        benchmark: name,
        startedAt,
        rounds,
        machine,
        ...result.json,
        missedTargets: result.missed,
      };
      await fs.writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
      process.stdout.write(`(JSON: ${path.relative(process.cwd(), file)})\n`);
      missed.push(...result.missed.map((m) => `${name}: ${m}`));
    } catch (err) {
      failed.push(name);
      process.stderr.write(`bench ${name} failed: ${(err as Error).stack ?? String(err)}\n`);
    }
  }
  const targets =
    missed.length > 0
      ? `TARGETS MISSED:\n${missed.map((m) => `  - ${m}`).join("\n")}`
      : failed.length > 0
        ? "no target missed by the benchmarks that ran"
        : "all targets met";
  process.stdout.write(`\n${targets}\n`);
  if (failed.length > 0) process.stdout.write(`FAILED (see stderr): ${failed.join(", ")}\n`);
  return failed.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
