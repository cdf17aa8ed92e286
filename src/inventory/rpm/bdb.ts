/**
 * rpm's Berkeley DB `Packages` file: a Berkeley DB 5.x (also 4.x) *hash* access-method database mapping a
 * 4-byte header number to a header blob.
 *
 * Specification: Berkeley DB 5.3 on-disk page formats, `src/dbinc/db_page.h` (DBMETA and HMETA metadata
 * page, PAGE header, P_HASH / P_HASH_UNSORTED bucket pages with key/data index pairs, H_KEYDATA and
 * H_OFFPAGE items, P_OVERFLOW page chains whose hf_offset holds the bytes used on each page) and
 * `src/dbinc/hash.h` (BS_TO_PAGE: bucket b lives on page b + spares[⌈log2(b+1)⌉]). Files are written in the
 * byte order of the machine that created them, recognised by the hash magic 0x061561 read either way. rpm
 * keeps its next free header number under key 0 (skipped here).
 *
 * Written from the format documentation above; knqyf263/go-rpmdb (`pkg/bdb`, MIT) was read as a reference
 * for how rpm uses it. Unlike that reader this one also handles on-page (H_KEYDATA) values, page checksums,
 * overflow chains that loop or leave the file, and walks the buckets the way a Berkeley DB cursor does
 * (falling back to a linear page scan only when the bucket structure is damaged).
 */

const HASH_MAGIC = 0x061561;
const BTREE_MAGIC = 0x053162;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_DUPLICATE = 2;
const H_OFFPAGE = 3;
const H_OFFDUP = 4;
const SIZEOF_PAGE = 26;
const DBMETA_CHKSUM = 0x01;
const NCACHED = 32;
/** rpm's headers are below 256 MiB; a bigger overflow item is corrupt. */
const MAX_ITEM = 256 * 1024 * 1024;

export interface RpmdbEntry {
  /** Header number (rpm's "hnum" / instance). */
  id: number;
  blob: Buffer;
}

export interface BdbInfo {
  littleEndian: boolean;
  pageSize: number;
  version: number;
  lastPgno: number;
  maxBucket: number;
  checksums: boolean;
}

export class BdbError extends Error {
  override name = "BdbError";
}

/** Reads the metadata page; throws {@link BdbError} when this is not a usable hash database. */
export function readBdbMeta(buf: Buffer): BdbInfo {
  if (buf.length < 512)
    throw new BdbError(`file too short for a Berkeley DB metadata page (${buf.length} bytes)`);
  let le: boolean;
  const magicLe = buf.readUInt32LE(12);
  const magicBe = buf.readUInt32BE(12);
  if (magicLe === HASH_MAGIC) le = true;
  else if (magicBe === HASH_MAGIC) le = false;
  else if (magicLe === BTREE_MAGIC || magicBe === BTREE_MAGIC) {
    throw new BdbError("Berkeley DB btree file, not the hash database rpm uses for Packages");
  } else throw new BdbError("not a Berkeley DB hash file (bad magic)");
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const version = u32(16);
  const pageSize = u32(20);
  const encrypt = buf[24] as number;
  const type = buf[25] as number;
  const metaflags = buf[26] as number;
  if (type !== P_HASHMETA) throw new BdbError(`metadata page has type ${type}, not a hash metadata page`);
  if (version < 7 || version > 10) throw new BdbError(`unsupported hash version ${version}`);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw new BdbError(`bad page size ${pageSize}`);
  }
  if (encrypt !== 0) throw new BdbError("encrypted Berkeley DB files are not supported");
  return {
    littleEndian: le,
    pageSize,
    version,
    lastPgno: u32(32),
    maxBucket: u32(72),
    checksums: (metaflags & DBMETA_CHKSUM) !== 0,
  };
}

/**
 * Yields every header blob of a Berkeley DB `Packages` file, ordered by header number. Problems go to
 * `warn`; nothing here throws and every read is bounds-checked.
 */
export function readBdb(buf: Buffer, warn: (msg: string) => void): RpmdbEntry[] {
  let info: BdbInfo;
  try {
    info = readBdbMeta(buf);
  } catch (e) {
    warn(e instanceof Error ? e.message : String(e));
    return [];
  }
  const { littleEndian: le, pageSize } = info;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const pagesInFile = Math.floor(buf.length / pageSize);
  if (buf.length % pageSize !== 0)
    warn(`file size ${buf.length} is not a multiple of the page size ${pageSize}`);
  let npages = pagesInFile;
  if (info.lastPgno + 1 < npages) npages = info.lastPgno + 1;
  else if (info.lastPgno + 1 > npages) {
    warn(`truncated: metadata says ${info.lastPgno + 1} pages, file holds ${pagesInFile}`);
  }
  // Index array offset: after the 26-byte header, plus 2 alignment bytes and a 4-byte checksum when on.
  const inpOffset = SIZEOF_PAGE + (info.checksums ? 6 : 0);

  const found = new Map<number, Buffer>();
  let damaged = false;
  let problems = 0;
  const problem = (msg: string) => {
    damaged = true;
    if (++problems <= 20) warn(msg);
    else if (problems === 21) warn("further Berkeley DB page problems not reported");
  };

  const pageType = (pgno: number) => buf[pgno * pageSize + 25] as number;
  const overflowUsed = new Set<number>();

  /** The value of an H_OFFPAGE item: follow the overflow chain, bounded and loop-checked. */
  const overflow = (first: number, tlen: number): Buffer | undefined => {
    if (tlen > MAX_ITEM || tlen > buf.length) {
      problem(`overflow item of ${tlen} bytes is larger than the file`);
      return undefined;
    }
    const parts: Buffer[] = [];
    let total = 0;
    const seen = new Set<number>();
    for (let pg = first; pg !== 0; ) {
      if (pg >= npages) {
        problem(`overflow chain leaves the file at page ${pg}`);
        return undefined;
      }
      if (seen.has(pg)) {
        problem(`overflow chain loops at page ${pg}`);
        return undefined;
      }
      // An overflow page belongs to one item; refusing shared pages also keeps the work linear in the file
      // size when a crafted file points many items at one long chain.
      if (overflowUsed.has(pg)) {
        problem(`overflow page ${pg} is claimed by two items`);
        return undefined;
      }
      seen.add(pg);
      overflowUsed.add(pg);
      const base = pg * pageSize;
      if (pageType(pg) !== P_OVERFLOW) {
        problem(`overflow chain reaches page ${pg} of type ${pageType(pg)}`);
        return undefined;
      }
      const len = u16(base + 22);
      if (len > pageSize - inpOffset) {
        problem(`overflow page ${pg} claims ${len} bytes`);
        return undefined;
      }
      if (total + len > tlen) {
        problem(`overflow chain from page ${first} is longer than its item (${tlen} bytes)`);
        return undefined;
      }
      parts.push(buf.subarray(base + inpOffset, base + inpOffset + len));
      total += len;
      pg = u32(base + 16);
    }
    if (total !== tlen) {
      problem(`overflow chain from page ${first} holds ${total} of ${tlen} bytes`);
      return undefined;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total);
  };

  /** Reads the key/data pairs of one hash page. */
  const hashPage = (pg: number) => {
    const base = pg * pageSize;
    const entries = u16(base + 20);
    if (entries % 2 !== 0) problem(`hash page ${pg} has an odd number of items (${entries})`);
    if (inpOffset + entries * 2 > pageSize) {
      problem(`hash page ${pg} index of ${entries} items overflows the page`);
      return;
    }
    const inp = (i: number) => u16(base + inpOffset + 2 * i);
    const item = (i: number): [number, number] | undefined => {
      const off = inp(i);
      const hi = i === 0 ? pageSize : inp(i - 1);
      if (off < inpOffset + entries * 2 || off >= hi || hi > pageSize) {
        problem(`hash page ${pg} item ${i} at offset ${off} is out of place`);
        return undefined;
      }
      return [base + off, hi - off];
    };
    for (let i = 0; i + 1 < entries; i += 2) {
      const k = item(i);
      const d = item(i + 1);
      if (k === undefined || d === undefined) continue;
      const [kOff, kLen] = k;
      if (buf[kOff] !== H_KEYDATA || kLen !== 5) {
        problem(`hash page ${pg} pair ${i / 2}: key is not a 4-byte header number`);
        continue;
      }
      const id = u32(kOff + 1);
      if (id === 0) continue; // rpm's "next header number" record
      if (found.has(id)) {
        problem(`header number ${id} appears twice (page ${pg})`);
        continue;
      }
      const [dOff, dLen] = d;
      const dType = buf[dOff];
      let value: Buffer | undefined;
      if (dType === H_KEYDATA) value = buf.subarray(dOff + 1, dOff + dLen);
      else if (dType === H_OFFPAGE) {
        if (dLen < 12) {
          problem(`hash page ${pg}: short off-page item for header ${id}`);
          continue;
        }
        value = overflow(u32(dOff + 4), u32(dOff + 8));
      } else if (dType === H_DUPLICATE || dType === H_OFFDUP) {
        problem(`hash page ${pg}: header ${id} has duplicate data items, which rpm never writes`);
        continue;
      } else {
        problem(`hash page ${pg}: header ${id} has an item of unknown type ${dType}`);
        continue;
      }
      if (value === undefined) warn(`header #${id} skipped: its overflow pages are damaged`);
      else found.set(id, value);
    }
  };

  const isHashPage = (pg: number) => {
    const t = pageType(pg);
    return t === P_HASH || t === P_HASH_UNSORTED;
  };

  // Walk every bucket and its chain of overflow bucket pages, as a cursor does.
  const visited = new Set<number>();
  const spares: number[] = [];
  for (let i = 0; i < NCACHED; i++) spares.push(u32(96 + 4 * i));
  if (info.maxBucket >= npages) {
    problem(`metadata claims ${info.maxBucket + 1} buckets in ${npages} pages`);
  } else {
    for (let b = 0; b <= info.maxBucket; b++) {
      let log2 = 0; // __db_log2(b + 1): the smallest i with 2^i >= b + 1
      while (2 ** log2 < b + 1) log2++;
      let pg = b + (spares[log2] ?? 0);
      while (pg !== 0) {
        if (pg >= npages) {
          problem(`bucket ${b} points at page ${pg}, past the end of the file`);
          break;
        }
        if (visited.has(pg)) {
          problem(`bucket ${b} chain loops at page ${pg}`);
          break;
        }
        visited.add(pg);
        if (!isHashPage(pg)) {
          problem(`bucket ${b} reaches page ${pg} of type ${pageType(pg)}`);
          break;
        }
        if (u32(pg * pageSize + 8) !== pg)
          problem(`page ${pg} records page number ${u32(pg * pageSize + 8)}`);
        hashPage(pg);
        pg = u32(pg * pageSize + 16);
      }
    }
  }
  // A damaged bucket structure: also scan every page, as go-rpmdb and rpm's bdb_ro verifier do.
  if (damaged) {
    const before = found.size;
    for (let pg = 1; pg < npages; pg++) if (!visited.has(pg) && isHashPage(pg)) hashPage(pg);
    if (found.size > before) warn(`recovered ${found.size - before} headers by scanning all pages`);
  }
  return [...found.entries()].sort((a, b) => a[0] - b[0]).map(([id, blob]) => ({ id, blob }));
}
