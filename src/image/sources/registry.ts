/** An image in a registry, resolved through RegistryClient (index → platform → manifest + config). */
import type { Readable } from "node:stream";
import type { RegistryClient } from "../../registry/client.js";
import type { ImageReference } from "../../registry/reference.js";
import type { Platform } from "../manifest.js";
import { describeLayers, type ImageSource } from "../source.js";

export async function openRegistryImage(
  client: RegistryClient,
  ref: ImageReference,
  options: { name: string; platform?: Platform | undefined; signal?: AbortSignal | undefined },
): Promise<ImageSource> {
  const reference = ref.digest ?? ref.tag ?? "latest";
  const image = await client.resolveImage(ref.repository, reference, {
    ...(options.platform ? { platform: options.platform } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const layers = image.manifest.layers;
  return {
    identity: {
      name: options.name,
      registry: ref.registry,
      repository: ref.repository,
      tag: ref.tag,
      digest: image.digest,
      indexDigest: image.indexDigest,
      // Schema 1 has no config blob: the client names the manifest digest as its config's.
      configDigest: image.manifest.config.digest,
      os: image.config.os,
      architecture: image.config.architecture,
      variant: image.config.variant,
      created: image.config.createdAt?.toISOString(),
      layers: describeLayers(layers, image.config),
    },
    config: image.config,
    layers,
    openLayer(index: number, options = {}): Readable {
      const layer = layers[index];
      if (!layer) throw new RangeError(`no layer ${index}`);
      return client.openBlob(ref.repository, layer, options);
    },
    close: () => client.close(),
  };
}
