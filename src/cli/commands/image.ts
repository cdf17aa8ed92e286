/**
 * `shipshape image <image>`: inventory an image, match it against the vulnerability database, apply
 * the policy (severities, unfixed, ignore file), print findings, and exit with `--exit-code` when
 * findings remain — the command a CI pipeline gates on.
 */
import type { Command } from "commander";
import { type ImageFlags, imageOptions } from "../image-options.js";
import { UsageError } from "../usage-error.js";

export interface ImageCommandFlags extends ImageFlags {
  format: string;
  output?: string;
  severity?: string;
  ignoreUnfixed?: boolean;
  ignorefile?: string;
  exitCode: string;
  db?: string;
}

const FORMATS = ["table", "json", "sarif", "cyclonedx", "csv"];
export const DEFAULT_IGNORE_FILES = [".trivyignore", ".trivyignore.yaml", ".shipshape-ignore.yaml"];

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
      // Loaded here, not at start-up: every command's code would otherwise load for any one of them.
      const { runImage } = await import("../actions/image.js");
      await runImage(input, flags, exitCode);
    });
}
