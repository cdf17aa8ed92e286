/**
 * Manifest formats: OCI image-spec v1.1 (image manifest, image index), Docker image manifest v2
 * schema 2 and manifest list, and legacy schema 1 (signed and unsigned), as served by registries.
 */
export const MediaTypes = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  dockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

/** Every manifest type, in one Accept header: a missing type makes registries 404 or downgrade. */
export const MANIFEST_ACCEPT = [
  MediaTypes.ociIndex,
  MediaTypes.ociManifest,
  MediaTypes.dockerList,
  MediaTypes.dockerManifest,
  MediaTypes.dockerSchema1Signed,
  MediaTypes.dockerSchema1,
].join(", ");

export const IMAGE_CONFIG_TYPES: readonly string[] = [MediaTypes.ociConfig, MediaTypes.dockerConfig];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string | undefined;
  "os.version"?: string | undefined;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform | undefined;
  annotations?: Record<string, string> | undefined;
  artifactType?: string | undefined;
  urls?: string[] | undefined;
}

export interface IndexManifest {
  kind: "index";
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string> | undefined;
}

export interface ImageManifest {
  kind: "image";
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string> | undefined;
  artifactType?: string | undefined;
}

/** Schema 1: layers listed top-down as fsLayers, the image config embedded in history[0]. */
export interface Schema1Manifest {
  kind: "schema1";
  mediaType: string;
  architecture: string;
  fsLayers: { blobSum: string }[];
  history: { v1Compatibility: string }[];
}

export type Manifest = IndexManifest | ImageManifest | Schema1Manifest;

export class InvalidManifestError extends Error {}

/** Media type without parameters ("...; charset=utf-8"), lower-cased; "" when absent. */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

const GENERIC_TYPES = new Set(["", "application/json", "application/octet-stream", "text/plain"]);

/**
 * Parses manifest bytes. The media type comes from Content-Type, else the body's mediaType,
 * else the structure (manifests[] → index, config+layers → image, fsLayers → schema 1).
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): Manifest {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new InvalidManifestError(`manifest is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(body)) throw new InvalidManifestError("manifest is not a JSON object");
  let mediaType = bareMediaType(contentType);
  if (GENERIC_TYPES.has(mediaType)) mediaType = typeof body.mediaType === "string" ? body.mediaType : "";
  if (!mediaType) {
    if (Array.isArray(body.manifests)) mediaType = MediaTypes.ociIndex;
    else if (isObject(body.config) && Array.isArray(body.layers)) mediaType = MediaTypes.ociManifest;
    // A signed schema 1 body carries its JWS in `signatures`; its digest excludes them, so the kind matters.
    else if (Array.isArray(body.fsLayers))
      mediaType = Array.isArray(body.signatures) ? MediaTypes.dockerSchema1Signed : MediaTypes.dockerSchema1;
  }
  switch (mediaType) {
    case MediaTypes.ociIndex:
    case MediaTypes.dockerList: {
      if (!Array.isArray(body.manifests)) throw new InvalidManifestError("index has no manifests array");
      return {
        kind: "index",
        mediaType,
        manifests: body.manifests.map((d, i) => parseDescriptor(d, `manifests[${i}]`)),
        annotations: stringRecord(body.annotations),
      };
    }
    case MediaTypes.ociManifest:
    case MediaTypes.dockerManifest: {
      if (!Array.isArray(body.layers)) throw new InvalidManifestError("image manifest has no layers array");
      return {
        kind: "image",
        mediaType,
        config: parseDescriptor(body.config, "config"),
        layers: body.layers.map((d, i) => parseDescriptor(d, `layers[${i}]`)),
        annotations: stringRecord(body.annotations),
        artifactType: typeof body.artifactType === "string" ? body.artifactType : undefined,
      };
    }
    case MediaTypes.dockerSchema1:
    case MediaTypes.dockerSchema1Signed: {
      const fsLayers = body.fsLayers;
      if (!Array.isArray(fsLayers) || !fsLayers.every((l) => isObject(l) && typeof l.blobSum === "string")) {
        throw new InvalidManifestError("schema 1 manifest has no valid fsLayers");
      }
      const history = Array.isArray(body.history) ? body.history : [];
      return {
        kind: "schema1",
        mediaType,
        architecture: typeof body.architecture === "string" ? body.architecture : "",
        fsLayers: fsLayers as { blobSum: string }[],
        history: history.filter(
          (h): h is { v1Compatibility: string } => isObject(h) && typeof h.v1Compatibility === "string",
        ),
      };
    }
    default:
      throw new InvalidManifestError(`unsupported manifest media type "${mediaType || "(none)"}"`);
  }
}

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Registered algorithms have a fixed encoding (OCI image-spec descriptor.md): lower-case hex of one length. */
const DIGEST_ENCODING: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };

function isValidDigest(digest: string): boolean {
  if (!DIGEST.test(digest)) return false;
  const colon = digest.indexOf(":");
  return DIGEST_ENCODING[digest.slice(0, colon)]?.test(digest.slice(colon + 1)) ?? true;
}

function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw new InvalidManifestError(`${where} is not a descriptor object`);
  const { mediaType, digest, size } = value;
  if (typeof digest !== "string" || !isValidDigest(digest)) {
    throw new InvalidManifestError(`${where} has an invalid digest`);
  }
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidManifestError(`${where} has an invalid size`);
  }
  return {
    mediaType: typeof mediaType === "string" ? mediaType : "",
    digest,
    size,
    platform: parsePlatform(value.platform),
    annotations: stringRecord(value.annotations),
    artifactType: typeof value.artifactType === "string" ? value.artifactType : undefined,
    urls: Array.isArray(value.urls)
      ? value.urls.filter((u): u is string => typeof u === "string")
      : undefined,
  };
}

function parsePlatform(value: unknown): Platform | undefined {
  if (!isObject(value) || typeof value.os !== "string" || typeof value.architecture !== "string") {
    return undefined;
  }
  return {
    os: value.os,
    architecture: value.architecture,
    variant: typeof value.variant === "string" ? value.variant : undefined,
    "os.version": typeof value["os.version"] === "string" ? value["os.version"] : undefined,
  };
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
