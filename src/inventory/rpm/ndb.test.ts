import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { deflateSync } from "node:zlib";
import { cpuClock } from "../../../test/harness/cpu-time.js";
import type { RpmdbEntry } from "./bdb.js";
import { parseHeader, Tag } from "./header.js";
import { adler32, readNdb } from "./ndb.js";
import { readSqlite } from "./sqlite.js";
import { buildNdb, MARINER_SQLITE, SLES_NDB } from "./testutil.js";

const sles = readFileSync(SLES_NDB);

function read(buf: Buffer): { entries: RpmdbEntry[]; warnings: string[] } {
  const warnings: string[] = [];
  const entries = readNdb(buf, (m) => warnings.push(m));
  return { entries, warnings };
}

/** The first used slot of a file: offset of the slot and of its blob. */
function firstSlot(buf: Buffer): { slot: number; blob: number; blkcnt: number; pkgidx: number } {
  for (let o = 32; o < 4096; o += 16) {
    const blkoff = buf.readUInt32LE(o + 8);
    if (blkoff)
      return {
        slot: o,
        blob: blkoff * 16,
        blkcnt: buf.readUInt32LE(o + 12),
        pkgidx: buf.readUInt32LE(o + 4),
      };
  }
  throw new Error("no used slot");
}

describe("adler32", () => {
  test("RFC 1950 value of 'Wikipedia' and agreement with zlib's stream trailer", () => {
    assert.equal(adler32(Buffer.from("Wikipedia")), 0x11e60398);
    assert.equal(adler32(Buffer.alloc(0)), 1);
    const big = Buffer.alloc(100_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 7)) & 0xff;
    const z = deflateSync(big);
    assert.equal(adler32(big), z.readUInt32BE(z.length - 4));
    assert.equal(adler32(big, 10, 20), adler32(big.subarray(10, 20)));
  });
});

describe("readNdb: SLES 15.3 BCI Packages.db", () => {
  test("35 headers, checksums verified, package indexes as allocated (19 and 35-38 were freed)", () => {
    const { entries, warnings } = read(sles);
    assert.deepEqual(warnings, []);
    assert.equal(entries.length, 35);
    assert.deepEqual(
      entries.map((e) => e.id),
      [
        ...Array.from({ length: 18 }, (_, i) => i + 1),
        ...Array.from({ length: 15 }, (_, i) => i + 20),
        39,
        40,
      ],
    );
    assert.equal(sles.readUInt32LE(16), 41, "next package index in the file header");
    const first = parseHeader((entries[0] as RpmdbEntry).blob);
    assert.equal(first.getString(Tag.NAME), "system-user-root");
  });

  test("a written NDB file with 300 packages over two slot pages reads back", () => {
    const mariner = readSqlite(readFileSync(MARINER_SQLITE), (m) => assert.fail(m));
    const blobs = Array.from({ length: 300 }, (_, i) => ({
      id: 1000 + i,
      blob: (mariner[i % mariner.length] as RpmdbEntry).blob,
    }));
    const buf = buildNdb(blobs);
    assert.equal(buf.readUInt32LE(12), 2, "two slot pages");
    const { entries, warnings } = read(buf);
    assert.deepEqual(warnings, []);
    assert.equal(entries.length, 300);
    for (const [i, e] of entries.entries()) {
      assert.equal(e.id, 1000 + i);
      assert.ok(e.blob.equals((blobs[i] as { blob: Buffer }).blob));
    }
  });
});

describe("readNdb: damaged files", () => {
  const mutate = (f: (b: Buffer) => void) => {
    const b = Buffer.from(sles);
    f(b);
    return read(b);
  };
  const has = (r: ReturnType<typeof read>, re: RegExp) =>
    assert.ok(
      r.warnings.some((w) => re.test(w)),
      `no warning matching ${re}: ${JSON.stringify(r.warnings)}`,
    );
  const s = firstSlot(sles);

  test("a blob with a flipped byte fails its Adler-32 and only that package is lost", () => {
    const r = mutate((b) => {
      b[s.blob + 100] = (b[s.blob + 100] as number) ^ 1;
    });
    has(r, /package 1: blob checksum \(Adler-32\) mismatch/);
    assert.equal(r.entries.length, 34);
  });

  const cases: [string, (b: Buffer) => void, RegExp][] = [
    ["bad slot magic", (b) => b.write("Xlot", s.slot, "latin1"), /slot 2: bad slot magic/],
    ["slot past the end", (b) => b.writeUInt32LE(0x7fffffff, s.slot + 8), /past the end of the file/],
    ["slot inside the slot pages", (b) => b.writeUInt32LE(10, s.slot + 8), /bad entry/],
    ["slot with zero blocks", (b) => b.writeUInt32LE(0, s.slot + 12), /bad entry/],
    ["slot with package 0", (b) => b.writeUInt32LE(0, s.slot + 4), /bad entry/],
    ["blob magic", (b) => b.write("XlbS", s.blob, "latin1"), /bad blob magic/],
    ["blob of another package", (b) => b.writeUInt32LE(99, s.blob + 4), /blob belongs to package 99/],
    ["blob length vs blocks", (b) => b.writeUInt32LE(5, s.blob + 12), /does not fit its/],
    ["tail magic", (b) => b.write("XlbE", s.blob + s.blkcnt * 16 - 4, "latin1"), /bad blob tail magic/],
    ["tail length", (b) => b.writeUInt32LE(1, s.blob + s.blkcnt * 16 - 8), /tail length differs/],
    [
      "two slots for one package",
      (b) => {
        const next = s.slot + 16;
        b.writeUInt32LE(s.pkgidx, next + 4);
        b.writeUInt32LE(b.readUInt32LE(s.slot + 8), next + 8);
        b.writeUInt32LE(b.readUInt32LE(s.slot + 12), next + 12);
      },
      /appears in two slots/,
    ],
    ["version 1", (b) => b.writeUInt32LE(1, 4), /unsupported NDB version 1/],
    ["no slot pages", (b) => b.writeUInt32LE(0, 12), /declares no slot pages/],
    ["absurd slot page count", (b) => b.writeUInt32LE(0xffffffff, 12), /truncated: 4294967295 slot pages/],
    ["magic", (b) => b.write("XpmP", 0, "latin1"), /no "RpmP" magic/],
  ];
  for (const [name, f, re] of cases) test(name, () => has(mutate(f), re));

  test("crafted slots that would checksum the same bytes over and over are stopped", () => {
    const big = Buffer.alloc(1 << 20, 0x61);
    const buf = buildNdb([{ id: 1, blob: big }]);
    const blobStart = buf.readUInt32LE(32 + 8) * 16;
    // 250 fake blob heads inside the big blob, each claiming the rest of the file
    for (let i = 0; i < 250; i++) {
      const at = blobStart + 4096 * (i + 1);
      const blkcnt = (buf.length - at) / 16;
      buf.write("BlbS", at, "latin1");
      buf.writeUInt32LE(100 + i, at + 4);
      buf.writeUInt32LE(16 * blkcnt - 28, at + 12);
      const slot = (i + 3) * 16;
      buf.writeUInt32LE(100 + i, slot + 4);
      buf.writeUInt32LE(at / 16, slot + 8);
      buf.writeUInt32LE(blkcnt, slot + 12);
    }
    const cpuMs = cpuClock();
    const r = read(buf);
    assert.ok(cpuMs() < 2000);
    has(r, /slots cover more data than the file holds; stopped/);
  });

  test("every slot damaged: one warning per problem up to 20, then a summary", () => {
    const r = mutate((b) => {
      for (let o = 32; o < 4096; o += 16) b.write("Xlot", o, "latin1");
    });
    assert.equal(r.entries.length, 0);
    assert.equal(r.warnings.length, 21);
    assert.match(r.warnings[20] ?? "", /further NDB problems not reported/);
  });

  test("truncated at 400 offsets: only complete, verified blobs come back", () => {
    const full = read(sles).entries;
    const byId = new Map(full.map((e) => [e.id, e.blob]));
    for (let i = 0; i < 400; i++) {
      const n = Math.floor((i / 400) * sles.length);
      const r = read(sles.subarray(0, n));
      assert.ok(r.warnings.length > 0, `no warning when truncated at ${n}`);
      for (const e of r.entries) assert.ok(byId.get(e.id)?.equals(e.blob));
    }
    assert.ok(read(sles.subarray(0, 10)).warnings.some((w) => /too short/.test(w)));
  });
});
