/**
 * The indexing step every image command shares: opening the image, analysing it with the layer
 * cache, storing the inventory, and the progress and summary lines on stderr.
 */
import path from "node:path";
import type { Platform } from "../image/manifest.js";
import { openImage } from "../image/open.js";
import { parsePlatformString } from "../image/platform.js";
import { Analyzer } from "../inventory/analyzer.js";
import { allExtractors } from "../inventory/extractors/index.js";
import { defaultWalkerThreads } from "../inventory/layer-walkers.js";
import type { ImageIdentity, ImageInventory } from "../inventory/types.js";
import { extractorSignature, InventoryStore } from "../store/inventories.js";
import { LayerCache } from "../store/layer-cache.js";
import { Store } from "../store/store.js";
import { credentialsFromFlags } from "./credentials.js";
import type { ImageFlags } from "./image-options.js";
import { ProgressLine } from "./progress.js";
import { UsageError } from "./usage-error.js";

function platformOf(flags: ImageFlags): Platform | undefined {
  try {
    return flags.platform ? parsePlatformString(flags.platform) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Opens, analyses and stores one image's inventory, reporting progress on stderr. */
export async function inventoryImage(
  input: string,
  flags: ImageFlags,
): Promise<{ identity: ImageIdentity; inventory: ImageInventory }> {
  const platform = platformOf(flags);
  const credentials = await credentialsFromFlags(flags);
  const progress = new ProgressLine(2000);
  progress.update(`resolving ${input}…`);
  // The cache database is opened (and migrated) while the registry answers the first requests.
  const [opened, openedStore] = await Promise.allSettled([
    openImage(input, { insecure: flags.insecure ?? false, credentials, platform }),
    flags.cache ? Store.openSqlite(path.join(flags.cacheDir, "cache.db")) : undefined,
  ]);
  const store = openedStore.status === "fulfilled" ? openedStore.value : undefined;
  if (opened.status === "rejected" || openedStore.status === "rejected") {
    if (opened.status === "fulfilled") await opened.value.close();
    await store?.close();
    throw opened.status === "rejected" ? opened.reason : (openedStore as PromiseRejectedResult).reason;
  }
  const source = opened.value;
  try {
    const layers = source.layers.length;
    let done = 0;
    const analyzer = new Analyzer({
      extractors: [...allExtractors],
      cache: store ? new LayerCache(store) : undefined,
      walkerThreads: defaultWalkerThreads(),
      onLayer: (e) => {
        if (e.state !== "pulling") done++;
        progress.update(`layers ${done}/${layers}: ${e.state} ${e.digest.slice(0, 19)}`);
      },
    });
    const { inventory, stats } = await analyzer.analyze(source);
    if (store)
      await new InventoryStore(store).put(source.identity, inventory, extractorSignature(allExtractors));
    const onThreads = stats.layersOnWalkerThreads ? `, ${stats.layersOnWalkerThreads} on walker threads` : "";
    progress.done(
      `${inventory.packages.length} packages in ${layers} layers (${stats.layersPulled} read, ${stats.layersCached} cached)${onThreads}`,
    );
    for (const w of inventory.warnings) process.stderr.write(`warning: ${w}\n`);
    return { identity: source.identity, inventory };
  } finally {
    await source.close();
    await store?.close();
  }
}
