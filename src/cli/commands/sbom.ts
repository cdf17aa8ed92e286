/** `shipshape sbom <image>`: the image's inventory as CycloneDX 1.6, SPDX 2.3 or a table. */
import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { toCycloneDx } from "../../report/cyclonedx.js";
import { formatInventoryTable } from "../../report/inventory-table.js";
import { toSpdx } from "../../report/spdx.js";
import { type ImageFlags, imageOptions, inventoryImage } from "../inventory-run.js";
import { UsageError } from "../usage-error.js";
import { version } from "../version.js";

interface SbomFlags extends ImageFlags {
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
      const { identity, inventory } = await inventoryImage(input, flags);
      const tool = { name: "shipshape", version };
      const text =
        flags.format === "table"
          ? formatInventoryTable(identity, inventory, {
              color: !flags.output && process.stdout.isTTY === true,
            })
          : `${JSON.stringify(flags.format === "spdx" ? toSpdx(identity, inventory, tool) : toCycloneDx(identity, inventory, tool), null, 2)}\n`;
      if (flags.output) await writeFile(flags.output, text);
      else process.stdout.write(text);
    });
}
