/** What `shipshape image` does once its flags are checked: match, apply the policy, report. */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { matchInventory } from "../../match/matcher.js";
import {
  applyPolicy,
  IgnoreFileError,
  type IgnoreRule,
  parseIgnoreFile,
  parseSeverities,
} from "../../match/policy.js";
import { toCsv } from "../../report/csv.js";
import { toCycloneDx } from "../../report/cyclonedx.js";
import { toFindingsJson } from "../../report/findings-json.js";
import { formatFindingsTable } from "../../report/findings-table.js";
import { toSarif } from "../../report/sarif.js";
import { VulnerabilityDatabase } from "../../vulndb/database.js";
import { DEFAULT_IGNORE_FILES, type ImageCommandFlags } from "../commands/image.js";
import { databaseFile, describeDatabaseAge } from "../database-file.js";
import { inventoryImage } from "../inventory-run.js";
import { UsageError } from "../usage-error.js";
import { version } from "../version.js";

async function loadIgnores(
  explicit: string | undefined,
): Promise<{ rules: IgnoreRule[]; warnings: string[] }> {
  const candidates = explicit ? [explicit] : DEFAULT_IGNORE_FILES;
  const rules: IgnoreRule[] = [];
  const warnings: string[] = [];
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if (explicit) throw new UsageError(`cannot read ignore file ${file}: ${(err as Error).message}`);
      continue;
    }
    try {
      const parsed = parseIgnoreFile(text, path.relative(process.cwd(), file) || file);
      rules.push(...parsed.rules);
      warnings.push(...parsed.warnings);
    } catch (err) {
      if (err instanceof IgnoreFileError) throw new UsageError(err.message);
      throw err;
    }
  }
  return { rules, warnings };
}

export async function runImage(input: string, flags: ImageCommandFlags, exitCode: number): Promise<void> {
  let severities: ReturnType<typeof parseSeverities> | undefined;
  try {
    severities = flags.severity ? parseSeverities(flags.severity) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const ignores = await loadIgnores(flags.ignorefile);
  // The database is opened first: a missing one should fail before an image is pulled.
  const db = VulnerabilityDatabase.open(flags.db ?? databaseFile(flags.cacheDir));
  try {
    const { identity, inventory } = await inventoryImage(input, flags);
    const matched = matchInventory(inventory, db);
    const policy = applyPolicy(matched.findings, {
      severities,
      ignoreUnfixed: flags.ignoreUnfixed ?? false,
      ignores: ignores.rules,
    });
    const warnings = [...ignores.warnings, ...policy.warnings];
    const result = { findings: policy.kept, warnings: matched.warnings };
    for (const w of [...matched.warnings, ...warnings]) process.stderr.write(`warning: ${w}\n`);
    const tool = { name: "shipshape", version };
    const database = { builtAt: db.builtAt(), sources: db.sources() };
    let text: string;
    switch (flags.format) {
      case "json":
        text = `${JSON.stringify(toFindingsJson(identity, inventory, result, { tool, database, ignored: policy.ignored, policyWarnings: warnings }), null, 2)}\n`;
        break;
      case "sarif":
        text = `${JSON.stringify(toSarif(identity, inventory, result, { tool, warnings }), null, 2)}\n`;
        break;
      case "cyclonedx":
        text = `${JSON.stringify(toCycloneDx(identity, inventory, tool, new Date(), result.findings), null, 2)}\n`;
        break;
      case "csv":
        text = toCsv(identity, result);
        break;
      default:
        text = formatFindingsTable(identity, inventory, result, {
          color: !flags.output && process.stdout.isTTY === true,
          database: describeDatabaseAge(db.builtAt()),
          ignored: policy.ignored,
          warnings,
        });
    }
    if (flags.output) await writeFile(flags.output, text);
    else process.stdout.write(text);
    if (policy.kept.length > 0 && exitCode !== 0) process.exitCode = exitCode;
  } finally {
    db.close();
  }
}
