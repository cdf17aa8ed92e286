/**
 * Walks one layer (OCI image-spec layer.md: a tar changeset, optionally gzip or zstd compressed)
 * without unpacking it: each entry is offered to a selector, and only selected regular files are
 * read into memory, up to a size the selector sets. Whiteouts (`.wh.<name>`, opaque `.wh..wh..opq`)
 * are collected for the image-level merge. Hostile archives are refused with a clear error or
 * skipped entry: path traversal, decompression bombs, truncated or corrupt streams, non-tar data.
 * The uncompressed stream is not hashed: the blob's own digest, which its source verifies as it
 * streams, names the content (the analyzer caches by it), and a diff_id check would cost the main
 * thread a second SHA-256 over two to four times as many bytes.
 */
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { RegistryError } from "../registry/errors.js";
import {
  coalescing,
  DECOMPRESSION_CHUNK_BYTES,
  decompressor,
  detectCompression,
  peek,
} from "./decompress.js";

export interface LayerLimits {
  /** Uncompressed bytes per layer. */
  maxUncompressedBytes: number;
  /** Compression ratio beyond which, past `ratioFloorBytes`, the layer is treated as a bomb. */
  maxRatio: number;
  ratioFloorBytes: number;
  maxEntries: number;
}

export const defaultLayerLimits: LayerLimits = {
  maxUncompressedBytes: 32 * 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 512 * 1024 ** 2,
  maxEntries: 5_000_000,
};

export type EntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface LayerEntry {
  /** Normalised path without leading slash. */
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  /** Symlink or hardlink target, normalised for hardlinks. */
  linkname?: string | undefined;
}

export interface LayerSelector<T> {
  /** Whether to read this regular file (or hardlink to one): a selection, and the most bytes to read. */
  select(entry: LayerEntry): { selection: T; maxBytes: number } | undefined;
  file(entry: LayerEntry, content: Buffer, selection: T): void | Promise<void>;
}

export interface LayerWalk {
  entries: number;
  uncompressedBytes: number;
  whiteouts: string[];
  opaqueDirs: string[];
  warnings: string[];
  /** Every regular file: the listing later extractor versions are checked against without a pull. */
  files: { path: string; size: number; mode: number }[];
}

/** A layer that cannot be read: corrupt, truncated, not a tar, or a bomb. */
export class LayerError extends Error {
  constructor(
    readonly digest: string,
    /** What is wrong, without the layer: a walker thread sends it to be rebuilt as the same error. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`layer ${digest}: ${detail}`, options);
    this.name = "LayerError";
  }
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

const NOT_NORMAL = /^\/|\/$|\/\/|(^|\/)\.\.?(\/|$)/;

/** Normalises a tar path; undefined when it climbs out of the root (`../`). Absolute paths are rooted. */
export function normalizeEntryPath(name: string): string | undefined {
  // Most names are already normal (no empty, "." or ".." segment, no leading or trailing slash).
  if (name !== "" && !NOT_NORMAL.test(name)) return name;
  const parts: string[] = [];
  for (const segment of name.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(segment);
  }
  return parts.join("/");
}

function entryType(type: tar.Header["type"]): EntryType {
  switch (type) {
    case "file":
    case "contiguous-file":
      return "file";
    case "directory":
      return "directory";
    case "symlink":
      return "symlink";
    case "link":
      return "hardlink";
    default:
      return "other";
  }
}

export async function walkLayer<T>(
  blob: Readable,
  layer: { digest: string },
  selector: LayerSelector<T>,
  limits: LayerLimits = defaultLayerLimits,
): Promise<LayerWalk> {
  const walk: LayerWalk = {
    entries: 0,
    uncompressedBytes: 0,
    whiteouts: [],
    opaqueDirs: [],
    warnings: [],
    files: [],
  };
  const fail = (detail: string, cause?: unknown) => new LayerError(layer.digest, detail, { cause });
  const inflate = decompressor(detectCompression(await peek(blob, 4)));
  // An uncompressed layer is its own size.
  const compressedBytes = () => inflate?.bytesIn() ?? walk.uncompressedBytes;
  const guard = new Transform({
    transform(chunk: Buffer, _enc, done) {
      walk.uncompressedBytes += chunk.length;
      if (walk.uncompressedBytes > limits.maxUncompressedBytes) {
        return done(
          fail(`more than ${limits.maxUncompressedBytes} bytes uncompressed (decompression bomb?)`),
        );
      }
      if (
        walk.uncompressedBytes > limits.ratioFloorBytes &&
        walk.uncompressedBytes > compressedBytes() * limits.maxRatio
      ) {
        return done(fail(`compression ratio above ${limits.maxRatio}:1 (decompression bomb?)`));
      }
      done(null, chunk);
    },
  });

  const extract = tar.extract();
  const piping = inflate
    ? pipeline(blob, coalescing(DECOMPRESSION_CHUNK_BYTES), inflate.stream, guard, extract)
    : pipeline(blob, guard, extract);
  // Selected files of this layer by path, for hardlinks to them later in the same layer.
  const selected = new Map<string, Buffer>();
  try {
    for await (const tarEntry of extract) {
      walk.entries++;
      if (walk.entries > limits.maxEntries) throw fail(`more than ${limits.maxEntries} entries`);
      const header = tarEntry.header;
      const path = normalizeEntryPath(header.name);
      if (path === undefined) {
        walk.warnings.push(
          `layer ${layer.digest}: skipped entry escaping the root: ${JSON.stringify(header.name)}`,
        );
        tarEntry.resume();
        continue;
      }
      const base = path.slice(path.lastIndexOf("/") + 1);
      if (base.startsWith(WHITEOUT)) {
        const dir = path.slice(0, path.length - base.length).replace(/\/$/, "");
        if (base === OPAQUE) walk.opaqueDirs.push(dir);
        else walk.whiteouts.push(dir ? `${dir}/${base.slice(WHITEOUT.length)}` : base.slice(WHITEOUT.length));
        tarEntry.resume();
        continue;
      }
      const type = entryType(header.type);
      const linkname =
        type === "hardlink" ? normalizeEntryPath(header.linkname ?? "") : (header.linkname ?? undefined);
      const entry: LayerEntry = { path, type, size: header.size ?? 0, mode: header.mode ?? 0, linkname };
      if (type === "file") walk.files.push({ path, size: entry.size, mode: entry.mode });
      if (type !== "file" && type !== "hardlink") {
        tarEntry.resume();
        continue;
      }
      if (type === "hardlink" && linkname === undefined) {
        walk.warnings.push(
          `layer ${layer.digest}: skipped hardlink escaping the root: ${JSON.stringify(header.linkname)}`,
        );
        tarEntry.resume();
        continue;
      }
      const target = type === "hardlink" && linkname !== undefined ? selected.get(linkname) : undefined;
      const chosen = selector.select(type === "hardlink" ? { ...entry, size: target?.length ?? 0 } : entry);
      if (!chosen || (type === "hardlink" && !target)) {
        tarEntry.resume();
        continue;
      }
      if (entry.size > chosen.maxBytes) {
        walk.warnings.push(
          `${path}: ${entry.size} bytes exceeds the ${chosen.maxBytes}-byte limit, not read`,
        );
        tarEntry.resume();
        continue;
      }
      let content: Buffer;
      if (target) {
        tarEntry.resume();
        content = target;
      } else {
        // One buffer of the announced size, filled in place: no second copy of a large file.
        content = Buffer.allocUnsafe(entry.size);
        let filled = 0;
        for await (const chunk of tarEntry) {
          (chunk as Buffer).copy(content, filled);
          filled += (chunk as Buffer).length;
        }
        if (filled !== entry.size)
          throw fail(`${path}: tar entry ended after ${filled} of ${entry.size} bytes`);
      }
      selected.set(path, content);
      await selector.file(
        type === "hardlink" ? { ...entry, size: content.length } : entry,
        content,
        chosen.selection,
      );
    }
    await piping;
  } catch (err) {
    piping.catch(() => undefined);
    blob.destroy();
    if (err instanceof LayerError || err instanceof RegistryError) throw err;
    throw fail(describeTarError(err), err);
  }
  return walk;
}

function describeTarError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string }).code;
  if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") return `corrupt compressed data (${message})`;
  if (/unexpected end|premature|truncated/i.test(message)) return `truncated layer (${message})`;
  if (/invalid tar header|unknown format/i.test(message)) return `not a tar archive (${message})`;
  return message;
}
