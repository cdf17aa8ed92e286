/** `shipshape sbom <image>`: the image's inventory as CycloneDX 1.6, SPDX 2.3 or a table. */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { openImage } from "../../image/open.js";
import { parsePlatformString } from "../../image/platform.js";
import { Analyzer } from "../../inventory/analyzer.js";
import { allExtractors } from "../../inventory/extractors/index.js";
import { toCycloneDx } from "../../report/cyclonedx.js";
import { formatInventoryTable } from "../../report/inventory-table.js";
import { toSpdx } from "../../report/spdx.js";
import { extractorSignature, InventoryStore } from "../../store/inventories.js";
import { LayerCache } from "../../store/layer-cache.js";
import { Store } from "../../store/store.js";
import { type CredentialFlags, credentialsFromFlags } from "../credentials.js";
import { ProgressLine } from "../progress.js";
import { UsageError } from "../usage-error.js";
import { version } from "../version.js";

interface SbomFlags extends CredentialFlags {
  format: string;
  output?: string;
  platform?: string;
  insecure?: boolean;
  cacheDir: string;
  cache: boolean;
}

const FORMATS = ["cyclonedx", "spdx", "table"];

export function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "shipshape");
}

export function registerSbomCommand(program: Command): void {
  program
    .command("sbom")
    .description("Inventory an image: OS and every OS and language package, layer by layer")
    .argument(
      "<image>",
      "registry reference, OCI layout directory (DIR or oci:DIR:REF), or docker save archive",
    )
    .option("--format <format>", `output format: ${FORMATS.join(", ")}`, "cyclonedx")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .option("--platform <os/arch[/variant]>", "platform to pick from a multi-platform image", "linux/amd64")
    .option("--username <user>", "registry user name")
    .option("--password-stdin", "read the registry password or token from stdin")
    .option("--insecure", "allow plain HTTP and unverified TLS for the registry")
    .option("--cache-dir <dir>", "layer cache location", defaultCacheDir())
    .option("--no-cache", "analyse every layer again, leaving the cache untouched")
    .action(async (input: string, flags: SbomFlags) => {
      if (!FORMATS.includes(flags.format))
        throw new UsageError(`unknown --format ${flags.format} (${FORMATS.join(", ")})`);
      let platform: ReturnType<typeof parsePlatformString> | undefined;
      try {
        platform = flags.platform ? parsePlatformString(flags.platform) : undefined;
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const store = flags.cache ? await Store.openSqlite(path.join(flags.cacheDir, "cache.db")) : undefined;
      const progress = new ProgressLine(2000);
      try {
        progress.update(`resolving ${input}…`);
        const source = await openImage(input, {
          insecure: flags.insecure ?? false,
          credentials: await credentialsFromFlags(flags),
          platform,
        });
        try {
          const layers = source.layers.length;
          let done = 0;
          const analyzer = new Analyzer({
            extractors: [...allExtractors],
            cache: store ? new LayerCache(store) : undefined,
            onLayer: (e) => {
              if (e.state !== "pulling") done++;
              progress.update(`layers ${done}/${layers}: ${e.state} ${e.digest.slice(0, 19)}`);
            },
          });
          const { inventory, stats } = await analyzer.analyze(source);
          if (store)
            await new InventoryStore(store).put(
              source.identity,
              inventory,
              extractorSignature(allExtractors),
            );
          progress.done(
            `${inventory.packages.length} packages in ${layers} layers (${stats.layersPulled} read, ${stats.layersCached} cached)`,
          );
          for (const w of inventory.warnings) process.stderr.write(`warning: ${w}\n`);
          const tool = { name: "shipshape", version };
          const text =
            flags.format === "table"
              ? formatInventoryTable(source.identity, inventory, {
                  color: !flags.output && process.stdout.isTTY === true,
                })
              : `${JSON.stringify(flags.format === "spdx" ? toSpdx(source.identity, inventory, tool) : toCycloneDx(source.identity, inventory, tool), null, 2)}\n`;
          if (flags.output) await writeFile(flags.output, text);
          else process.stdout.write(text);
        } finally {
          await source.close();
        }
      } finally {
        await store?.close();
      }
    });
}
