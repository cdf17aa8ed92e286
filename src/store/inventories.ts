/**
 * Stored image inventories: the index report between indexing and matching (as in Clair v4), so a
 * vulnerability database update re-evaluates stored images without pulling them again.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import type { ImageIdentity, ImageInventory } from "../inventory/types.js";
import type { Store } from "./store.js";

export interface StoredInventory {
  identity: ImageIdentity;
  inventory: ImageInventory;
  extractors: string;
  indexedAt: string;
}

/** "apk@1 dpkg@2 …": which extractor versions an inventory was built with. */
export function extractorSignature(extractors: readonly { name: string; version: number }[]): string {
  return extractors
    .map((e) => `${e.name}@${e.version}`)
    .sort()
    .join(" ");
}

export class InventoryStore {
  constructor(private readonly store: Store) {}

  async put(identity: ImageIdentity, inventory: ImageInventory, extractors: string): Promise<void> {
    const row = {
      identity: JSON.stringify(identity),
      inventory: gzipSync(JSON.stringify(inventory)),
      extractors,
      indexed_at: new Date().toISOString(),
    };
    await this.store.db
      .insertInto("image_inventories")
      .values({ digest: identity.digest, ...row })
      .onConflict((c) => c.column("digest").doUpdateSet(row))
      .execute();
  }

  /**
   * The stored inventory of a manifest digest. A row written before identities held `configDigest`
   * counts as absent: its image id is unknown, so the image is indexed again (from the layer cache,
   * nothing pulled) rather than reported without an id.
   */
  async get(digest: string): Promise<StoredInventory | undefined> {
    const row = await this.store.db
      .selectFrom("image_inventories")
      .selectAll()
      .where("digest", "=", digest)
      .executeTakeFirst();
    if (!row) return undefined;
    const identity = JSON.parse(row.identity) as Partial<ImageIdentity>;
    if (typeof identity.configDigest !== "string" || identity.configDigest === "") return undefined;
    return {
      identity: identity as ImageIdentity,
      inventory: JSON.parse(gunzipSync(row.inventory).toString("utf8")) as ImageInventory,
      extractors: row.extractors,
      indexedAt: row.indexed_at,
    };
  }
}
