/**
 * Building test images, hostile ones included, on top of ../shared/testbed/oci.py: layer tars with
 * arbitrary entries (`../` traversal, whiteouts, opaque dirs), images rewritten after assembly (a
 * layer's bytes replaced, the config's diff_ids changed), registry storage paths for flipping bytes
 * of a pushed blob, and `docker save` archives (classic and OCI-style) made from a layout image.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import zlib from "node:zlib";
import tar from "tar-stream";
import { sharedDir } from "./paths.js";
import type { Descriptor } from "./push.js";

const run = promisify(execFile);
const REF_NAME = "org.opencontainers.image.ref.name";

/** Runs oci.py (see its header) and returns its stdout. */
export async function ociPy(...args: string[]): Promise<string> {
  const { stdout } = await run("python3", [path.join(sharedDir, "testbed", "oci.py"), ...args]);
  return stdout;
}

export interface TarEntry {
  /** Written exactly as given: may be absolute or climb with "../". */
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
}

/** A plain tar holding exactly these entries, in this order. */
export async function tarBytes(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? "file";
    const body = type === "file" ? Buffer.from(e.content ?? "") : Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name: e.name,
          type,
          mode: e.mode ?? (type === "directory" ? 0o755 : 0o644),
          mtime: new Date(1_700_000_000_000),
          ...(e.linkname === undefined ? {} : { linkname: e.linkname }),
          size: body.length,
        },
        body,
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const sha256 = (data: Buffer | string) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

export function layoutBlobPath(layout: string, digest: string): string {
  return path.join(layout, "blobs", ...digest.split(":"));
}

async function putBlob(layout: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  const file = layoutBlobPath(layout, digest);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, data);
  return { digest, size: data.length };
}

interface IndexFile {
  schemaVersion: number;
  manifests: (Descriptor & { platform?: Record<string, string> })[];
}

export interface ImageConfigJson {
  architecture: string;
  os: string;
  rootfs: { type: string; diff_ids: string[] };
  history?: { created_by?: string; empty_layer?: boolean }[];
  [key: string]: unknown;
}

export interface LayoutImage {
  descriptor: Descriptor & { platform?: Record<string, string> };
  manifest: { schemaVersion: number; mediaType: string; config: Descriptor; layers: Descriptor[] };
  configBytes: Buffer;
  config: ImageConfigJson;
}

/** An image (not an index) of a layout by its ref name. */
export async function readLayoutImage(layout: string, tag: string): Promise<LayoutImage> {
  const index = JSON.parse(await fs.readFile(path.join(layout, "index.json"), "utf8")) as IndexFile;
  const descriptor = index.manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (!descriptor) throw new Error(`no image ${tag} in ${layout}`);
  const manifest = JSON.parse(await fs.readFile(layoutBlobPath(layout, descriptor.digest), "utf8"));
  if (!manifest.config) throw new Error(`${tag} in ${layout} is not an image manifest`);
  const configBytes = await fs.readFile(layoutBlobPath(layout, manifest.config.digest));
  return { descriptor, manifest, configBytes, config: JSON.parse(configBytes.toString("utf8")) };
}

/**
 * Writes a variant of image `from` as `to` in the same layout: layers whose `layer` callback returns
 * bytes are replaced by them (descriptor digest and size follow, the config's diff_id does not), and
 * `config` may edit the config JSON. Returns the new manifest digest.
 */
export async function rewriteImage(
  layout: string,
  from: string,
  to: string,
  edit: {
    layer?: (index: number, bytes: Buffer) => Buffer | undefined;
    config?: (config: ImageConfigJson) => void;
  },
): Promise<string> {
  const image = await readLayoutImage(layout, from);
  const layers: Descriptor[] = [];
  for (const [i, layer] of image.manifest.layers.entries()) {
    const replaced = edit.layer?.(i, await fs.readFile(layoutBlobPath(layout, layer.digest)));
    layers.push(replaced ? { ...layer, ...(await putBlob(layout, replaced)) } : layer);
  }
  const config = structuredClone(image.config);
  edit.config?.(config);
  const configBlob = await putBlob(layout, Buffer.from(JSON.stringify(config)));
  const manifest = { ...image.manifest, config: { ...image.manifest.config, ...configBlob }, layers };
  const manifestBlob = await putBlob(layout, Buffer.from(JSON.stringify(manifest)));
  const indexFile = path.join(layout, "index.json");
  const index = JSON.parse(await fs.readFile(indexFile, "utf8")) as IndexFile;
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== to);
  index.manifests.push({
    mediaType: image.descriptor.mediaType,
    ...manifestBlob,
    ...(image.descriptor.platform ? { platform: image.descriptor.platform } : {}),
    annotations: { [REF_NAME]: to },
  });
  await fs.writeFile(indexFile, JSON.stringify(index));
  return manifestBlob.digest;
}

/** Where CNCF distribution's filesystem driver keeps a blob's bytes under its storage root. */
export function registryBlobPath(storageDir: string, digest: string): string {
  const hex = digest.replace(/^sha256:/, "");
  return path.join(storageDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
}

/** XORs one byte of a file in place. */
export async function flipByte(file: string, offset: number): Promise<void> {
  const handle = await fs.open(file, "r+");
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

/** Decompresses a layer blob (gzip, zstd or plain) into `file`; returns its size and digest. */
async function uncompressedLayer(blob: string, file: string): Promise<{ size: number; digest: string }> {
  const head = Buffer.alloc(4);
  const handle = await fs.open(blob, "r");
  await handle.read(head, 0, 4, 0);
  await handle.close();
  if (head[0] === 0x1f && head[1] === 0x8b) {
    await pipeline(createReadStream(blob), zlib.createGunzip(), createWriteStream(file));
  } else if (head.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) {
    await run("zstd", ["-d", "-q", "-f", "-o", file, blob]);
  } else {
    await fs.copyFile(blob, file);
  }
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return { size: (await fs.stat(file)).size, digest: `sha256:${hash.digest("hex")}` };
}

type Member = { name: string; data: Buffer } | { name: string; file: string; size: number };

async function writeTar(file: string, members: Member[]): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, createWriteStream(file));
  for (const m of members) {
    if ("data" in m) {
      await new Promise<void>((resolve, reject) =>
        pack.entry({ name: m.name, size: m.data.length, mode: 0o644 }, m.data, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
    } else {
      const entry = pack.entry({ name: m.name, size: m.size, mode: 0o644 });
      await pipeline(createReadStream(m.file), entry);
    }
  }
  pack.finalize();
  await writing;
}

/**
 * A `docker save` archive of a layout image. "legacy": the moby image spec v1.2 layout Docker wrote
 * before 25 (`<id>/layer.tar` uncompressed with `<id>/json` and `VERSION`, `<config hex>.json`,
 * `manifest.json`, `repositories`); "oci": Docker 25's (uncompressed layers and the config under
 * `blobs/sha256/`, `oci-layout`, `index.json`, and the same `manifest.json`). `workDir` holds the
 * uncompressed layers while the archive is written.
 */
export async function saveDockerArchive(
  layout: string,
  tag: string,
  archive: string,
  options: { format: "legacy" | "oci"; repoTag: string; workDir: string },
): Promise<void> {
  const image = await readLayoutImage(layout, tag);
  const members: Member[] = [];
  const layerPaths: string[] = [];
  const layerBlobs: Descriptor[] = [];
  let parent = "";
  for (const [i, layer] of image.manifest.layers.entries()) {
    const file = path.join(options.workDir, `layer-${i}.tar`);
    // Named by the content's own digest, as Docker does, whatever the config claims.
    const { size, digest: diffId } = await uncompressedLayer(layoutBlobPath(layout, layer.digest), file);
    if (options.format === "legacy") {
      // Docker's v1 layer ids chain the parent's id with the layer's diff_id.
      const id = createHash("sha256").update(`${parent}\n${diffId}`).digest("hex");
      members.push({ name: `${id}/VERSION`, data: Buffer.from("1.0") });
      members.push({
        name: `${id}/json`,
        data: Buffer.from(
          JSON.stringify({ id, ...(parent ? { parent } : {}), created: "2026-01-01T00:00:00Z" }),
        ),
      });
      members.push({ name: `${id}/layer.tar`, file, size });
      layerPaths.push(`${id}/layer.tar`);
      parent = id;
    } else {
      const name = `blobs/sha256/${diffId.replace(/^sha256:/, "")}`;
      members.push({ name, file, size });
      layerPaths.push(name);
      layerBlobs.push({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: diffId, size });
    }
  }
  const configHex = image.manifest.config.digest.replace(/^sha256:/, "");
  const configPath = options.format === "legacy" ? `${configHex}.json` : `blobs/sha256/${configHex}`;
  members.push({ name: configPath, data: image.configBytes });
  if (options.format === "oci") {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: image.manifest.config,
        layers: layerBlobs,
      }),
    );
    const manifestDigest = sha256(manifest);
    members.push({ name: `blobs/sha256/${manifestDigest.replace(/^sha256:/, "")}`, data: manifest });
    members.push({ name: "oci-layout", data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') });
    members.push({
      name: "index.json",
      data: Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: [
            {
              mediaType: "application/vnd.oci.image.manifest.v1+json",
              digest: manifestDigest,
              size: manifest.length,
              annotations: { "io.containerd.image.name": options.repoTag, [REF_NAME]: tag },
            },
          ],
        }),
      ),
    });
  }
  members.push({
    name: "manifest.json",
    data: Buffer.from(
      JSON.stringify([{ Config: configPath, RepoTags: [options.repoTag], Layers: layerPaths }]),
    ),
  });
  if (options.format === "legacy") {
    const cut = options.repoTag.lastIndexOf(":");
    members.push({
      name: "repositories",
      data: Buffer.from(
        JSON.stringify({ [options.repoTag.slice(0, cut)]: { [options.repoTag.slice(cut + 1)]: parent } }),
      ),
    });
  }
  await writeTar(archive, members);
  for (const i of image.manifest.layers.keys()) await fs.rm(path.join(options.workDir, `layer-${i}.tar`));
}
