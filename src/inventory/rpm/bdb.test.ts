import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cpuClock } from "../../../test/harness/cpu-time.js";
import { type RpmdbEntry, readBdb, readBdbMeta } from "./bdb.js";
import { parseHeader, Tag } from "./header.js";
import { readSqlite } from "./sqlite.js";
import { MARINER_SQLITE, RHEL_BDB, TESTDATA } from "./testutil.js";

const rhel = readFileSync(RHEL_BDB);
const fixture = (name: string) => readFileSync(join(TESTDATA, name));

function read(buf: Buffer): { entries: RpmdbEntry[]; warnings: string[] } {
  const warnings: string[] = [];
  const entries = readBdb(buf, (m) => warnings.push(m));
  return { entries, warnings };
}

/** Page-level access to a Berkeley DB buffer in its own byte order, for building corruptions. */
function pages(buf: Buffer) {
  const meta = readBdbMeta(buf);
  const ps = meta.pageSize;
  const le = meta.littleEndian;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const w32 = (o: number, v: number) => (le ? buf.writeUInt32LE(v, o) : buf.writeUInt32BE(v, o));
  const w16 = (o: number, v: number) => (le ? buf.writeUInt16LE(v, o) : buf.writeUInt16BE(v, o));
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const inp = 26 + (meta.checksums ? 6 : 0);
  return {
    meta,
    count: buf.length / ps,
    type: (pg: number) => buf[pg * ps + 25] as number,
    next: (pg: number) => u32(pg * ps + 16),
    setNext: (pg: number, v: number) => w32(pg * ps + 16, v),
    setType: (pg: number, t: number) => {
      buf[pg * ps + 25] = t;
    },
    setEntries: (pg: number, n: number) => w16(pg * ps + 20, n),
    setHfOffset: (pg: number, n: number) => w16(pg * ps + 22, n),
    setSpare: (i: number, v: number) => w32(96 + 4 * i, v),
    /** The H_OFFPAGE items of a hash page: [offset of the item, first overflow page, tlen]. */
    offpageItems: (pg: number): [number, number, number][] => {
      const out: [number, number, number][] = [];
      const n = u16(pg * ps + 20);
      for (let i = 1; i < n; i += 2) {
        const off = pg * ps + u16(pg * ps + inp + 2 * i);
        if (buf[off] === 3) out.push([off, u32(off + 4), u32(off + 8)]);
      }
      return out;
    },
    w32,
  };
}

/** The overflow chain of the first off-page item found on a bucket page. */
function firstChain(buf: Buffer): { item: number; chain: number[]; tlen: number } {
  const p = pages(buf);
  for (let pg = 1; pg < p.count; pg++) {
    if (p.type(pg) !== 13 && p.type(pg) !== 2) continue;
    const items = p.offpageItems(pg);
    if (!items.length) continue;
    const [item, first, tlen] = items[0] as [number, number, number];
    const chain: number[] = [];
    for (let x = first; x !== 0; x = p.next(x)) chain.push(x);
    return { item, chain, tlen };
  }
  throw new Error("no off-page item");
}

describe("readBdb: real and generated Berkeley DB files", () => {
  test("RHEL 8.8 libuuid: metadata and its one header", () => {
    const meta = readBdbMeta(rhel);
    assert.deepEqual(meta, {
      littleEndian: true,
      pageSize: 4096,
      version: 9,
      lastPgno: 22,
      maxBucket: 1,
      checksums: false,
    });
    const { entries, warnings } = read(rhel);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      entries.map((e) => e.id),
      [1],
    );
    const h = parseHeader((entries[0] as RpmdbEntry).blob);
    assert.equal(h.getString(Tag.NAME), "libuuid");
    assert.deepEqual(h.checkDigest(), { algorithm: "sha256", ok: true });
  });

  // The generated files hold exactly the blobs of the sqlite database they were made from (make-fixtures.sh).
  const built = readSqlite(fixture("built/rpmdb.sqlite"), (m) => assert.fail(m));
  const mariner = readSqlite(readFileSync(MARINER_SQLITE), (m) => assert.fail(m));
  const cases: [string, { le: boolean; ps: number; chk: boolean }, RpmdbEntry[]][] = [
    ["built-le/Packages", { le: true, ps: 4096, chk: false }, built],
    ["built-be/Packages", { le: false, ps: 512, chk: false }, built],
    ["built-chksum/Packages", { le: true, ps: 1024, chk: true }, built],
    ["mariner-be/Packages", { le: false, ps: 512, chk: false }, mariner],
  ];
  for (const [file, want, source] of cases) {
    test(`${file}: byte-identical blobs to the source sqlite database`, () => {
      const buf = fixture(file);
      const meta = readBdbMeta(buf);
      assert.deepEqual([meta.littleEndian, meta.pageSize, meta.checksums], [want.le, want.ps, want.chk]);
      const { entries, warnings } = read(buf);
      assert.deepEqual(warnings, []);
      const byId = new Map(source.map((e) => [e.id, e.blob]));
      assert.ok(entries.length >= 5);
      for (const e of entries) assert.ok(byId.get(e.id)?.equals(e.blob), `header #${e.id}`);
      if (source === built) assert.equal(entries.length, built.length);
    });
  }

  test("mariner-be: a 211 KB header spread over hundreds of 512-byte overflow pages", () => {
    const { entries } = read(fixture("mariner-be/Packages"));
    const big = entries.reduce((a, b) => (a.blob.length > b.blob.length ? a : b));
    assert.equal(big.blob.length, 211788);
    assert.equal(parseHeader(big.blob).getString(Tag.NAME), "systemd");
  });

  test("values stored on the hash page itself (H_KEYDATA) as well as off-page", () => {
    const { entries, warnings } = read(fixture("inline/Packages"));
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      entries.map((e) => [e.id, parseHeader(e.blob).getString(Tag.NAME)]),
      [
        [1, "tiny"],
        [2, "small"],
        [3, "padded"],
      ],
    );
  });
});

describe("readBdb: damaged files warn and never throw or hang", () => {
  const mutate = (src: Buffer, f: (b: Buffer) => void) => {
    const b = Buffer.from(src);
    f(b);
    return read(b);
  };
  const oneWarning = (r: ReturnType<typeof read>, re: RegExp) =>
    assert.ok(
      r.warnings.some((w) => re.test(w)),
      `no warning matching ${re}: ${JSON.stringify(r.warnings)}`,
    );

  test("overflow chain that loops back to its first page", () => {
    const { chain } = firstChain(Buffer.from(rhel));
    const r = mutate(rhel, (b) => pages(b).setNext(chain.at(-1) as number, chain[0] as number));
    oneWarning(r, /overflow chain loops at page 3/);
    assert.equal(r.entries.length, 0);
  });

  test("overflow page pointing at itself", () => {
    const { chain } = firstChain(Buffer.from(rhel));
    const r = mutate(rhel, (b) => pages(b).setNext(chain[2] as number, chain[2] as number));
    oneWarning(r, /loops/);
    assert.equal(r.entries.length, 0);
  });

  test("overflow chain leaving the file", () => {
    const { chain } = firstChain(Buffer.from(rhel));
    const r = mutate(rhel, (b) => pages(b).setNext(chain[5] as number, 0xfffffff0));
    oneWarning(r, /leaves the file/);
  });

  test("overflow chain reaching a page of another type", () => {
    const { chain } = firstChain(Buffer.from(rhel));
    const r = mutate(rhel, (b) => pages(b).setType(chain[4] as number, 13));
    oneWarning(r, /reaches page \d+ of type 13/);
  });

  test("overflow page claiming more bytes than a page holds", () => {
    const { chain } = firstChain(Buffer.from(rhel));
    const r = mutate(rhel, (b) => pages(b).setHfOffset(chain[1] as number, 4095));
    oneWarning(r, /claims 4095 bytes/);
  });

  test("off-page item whose total length disagrees with its chain", () => {
    const { item, tlen } = firstChain(Buffer.from(rhel));
    oneWarning(
      mutate(rhel, (b) => pages(b).w32(item + 8, tlen + 1)),
      /holds \d+ of \d+ bytes/,
    );
    oneWarning(
      mutate(rhel, (b) => pages(b).w32(item + 8, tlen - 100)),
      /longer than its item/,
    );
    oneWarning(
      mutate(rhel, (b) => pages(b).w32(item + 8, 0xffffffff)),
      /larger than the file/,
    );
  });

  test("two items sharing one overflow chain: the second is refused", () => {
    const r = mutate(fixture("built-le/Packages"), (b) => {
      const p = pages(b);
      const items: [number, number, number][] = [];
      for (let pg = 1; pg < p.count; pg++) if (p.type(pg) === 13) items.push(...p.offpageItems(pg));
      assert.ok(items.length >= 2);
      const [first, second] = items as [[number, number, number], [number, number, number]];
      p.w32(second[0] + 4, first[1]);
      p.w32(second[0] + 8, first[2]);
    });
    oneWarning(r, /overflow page \d+ is claimed by two items/);
    assert.equal(r.entries.length, 4);
  });

  test("every item pointed at the longest chain: linear work, not quadratic", () => {
    const src = fixture("mariner-be/Packages");
    const b = Buffer.from(src);
    const p = pages(b);
    const items: [number, number, number][] = [];
    for (let pg = 1; pg < p.count; pg++) if (p.type(pg) === 13) items.push(...p.offpageItems(pg));
    const longest = items.reduce((a, x) => (x[2] > a[2] ? x : a));
    for (const [off] of items) {
      p.w32(off + 4, longest[1]);
      p.w32(off + 8, longest[2]);
    }
    const cpuMs = cpuClock();
    const r = read(b);
    assert.ok(cpuMs() < 1000);
    assert.equal(r.entries.length, 1);
    oneWarning(r, /claimed by two items/);
  });

  test("bucket page whose item count overflows the page", () => {
    const r = mutate(rhel, (b) => pages(b).setEntries(1, 0xffff));
    oneWarning(r, /odd number|overflows the page/);
  });

  test("bucket chain that loops: reported, headers still found", () => {
    const r = mutate(rhel, (b) => {
      const p = pages(b);
      for (let pg = 1; pg < p.count; pg++) if (p.type(pg) === 13) p.setNext(pg, pg);
    });
    oneWarning(r, /bucket \d+ chain loops/);
    assert.deepEqual(
      r.entries.map((e) => e.id),
      [1],
    );
  });

  test("bucket pointing past the file: the page scan recovers the headers", () => {
    const r = mutate(rhel, (b) => {
      const p = pages(b);
      for (let i = 0; i < 32; i++) p.setSpare(i, 5000);
    });
    oneWarning(r, /past the end of the file/);
    oneWarning(r, /recovered 1 headers by scanning all pages/);
    assert.equal(r.entries.length, 1);
  });

  test("metadata page problems", () => {
    const cases: [string, (b: Buffer) => void, RegExp][] = [
      ["btree magic", (b) => b.writeUInt32LE(0x053162, 12), /btree file/],
      ["no magic", (b) => b.writeUInt32LE(0x12345678, 12), /bad magic/],
      ["encrypted", (b) => (b[24] = 1), /encrypted/],
      ["page type", (b) => (b[25] = 9), /type 9/],
      ["page size 1000", (b) => b.writeUInt32LE(1000, 20), /bad page size/],
      ["page size 128k", (b) => b.writeUInt32LE(131072, 20), /bad page size/],
      ["version 3", (b) => b.writeUInt32LE(3, 16), /unsupported hash version/],
      ["too many buckets", (b) => b.writeUInt32LE(1000, 72), /claims 1001 buckets/],
    ];
    for (const [, f, re] of cases) oneWarning(mutate(rhel, f), re);
    oneWarning(read(rhel.subarray(0, 100)), /too short/);
    oneWarning(read(Buffer.alloc(0)), /too short/);
  });

  test("truncated at every page boundary and 200 other offsets", () => {
    const ps = 4096;
    const offsets = new Set<number>();
    for (let n = 0; n <= rhel.length; n += ps) offsets.add(n);
    for (let i = 0; i < 200; i++) offsets.add(Math.floor((i * 7919 * 13) % rhel.length));
    for (const n of offsets) {
      const r = read(rhel.subarray(0, n));
      if (n < rhel.length) {
        assert.ok(r.warnings.length > 0, `no warning when truncated at ${n}`);
        assert.equal(r.entries.length, 0, `header found in a file truncated at ${n}`);
      }
    }
  });

  test("truncating the 512-byte-page big-endian file keeps the headers stored before the cut", () => {
    const buf = fixture("mariner-be/Packages");
    const full = read(buf).entries.length;
    let last = full;
    for (let n = buf.length; n > 0; n -= 512 * 37) {
      const r = read(buf.subarray(0, n));
      assert.ok(r.entries.length <= last);
      last = r.entries.length;
      if (n < buf.length) assert.ok(r.warnings.some((w) => /truncated/.test(w)));
    }
    assert.ok(last < full);
  });
});
