/**
 * `shipshape db update|status|import|export`: build the vulnerability database from the feeds
 * (official URLs by default, `--source NAME=URL|PATH` or `--mirror DIR` for air-gapped use), say
 * what it holds, and move a built database between machines as one file.
 */
import type { Command } from "commander";
import { defaultCacheDir } from "../image-options.js";

export interface DbFlags {
  cacheDir: string;
  db?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

// Loaded when a db command runs, not at start-up: every command's code would otherwise load for any one of them.
const actions = () => import("../actions/db.js");

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
    .action(async (flags: DbFlags & { source?: string[]; mirror?: string; only?: string }) =>
      (await actions()).dbUpdate(flags),
    );

  common(db.command("status").description("What the database holds, per source"))
    .option("--format <format>", "text or json", "text")
    .action(async (flags: DbFlags & { format: string }) => (await actions()).dbStatus(flags));

  common(
    db
      .command("import")
      .description("Install a database file exported elsewhere (checked before it replaces the current one)"),
  )
    .argument("<file>", "database file")
    .action(async (file: string, flags: DbFlags) => (await actions()).dbImport(file, flags));

  common(db.command("export").description("Write the current database to one file"))
    .argument("<file>", "destination")
    .action(async (file: string, flags: DbFlags) => (await actions()).dbExport(file, flags));
}
