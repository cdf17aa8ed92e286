/**
 * The testbed images the benchmarks measure, resolved through a registry to their blobs, and the
 * machine's limit for reading them: each layer pulled with curl into its decompressor (and, for the
 * inventory benchmarks, into `tar -t`). Shared by pull-blobs, inventory and inventory-vs-trivy.
 *
 * Also the `big:jdk` image (`build-images.sh CACHE --big`): the seeded storage leaves it out, so it
 * is pushed into a registry storage of its own, cached under the harness cache directory.
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { Descriptor, ImageManifest } from "../../src/image/manifest.js";
import { formatPlatform, imageEntries } from "../../src/image/platform.js";
import { RegistryClient } from "../../src/registry/client.js";
import { withLock } from "../../test/harness/lock.js";
import { cacheDir } from "../../test/harness/paths.js";
import { findInLayout, pushImage } from "../../test/harness/push.js";
import { type RunningRegistry, startRegistry } from "../../test/harness/registry.js";
import { type SeedImage, seedContents } from "../../test/harness/seed.js";
import { runProcess } from "./proc.js";
import { inPool } from "./stats.js";

/** Testbed images by registry name; their digests come from seedContents(). */
export const TESTBED_IMAGES = [
  "alpine:3.10.3",
  "alpine-multi:3.10.3",
  "alpine:3.20.3",
  "debian:bookworm",
  "node-app:1.0",
  "node-app-zstd:1.0",
];
const TEAM_REPOSITORY = /^team-\d+\//;

export type Compression = "gzip" | "zstd" | "none";

export interface Blob {
  repository: string;
  digest: string;
  size: number;
  kind: "config" | "layer";
  compression: Compression;
  url: string;
}

export interface PulledImage {
  /** `repository:tag` */
  name: string;
  /** `os/arch[/variant]` of the manifest picked (an index is listed once per platform). */
  platform: string;
  digest: string;
  note?: string | undefined;
  config: Blob;
  layers: Blob[];
}

export function compressionOf(mediaType: string): Compression {
  if (/gzip$/.test(mediaType)) return "gzip";
  if (/zstd$/.test(mediaType)) return "zstd";
  return "none";
}

function findSeed(images: SeedImage[], name: string): SeedImage {
  const cut = name.lastIndexOf(":");
  const [repository, tag] = [name.slice(0, cut), name.slice(cut + 1)];
  const found = images.find((i) => i.repository === repository && i.tag === tag);
  if (!found) throw new Error(`seedContents() has no ${name}; has the testbed changed?`);
  return found;
}

/** One image (each platform of an index) resolved through `client` to its config and layers. */
async function resolveImage(
  client: RegistryClient,
  registryUrl: string,
  repository: string,
  tag: string,
  platformIndex?: number,
  note?: string,
): Promise<PulledImage> {
  const blobUrl = (digest: string) => `${registryUrl}/v2/${repository}/blobs/${digest}`;
  const toBlob = (d: Descriptor, kind: Blob["kind"]): Blob => ({
    repository,
    digest: d.digest,
    size: d.size,
    kind,
    compression: kind === "config" ? "none" : compressionOf(d.mediaType),
    url: blobUrl(d.digest),
  });
  const fetched = await client.getManifest(repository, tag);
  let platform: Descriptor["platform"];
  if (fetched.manifest.kind === "index")
    platform = imageEntries(fetched.manifest)[platformIndex ?? 0]?.platform;
  const image = await client.resolveImage(repository, tag, platform ? { platform } : {});
  return {
    name: `${repository}:${tag}`,
    platform: formatPlatform(image.platform),
    digest: image.digest,
    note,
    config: toBlob(image.manifest.config, "config"),
    layers: image.manifest.layers.map((l) => toBlob(l, "layer")),
  };
}

/**
 * The testbed images of TESTBED_IMAGES (an index on each of its platforms) and one team image per
 * distinct base layer, the first such in seedContents() order, resolved through the client (untimed).
 */
export async function collectImages(client: RegistryClient, registryUrl: string): Promise<PulledImage[]> {
  const contents = await seedContents();
  const images: PulledImage[] = [];
  for (const name of TESTBED_IMAGES) {
    const seed = findSeed(contents.images, name);
    const fetched = await client.getManifest(seed.repository, seed.tag);
    const platforms = fetched.manifest.kind === "index" ? imageEntries(fetched.manifest).length : 1;
    for (let p = 0; p < platforms; p++)
      images.push(await resolveImage(client, registryUrl, seed.repository, seed.tag, p));
  }

  const teams = contents.images.filter((i) => TEAM_REPOSITORY.test(i.repository));
  const manifests = new Map<SeedImage, ImageManifest>();
  await inPool(teams, 8, async (seed) => {
    const { manifest } = await client.getManifest(seed.repository, seed.tag);
    if (manifest.kind === "image") manifests.set(seed, manifest);
  });
  const seenBases = new Set<string>();
  for (const seed of teams) {
    const base = manifests.get(seed)?.layers[0]?.digest;
    if (base === undefined || seenBases.has(base)) continue;
    seenBases.add(base);
    const baseName = images.find((i) => i.layers[0]?.digest === base)?.name ?? base.slice(0, 19);
    images.push(
      await resolveImage(
        client,
        registryUrl,
        seed.repository,
        seed.tag,
        undefined,
        `team image on the ${baseName} base`,
      ),
    );
  }
  if (seenBases.size === 0) throw new Error("seedContents() lists no team images");
  return images;
}

/** Every blob once, configs and layers, in image order; a blob is fetched from the first repository naming it. */
export function distinctBlobs(images: PulledImage[]): Blob[] {
  const byDigest = new Map<string, Blob>();
  for (const image of images) {
    for (const blob of [image.config, ...image.layers])
      if (!byDigest.has(blob.digest)) byDigest.set(blob.digest, blob);
  }
  return [...byDigest.values()];
}

export const sumBytes = (blobs: readonly Blob[]) => blobs.reduce((n, b) => n + b.size, 0);

// ---- the machine's limit ----------------------------------------------------------------------------

/**
 * Pulls a layer with curl into its decompressor, then into WALK (a command reading the tar stream, or
 * `cat` for none); pipefail makes a failed or truncated pull an error.
 */
const pullFn = (walk: string) => `pull() { case $1 in
  gzip) curl -q -sf "$2" | gzip -dc ${walk}>/dev/null ;;
  zstd) curl -q -sf "$2" | zstd -dcq ${walk}>/dev/null ;;
  *) curl -q -sf "$2" ${walk}>/dev/null ;;
esac || { echo "failed: $2" >&2; exit 1; }; }`;

export interface LimitOptions {
  /** Layers in flight (xargs -P); 1 = one after another. */
  parallel: number;
  /** Also list each layer's tar stream with `tar -t` (a layer walk), not only decompress it. */
  walk?: boolean;
}

/** Wall time (ms) of pulling `layers` with curl and decompressing them (and walking them with `tar -t`). */
export async function limitPull(layers: readonly Blob[], options: LimitOptions): Promise<number> {
  const fn = pullFn(options.walk ? "| tar -t " : "");
  if (options.parallel <= 1) {
    const script = `${fn}\nwhile read -r kind url; do pull "$kind" "$url"; done`;
    const input = layers.map((l) => `${l.compression} ${l.url}\n`).join("");
    return (await runProcess("bash", ["-o", "pipefail", "-c", script], input)).ms;
  }
  const args = ["-d", "\\n", "-P", String(options.parallel), "-n", "2", "bash", "-o", "pipefail", "-c"];
  const input = layers.map((l) => `${l.compression}\n${l.url}\n`).join("");
  return (await runProcess("xargs", [...args, `${fn}\npull "$1" "$2"`, "_"], input)).ms;
}

/** Uncompressed size of each layer (warm-up, untimed). */
export async function uncompressedSizes(layers: readonly Blob[]): Promise<Map<string, number>> {
  const script = `while read -r kind url; do case $kind in
  gzip) curl -q -sf "$url" | gzip -dc | wc -c ;;
  zstd) curl -q -sf "$url" | zstd -dcq | wc -c ;;
  *) curl -q -sf "$url" | wc -c ;;
esac || exit 1; done`;
  const input = layers.map((l) => `${l.compression} ${l.url}\n`).join("");
  const sizes = (await runProcess("bash", ["-o", "pipefail", "-c", script], input)).stdout.trim().split("\n");
  if (sizes.length !== layers.length) throw new Error("could not decompress every layer");
  return new Map(layers.map((l, i) => [l.digest, Number(sizes[i])]));
}

// ---- big:jdk ------------------------------------------------------------------------------------------

const BIG_REF = "big--jdk";

/**
 * OCI layouts that may hold big:jdk: $SHIPSHAPE_BIG_LAYOUT, then the testbed's own layout, then
 * `testbed-big/layout` (a copy of the testbed built with --big, so that the shared layout, and with it
 * the seeded storage's key, stays as the tests know it).
 */
export function bigLayoutCandidates(): string[] {
  return [
    process.env.SHIPSHAPE_BIG_LAYOUT,
    path.join(cacheDir, "testbed", "layout"),
    path.join(cacheDir, "testbed-big", "layout"),
  ].filter((d): d is string => d !== undefined);
}

async function findBigLayout(): Promise<{ layout: string; digest: string } | undefined> {
  for (const layout of bigLayoutCandidates()) {
    if (!existsSync(path.join(layout, "index.json"))) continue;
    try {
      return { layout, digest: (await findInLayout(layout, BIG_REF)).digest };
    } catch {
      // Not in this layout.
    }
  }
  return undefined;
}

export interface BigRegistry {
  registry: RunningRegistry;
  repository: string;
  tag: string;
  layout: string;
}

/**
 * A read-only registry serving big:jdk, or undefined when no layout holds it. Its storage is pushed
 * once per manifest digest into the cache (about the image's compressed size) and reused after.
 */
export async function startBigRegistry(progress: (m: string) => void): Promise<BigRegistry | undefined> {
  const found = await findBigLayout();
  if (!found) return undefined;
  const root = path.join(cacheDir, "bench-big");
  const storageDir = path.join(root, found.digest.replace(":", "-"));
  if (!existsSync(storageDir)) {
    await withLock(path.join(cacheDir, "bench-big.lock"), async () => {
      if (existsSync(storageDir)) return;
      progress(`pushing big:jdk from ${found.layout} into a registry storage of its own (once)…`);
      const staging = `${storageDir}.building-${process.pid}`;
      await fs.rm(staging, { recursive: true, force: true });
      await fs.mkdir(root, { recursive: true });
      const writer = await startRegistry({ storageDir: staging });
      try {
        await pushImage(found.layout, BIG_REF, { url: writer.url }, { repository: "big", tag: "jdk" });
      } finally {
        await writer.stop();
      }
      await fs.rename(staging, storageDir);
    });
  }
  const registry = await startRegistry({ storageDir, readOnly: true });
  return { registry, repository: "big", tag: "jdk", layout: found.layout };
}

/** big:jdk resolved to its blobs through its registry. */
export async function resolveBig(big: BigRegistry): Promise<PulledImage> {
  const client = new RegistryClient({ registry: big.registry.url, insecure: true });
  try {
    return await resolveImage(
      client,
      big.registry.url,
      big.repository,
      big.tag,
      undefined,
      "built with --big",
    );
  } finally {
    await client.close();
  }
}
