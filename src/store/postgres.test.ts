/**
 * The layer cache and the inventory store on both dialects: gzip bytes go through SQLite blobs and
 * PostgreSQL bytea unchanged, and bigint sizes come back as numbers. PostgreSQL (127.0.0.1:5432,
 * database `test`, a fresh schema dropped afterwards) being unreachable fails the test.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import type { FileResult } from "../inventory/extractor.js";
import type { ImageIdentity, ImageInventory } from "../inventory/types.js";
import { extractorSignature, InventoryStore } from "./inventories.js";
import { LayerCache, type LayerListing } from "./layer-cache.js";
import { Store } from "./store.js";

const POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";
const SCHEMA = `layer_cache_test_${process.pid}`;

let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-store-"));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${SCHEMA}" cascade`);
  } finally {
    await client.end();
  }
});

const backends: [string, () => Promise<Store>][] = [
  ["SQLite", () => Store.openSqlite(path.join(tmp, "cache.db"))],
  ["PostgreSQL", () => Store.openPostgres(POSTGRES_URL, { schema: SCHEMA })],
];

// Many distinct file names make a listing of several hundred kilobytes compressed.
const listing: LayerListing = {
  entries: 20_002,
  uncompressedBytes: 6_000_000_000,
  files: Array.from({ length: 20_000 }, (_, i) => [
    `usr/lib/ünïcode-${i.toString(36)}-${(i * 2654435761).toString(16)}.so`,
    i * 977,
    0o100644,
  ]),
  whiteouts: ["etc/.wh.removed"],
  opaqueDirs: ["var/cache"],
  warnings: ["a skipped file"],
};

const results: FileResult[] = [
  {
    extractor: "apk",
    path: "lib/apk/db/installed",
    packages: [
      {
        ecosystem: "apk",
        name: "musl",
        version: "1.2.4-r2",
        purl: "pkg:apk/alpine/musl@1.2.4-r2",
        location: "lib/apk/db/installed",
      },
    ],
  },
];

const identity: ImageIdentity = {
  name: "127.0.0.1:5000/alpine:3.18",
  registry: "127.0.0.1:5000",
  repository: "alpine",
  tag: "3.18",
  digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
  configDigest: "sha256:2222222222222222222222222222222222222222222222222222222222222222",
  os: "linux",
  architecture: "amd64",
  layers: [{ digest: "sha256:aa", diffId: "sha256:layer", size: 3_000_000, mediaType: "tar+gzip" }],
};

const inventory: ImageInventory = {
  os: { id: "alpine", versionId: "3.18.4", prettyName: "Alpine Linux", location: "etc/os-release" },
  packages: [],
  warnings: ["Ω warning"],
};

for (const [name, open] of backends) {
  describe(`layer cache and inventories on ${name}`, () => {
    test("listings, per-extractor results and inventories round-trip", async () => {
      const store = await open();
      try {
        const cache = new LayerCache(store);
        assert.equal(await cache.listing("sha256:layer"), undefined);
        await cache.putListing("sha256:layer", listing);
        await cache.putListing("sha256:layer", { ...listing, entries: 1 });
        assert.deepEqual(await cache.listing("sha256:layer"), listing, "the first listing is kept");
        const row = await store.db
          .selectFrom("layer_listings")
          .select(["uncompressed_bytes", "listing"])
          .executeTakeFirstOrThrow();
        assert.equal(row.uncompressed_bytes, 6_000_000_000, "bigint comes back as a number");
        assert.ok(Buffer.isBuffer(row.listing) && row.listing.length > 100_000, "stored as bytes");

        await cache.putResults("sha256:layer", [
          { extractor: { name: "apk", version: 1 }, results },
          { extractor: { name: "dpkg", version: 2 }, results: [] },
        ]);
        await cache.putResults("sha256:layer", [{ extractor: { name: "apk", version: 2 }, results }]);
        const found = await cache.results("sha256:layer", [
          { name: "apk", version: 2 },
          { name: "dpkg", version: 1 },
          { name: "rpm", version: 1 },
        ]);
        assert.deepEqual([...found], [["apk", results]], "only matching extractor versions count");

        const inventories = new InventoryStore(store);
        const signature = extractorSignature([
          { name: "dpkg", version: 2 },
          { name: "apk", version: 2 },
        ]);
        await inventories.put(identity, inventory, signature);
        const stored = await inventories.get(identity.digest);
        assert.deepEqual(
          { identity: stored?.identity, inventory: stored?.inventory, extractors: stored?.extractors },
          { identity, inventory, extractors: "apk@2 dpkg@2" },
        );
        await inventories.put(identity, { ...inventory, warnings: [] }, "apk@3");
        assert.equal((await inventories.get(identity.digest))?.extractors, "apk@3", "put replaces");
        assert.equal(await inventories.get("sha256:none"), undefined);
        const { configDigest: _, ...beforeConfigDigest } = identity;
        await inventories.put(beforeConfigDigest as ImageIdentity, inventory, signature);
        assert.equal(
          await inventories.get(identity.digest),
          undefined,
          "a row stored before identities held the config digest is not reused without an image id",
        );
      } finally {
        await store.close();
      }
    });
  });
}
