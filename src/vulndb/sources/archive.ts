/**
 * Streaming readers for the containers vulnerability feeds ship in: zip (OSV's `all.zip`, GitHub
 * archives), tar.xz, tar.gz, plain tar and a directory tree. Each reader yields regular files one
 * at a time as `{ name, content }`, so memory holds one entry and never the expanded archive.
 *
 * - Names are normalised: `/` separators, no leading `./` or `/`; entries that climb out of the
 *   root (`../`) are skipped with a warning.
 * - An entry larger than `maxEntryBytes` is skipped with a warning: its declared size is checked
 *   first (zip central directory, tar header), then the bytes actually inflated (a zip entry that
 *   inflates past, or short of, its declared size or fails its CRC-32 is skipped with a warning).
 * - `filter` sees each name before any data is read: rejected zip entries are never inflated and
 *   rejected tar entries are drained without being kept.
 * - A damaged archive (bad central directory, corrupt xz/gzip stream, broken tar header) throws an
 *   `ArchiveError`; a damaged single zip entry is skipped with a warning.
 */
import { closeSync, createReadStream, close as fsClose, read as fsRead, fstatSync, openSync } from "node:fs";
import { open, opendir } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import zlib from "node:zlib";
import tar from "tar-stream";
import xzDecompress from "xz-decompress";
import yauzl from "yauzl";
import { zipDirectoryEntries } from "../../util/zip.js";

// A webpack-built CommonJS bundle: its named exports are only reachable through the default import.
const { XzReadableStream } = xzDecompress;

export interface ArchiveEntry {
  /** Path inside the archive (or relative to the directory), `/`-separated. */
  name: string;
  content: Buffer;
}

export interface ArchiveOptions {
  /** Entries larger than this many bytes are skipped with a warning. Default 64 MiB. */
  maxEntryBytes?: number | undefined;
  /** Called with each regular file's normalised name before its data is read; false skips it. */
  filter?: ((name: string) => boolean) | undefined;
  /** Where skipped entries are reported; silent when absent. */
  warn?: ((message: string) => void) | undefined;
}

export const DEFAULT_MAX_ENTRY_BYTES = 64 * 1024 * 1024;

/** The archive as a whole cannot be read (not the format announced, corrupt, truncated). */
export class ArchiveError extends Error {
  constructor(
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${detail}`, options);
    this.name = "ArchiveError";
  }
}

class EntryTooLarge extends Error {}

/** `a/./b`, `./a`, `/a` → `a/b`, `a`, `a`; undefined for paths escaping the root or empty ones. */
export function normalizeArchiveName(name: string): string | undefined {
  const parts: string[] = [];
  for (const segment of name.replaceAll("\\", "/").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(segment);
  }
  return parts.length ? parts.join("/") : undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------- zip

const WINDOW_BYTES = 1024 * 1024;

/**
 * yauzl's reader over a file descriptor that serves small reads (central-directory records, local
 * headers, small entries) from two 1 MiB read-ahead windows, one following the central directory
 * at the end of the file and one following the entry data: OSV archives hold thousands of
 * one-kilobyte records, and a threadpool round trip per header read cost more than inflating.
 */
class WindowedFileReader extends yauzl.RandomAccessReader {
  /** Most recently used first. */
  private windows: { start: number; bytes: Buffer }[] = [];

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {
    super();
  }

  private serve(buffer: Buffer, offset: number, length: number, position: number): boolean {
    for (let i = 0; i < this.windows.length; i++) {
      const window = this.windows[i] as { start: number; bytes: Buffer };
      const from = position - window.start;
      if (from < 0 || from + length > window.bytes.length) continue;
      window.bytes.copy(buffer, offset, from, from + length);
      if (i > 0) this.windows.unshift(...this.windows.splice(i, 1));
      return true;
    }
    return false;
  }

  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null, bytesRead?: number) => void,
  ): void {
    if (this.serve(buffer, offset, length, position)) {
      process.nextTick(callback, null, length);
      return;
    }
    if (length > WINDOW_BYTES / 2) {
      fsRead(this.fd, buffer, offset, length, position, (err, bytesRead) => callback(err, bytesRead));
      return;
    }
    const size = Math.max(0, Math.min(WINDOW_BYTES, this.size - position));
    const bytes = Buffer.allocUnsafe(size);
    fsRead(this.fd, bytes, 0, size, position, (err, bytesRead) => {
      if (err) {
        callback(err);
        return;
      }
      this.windows.unshift({ start: position, bytes: bytes.subarray(0, bytesRead) });
      this.windows.length = Math.min(this.windows.length, 2);
      if (this.serve(buffer, offset, length, position)) callback(null, length);
      else callback(null, Math.max(0, bytesRead));
    });
  }

  /** Bytes [position, position + length), copied (never a view of the shared window). */
  readRange(position: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    return new Promise((resolve, reject) => {
      if (length === 0) {
        resolve(out);
        return;
      }
      this.read(out, 0, length, position, (err, bytesRead) => {
        if (err) reject(err);
        else if ((bytesRead ?? 0) < length) reject(new Error("unexpected end of file"));
        else resolve(out);
      });
    });
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return createReadStream("", { fd: this.fd, start, end: end - 1, autoClose: false });
  }

  override close(callback: (err: Error | null) => void): void {
    fsClose(this.fd, (err) => callback(err ?? null));
  }
}

async function openZip(path: string): Promise<{ zip: yauzl.ZipFile; reader: WindowedFileReader }> {
  // A raw descriptor, not a FileHandle (which closes itself when garbage-collected): the reader
  // owns it from here on and yauzl closes it through reader.close().
  const fd = openSync(path, "r");
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const reader = new WindowedFileReader(fd, size);
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      reader,
      size,
      {
        lazyEntries: true,
        autoClose: false,
        validateEntrySizes: true,
        decodeStrings: true,
        strictFileNames: false,
      },
      (err, zip) => {
        if (err) {
          reader.close(() => undefined);
          reject(err);
        } else resolve({ zip, reader });
      },
    );
  });
}

function localDataStart(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<number> {
  return new Promise((resolve, reject) => {
    zip.readLocalFileHeader(entry, { minimal: true }, (err, header) =>
      err ? reject(err) : resolve(header.fileDataStart),
    );
  });
}

const crc32 = (zlib as { crc32?: (data: Buffer) => number }).crc32;

/** One entry's bytes: stored or deflated (the two methods OSV and GitHub archives use), size and CRC-32 checked. */
async function readZipEntry(
  zip: yauzl.ZipFile,
  reader: WindowedFileReader,
  entry: yauzl.Entry,
): Promise<Buffer> {
  const start = await localDataStart(zip, entry);
  const compressed = await reader.readRange(start, entry.compressedSize);
  let content: Buffer;
  if (entry.compressionMethod === 0) content = compressed;
  else if (entry.compressionMethod === 8) {
    try {
      content = zlib.inflateRawSync(compressed, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        throw new EntryTooLarge(`inflates past its declared ${entry.uncompressedSize} bytes`);
      }
      throw err;
    }
  } else throw new Error(`unsupported compression method ${entry.compressionMethod}`);
  if (content.length !== entry.uncompressedSize) {
    throw new Error(`inflated to ${content.length} bytes, the directory says ${entry.uncompressedSize}`);
  }
  if (crc32 && crc32(content) >>> 0 !== entry.crc32 >>> 0) throw new Error("CRC-32 mismatch");
  return content;
}

/** Regular files of a zip archive, read one at a time. */
export async function* zipEntries(path: string, options: ArchiveOptions = {}): AsyncGenerator<ArchiveEntry> {
  const limit = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const warn = options.warn ?? (() => undefined);
  let opened: { zip: yauzl.ZipFile; reader: WindowedFileReader };
  try {
    opened = await openZip(path);
  } catch (err) {
    throw new ArchiveError(path, `not a readable zip archive (${errorText(err)})`, { cause: err });
  }
  const { zip, reader } = opened;
  try {
    const directory = zipDirectoryEntries(zip);
    for (;;) {
      let step: IteratorResult<yauzl.Entry>;
      try {
        step = await directory.next();
      } catch (err) {
        throw new ArchiveError(path, `corrupt zip central directory (${errorText(err)})`, { cause: err });
      }
      if (step.done) return;
      const entry = step.value;
      if (entry.fileName.endsWith("/")) continue;
      const name = normalizeArchiveName(entry.fileName);
      if (name === undefined) {
        warn(`${path}: skipped entry with an unsafe name ${JSON.stringify(entry.fileName)}`);
        continue;
      }
      if (options.filter && !options.filter(name)) continue;
      if (entry.uncompressedSize > limit) {
        warn(
          `${path}: ${name}: ${entry.uncompressedSize} bytes, more than the ${limit}-byte entry limit; skipped`,
        );
        continue;
      }
      if (entry.isEncrypted()) {
        warn(`${path}: ${name}: encrypted entry skipped`);
        continue;
      }
      let content: Buffer;
      try {
        content = await readZipEntry(zip, reader, entry);
      } catch (err) {
        warn(`${path}: ${name}: ${errorText(err)}; skipped`);
        continue;
      }
      yield { name, content };
    }
  } finally {
    zip.close();
  }
}

// ---------------------------------------------------------------------------------------------- tar

/** Regular files of a tar stream (already decompressed). `label` names the source in messages. */
export async function* tarEntries(
  stream: Readable,
  options: ArchiveOptions = {},
  label = "tar stream",
): AsyncGenerator<ArchiveEntry> {
  const limit = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const warn = options.warn ?? (() => undefined);
  const extract = tar.extract();
  const piping = pipeline(stream, extract);
  let done = false;
  try {
    for await (const entry of extract) {
      const header = entry.header;
      if (header.type !== "file" && header.type !== "contiguous-file") {
        entry.resume();
        continue;
      }
      const name = normalizeArchiveName(header.name);
      if (name === undefined) {
        warn(`${label}: skipped entry with an unsafe name ${JSON.stringify(header.name)}`);
        entry.resume();
        continue;
      }
      if (options.filter && !options.filter(name)) {
        entry.resume();
        continue;
      }
      const size = header.size ?? 0;
      if (size > limit) {
        warn(`${label}: ${name}: ${size} bytes, more than the ${limit}-byte entry limit; skipped`);
        entry.resume();
        continue;
      }
      const content = Buffer.allocUnsafe(size);
      let filled = 0;
      for await (const chunk of entry) {
        const part = chunk as Buffer;
        if (filled + part.length > size)
          throw new ArchiveError(label, `${name}: entry longer than its header says`);
        part.copy(content, filled);
        filled += part.length;
      }
      if (filled !== size)
        throw new ArchiveError(label, `${name}: entry ended after ${filled} of ${size} bytes`);
      yield { name, content };
    }
    await piping;
    done = true;
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(label, describeStreamError(err), { cause: err });
  } finally {
    if (!done) {
      piping.catch(() => undefined);
      stream.destroy();
      extract.destroy();
    }
  }
}

function describeStreamError(err: unknown): string {
  const message = errorText(err);
  const code = (err as { code?: string }).code;
  if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") return `corrupt compressed data (${message})`;
  if (/unexpected end|premature|truncated/i.test(message)) return `truncated archive (${message})`;
  if (/invalid tar header|unknown format/i.test(message)) return `not a tar archive (${message})`;
  return message;
}

/** A Node stream of the decompressed bytes of an .xz file (xz-decompress, WebAssembly liblzma). */
export function xzFileStream(path: string): Readable {
  const compressed = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
  const plain = new XzReadableStream(compressed);
  return Readable.fromWeb(plain as unknown as WebReadableStream<Uint8Array>);
}

/** Regular files of a .tar.xz archive, decompressed as they stream. */
export function tarXzEntries(path: string, options: ArchiveOptions = {}): AsyncGenerator<ArchiveEntry> {
  return tarEntries(xzFileStream(path), options, path);
}

/** Regular files of a .tar.gz / .tgz archive. */
export function tarGzEntries(path: string, options: ArchiveOptions = {}): AsyncGenerator<ArchiveEntry> {
  const stream = createReadStream(path).pipe(zlib.createGunzip({ chunkSize: 128 * 1024 }));
  return tarEntries(stream, options, path);
}

// ---------------------------------------------------------------------------------------- directory

/** Regular files under a directory, recursively, in name order per directory; symlinks are not followed. */
export async function* directoryEntries(
  root: string,
  options: ArchiveOptions = {},
): AsyncGenerator<ArchiveEntry> {
  const limit = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const warn = options.warn ?? (() => undefined);
  async function* walk(dir: string, prefix: string): AsyncGenerator<ArchiveEntry> {
    const names: { name: string; isDir: boolean; isFile: boolean }[] = [];
    for await (const dirent of await opendir(dir)) {
      names.push({ name: dirent.name, isDir: dirent.isDirectory(), isFile: dirent.isFile() });
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const item of names) {
      const name = prefix ? `${prefix}/${item.name}` : item.name;
      const full = join(dir, item.name);
      if (item.isDir) {
        yield* walk(full, name);
        continue;
      }
      if (!item.isFile) continue;
      if (options.filter && !options.filter(name)) continue;
      const handle = await open(full, "r");
      try {
        const { size } = await handle.stat();
        if (size > limit) {
          warn(`${root}: ${name}: ${size} bytes, more than the ${limit}-byte entry limit; skipped`);
          continue;
        }
        yield { name, content: await handle.readFile() };
      } finally {
        await handle.close();
      }
    }
  }
  yield* walk(root, "");
}

// ------------------------------------------------------------------------------------------ sniffing

export type ArchiveKind = "directory" | "zip" | "tar.xz" | "tar.gz" | "tar" | "gzip" | "xz" | "file";

/**
 * What a path holds, by content rather than by name: a directory, a zip (`PK\3\4`, or the empty
 * archive's `PK\5\6`), xz (`FD 37 7A 58 5A 00`) or gzip (`1F 8B`) with a tar inside (`ustar` at
 * offset 257 of the decompressed data), plain tar, or some other file.
 */
export async function archiveKind(path: string): Promise<ArchiveKind> {
  const handle = await open(path, "r");
  try {
    if ((await handle.stat()).isDirectory()) return "directory";
    const head = Buffer.alloc(512);
    const { bytesRead } = await handle.read(head, 0, 512, 0);
    const b = head.subarray(0, bytesRead);
    if (b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5) && (b[3] === 4 || b[3] === 6))
      return "zip";
    if (isTar(b)) return "tar";
    if (b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0) {
      return isTar(await firstBytes(xzFileStream(path), 512)) ? "tar.xz" : "xz";
    }
    if (b[0] === 0x1f && b[1] === 0x8b) {
      const gunzip = createReadStream(path).pipe(zlib.createGunzip());
      return isTar(await firstBytes(gunzip, 512)) ? "tar.gz" : "gzip";
    }
    return "file";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EISDIR") return "directory";
    throw err;
  } finally {
    await handle.close();
  }
}

function isTar(block: Buffer): boolean {
  return block.length >= 262 && block.toString("latin1", 257, 262) === "ustar";
}

async function firstBytes(stream: Readable, count: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= count) break;
    }
  } catch {
    // A corrupt stream is simply "not a tar": the reader that follows reports the damage.
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, count);
}

/** Entries of a directory, zip, tar, tar.xz or tar.gz, whichever `path` is (see `archiveKind`). */
export async function* archiveEntries(
  path: string,
  options: ArchiveOptions = {},
): AsyncGenerator<ArchiveEntry> {
  const kind = await archiveKind(path);
  switch (kind) {
    case "directory":
      yield* directoryEntries(path, options);
      return;
    case "zip":
      yield* zipEntries(path, options);
      return;
    case "tar.xz":
      yield* tarXzEntries(path, options);
      return;
    case "tar.gz":
      yield* tarGzEntries(path, options);
      return;
    case "tar":
      yield* tarEntries(createReadStream(path), options, path);
      return;
    default:
      throw new ArchiveError(path, `not an archive or directory (${kind})`);
  }
}
