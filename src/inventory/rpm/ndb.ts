/**
 * rpm's NDB backend `Packages.db` (rpm ≥ 4.15, the default on SUSE Linux Enterprise 15 / openSUSE Leap 15).
 *
 * Specification: rpm `lib/backend/ndb/rpmpkg.c` (rpm 4.15–4.18; the format is otherwise undocumented).
 * All integers are little-endian.
 *
 *   file header, 32 bytes: magic "RpmP", version 0, generation, slotnpages, nextpkgidx, reserved
 *   slot pages: slotnpages × 4096 bytes of 16-byte slots {magic "Slot", pkgidx, blkoff, blkcnt}; the first two
 *     slots of page 0 are the file header; blkoff 0 marks a free slot
 *   blobs, at blkoff × 16 and blkcnt × 16 bytes long:
 *     head {magic "BlbS", pkgidx, timestamp, bloblen}, the header blob, zero padding,
 *     tail {adler32 of head + blob + padding, bloblen, magic "BlbE"} in the last 12 bytes,
 *     blkcnt = ⌈(16 + bloblen + 12) / 16⌉
 *
 * Every slot and blob is checked the way rpmpkgReadSlots / rpmpkgReadBlob check them (including the Adler-32
 * of RFC 1950, which go-rpmdb does not verify); a bad slot or blob is reported and skipped, the others are read.
 */
import type { RpmdbEntry } from "./bdb.js";

const PKGDB_MAGIC = 0x506d7052; // "RpmP" little-endian
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOBHEAD_MAGIC = 0x53626c42; // "BlbS"
const BLOBTAIL_MAGIC = 0x45626c42; // "BlbE"
const PAGE_SIZE = 4096;
const SLOT_SIZE = 16;
const BLK_SIZE = 16;
const BLOBHEAD_SIZE = 16;
const BLOBTAIL_SIZE = 12;
const HEADER_SIZE = 32;
const SLOTS_PER_PAGE = PAGE_SIZE / SLOT_SIZE;

/** Adler-32 (RFC 1950 section 8.2) of buf[start, end), continuing from `adler`. */
export function adler32(buf: Uint8Array, start = 0, end = buf.length, adler = 1): number {
  let s1 = adler & 0xffff;
  let s2 = (adler >>> 16) & 0xffff;
  let i = start;
  while (i < end) {
    const n = Math.min(end - i, 3800); // keeps s2 far below 2^53 and the modulo cheap
    for (const stop = i + n; i < stop; i++) {
      s1 += buf[i] as number;
      s2 += s1;
    }
    s1 %= 65521;
    s2 %= 65521;
  }
  return ((s2 << 16) | s1) >>> 0;
}

/** Yields the header blobs of an NDB `Packages.db`, ordered by package index; problems go to `warn`. */
export function readNdb(buf: Buffer, warn: (msg: string) => void): RpmdbEntry[] {
  if (buf.length < HEADER_SIZE) {
    warn(`file too short for an NDB header (${buf.length} bytes)`);
    return [];
  }
  if (buf.readUInt32LE(0) !== PKGDB_MAGIC) {
    warn('not an rpm NDB database (no "RpmP" magic)');
    return [];
  }
  const version = buf.readUInt32LE(4);
  if (version !== 0) {
    warn(`unsupported NDB version ${version}`);
    return [];
  }
  let slotnpages = buf.readUInt32LE(12);
  if (slotnpages === 0) {
    warn("NDB header declares no slot pages");
    return [];
  }
  const fileblks = Math.floor(buf.length / BLK_SIZE);
  if (buf.length % BLK_SIZE !== 0) warn(`file size ${buf.length} is not a multiple of ${BLK_SIZE}`);
  if (slotnpages * PAGE_SIZE > buf.length) {
    const have = Math.floor(buf.length / PAGE_SIZE);
    warn(`truncated: ${slotnpages} slot pages declared, file holds ${have}`);
    slotnpages = have;
  }
  const minblkoff = slotnpages * (PAGE_SIZE / BLK_SIZE);

  let problems = 0;
  const problem = (msg: string) => {
    if (++problems <= 20) warn(msg);
    else if (problems === 21) warn("further NDB problems not reported");
  };

  const out = new Map<number, Buffer>();
  const seen = new Set<number>();
  let checked = 0;
  for (let slotno = HEADER_SIZE / SLOT_SIZE; slotno < slotnpages * SLOTS_PER_PAGE; slotno++) {
    const o = slotno * SLOT_SIZE;
    if (buf.readUInt32LE(o) !== SLOT_MAGIC) {
      problem(`slot ${slotno}: bad slot magic`);
      continue;
    }
    const pkgidx = buf.readUInt32LE(o + 4);
    const blkoff = buf.readUInt32LE(o + 8);
    const blkcnt = buf.readUInt32LE(o + 12);
    if (blkoff === 0) continue; // free slot
    if (pkgidx === 0 || blkcnt === 0 || blkoff < minblkoff) {
      problem(`slot ${slotno}: bad entry (package ${pkgidx}, block ${blkoff}, ${blkcnt} blocks)`);
      continue;
    }
    if (blkoff + blkcnt > fileblks) {
      problem(`slot ${slotno}: package ${pkgidx} lies past the end of the file (truncated database)`);
      continue;
    }
    if (seen.has(pkgidx)) {
      problem(`slot ${slotno}: package ${pkgidx} appears in two slots`);
      continue;
    }
    seen.add(pkgidx);
    // Blobs do not overlap in a sound file, so checksumming more than the file's size means crafted slots.
    checked += blkcnt * BLK_SIZE;
    if (checked > 2 * buf.length) {
      problem("slots cover more data than the file holds; stopped");
      break;
    }
    const blob = readBlob(buf, pkgidx, blkoff, blkcnt);
    if (typeof blob === "string") problem(`package ${pkgidx}: ${blob}`);
    else out.set(pkgidx, blob);
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([id, blob]) => ({ id, blob }));
}

/** rpmpkgReadBlob with Adler-32 verification: the blob, or why it is bad. */
function readBlob(buf: Buffer, pkgidx: number, blkoff: number, blkcnt: number): Buffer | string {
  if (blkcnt < Math.ceil((BLOBHEAD_SIZE + BLOBTAIL_SIZE) / BLK_SIZE)) return "blob too small";
  const start = blkoff * BLK_SIZE;
  const end = start + blkcnt * BLK_SIZE; // checked against the file length by the caller
  if (buf.readUInt32LE(start) !== BLOBHEAD_MAGIC) return "bad blob magic";
  if (buf.readUInt32LE(start + 4) !== pkgidx) return `blob belongs to package ${buf.readUInt32LE(start + 4)}`;
  const bloblen = buf.readUInt32LE(start + 12);
  if (blkcnt !== Math.ceil((BLOBHEAD_SIZE + bloblen + BLOBTAIL_SIZE) / BLK_SIZE)) {
    return `blob length ${bloblen} does not fit its ${blkcnt} blocks`;
  }
  const tail = end - BLOBTAIL_SIZE;
  if (buf.readUInt32LE(tail + 8) !== BLOBTAIL_MAGIC) return "bad blob tail magic";
  if (buf.readUInt32LE(tail + 4) !== bloblen) return "blob tail length differs from its head";
  const sum = adler32(buf, start, tail);
  if (buf.readUInt32LE(tail) !== sum) return "blob checksum (Adler-32) mismatch";
  return buf.subarray(start + BLOBHEAD_SIZE, start + BLOBHEAD_SIZE + bloblen);
}
