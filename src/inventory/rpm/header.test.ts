import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { cpuClock } from "../../../test/harness/cpu-time.js";
import { HeaderError, parseHeader, Tag, Type } from "./header.js";
import { readSqlite } from "./sqlite.js";
import { buildHeader, type EntrySpec, MARINER_SQLITE, packageEntries, prng } from "./testutil.js";

const basic = packageEntries({
  name: "bash",
  version: "5.1.8",
  release: "1.cm2",
  epoch: 2,
  arch: "x86_64",
  sourceRpm: "bash-5.1.8-1.cm2.src.rpm",
  vendor: "Microsoft Corporation",
  license: "GPLv3+",
  files: ["/usr/bin/bash", "/usr/bin/sh", "/etc/skel/.bashrc"],
});

/** Patches one index entry field of a blob: 0 tag, 1 type, 2 offset, 3 count. */
function patchIndex(blob: Buffer, entry: number, field: 0 | 1 | 2 | 3, value: number): Buffer {
  const b = Buffer.from(blob);
  b.writeInt32BE(value | 0, 8 + entry * 16 + field * 4);
  return b;
}

function entryIndex(blob: Buffer, tag: number): number {
  const il = blob.readUInt32BE(0);
  for (let i = 0; i < il; i++) if (blob.readInt32BE(8 + i * 16) === tag) return i;
  throw new Error(`tag ${tag} not in blob`);
}

describe("parseHeader: well-formed headers", () => {
  test("region header: strings, numbers, arrays, I18N", () => {
    const h = parseHeader(buildHeader(basic));
    assert.equal(h.region?.tag, Tag.HEADERIMMUTABLE);
    assert.equal(h.getString(Tag.NAME), "bash");
    assert.equal(h.getString(Tag.VERSION), "5.1.8");
    assert.equal(h.getString(Tag.RELEASE), "1.cm2");
    assert.equal(h.getNumber(Tag.EPOCH), 2);
    assert.equal(h.getString(Tag.SUMMARY), "bash summary");
    assert.deepEqual(h.getStrings(Tag.DIRNAMES), ["/usr/bin/", "/etc/skel/"]);
    assert.deepEqual(h.getStrings(Tag.BASENAMES), ["bash", "sh", ".bashrc"]);
    assert.deepEqual(h.getNumbers(Tag.DIRINDEXES), [0, 0, 1]);
    assert.equal(h.getString(Tag.MODULARITYLABEL), undefined);
    assert.equal(h.getNumber(Tag.NAME), undefined, "a string tag is not a number");
    assert.equal(h.getString(Tag.EPOCH), undefined, "a number tag is not a string");
    assert.equal(h.checkDigest(), undefined, "no digest tag, nothing to check");
  });

  test("all value types decode big-endian", () => {
    const entries: EntrySpec[] = [
      { tag: Tag.NAME, type: Type.STRING, value: "x" },
      { tag: 1100, type: Type.CHAR, value: Uint8Array.of(65, 66) },
      { tag: 1101, type: Type.INT8, value: Uint8Array.of(255) },
      { tag: 1102, type: Type.INT16, value: [1, 65535] },
      { tag: 1103, type: Type.INT32, value: [0xdeadbeef, 7] },
      { tag: 1104, type: Type.INT64, value: [5n, 2n ** 40n] },
      { tag: 1105, type: Type.BIN, value: Uint8Array.of(1, 2, 3) },
      { tag: 1106, type: Type.STRING_ARRAY, value: ["a", "", "ünï"] },
      { tag: 1107, type: Type.I18NSTRING, value: ["C text", "de Text"] },
      { tag: 1108, type: Type.INT64, value: [2n ** 60n] },
    ];
    const h = parseHeader(buildHeader(entries));
    assert.deepEqual(h.getNumbers(1100), [65, 66]);
    assert.deepEqual(h.getNumbers(1101), [255]);
    assert.deepEqual(h.getNumbers(1102), [1, 65535]);
    assert.deepEqual(h.getNumbers(1103), [0xdeadbeef, 7]);
    assert.deepEqual(h.getNumbers(1104), [5, 2 ** 40]);
    assert.deepEqual([...(h.getBytes(1105) ?? [])], [1, 2, 3]);
    assert.deepEqual(h.getStrings(1106), ["a", "", "ünï"]);
    assert.equal(h.getString(1106), "a");
    assert.equal(h.getString(1107), "C text", "I18NSTRING gives the C locale first");
    assert.equal(h.getNumber(1108), undefined, "INT64 beyond 2^53 is not a safe number");
  });

  test("legacy header without a region", () => {
    const h = parseHeader(buildHeader(basic, { regionTag: 0 }));
    assert.equal(h.region, undefined);
    assert.equal(h.getString(Tag.NAME), "bash");
    assert.deepEqual(h.getStrings(Tag.BASENAMES), ["bash", "sh", ".bashrc"]);
  });

  test("dribble entries replace region entries; a new BASENAMES drops OLDFILENAMES", () => {
    const region = [
      { tag: Tag.NAME, type: Type.STRING, value: "pkg" },
      { tag: Tag.VERSION, type: Type.STRING, value: "1" },
      { tag: Tag.RELEASE, type: Type.STRING, value: "1" },
      { tag: Tag.OLDFILENAMES, type: Type.STRING_ARRAY, value: ["/old"] },
    ];
    const h = parseHeader(
      buildHeader(region, {
        dribbles: [
          { tag: Tag.INSTALLTIME, type: Type.INT32, value: [1700000000] },
          { tag: Tag.RELEASE, type: Type.STRING, value: "2.replaced" },
          { tag: Tag.BASENAMES, type: Type.STRING_ARRAY, value: ["new"] },
        ],
      }),
    );
    assert.equal(h.getString(Tag.RELEASE), "2.replaced");
    assert.equal(h.getNumber(Tag.INSTALLTIME), 1700000000);
    assert.equal(h.has(Tag.OLDFILENAMES), false);
    assert.deepEqual(h.getStrings(Tag.BASENAMES), ["new"]);
    assert.equal(h.region?.ril, 5);
  });

  test("signature-style regions (62, 61) are accepted", () => {
    for (const regionTag of [Tag.HEADERSIGNATURES, Tag.HEADERIMAGE]) {
      assert.equal(parseHeader(buildHeader(basic, { regionTag })).getString(Tag.NAME), "bash");
    }
  });

  test("the on-disk package form with the 8-byte header magic in front", () => {
    const blob = Buffer.concat([Buffer.from([0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0]), buildHeader(basic)]);
    assert.equal(parseHeader(blob).getString(Tag.NAME), "bash");
  });

  test("a plain Uint8Array works as well as a Buffer", () => {
    const b = buildHeader(basic);
    assert.equal(parseHeader(new Uint8Array(b)).getString(Tag.NAME), "bash");
  });
});

describe("parseHeader: damaged headers give HeaderError, never a bad read", () => {
  const good = buildHeader(basic);
  const il = good.readUInt32BE(0);
  const dl = good.readUInt32BE(4);
  const trailerAt = 8 + il * 16 + good.readInt32BE(8 + 8);
  const nameIdx = entryIndex(good, Tag.NAME);
  const epochIdx = entryIndex(good, Tag.EPOCH);
  const cases: { name: string; blob: Buffer; message: RegExp }[] = [
    { name: "empty", blob: Buffer.alloc(0), message: /too short/ },
    { name: "7 bytes", blob: good.subarray(0, 7), message: /too short/ },
    { name: "no entries", blob: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]), message: /no index entries/ },
    {
      name: "too many entries",
      blob: (() => {
        const b = Buffer.from(good);
        b.writeUInt32BE(0x10000, 0);
        return b;
      })(),
      message: /index count/,
    },
    {
      name: "data length above HEADER_DATA_MAX",
      blob: (() => {
        const b = Buffer.from(good);
        b.writeUInt32BE(0x10000000, 4);
        return b;
      })(),
      message: /data length/,
    },
    { name: "truncated by one byte", blob: good.subarray(0, good.length - 1), message: /truncated/ },
    { name: "index only", blob: good.subarray(0, 8 + il * 16), message: /truncated/ },
    { name: "trailing garbage", blob: Buffer.concat([good, Buffer.from([0])]), message: /size mismatch/ },
    {
      name: "region tag has the wrong type",
      blob: patchIndex(good, 0, 1, Type.INT32),
      message: /region tag 63/,
    },
    { name: "region tag has the wrong count", blob: patchIndex(good, 0, 3, 15), message: /region tag 63/ },
    {
      name: "region trailer offset past the data",
      blob: patchIndex(good, 0, 2, dl),
      message: /trailer offset/,
    },
    { name: "region trailer offset negative", blob: patchIndex(good, 0, 2, -16), message: /trailer offset/ },
    {
      name: "trailer claims more entries than the index",
      blob: (() => {
        const b = Buffer.from(good);
        b.writeInt32BE(-(il + 1) * 16, trailerAt + 8);
        return b;
      })(),
      message: /size is bad/,
    },
    {
      name: "trailer offset not a multiple of 16",
      blob: (() => {
        const b = Buffer.from(good);
        b.writeInt32BE(-17, trailerAt + 8);
        return b;
      })(),
      message: /size is bad/,
    },
    {
      name: "trailer tag differs",
      blob: (() => {
        const b = Buffer.from(good);
        b.writeInt32BE(62, trailerAt);
        return b;
      })(),
      message: /trailer is bad/,
    },
    {
      name: "first tag is neither region nor data",
      blob: patchIndex(good, 0, 0, 50),
      message: /neither a region/,
    },
    { name: "entry tag below 100", blob: patchIndex(good, nameIdx, 0, 99), message: /tag below 100/ },
    { name: "unknown type 10", blob: patchIndex(good, nameIdx, 1, 10), message: /unknown type/ },
    { name: "NULL type", blob: patchIndex(good, nameIdx, 1, 0), message: /unknown type/ },
    { name: "count zero", blob: patchIndex(good, epochIdx, 3, 0), message: /count 0 out of range/ },
    {
      name: "count larger than the data",
      blob: patchIndex(good, epochIdx, 3, dl + 1),
      message: /out of range/,
    },
    {
      name: "INT32 count runs past the data",
      blob: patchIndex(good, epochIdx, 3, dl / 4),
      message: /runs past|overlap/,
    },
    {
      name: "misaligned INT32",
      blob: patchIndex(good, epochIdx, 2, good.readInt32BE(8 + epochIdx * 16 + 8) + 1),
      message: /misaligned|overlap/,
    },
    { name: "STRING with count 2", blob: patchIndex(good, nameIdx, 3, 2), message: /runs past/ },
    { name: "offset negative", blob: patchIndex(good, nameIdx, 2, -4), message: /overlaps|offset outside/ },
    {
      name: "offset past the data",
      blob: patchIndex(good, nameIdx, 2, 0x7ffffff0),
      message: /offset outside/,
    },
    {
      name: "entries out of order (overlap)",
      blob: patchIndex(good, nameIdx + 1, 2, good.readInt32BE(8 + nameIdx * 16 + 8)),
      message: /overlaps/,
    },
    {
      name: "string without its NUL at the end of the data",
      blob: buildHeader([{ tag: Tag.NAME, type: Type.STRING, value: "x" }], { regionTag: 0 }).fill(
        0x41,
        8 + 16,
      ),
      message: /runs past/,
    },
    {
      name: "data store with a gap not covered by entries",
      blob: (() => {
        // one extra byte at the end of the legacy data store
        const b = buildHeader([{ tag: Tag.NAME, type: Type.STRING, value: "x" }], { regionTag: 0 });
        const out = Buffer.concat([b, Buffer.from([0])]);
        out.writeUInt32BE(b.readUInt32BE(4) + 1, 4);
        return out;
      })(),
      message: /account for/,
    },
    {
      name: "entry data overlapping the region trailer",
      blob: (() => {
        // the last region entry (a STRING_ARRAY) claims one more string: the trailer bytes
        const b = buildHeader([
          { tag: Tag.NAME, type: Type.STRING, value: "x" },
          { tag: Tag.BASENAMES, type: Type.STRING_ARRAY, value: ["a"] },
        ]);
        const i = entryIndex(b, Tag.BASENAMES);
        return patchIndex(b, i, 3, 2);
      })(),
      message: /trailer|runs past/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.throws(
        () => parseHeader(c.blob),
        (e: unknown) => e instanceof HeaderError && c.message.test(e.message),
      );
    });
  }
});

describe("parseHeader on real headers (CBL-Mariner rpmdb.sqlite)", () => {
  const blobs = readSqlite(readFileSync(MARINER_SQLITE), (m) => assert.fail(m));

  test("every header parses and its SHA256HEADER digest verifies", () => {
    assert.equal(blobs.length, 129);
    for (const { id, blob } of blobs) {
      const h = parseHeader(blob);
      assert.equal(h.region?.tag, Tag.HEADERIMMUTABLE, `#${id}`);
      assert.deepEqual(h.checkDigest(), { algorithm: "sha256", ok: true }, `#${id}`);
    }
  });

  test("a flipped byte inside the immutable region fails the digest", () => {
    const { blob } = blobs[0] as { blob: Buffer };
    const h0 = parseHeader(blob);
    const name = h0.entries.get(Tag.NAME);
    assert.ok(name);
    const b = Buffer.from(blob);
    b[name.start] = (b[name.start] as number) ^ 0x20; // change the case of the first letter of the name
    const h = parseHeader(b);
    assert.deepEqual(h.checkDigest(), { algorithm: "sha256", ok: false });
  });

  test("truncation at every offset of a real header: HeaderError every time", () => {
    const { blob } = blobs.reduce((a, b) => (a.blob.length < b.blob.length ? a : b));
    for (let n = 0; n < blob.length; n++) {
      assert.throws(() => parseHeader(blob.subarray(0, n)), HeaderError, `truncated at ${n}`);
    }
  });

  test("2000 seeded random byte corruptions: parse or HeaderError, nothing else, quickly", () => {
    const rnd = prng(0x5eed);
    const cpuMs = cpuClock();
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const { blob } = blobs[Math.floor(rnd() * blobs.length)] as { blob: Buffer };
      const b = Buffer.from(blob);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) {
        // bias towards the index, where corruption is most dangerous
        const pos =
          rnd() < 0.7
            ? Math.floor(rnd() * Math.min(b.length, 8 + 16 * b.readUInt32BE(0)))
            : Math.floor(rnd() * b.length);
        b[pos] = Math.floor(rnd() * 256);
      }
      try {
        const h = parseHeader(b);
        // whatever parsed must be readable without throwing
        for (const tag of h.entries.keys()) {
          h.getStrings(tag);
          h.getNumbers(tag);
          h.getBytes(tag);
        }
        h.checkDigest();
      } catch (e) {
        assert.ok(e instanceof HeaderError, `non-HeaderError: ${String(e)}`);
        rejected++;
      }
    }
    assert.ok(rejected > 100, `only ${rejected} of 2000 corruptions were rejected`);
    assert.ok(cpuMs() < 10_000);
  });

  test("random garbage is rejected", () => {
    const rnd = prng(7);
    for (let i = 0; i < 300; i++) {
      const b = Buffer.alloc(Math.floor(rnd() * 4096));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      assert.throws(() => parseHeader(b), HeaderError);
    }
  });
});
