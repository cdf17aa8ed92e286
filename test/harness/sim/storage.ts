/**
 * Registry storage for the product simulations: a view of the seeded distribution storage (its
 * filesystem layout, docker/registry/v2/{blobs,repositories}) in which repositories appear under the
 * names a product gives them (Harbor's `project/...`, GitLab's `group/subgroup/project/image`), and
 * the reading of what a storage holds, which stands in for the product's own database.
 *
 * The view links each repository's `_layers`, `_manifests` and `_uploads` folders and the blob store
 * into the seeded storage by symlinks, so the real docker-registry (read-only) serves the seeded image
 * content under the new names without a push or a copy.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const V2 = path.join("docker", "registry", "v2");

export interface StorageView {
  /** Storage root to give startRegistry({ storageDir, readOnly: true }). */
  dir: string;
  remove(): Promise<void>;
}

/** `names` maps each repository name of the view to the seeded repository it serves. */
export async function createStorageView(
  sourceDir: string,
  names: Record<string, string>,
): Promise<StorageView> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-storage-view-"));
  const v2 = path.join(dir, V2);
  await fs.mkdir(path.join(v2, "repositories"), { recursive: true });
  await fs.symlink(path.join(sourceDir, V2, "blobs"), path.join(v2, "blobs"));
  for (const [name, source] of Object.entries(names)) {
    const from = path.join(sourceDir, V2, "repositories", source);
    const to = path.join(v2, "repositories", name);
    await fs.mkdir(to, { recursive: true });
    // Only the repository's own _layers/_manifests/_uploads: a sub-directory is another repository.
    for (const entry of await fs.readdir(from)) {
      if (entry.startsWith("_")) await fs.symlink(path.join(from, entry), path.join(to, entry));
    }
    if (!(await isDir(path.join(to, "_manifests")))) throw new Error(`${source} is not a seeded repository`);
  }
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

async function isDir(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

export interface StoredTag {
  repository: string;
  tag: string;
  /** Digest of the manifest or index the tag points at. */
  digest: string;
}

/** Every tag of every repository in a storage root, sorted by repository then tag. */
export async function storedTags(storageDir: string): Promise<StoredTag[]> {
  const root = path.join(storageDir, V2, "repositories");
  const found: StoredTag[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
      if (entry.name === "_manifests") {
        const tagsDir = path.join(root, relative, "_manifests", "tags");
        for (const tag of await fs.readdir(tagsDir).catch(() => [])) {
          const link = await fs.readFile(path.join(tagsDir, tag, "current", "link"), "utf8");
          found.push({ repository: relative.split(path.sep).join("/"), tag, digest: link.trim() });
        }
      } else if (!entry.name.startsWith("_")) {
        await walk(path.join(relative, entry.name));
      }
    }
  };
  await walk("");
  return found.sort((a, b) =>
    a.repository === b.repository ? compare(a.tag, b.tag) : compare(a.repository, b.repository),
  );
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The bytes of a blob (manifest, config) in a storage root. */
export async function readBlob(storageDir: string, digest: string): Promise<Buffer> {
  const [algorithm, hex] = digest.split(":") as [string, string];
  return fs.readFile(path.join(storageDir, V2, "blobs", algorithm, hex.slice(0, 2), hex, "data"));
}

export async function readBlobJson(storageDir: string, digest: string): Promise<Record<string, unknown>> {
  return JSON.parse((await readBlob(storageDir, digest)).toString("utf8")) as Record<string, unknown>;
}
