/**
 * RPM header blobs as the rpmdb stores them (every backend holds one blob per installed package).
 *
 * Specification: the "Header Structure" of the RPM package file format (rpm.org "RPM file format",
 * https://rpm-software-management.github.io/rpm/manual/format.html, and the Linux Standard Base Core
 * Specification, "Package File Format"), as implemented and checked by rpm 4.18 `lib/header.c`
 * (hdrblobInit, hdrblobVerifyRegion, hdrblobVerifyInfo, regionSwab, hdrblobImport) and
 * `lib/header_internal.h` (the hdrchk* limits). In the database the blob has no 8-byte header magic:
 *
 *   il  uint32 BE   number of index entries
 *   dl  uint32 BE   length of the data store
 *   il × { tag int32, type uint32, offset int32, count uint32 }   (big-endian)
 *   dl bytes of data
 *
 * The first entry is normally a region tag (HEADERIMMUTABLE 63; 62/61 for signature and legacy images):
 * type BIN, count 16, its offset points at a 16-byte trailer whose negated offset is 16 × the number of
 * entries inside the region. Entries after the region ("dribbles", added at install time) replace region
 * entries with the same tag. Every offset, count and length is checked the way rpm checks it, so a header
 * rpm would call damaged is rejected with a {@link HeaderError} and nothing is ever read out of range.
 */
import { createHash } from "node:crypto";

/** Tag numbers used here (rpm `include/rpm/rpmtag.h`). */
export const Tag = {
  HEADERIMAGE: 61,
  HEADERSIGNATURES: 62,
  HEADERIMMUTABLE: 63,
  HEADERI18NTABLE: 100,
  SIGMD5: 261,
  SHA1HEADER: 269,
  SHA256HEADER: 273,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  INSTALLTIME: 1008,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  OS: 1021,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  FILESIZES: 1028,
  SOURCERPM: 1044,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  LONGSIZE: 5009,
  MODULARITYLABEL: 5096,
} as const;

/** Data types (rpm `rpmTagType`). */
export const Type = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

const TYPE_NAMES = [
  "NULL",
  "CHAR",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "STRING",
  "BIN",
  "STRING_ARRAY",
  "I18NSTRING",
];
/** Element size per type; 0 for the variable-length (NUL-terminated) types. */
const TYPE_SIZE = [0, 1, 1, 2, 4, 8, 0, 1, 0, 0];
const ENTRY_INFO_SIZE = 16;
/** rpm HEADER_TAGS_MAX. */
const MAX_TAGS = 0x0000ffff;
/** rpm HEADER_DATA_MAX. */
const MAX_DATA = 0x0fffffff;
/** rpm headerMaxbytes: 8 + 16·il + dl must stay below this. */
const MAX_HEADER_BYTES = 256 * 1024 * 1024;
const HEADER_MAGIC = [0x8e, 0xad, 0xe8, 0x01];
const HEADER_MAGIC_BYTES = Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]);

export class HeaderError extends Error {
  override name = "HeaderError";
}

export interface HeaderEntry {
  tag: number;
  type: number;
  count: number;
  /** Offset of the entry's data from the start of the blob. */
  start: number;
  /** Length of the entry's data in bytes. */
  length: number;
}

/** Where the immutable region lies in the blob: its index entries and its data (trailer included). */
export interface RegionInfo {
  tag: number;
  /** Index entries in the region, the region tag included. */
  ril: number;
  /** Bytes of data in the region, the trailer included. */
  rdl: number;
  dataStart: number;
}

export class RpmHeader {
  /** The blob the entries point into (kept, not copied). */
  readonly blob: Buffer;
  readonly entries: ReadonlyMap<number, HeaderEntry>;
  /** The region (HEADERIMMUTABLE for installed headers); undefined for a legacy header without one. */
  readonly region: RegionInfo | undefined;

  constructor(blob: Buffer, entries: Map<number, HeaderEntry>, region: RegionInfo | undefined) {
    this.blob = blob;
    this.entries = entries;
    this.region = region;
  }

  /**
   * Checks the header digest rpm stores at install time (SHA256HEADER, else SHA1HEADER): a hex digest of the
   * immutable region exported as rpm does (rpm `hdrblobDigestUpdate`: the 8-byte header magic, ril and rdl as
   * big-endian uint32, the region's index entries, the region's data). Undefined when there is nothing to
   * check (no region, or no digest tag).
   */
  checkDigest(): { algorithm: "sha256" | "sha1"; ok: boolean } | undefined {
    const r = this.region;
    if (r === undefined || r.tag !== Tag.HEADERIMMUTABLE) return undefined;
    const sha256 = this.getString(Tag.SHA256HEADER);
    const sha1 = sha256 === undefined ? this.getString(Tag.SHA1HEADER) : undefined;
    const want = sha256 ?? sha1;
    if (want === undefined) return undefined;
    const algorithm = sha256 !== undefined ? "sha256" : "sha1";
    const ildl = Buffer.alloc(8);
    ildl.writeUInt32BE(r.ril, 0);
    ildl.writeUInt32BE(r.rdl, 4);
    const h = createHash(algorithm);
    h.update(HEADER_MAGIC_BYTES);
    h.update(ildl);
    h.update(this.blob.subarray(8, 8 + r.ril * ENTRY_INFO_SIZE));
    h.update(this.blob.subarray(r.dataStart, r.dataStart + r.rdl));
    return { algorithm, ok: h.digest("hex") === want.trim().toLowerCase() };
  }

  has(tag: number): boolean {
    return this.entries.has(tag);
  }

  /** A STRING value; the first element of a STRING_ARRAY or I18NSTRING (the "C" locale). */
  getString(tag: number): string | undefined {
    const e = this.entries.get(tag);
    if (e === undefined) return undefined;
    if (e.type !== Type.STRING && e.type !== Type.STRING_ARRAY && e.type !== Type.I18NSTRING)
      return undefined;
    return this.strings(e, 1)[0];
  }

  /** All elements of a STRING_ARRAY or I18NSTRING (a STRING gives one element). */
  getStrings(tag: number): string[] | undefined {
    const e = this.entries.get(tag);
    if (e === undefined) return undefined;
    if (e.type !== Type.STRING && e.type !== Type.STRING_ARRAY && e.type !== Type.I18NSTRING)
      return undefined;
    return this.strings(e, e.type === Type.STRING ? 1 : e.count);
  }

  /** The first value of an integer entry (CHAR/INT8/INT16/INT32/INT64; INT64 beyond 2^53 is undefined). */
  getNumber(tag: number): number | undefined {
    return this.getNumbers(tag, 1)?.[0];
  }

  /** The values of an integer entry, at most `limit` of them. */
  getNumbers(tag: number, limit = Number.POSITIVE_INFINITY): number[] | undefined {
    const e = this.entries.get(tag);
    if (e === undefined) return undefined;
    const size = TYPE_SIZE[e.type] ?? 0;
    if (e.type < Type.CHAR || e.type > Type.INT64 || size === 0) return undefined;
    const view = new DataView(this.blob.buffer, this.blob.byteOffset + e.start, e.length);
    const n = Math.min(e.count, limit);
    const out: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * size;
      switch (size) {
        case 1:
          out[i] = view.getUint8(o);
          break;
        case 2:
          out[i] = view.getUint16(o);
          break;
        case 4:
          out[i] = view.getUint32(o);
          break;
        default: {
          const v = view.getBigUint64(o);
          if (v > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
          out[i] = Number(v);
        }
      }
    }
    return out;
  }

  /** Raw bytes of an entry (BIN, CHAR, INT8 …). */
  getBytes(tag: number): Uint8Array | undefined {
    const e = this.entries.get(tag);
    return e === undefined ? undefined : this.blob.subarray(e.start, e.start + e.length);
  }

  private strings(e: HeaderEntry, n: number): string[] {
    // Lengths were verified on import: each of the `count` strings is NUL-terminated inside [start, start+length).
    const out: string[] = [];
    const end = e.start + e.length;
    let p = e.start;
    for (let i = 0; i < n && p < end; i++) {
      const z = this.blob.indexOf(0, p);
      const stop = z < 0 || z >= end ? end : z;
      out.push(this.blob.toString("utf8", p, stop));
      p = stop + 1;
    }
    return out;
  }
}

interface RawEntry {
  tag: number;
  type: number;
  offset: number;
  count: number;
}

/**
 * Parses one header blob. Throws {@link HeaderError} (and nothing else) when the blob is not a header rpm
 * itself would load.
 */
export function parseHeader(input: Uint8Array): RpmHeader {
  let blob = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  // Tolerate the on-disk package form (8-byte magic + reserved) in front of the blob.
  if (blob.length >= 16 && HEADER_MAGIC.every((b, i) => blob[i] === b)) blob = blob.subarray(8);
  if (blob.length < 8) throw new HeaderError(`header blob too short (${blob.length} bytes)`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const il = view.getUint32(0);
  const dl = view.getUint32(4);
  if (il < 1) throw new HeaderError("header has no index entries");
  if (il > MAX_TAGS) throw new HeaderError(`header index count ${il} exceeds ${MAX_TAGS}`);
  if (dl > MAX_DATA) throw new HeaderError(`header data length ${dl} exceeds ${MAX_DATA}`);
  const dataStart = 8 + il * ENTRY_INFO_SIZE;
  const pvlen = dataStart + dl;
  if (pvlen >= MAX_HEADER_BYTES) throw new HeaderError(`header size ${pvlen} exceeds ${MAX_HEADER_BYTES}`);
  if (pvlen > blob.length) {
    throw new HeaderError(
      `header truncated: il ${il} and dl ${dl} need ${pvlen} bytes, blob has ${blob.length}`,
    );
  }
  if (pvlen < blob.length) {
    throw new HeaderError(
      `header size mismatch: il ${il} and dl ${dl} give ${pvlen} bytes, blob has ${blob.length}`,
    );
  }

  const pe: RawEntry[] = new Array(il);
  for (let i = 0; i < il; i++) {
    const o = 8 + i * ENTRY_INFO_SIZE;
    pe[i] = {
      tag: view.getInt32(o),
      type: view.getUint32(o + 4),
      offset: view.getInt32(o + 8),
      count: view.getUint32(o + 12),
    };
  }

  // hdrblobVerifyRegion
  const first = pe[0] as RawEntry;
  let regionTag = 0;
  let ril = 0;
  let rdl = 0;
  if (
    first.tag === Tag.HEADERIMMUTABLE ||
    first.tag === Tag.HEADERSIGNATURES ||
    first.tag === Tag.HEADERIMAGE
  ) {
    regionTag = first.tag;
    if (first.type !== Type.BIN || first.count !== ENTRY_INFO_SIZE) {
      throw new HeaderError(`region tag ${regionTag}: bad type ${first.type} or count ${first.count}`);
    }
    if (first.offset < 0 || first.offset + ENTRY_INFO_SIZE > dl) {
      throw new HeaderError(
        `region tag ${regionTag}: trailer offset ${first.offset} outside data length ${dl}`,
      );
    }
    const t = dataStart + first.offset;
    const trailer: RawEntry = {
      tag: view.getInt32(t),
      type: view.getUint32(t + 4),
      offset: -view.getInt32(t + 8),
      count: view.getUint32(t + 12),
    };
    rdl = first.offset + ENTRY_INFO_SIZE;
    // Some old packages have HEADERIMAGE in the signature region trailer (rpm fixes this up too).
    const trailerTag =
      regionTag === Tag.HEADERSIGNATURES && trailer.tag === Tag.HEADERIMAGE
        ? Tag.HEADERSIGNATURES
        : trailer.tag;
    if (trailerTag !== regionTag || trailer.type !== Type.BIN || trailer.count !== ENTRY_INFO_SIZE) {
      throw new HeaderError(
        `region ${regionTag} trailer is bad (tag ${trailer.tag}, type ${trailer.type}, count ${trailer.count})`,
      );
    }
    ril = trailer.offset / ENTRY_INFO_SIZE;
    if (trailer.offset % ENTRY_INFO_SIZE !== 0 || ril < 1 || ril > il) {
      throw new HeaderError(`region ${regionTag} size is bad: ${ril} entries of ${il}`);
    }
  } else if (first.tag < Tag.HEADERI18NTABLE) {
    throw new HeaderError(`first header tag ${first.tag} is neither a region nor a data tag`);
  }

  // hdrblobVerifyInfo: every entry (but the region tag) in bounds, aligned, in order, not overlapping.
  const lengths: number[] = new Array(il).fill(0);
  let end = 0;
  for (let i = regionTag ? 1 : 0; i < il; i++) {
    const e = pe[i] as RawEntry;
    const where = () => `entry ${i} (tag ${e.tag}, type ${TYPE_NAMES[e.type] ?? e.type}, offset ${e.offset})`;
    if (end > e.offset) throw new HeaderError(`${where()} overlaps the previous entry's data`);
    if (e.tag < Tag.HEADERI18NTABLE) throw new HeaderError(`${where()}: tag below ${Tag.HEADERI18NTABLE}`);
    if (e.type < Type.CHAR || e.type > Type.I18NSTRING) throw new HeaderError(`${where()}: unknown type`);
    if (e.count < 1 || e.count > dl) throw new HeaderError(`${where()}: count ${e.count} out of range`);
    const size = TYPE_SIZE[e.type] as number;
    if (size > 1 && e.offset % size !== 0) throw new HeaderError(`${where()}: misaligned`);
    if (e.offset < 0 || e.offset > dl) throw new HeaderError(`${where()}: offset outside data length ${dl}`);
    const len = dataLength(blob, e.type, e.count, dataStart + e.offset, dataStart + dl);
    if (len <= 0) throw new HeaderError(`${where()}: data (count ${e.count}) runs past the data store`);
    end = e.offset + len;
    if (end > dl) throw new HeaderError(`${where()}: data runs past the data store`);
    if (regionTag && end > rdl - ENTRY_INFO_SIZE && e.offset < rdl) {
      throw new HeaderError(`${where()}: data overlaps the region trailer`);
    }
    lengths[i] = len;
  }

  // hdrblobImport / regionSwab: the entries must account for the whole data store exactly.
  const entries = new Map<number, HeaderEntry>();
  const add = (from: number, to: number, dlSoFar: number): number => {
    let sum = dlSoFar;
    for (let i = from; i < to; i++) {
      const e = pe[i] as RawEntry;
      const size = TYPE_SIZE[e.type] as number;
      if (size > 1) {
        const diff = size - (sum % size);
        if (diff !== size) sum += diff;
      }
      const len = lengths[i] as number;
      sum += len;
      entries.set(e.tag, {
        tag: e.tag,
        type: e.type,
        count: e.count,
        start: dataStart + e.offset,
        length: len,
      });
    }
    return sum;
  };
  if (!regionTag) {
    const total = add(0, il, 0);
    if (total !== dl)
      throw new HeaderError(`legacy header data length ${dl} but entries account for ${total}`);
  } else {
    let total = add(1, ril, 0);
    if (ril < il) {
      // Dribble entries replace region entries with the same tag (and new BASENAMES drop OLDFILENAMES).
      for (let i = ril; i < il; i++) {
        const tag = (pe[i] as RawEntry).tag;
        entries.delete(tag);
        if (tag === Tag.BASENAMES) entries.delete(Tag.OLDFILENAMES);
      }
      total = add(ril, il, total);
    }
    total += ENTRY_INFO_SIZE;
    if (total !== dl) throw new HeaderError(`header data length ${dl} but entries account for ${total}`);
  }
  return new RpmHeader(blob, entries, regionTag ? { tag: regionTag, ril, rdl, dataStart } : undefined);
}

/** rpm dataLength(): bytes taken by `count` elements at `start`, or -1 when they do not fit before `end`. */
function dataLength(blob: Buffer, type: number, count: number, start: number, end: number): number {
  if (type === Type.STRING || type === Type.STRING_ARRAY || type === Type.I18NSTRING) {
    if (type === Type.STRING && count !== 1) return -1;
    let p = start;
    for (let c = 0; c < count; c++) {
      if (p >= end) return -1;
      const z = blob.indexOf(0, p);
      if (z < 0 || z >= end) return -1;
      p = z + 1;
    }
    return p - start;
  }
  const len = (TYPE_SIZE[type] as number) * count;
  return start + len > end ? -1 : len;
}
