/**
 * Where an image comes from: a registry, an OCI image layout directory, or a `docker save` archive.
 * Each source resolves one image (one platform) and opens its layers as verified streams.
 */
import type { Readable } from "node:stream";
import type { ImageIdentity } from "../inventory/types.js";
import type { ImageConfig } from "./config.js";
import type { Descriptor } from "./manifest.js";

export interface ImageSource {
  identity: ImageIdentity;
  config: ImageConfig;
  /** Layer descriptors, base first, index-aligned with config.diffIds. */
  layers: Descriptor[];
  /** The layer's bytes as stored (compressed), verified against its digest as they stream. */
  openLayer(index: number, options?: { signal?: AbortSignal | undefined }): Readable;
  close(): Promise<void>;
}

/** Builds the identity's layer list from the manifest's layers, the config's diff_ids and history. */
export function describeLayers(layers: Descriptor[], config: ImageConfig): ImageIdentity["layers"] {
  const history = config.history.filter((h) => !h.emptyLayer);
  return layers.map((layer, i) => ({
    digest: layer.digest,
    diffId: config.diffIds[i] ?? "",
    size: layer.size,
    mediaType: layer.mediaType,
    createdBy: history[i]?.createdBy,
  }));
}
