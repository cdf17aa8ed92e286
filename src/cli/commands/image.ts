/**
 * `shipshape image <image>`: inventory an image, match it against the vulnerability database, apply
 * the policy (severities, unfixed, ignore file), print findings, and exit with `--exit-code` when
 * findings remain — the command a CI pipeline gates on.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
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
import { type ImageFlags, imageOptions, inventoryImage } from "../inventory-run.js";
import { UsageError } from "../usage-error.js";
import { version } from "../version.js";
import { databaseFile, describeDatabaseAge } from "./db.js";

interface ImageCommandFlags extends ImageFlags {
  format: string;
  output?: string;
  severity?: string;
  ignoreUnfixed?: boolean;
  ignorefile?: string;
  exitCode: string;
  db?: string;
}

const FORMATS = ["table", "json", "sarif", "cyclonedx", "csv"];
const DEFAULT_IGNORE_FILES = [".trivyignore", ".trivyignore.yaml", ".shipshape-ignore.yaml"];

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

export function registerImageCommand(program: Command): void {
  imageOptions(program.command("image").description("Scan an image for known vulnerabilities"))
    .option("--format <format>", `output format: ${FORMATS.join(", ")}`, "table")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .option("--severity <list>", "report only these severities (CRITICAL,HIGH,MEDIUM,LOW,NEGLIGIBLE,UNKNOWN)")
    .option("--ignore-unfixed", "report only vulnerabilities with a fixed version")
    .option("--ignorefile <file>", `ignore rules (default: ${DEFAULT_IGNORE_FILES.join(", ")} when present)`)
    .option("--exit-code <n>", "exit with this code when findings remain after the filters", "0")
    .option("--db <file>", "vulnerability database file (default: <cache-dir>/db/vuln.db)")
    .action(async (input: string, flags: ImageCommandFlags) => {
      if (!FORMATS.includes(flags.format)) {
        throw new UsageError(`unknown --format ${flags.format} (${FORMATS.join(", ")})`);
      }
      const exitCode = Number(flags.exitCode);
      if (!Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) {
        throw new UsageError(`--exit-code must be 0-255, got "${flags.exitCode}"`);
      }
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
    });
}
