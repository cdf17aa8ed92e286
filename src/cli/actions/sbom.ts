/** What `shipshape sbom` does: inventory the image, then write it as CycloneDX, SPDX or a table. */
import { writeFile } from "node:fs/promises";
import { toCycloneDx } from "../../report/cyclonedx.js";
import { formatInventoryTable } from "../../report/inventory-table.js";
import { toSpdx } from "../../report/spdx.js";
import type { SbomFlags } from "../commands/sbom.js";
import { inventoryImage } from "../inventory-run.js";
import { version } from "../version.js";

export async function runSbom(input: string, flags: SbomFlags): Promise<void> {
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
}
