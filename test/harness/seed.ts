import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { request } from "undici";
import { withLock } from "./lock.js";
import { cacheDir } from "./paths.js";
import { type Descriptor, type KnownBlobs, type PushRegistry, pushImage } from "./push.js";
import { startRegistry } from "./registry.js";
import { ensureTestbedLayout } from "./testbed.js";

/** Bump whenever what is seeded changes, so cached storage from older harness code is rebuilt. */
const SEED_VERSION = 1;
const REF_NAME = "org.opencontainers.image.ref.name";
/** The image behind the bulk population: small, and mounted rather than uploaded again. */
const BULK_SOURCE = "alpine--3.10.3";
const BULK_REPOSITORIES = 80;
const MANY_TAGS_REPOSITORY = "many-tags/alpine";
const MANY_TAGS = 250;
const seedRoot = path.join(cacheDir, "seed");

export interface SeedImage {
  repository: string;
  tag: string;
  /** Digest and media type of what the tag points at (an index for alpine-multi). */
  digest: string;
  mediaType: string;
  /** The layout image it was pushed from (index.json's ref name). */
  source: string;
}

export interface SeedContents {
  images: SeedImage[];
  /** Sorted by name, tags sorted: what /v2/_catalog and tags/list should report. */
  repositories: { name: string; tags: string[] }[];
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

async function readLayoutIndex(layoutDir: string): Promise<{ raw: string; manifests: Descriptor[] }> {
  const raw = await fs.readFile(path.join(layoutDir, "index.json"), "utf8");
  return { raw, manifests: (JSON.parse(raw) as { manifests: Descriptor[] }).manifests };
}

function contentsOf(manifests: Descriptor[]): SeedContents {
  const images: SeedImage[] = [];
  let bulkSource: Descriptor | undefined;
  for (const descriptor of manifests) {
    const source = descriptor.annotations?.[REF_NAME];
    if (source === undefined) continue;
    // Same split as push-images.sh: REPO--TAG, at the last "--".
    const cut = source.lastIndexOf("--");
    if (cut < 0) throw new Error(`layout image ${source} is not named REPO--TAG`);
    images.push({
      repository: source.slice(0, cut),
      tag: source.slice(cut + 2),
      ...pick(descriptor),
      source,
    });
    if (source === BULK_SOURCE) bulkSource = descriptor;
  }
  if (bulkSource === undefined) throw new Error(`the testbed layout has no ${BULK_SOURCE}`);
  for (let i = 1; i <= BULK_REPOSITORIES; i++) {
    images.push({
      repository: `bulk/repo-${pad(i, 3)}`,
      tag: "v1",
      ...pick(bulkSource),
      source: BULK_SOURCE,
    });
  }
  for (let i = 0; i < MANY_TAGS; i++) {
    images.push({
      repository: MANY_TAGS_REPOSITORY,
      tag: `t-${pad(i, 3)}`,
      ...pick(bulkSource),
      source: BULK_SOURCE,
    });
  }
  const tags = new Map<string, string[]>();
  for (const image of images) tags.set(image.repository, [...(tags.get(image.repository) ?? []), image.tag]);
  const repositories = [...tags]
    .map(([name, list]) => ({ name, tags: list.sort() }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return { images, repositories };
}

function pick(descriptor: Descriptor): { digest: string; mediaType: string } {
  return { digest: descriptor.digest, mediaType: descriptor.mediaType };
}

/** What ensureSeededStorage() puts in the registry: assert against this, not against magic numbers. */
/**
 * The seed's digest of `tag` in the seeded repository that a product's repository name stands for
 * (`names`: product name → seeded repository, as given to createStorageView).
 */
export function seededDigestOf(
  seed: SeedContents,
  names: Record<string, string>,
  repository: string,
  tag: string,
): string {
  const image = seed.images.find((i) => i.repository === names[repository] && i.tag === tag);
  assert.ok(image, `${repository}:${tag} is seeded`);
  return image.digest;
}

/** Tags by name in code-unit order, as the providers return them. */
export const byTag = <T extends { tag: string }>(a: T, b: T) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);

export async function seedContents(): Promise<SeedContents> {
  return contentsOf((await readLayoutIndex(await ensureTestbedLayout())).manifests);
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function catalog(url: string): Promise<string[]> {
  const res = await request(`${url}/v2/_catalog?n=1000`);
  const body = (await res.body.json()) as { repositories?: string[] };
  if (res.statusCode !== 200) throw new Error(`seed check: /v2/_catalog answered ${res.statusCode}`);
  return body.repositories ?? [];
}

async function build(layoutDir: string, contents: SeedContents, storageDir: string): Promise<void> {
  const registry = await startRegistry({ storageDir });
  try {
    const knownBlobs: KnownBlobs = new Map();
    const target: PushRegistry = { url: registry.url, knownBlobs };
    const push = (image: SeedImage) => pushImage(layoutDir, image.source, target, image);
    // Testbed images one by one, in layout order, so later ones mount the shared base layers; a bulk
    // copy at most mounts its two blobs and PUTs a manifest, so those go several repositories at a
    // time. Within a repository they go one by one: docker-registry's filesystem driver rewrites a
    // link file by truncating it, so concurrent pushes of the same blobs into one repository make a
    // manifest PUT read an empty link and fail with MANIFEST_BLOB_UNKNOWN.
    const [testbed, bulk] = [contents.images.filter((i) => !isBulk(i)), contents.images.filter(isBulk)];
    for (const image of testbed) await push(image);
    const byRepository = new Map<string, SeedImage[]>();
    for (const image of bulk)
      byRepository.set(image.repository, [...(byRepository.get(image.repository) ?? []), image]);
    await inParallel([...byRepository.values()], 8, async (images) => {
      for (const image of images) await push(image);
    });
    const listed = await catalog(registry.url);
    const expected = contents.repositories.map((r) => r.name);
    if (listed.join("\n") !== expected.join("\n")) {
      throw new Error(`seed check: catalog has ${listed.length} repositories, expected ${expected.length}`);
    }
  } finally {
    await registry.stop();
  }
}

/** Runs `fn` over `items` with at most `workers` calls in flight. */
async function inParallel<T>(items: T[], workers: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

function isBulk(image: SeedImage): boolean {
  return image.repository.startsWith("bulk/") || image.repository === MANY_TAGS_REPOSITORY;
}

/**
 * A registry storage directory holding every testbed image under its push-images.sh name plus the
 * bulk population (see seedContents). Built once per layout and cached under cacheDir; serve it with
 * `startRegistry({ storageDir, readOnly: true })`, because other registries serve it at the same time.
 */
export async function ensureSeededStorage(): Promise<string> {
  const layoutDir = await ensureTestbedLayout();
  const { raw, manifests } = await readLayoutIndex(layoutDir);
  const key = createHash("sha256").update(`seed v${SEED_VERSION}\n${raw}`).digest("hex").slice(0, 16);
  const storageDir = path.join(seedRoot, key);
  if (await exists(storageDir)) return storageDir;

  await withLock(path.join(cacheDir, "seed.lock"), async () => {
    if (await exists(storageDir)) return; // Another process built it while we waited.
    await fs.mkdir(seedRoot, { recursive: true });
    // Under the lock, a staging dir can only be a crashed build's. Older seeds stay: another checkout
    // sharing this cache may still be serving one.
    for (const entry of await fs.readdir(seedRoot)) {
      if (entry.startsWith(".building-"))
        await fs.rm(path.join(seedRoot, entry), { recursive: true, force: true });
    }
    const staging = path.join(seedRoot, `.building-${process.pid}-${randomBytes(4).toString("hex")}`);
    try {
      await build(layoutDir, contentsOf(manifests), staging);
      // Readers only ever see a complete storage dir: it appears under its final name in one rename.
      await fs.rename(staging, storageDir);
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  });
  return storageDir;
}
