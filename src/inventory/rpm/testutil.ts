/**
 * Test helpers for the rpm readers: a header blob writer (the layout rpm's headerExport produces), an NDB
 * writer (rpmpkg.c layout), a deterministic PRNG and the fixture paths. Used by tests only.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tag, Type } from "./header.js";
import { adler32 } from "./ndb.js";

export const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), "testdata");
export const SHARED = "/work/shared/fixtures/pkgdb";
export const MARINER_SQLITE = `${SHARED}/cbl-mariner-2.0/var/lib/rpm/rpmdb.sqlite`;
export const MARINER_TSV = `${SHARED}/cbl-mariner-2.0/expected-packages.tsv`;
export const SLES_NDB = `${SHARED}/sles-15.3-bci/var/lib/rpm/Packages.db`;
export const RHEL_BDB = `${SHARED}/rhel-8.8-libuuid-only/var/lib/rpm/Packages`;

export type Value = string | string[] | number[] | bigint[] | Uint8Array;

export interface EntrySpec {
  tag: number;
  type: number;
  value: Value;
  /** Override the count written to the index (for corrupt headers). */
  count?: number;
}

const ALIGN: Record<number, number> = { [Type.INT16]: 2, [Type.INT32]: 4, [Type.INT64]: 8 };

function encode(e: EntrySpec): { data: Buffer; count: number } {
  const v = e.value;
  switch (e.type) {
    case Type.STRING:
      return { data: Buffer.from(`${v as string}\0`, "utf8"), count: 1 };
    case Type.STRING_ARRAY:
    case Type.I18NSTRING: {
      const a = v as string[];
      return { data: Buffer.from(a.map((s) => `${s}\0`).join(""), "utf8"), count: a.length };
    }
    case Type.CHAR:
    case Type.INT8:
    case Type.BIN:
      return { data: Buffer.from(v as Uint8Array), count: (v as Uint8Array).length };
    case Type.INT16:
    case Type.INT32: {
      const a = v as number[];
      const size = e.type === Type.INT16 ? 2 : 4;
      const b = Buffer.alloc(a.length * size);
      for (const [i, n] of a.entries()) {
        if (size === 2) b.writeUInt16BE(n, i * 2);
        else b.writeUInt32BE(n >>> 0, i * 4);
      }
      return { data: b, count: a.length };
    }
    case Type.INT64: {
      const a = v as bigint[];
      const b = Buffer.alloc(a.length * 8);
      for (const [i, n] of a.entries()) b.writeBigUInt64BE(n, i * 8);
      return { data: b, count: a.length };
    }
    default:
      throw new Error(`cannot encode type ${e.type}`);
  }
}

export interface BuildOptions {
  /** Region tag for the first entry (default HEADERIMMUTABLE); 0 writes a legacy header without a region. */
  regionTag?: number;
  /** Entries after the region (install-time "dribbles"). */
  dribbles?: EntrySpec[];
}

/** Writes a header blob the way rpm lays it out: region tag, region entries, trailer, dribble entries. */
export function buildHeader(entries: EntrySpec[], opts: BuildOptions = {}): Buffer {
  const regionTag = opts.regionTag ?? Tag.HEADERIMMUTABLE;
  const dribbles = opts.dribbles ?? [];
  const index: { tag: number; type: number; offset: number; count: number }[] = [];
  const chunks: Buffer[] = [];
  let dl = 0;
  const put = (e: EntrySpec) => {
    const { data, count } = encode(e);
    const a = ALIGN[e.type] ?? 1;
    const pad = (a - (dl % a)) % a;
    if (pad) chunks.push(Buffer.alloc(pad));
    dl += pad;
    index.push({ tag: e.tag, type: e.type, offset: dl, count: e.count ?? count });
    chunks.push(data);
    dl += data.length;
  };
  if (regionTag) index.push({ tag: regionTag, type: Type.BIN, offset: 0, count: 16 });
  for (const e of entries) put(e);
  if (regionTag) {
    const ril = entries.length + 1;
    (index[0] as { offset: number }).offset = dl;
    const trailer = Buffer.alloc(16);
    trailer.writeInt32BE(regionTag, 0);
    trailer.writeUInt32BE(Type.BIN, 4);
    trailer.writeInt32BE(-ril * 16, 8);
    trailer.writeUInt32BE(16, 12);
    chunks.push(trailer);
    dl += 16;
  }
  for (const e of dribbles) put(e);
  const head = Buffer.alloc(8 + index.length * 16);
  head.writeUInt32BE(index.length, 0);
  head.writeUInt32BE(dl, 4);
  index.forEach((x, i) => {
    const o = 8 + i * 16;
    head.writeInt32BE(x.tag, o);
    head.writeUInt32BE(x.type, o + 4);
    head.writeInt32BE(x.offset, o + 8);
    head.writeUInt32BE(x.count, o + 12);
  });
  return Buffer.concat([head, ...chunks]);
}

/** The usual NAME/VERSION/RELEASE/… entries of a package header. */
export function packageEntries(p: {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  sourceRpm?: string;
  vendor?: string;
  license?: string;
  files?: string[];
  extra?: EntrySpec[];
}): EntrySpec[] {
  const e: EntrySpec[] = [
    { tag: Tag.NAME, type: Type.STRING, value: p.name },
    { tag: Tag.VERSION, type: Type.STRING, value: p.version },
    { tag: Tag.RELEASE, type: Type.STRING, value: p.release },
  ];
  if (p.epoch !== undefined) e.push({ tag: Tag.EPOCH, type: Type.INT32, value: [p.epoch] });
  e.push({ tag: Tag.SUMMARY, type: Type.I18NSTRING, value: [`${p.name} summary`] });
  e.push({ tag: Tag.SIZE, type: Type.INT32, value: [1234] });
  if (p.vendor !== undefined) e.push({ tag: Tag.VENDOR, type: Type.STRING, value: p.vendor });
  if (p.license !== undefined) e.push({ tag: Tag.LICENSE, type: Type.STRING, value: p.license });
  if (p.arch !== undefined) e.push({ tag: Tag.ARCH, type: Type.STRING, value: p.arch });
  if (p.sourceRpm !== undefined) e.push({ tag: Tag.SOURCERPM, type: Type.STRING, value: p.sourceRpm });
  if (p.files?.length) {
    const dirs: string[] = [];
    const idx: number[] = [];
    const base: string[] = [];
    for (const f of p.files) {
      const cut = f.lastIndexOf("/") + 1;
      const d = f.slice(0, cut);
      let i = dirs.indexOf(d);
      if (i < 0) i = dirs.push(d) - 1;
      idx.push(i);
      base.push(f.slice(cut));
    }
    e.push({ tag: Tag.DIRINDEXES, type: Type.INT32, value: idx });
    e.push({ tag: Tag.BASENAMES, type: Type.STRING_ARRAY, value: base });
    e.push({ tag: Tag.DIRNAMES, type: Type.STRING_ARRAY, value: dirs });
  }
  e.push(...(p.extra ?? []));
  return e.sort((a, b) => a.tag - b.tag);
}

/** Writes an NDB Packages.db holding the given blobs (package index = position + 1 unless given). */
export function buildNdb(blobs: { id?: number; blob: Buffer }[], opts: { slotPages?: number } = {}): Buffer {
  const slotsPerPage = 4096 / 16;
  const slotPages = opts.slotPages ?? Math.max(1, Math.ceil((blobs.length + 2) / slotsPerPage));
  const slotArea = Buffer.alloc(slotPages * 4096);
  for (let i = 0; i < slotPages * slotsPerPage; i++) slotArea.write("Slot", i * 16, "latin1");
  const parts: Buffer[] = [slotArea];
  let blk = (slotPages * 4096) / 16;
  blobs.forEach(({ id, blob }, i) => {
    const pkgidx = id ?? i + 1;
    const blkcnt = Math.ceil((16 + blob.length + 12) / 16);
    const area = Buffer.alloc(blkcnt * 16);
    area.write("BlbS", 0, "latin1");
    area.writeUInt32LE(pkgidx, 4);
    area.writeUInt32LE(1700000000, 8);
    area.writeUInt32LE(blob.length, 12);
    blob.copy(area, 16);
    const tail = area.length - 12;
    area.writeUInt32LE(adler32(area, 0, tail), tail);
    area.writeUInt32LE(blob.length, tail + 4);
    area.write("BlbE", tail + 8, "latin1");
    const slot = (i + 2) * 16;
    slotArea.writeUInt32LE(pkgidx, slot + 4);
    slotArea.writeUInt32LE(blk, slot + 8);
    slotArea.writeUInt32LE(blkcnt, slot + 12);
    parts.push(area);
    blk += blkcnt;
  });
  // file header over the first two slots
  slotArea.fill(0, 0, 32);
  slotArea.write("RpmP", 0, "latin1");
  slotArea.writeUInt32LE(0, 4);
  slotArea.writeUInt32LE(1, 8);
  slotArea.writeUInt32LE(slotPages, 12);
  slotArea.writeUInt32LE(blobs.length + 1, 16);
  return Buffer.concat(parts);
}

/** mulberry32: a small deterministic PRNG for the fuzz tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reads a TSV with a header line (lines starting with # are comments) into records. */
export function readTsv(path: string): Record<string, string>[] {
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
  const head = (lines.shift() ?? "").split("\t");
  return lines.map((l) => {
    const cells = l.split("\t");
    return Object.fromEntries(head.map((h, i) => [h, cells[i] ?? ""]));
  });
}
