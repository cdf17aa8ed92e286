/**
 * `shipshape db update|status|import|export`: build the vulnerability database from the feeds
 * (official URLs by default, `--source NAME=URL|PATH` or `--mirror DIR` for air-gapped use), say
 * what it holds, and move a built database between machines as one file.
 */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { VulnerabilityDatabase } from "../../vulndb/database.js";
import { enrichmentSources, feedSources } from "../../vulndb/sources/index.js";
import { updateDatabase } from "../../vulndb/update.js";
import { defaultCacheDir } from "../inventory-run.js";
import { ProgressLine } from "../progress.js";
import { UsageError } from "../usage-error.js";

export function databaseFile(cacheDir: string): string {
  return process.env.SHIPSHAPE_DB ?? path.join(cacheDir, "db", "vuln.db");
}

export function describeDatabaseAge(builtAt: string | undefined, now = Date.now()): string {
  if (!builtAt) return "built at an unknown time";
  const hours = Math.floor((now - Date.parse(builtAt)) / 3_600_000);
  const age =
    hours < 1
      ? "less than an hour ago"
      : hours < 48
        ? `${hours} hours ago`
        : `${Math.floor(hours / 24)} days ago`;
  return `built ${builtAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")} (${age})`;
}

interface DbFlags {
  cacheDir: string;
  db?: string;
}

function fileOf(flags: DbFlags): string {
  return flags.db ?? databaseFile(flags.cacheDir);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerDbCommands(program: Command): void {
  const db = program.command("db").description("The vulnerability database");
  const common = (c: Command) =>
    c
      .option("--cache-dir <dir>", "cache location", defaultCacheDir())
      .option("--db <file>", "database file (default: <cache-dir>/db/vuln.db)");

  common(
    db.command("update").description("Fetch the feeds and build a new database, swapped in when complete"),
  )
    .option("--source <name=url|path>", "read one source from this URL or local path (repeatable)", collect)
    .option("--mirror <dir>", "read every source from a local folder laid out like the upstream mirrors")
    .option("--only <names>", "build from these sources only (comma-separated)")
    .action(async (flags: DbFlags & { source?: string[]; mirror?: string; only?: string }) => {
      const known = new Set([...feedSources, ...enrichmentSources].map((s) => s.name));
      const overrides = new Map<string, string[]>();
      for (const spec of flags.source ?? []) {
        const eq = spec.indexOf("=");
        const name = spec.slice(0, eq);
        if (eq < 1 || !known.has(name)) {
          throw new UsageError(
            `--source ${spec}: expected NAME=URL|PATH with NAME one of ${[...known].join(", ")}`,
          );
        }
        overrides.set(name, [...(overrides.get(name) ?? []), spec.slice(eq + 1)]);
      }
      if (flags.mirror && !fs.existsSync(flags.mirror))
        throw new UsageError(`--mirror ${flags.mirror} does not exist`);
      const only = flags.only ? new Set(flags.only.split(",").map((s) => s.trim())) : undefined;
      for (const name of only ?? [])
        if (!known.has(name)) throw new UsageError(`--only: unknown source ${name}`);
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
    });

  common(db.command("status").description("What the database holds, per source"))
    .option("--format <format>", "text or json", "text")
    .action((flags: DbFlags & { format: string }) => {
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
    });

  common(
    db
      .command("import")
      .description("Install a database file exported elsewhere (checked before it replaces the current one)"),
  )
    .argument("<file>", "database file")
    .action((file: string, flags: DbFlags) => {
      VulnerabilityDatabase.open(file).close();
      const target = fileOf(flags);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const temp = `${target}.import-${process.pid}`;
      fs.copyFileSync(file, temp);
      fs.renameSync(temp, target);
      process.stderr.write(`imported ${file} as ${target}\n`);
    });

  common(db.command("export").description("Write the current database to one file"))
    .argument("<file>", "destination")
    .action((file: string, flags: DbFlags) => {
      VulnerabilityDatabase.open(fileOf(flags)).close();
      const temp = `${file}.export-${process.pid}`;
      fs.copyFileSync(fileOf(flags), temp);
      fs.renameSync(temp, file);
      process.stderr.write(`exported ${fileOf(flags)} to ${file}\n`);
    });
}
