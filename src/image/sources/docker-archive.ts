/**
 * An image saved by `docker save` (moby image spec v1.2 "combined image JSON + filesystem changeset"
 * archive: manifest.json with Config, RepoTags and Layers paths; Docker ≥ 25 lays the same out as
 * OCI blobs). The archive is indexed once so each member is then read directly by offset.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { verifiedFileStream } from "../blob-file.js";
import { parseImageConfig } from "../config.js";
import type { Descriptor } from "../manifest.js";
import { describeLayers, type ImageSource } from "../source.js";

export class ArchiveError extends Error {}

interface Member {
  offset: number;
  size: number;
}

const MAX_JSON_BYTES = 16 * 1024 * 1024;

async function indexArchive(
  file: string,
): Promise<{ members: Map<string, Member>; json: Map<string, Buffer> }> {
  const members = new Map<string, Member>();
  const json = new Map<string, Buffer>();
  const extract = tar.extract();
  const reading = pipeline(fs.createReadStream(file), extract);
  for await (const entry of extract) {
    const name = entry.header.name.replace(/^\.\//, "");
    const size = entry.header.size ?? 0;
    // tar-stream reports the header's offset; the data follows its 512-byte header block.
    members.set(name, { offset: entry.offset + 512, size });
    if (name.endsWith(".json") && size <= MAX_JSON_BYTES) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      json.set(name, Buffer.concat(chunks));
    } else entry.resume();
  }
  await reading;
  return { members, json };
}

async function readMember(file: string, member: Member): Promise<Buffer> {
  const handle = await fs.promises.open(file, "r");
  try {
    const buffer = Buffer.alloc(member.size);
    await handle.read(buffer, 0, member.size, member.offset);
    return buffer;
  } finally {
    await handle.close();
  }
}

export async function openDockerArchive(file: string, options: { name: string }): Promise<ImageSource> {
  let index: Awaited<ReturnType<typeof indexArchive>>;
  try {
    index = await indexArchive(file);
  } catch (err) {
    throw new ArchiveError(`${file} is not a readable tar archive: ${(err as Error).message}`);
  }
  const manifestBytes = index.json.get("manifest.json");
  if (!manifestBytes) throw new ArchiveError(`${file} has no manifest.json: not a docker save archive`);
  let manifest: { Config?: string; RepoTags?: string[]; Layers?: string[] }[];
  try {
    manifest = JSON.parse(manifestBytes.toString("utf8"));
  } catch {
    throw new ArchiveError(`${file}: manifest.json is not valid JSON`);
  }
  const entry = manifest[0];
  if (!Array.isArray(manifest) || !entry?.Config || !Array.isArray(entry.Layers)) {
    throw new ArchiveError(`${file}: manifest.json lacks Config or Layers`);
  }
  if (manifest.length > 1)
    throw new ArchiveError(`${file} holds ${manifest.length} images; save one image per archive`);
  // Legacy archives name the config <hex>.json; OCI-style ones keep it under blobs/, read by offset.
  const configMember = index.members.get(entry.Config);
  const configBytes =
    index.json.get(entry.Config) ??
    (configMember && configMember.size <= MAX_JSON_BYTES ? await readMember(file, configMember) : undefined);
  if (!configBytes) throw new ArchiveError(`${file}: config ${entry.Config} is missing`);
  const config = parseImageConfig(configBytes);
  const configDigest = `sha256:${createHash("sha256").update(configBytes).digest("hex")}`;
  const layers: Descriptor[] = entry.Layers.map((layerPath, i) => {
    const member = index.members.get(layerPath);
    if (!member) throw new ArchiveError(`${file}: layer ${layerPath} is missing`);
    // OCI-style members are named by digest; legacy layer.tar members are uncompressed, named by diff_id.
    const byDigest = /^blobs\/(sha256)\/([a-f0-9]{64})$/.exec(layerPath);
    const digest = byDigest ? `${byDigest[1]}:${byDigest[2]}` : (config.diffIds[i] ?? "");
    return { mediaType: "application/vnd.docker.image.rootfs.diff.tar", digest, size: member.size };
  });
  const paths = entry.Layers;
  const repoTag = entry.RepoTags?.[0];
  return {
    identity: {
      name: options.name,
      repository: repoTag?.replace(/:[^:/]*$/, ""),
      tag: repoTag?.match(/:([^:/]*)$/)?.[1],
      // The image ID of a docker save archive is its config digest; there is no manifest digest.
      digest: configDigest,
      configDigest,
      os: config.os,
      architecture: config.architecture,
      variant: config.variant,
      created: config.createdAt?.toISOString(),
      layers: describeLayers(layers, config),
    },
    config,
    layers,
    openLayer(i: number): Readable {
      const member = index.members.get(paths[i] ?? "");
      const layer = layers[i];
      if (!member || !layer) throw new RangeError(`no layer ${i}`);
      // A legacy layer.tar is uncompressed: its digest is its diff_id, verified like any blob's.
      return verifiedFileStream(file, layer, { start: member.offset, length: member.size });
    },
    close: async () => undefined,
  };
}
