/** `shipshape sbom <image>`: the image's inventory as CycloneDX 1.6, SPDX 2.3 or a table. */
import type { Command } from "commander";
import { type ImageFlags, imageOptions } from "../image-options.js";
import { UsageError } from "../usage-error.js";

export interface SbomFlags extends ImageFlags {
  format: string;
  output?: string;
}

const FORMATS = ["cyclonedx", "spdx", "table"];

export function registerSbomCommand(program: Command): void {
  imageOptions(
    program
      .command("sbom")
      .description("Inventory an image: OS and every OS and language package, layer by layer"),
  )
    .option("--format <format>", `output format: ${FORMATS.join(", ")}`, "cyclonedx")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (input: string, flags: SbomFlags) => {
      if (!FORMATS.includes(flags.format)) {
        throw new UsageError(`unknown --format ${flags.format} (${FORMATS.join(", ")})`);
      }
      // Loaded here, not at start-up: every command's code would otherwise load for any one of them.
      const { runSbom } = await import("../actions/sbom.js");
      await runSbom(input, flags);
    });
}
