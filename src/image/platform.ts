/**
 * Platform matching for image indexes, with the normalisation containerd's `platforms` package
 * applies (x86_64 → amd64, aarch64 → arm64, arm64/v8 ≡ arm64, arm ≡ arm/v7, …).
 */
import { type Descriptor, type IndexManifest, MediaTypes, type Platform } from "./manifest.js";

export const DEFAULT_PLATFORM: Platform = { os: "linux", architecture: "amd64" };

const ARCH_ALIASES: Record<string, [string, string?]> = {
  x86_64: ["amd64"],
  "x86-64": ["amd64"],
  aarch64: ["arm64"],
  armhf: ["arm", "v7"],
  armel: ["arm", "v6"],
  i386: ["386"],
  i686: ["386"],
};

export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase() === "macos" ? "darwin" : p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias[0];
    variant = alias[1] ?? variant;
  }
  if (architecture === "arm64" && (variant === "v8" || variant === "8")) variant = undefined;
  if (architecture === "arm") variant = variant ? (variant.startsWith("v") ? variant : `v${variant}`) : "v7";
  return { os, architecture, variant, "os.version": p["os.version"] };
}

/** "linux/arm64/v8" → Platform; throws on a malformed string. */
export function parsePlatformString(text: string): Platform {
  const parts = text.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((s) => !s)) {
    throw new Error(`invalid platform "${text}" (expected os/arch[/variant])`);
  }
  return normalizePlatform({ os: parts[0] as string, architecture: parts[1] as string, variant: parts[2] });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

export function platformMatches(candidate: Platform, wanted: Platform): boolean {
  const c = normalizePlatform(candidate);
  const w = normalizePlatform(wanted);
  if (c.os !== w.os || c.architecture !== w.architecture) return false;
  if (w.variant !== undefined && c.variant !== w.variant) return false;
  if (w["os.version"] && c["os.version"] && !c["os.version"].startsWith(w["os.version"])) return false;
  return true;
}

const INDEX_TYPES: readonly string[] = [MediaTypes.ociIndex, MediaTypes.dockerList];

/** Entries of an index that are runnable images: not attestations, not artefacts, not nested indexes, with a platform. */
export function imageEntries(index: IndexManifest): Descriptor[] {
  return index.manifests.filter(
    (d) =>
      d.platform !== undefined &&
      d.platform.os !== "unknown" &&
      d.artifactType === undefined &&
      !INDEX_TYPES.includes(d.mediaType) &&
      d.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest",
  );
}

export class PlatformNotFoundError extends Error {
  constructor(
    readonly wanted: Platform,
    readonly available: Platform[],
  ) {
    super(
      `no image for platform ${formatPlatform(wanted)} in the index (available: ${
        available.map(formatPlatform).join(", ") || "none"
      })`,
    );
  }
}

/** The index entry for a platform; an entry whose variant equals the wanted one beats other matches. */
export function selectPlatform(index: IndexManifest, wanted: Platform = DEFAULT_PLATFORM): Descriptor {
  const entries = imageEntries(index);
  const matches = entries.filter((d) => platformMatches(d.platform as Platform, wanted));
  const variant = normalizePlatform(wanted).variant;
  const first =
    matches.find((d) => normalizePlatform(d.platform as Platform).variant === variant) ?? matches[0];
  if (!first)
    throw new PlatformNotFoundError(
      wanted,
      entries.map((d) => d.platform as Platform),
    );
  return first;
}
