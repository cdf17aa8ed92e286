/**
 * An image in an OCI image layout directory (OCI image-spec image-layout.md: `oci-layout`,
 * `index.json`, `blobs/<alg>/<hex>`), chosen by its `org.opencontainers.image.ref.name` annotation.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { verifiedFileStream } from "../blob-file.js";
import { parseImageConfig } from "../config.js";
import type { Platform } from "../manifest.js";
import { type Descriptor, type IndexManifest, type Manifest, parseManifest } from "../manifest.js";
import { DEFAULT_PLATFORM, selectPlatform } from "../platform.js";
import { describeLayers, type ImageSource } from "../source.js";

const REF_NAME = "org.opencontainers.image.ref.name";

export class LayoutError extends Error {}

export async function openOciLayout(
  dir: string,
  refName: string | undefined,
  options: { name: string; platform?: Platform | undefined },
): Promise<ImageSource> {
  const blobPath = (digest: string) => {
    const [alg, hex] = digest.split(":");
    if (!alg || !hex || !/^[a-f0-9]+$/.test(hex)) throw new LayoutError(`invalid digest ${digest}`);
    return path.join(dir, "blobs", alg, hex);
  };
  const readVerified = async (d: Descriptor): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of verifiedFileStream(blobPath(d.digest), d)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  let index: Manifest;
  try {
    index = parseManifest(
      await readFile(path.join(dir, "index.json")),
      "application/vnd.oci.image.index.v1+json",
    );
  } catch (err) {
    throw new LayoutError(`${dir} is not an OCI image layout: ${(err as Error).message}`);
  }
  if (index.kind !== "index") throw new LayoutError(`${dir}/index.json is not an image index`);
  const candidates = refName
    ? index.manifests.filter((m) => m.annotations?.[REF_NAME] === refName)
    : index.manifests;
  const names = index.manifests.map((m) => m.annotations?.[REF_NAME]).filter(Boolean);
  if (candidates.length !== 1) {
    throw new LayoutError(
      refName
        ? `no image named "${refName}" in ${dir}${names.length ? ` (has: ${names.slice(0, 10).join(", ")}…)` : ""}`
        : `${dir} holds ${index.manifests.length} images; name one with ${dir}:<ref>`,
    );
  }
  let descriptor = candidates[0] as Descriptor;
  let manifest = parseManifest(await readVerified(descriptor), descriptor.mediaType);
  let indexDigest: string | undefined;
  if (manifest.kind === "index") {
    indexDigest = descriptor.digest;
    descriptor = selectPlatform(manifest as IndexManifest, options.platform ?? DEFAULT_PLATFORM);
    manifest = parseManifest(await readVerified(descriptor), descriptor.mediaType);
  }
  if (manifest.kind !== "image") throw new LayoutError(`${descriptor.digest} is not an image manifest`);
  const config = parseImageConfig(await readVerified(manifest.config));
  const layers = manifest.layers;
  return {
    identity: {
      name: options.name,
      tag: refName,
      digest: descriptor.digest,
      indexDigest,
      configDigest: manifest.config.digest,
      os: config.os,
      architecture: config.architecture,
      variant: config.variant,
      created: config.createdAt?.toISOString(),
      layers: describeLayers(layers, config),
    },
    config,
    layers,
    openLayer(i: number): Readable {
      const layer = layers[i];
      if (!layer) throw new RangeError(`no layer ${i}`);
      return verifiedFileStream(blobPath(layer.digest), layer);
    },
    close: async () => undefined,
  };
}
