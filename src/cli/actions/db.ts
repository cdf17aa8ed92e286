/** What the `shipshape db` commands do once their flags are parsed. */
import fs from "node:fs";
import path from "node:path";
import { VulnerabilityDatabase } from "../../vulndb/database.js";
import { enrichmentSources, feedSources } from "../../vulndb/sources/index.js";
import { updateDatabase } from "../../vulndb/update.js";
import type { DbFlags } from "../commands/db.js";
import { databaseFile, describeDatabaseAge } from "../database-file.js";
import { ProgressLine } from "../progress.js";
import { UsageError } from "../usage-error.js";

function fileOf(flags: DbFlags): string {
  return flags.db ?? databaseFile(flags.cacheDir);
}

/** `--source NAME=URL|PATH` flags (repeatable) by source name; `db update` and `console` take them. */
export function sourceOverrides(specs: string[]): Map<string, string[]> {
  const known = new Set([...feedSources, ...enrichmentSources].map((s) => s.name));
  const overrides = new Map<string, string[]>();
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    const name = spec.slice(0, eq);
    if (eq < 1 || !known.has(name)) {
      throw new UsageError(
        `--source ${spec}: expected NAME=URL|PATH with NAME one of ${[...known].join(", ")}`,
      );
    }
    overrides.set(name, [...(overrides.get(name) ?? []), spec.slice(eq + 1)]);
  }
  return overrides;
}

export async function dbUpdate(
  flags: DbFlags & { source?: string[]; mirror?: string; only?: string },
): Promise<void> {
  const known = new Set([...feedSources, ...enrichmentSources].map((s) => s.name));
  const overrides = sourceOverrides(flags.source ?? []);
  if (flags.mirror && !fs.existsSync(flags.mirror))
    throw new UsageError(`--mirror ${flags.mirror} does not exist`);
  const only = flags.only ? new Set(flags.only.split(",").map((s) => s.trim())) : undefined;
  for (const name of only ?? []) if (!known.has(name)) throw new UsageError(`--only: unknown source ${name}`);
  const pick = <T extends { name: string }>(list: readonly T[]) =>
    list.filter((s) => !only || only.has(s.name));
  const target = fileOf(flags);
  const progress = new ProgressLine(3000);
  const statuses = await updateDatabase({
    dbFile: target,
    sources: pick(feedSources),
    enrichment: pick(enrichmentSources),
    overrides,
    mirror: flags.mirror,
    onEvent: (e) => {
      if (e.kind === "fetch")
        progress.update(
          `${e.source}: fetching ${e.origin}${e.bytes ? ` (${Math.round(e.bytes / 1e6)} MB)` : ""}`,
        );
      else if (e.kind === "records") progress.update(`${e.source}: ${e.records} records`);
      else if (e.kind === "source-done") {
        const s = e.status;
        progress.done(
          s.available
            ? `${s.name}: ${s.records} records${s.warnings ? `, ${s.warnings} warnings` : ""}`
            : `${s.name}: unavailable`,
        );
      } else if (e.kind === "warning" && /source unavailable/.test(e.message)) {
        progress.done(`warning: ${e.source}: ${e.message}`);
      }
    },
  });
  const available = statuses.filter((s) => s.available);
  process.stderr.write(
    `database ${target}: ${available.reduce((n, s) => n + s.records, 0)} records from ${available.length} of ${statuses.length} sources\n`,
  );
}

export function dbStatus(flags: DbFlags & { format: string }): void {
  const database = VulnerabilityDatabase.open(fileOf(flags));
  try {
    const sources = database.sources();
    if (flags.format === "json") {
      process.stdout.write(
        `${JSON.stringify({ file: fileOf(flags), builtAt: database.builtAt(), sources }, null, 2)}\n`,
      );
      return;
    }
    const rows = [
      ["SOURCE", "RECORDS", "NEWEST RECORD", "FETCHED", "ORIGIN"],
      ...sources.map((s) => [
        s.name,
        s.available ? String(s.records) : "unavailable",
        s.newest?.slice(0, 10) ?? "-",
        s.fetchedAt.slice(0, 16).replace("T", " "),
        s.origin,
      ]),
    ];
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
    process.stdout.write(`${fileOf(flags)}: ${describeDatabaseAge(database.builtAt())}\n`);
    for (const r of rows)
      process.stdout.write(
        `${r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] ?? 0) : c)).join("  ")}\n`,
      );
  } finally {
    database.close();
  }
}

export function dbImport(file: string, flags: DbFlags): void {
  VulnerabilityDatabase.open(file).close();
  const target = fileOf(flags);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temp = `${target}.import-${process.pid}`;
  fs.copyFileSync(file, temp);
  fs.renameSync(temp, target);
  process.stderr.write(`imported ${file} as ${target}\n`);
}

export function dbExport(file: string, flags: DbFlags): void {
  VulnerabilityDatabase.open(fileOf(flags)).close();
  const temp = `${file}.export-${process.pid}`;
  fs.copyFileSync(fileOf(flags), temp);
  fs.renameSync(temp, file);
  process.stderr.write(`exported ${fileOf(flags)} to ${file}\n`);
}
