/**
 * The `[[package]]` array of tables that TOML lock files share (Cargo.lock, poetry.lock): each
 * table carries at least `name` and `version`.
 */
import { parse as parseToml } from "smol-toml";
import type { ExtractorFile } from "../extractor.js";
import { errorMessage, isRecord, type PackageSink, str } from "./language-common.js";

export interface TomlLockPackage {
  name: string;
  version: string;
  /** The whole `[[package]]` table. */
  entry: Record<string, unknown>;
}

/**
 * The `[[package]]` tables of a TOML lock file that have a name and a version, until the sink is
 * full. Invalid TOML, a `package` that is not an array of tables and a table without name or
 * version are reported on the sink; entries that are not tables are skipped.
 */
export function* tomlLockPackages(file: ExtractorFile, sink: PackageSink): Generator<TomlLockPackage> {
  let doc: unknown;
  try {
    doc = parseToml(file.content.toString("utf8"));
  } catch (err) {
    sink.warn(`invalid TOML: ${errorMessage(err).split("\n")[0]}`);
    return;
  }
  const packages = isRecord(doc) ? doc.package : undefined;
  if (packages === undefined) return;
  if (!Array.isArray(packages)) {
    sink.warn("`package` is not an array of tables");
    return;
  }
  for (const entry of packages) {
    if (!sink.open) break;
    if (!isRecord(entry)) continue;
    const name = str(entry.name);
    const version = str(entry.version);
    if (!name || !version) {
      sink.warn(`package without name or version: ${JSON.stringify(entry.name ?? null)}`);
      continue;
    }
    yield { name, version, entry };
  }
}
