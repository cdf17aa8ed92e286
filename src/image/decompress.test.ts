import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { coalescing, decompressor, detectCompression, peek } from "./decompress.js";

const collect = async (stream: AsyncIterable<Buffer>) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
};

const bytes = (...values: number[]) => Buffer.from(values);

test("peek returns the first bytes and the stream still yields every byte", async (t) => {
  const cases: { name: string; chunks: Buffer[]; n: number; head: Buffer }[] = [
    {
      name: "magic split over chunks",
      chunks: [bytes(0x1f), bytes(0x8b, 1, 2), bytes(3)],
      n: 4,
      head: bytes(0x1f, 0x8b, 1, 2),
    },
    {
      name: "one large chunk",
      chunks: [bytes(0x28, 0xb5, 0x2f, 0xfd, 9, 9)],
      n: 4,
      head: bytes(0x28, 0xb5, 0x2f, 0xfd),
    },
    { name: "shorter than asked", chunks: [bytes(7, 8)], n: 4, head: bytes(7, 8) },
    { name: "empty", chunks: [], n: 4, head: bytes() },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const stream = Readable.from(c.chunks, { objectMode: false });
      const head = await peek(stream, c.n);
      assert.deepEqual(head, c.head);
      assert.deepEqual(Buffer.concat(await collect(stream)), Buffer.concat(c.chunks));
    });
  }
});

test("peek rejects with the stream's error", async () => {
  const stream = new Readable({
    read() {
      this.destroy(new Error("blob digest mismatch"));
    },
  });
  await assert.rejects(peek(stream, 4), /blob digest mismatch/);
});

test("coalescing joins chunks into ones of at least the given size, keeping every byte in order", async (t) => {
  const cases: { sizes: number[]; min: number; out: number[] }[] = [
    { sizes: [3, 3, 3], min: 4, out: [6, 3] },
    { sizes: [5, 1, 1], min: 4, out: [5, 2] },
    { sizes: [1, 1, 1, 1], min: 4, out: [4] },
    { sizes: [10], min: 4, out: [10] },
    { sizes: [2], min: 4, out: [2] },
    { sizes: [], min: 4, out: [] },
  ];
  for (const c of cases) {
    await t.test(`${JSON.stringify(c.sizes)} at ${c.min}`, async () => {
      const chunks = c.sizes.map((n) => randomBytes(n));
      // A Writable sees each chunk as pushed (async iteration would join buffered ones).
      const out: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          out.push(chunk);
          done();
        },
      });
      await pipeline(Readable.from(chunks, { objectMode: false }), coalescing(c.min), sink);
      assert.deepEqual(
        out.map((b) => b.length),
        c.out,
      );
      assert.deepEqual(Buffer.concat(out), Buffer.concat(chunks));
    });
  }
});

const hasZstd = spawnSync("zstd", ["--version"]).status === 0;

test("a decompressor counts the compressed bytes it has taken in (the bomb ratio check reads it)", async (t) => {
  const plain = Buffer.concat([randomBytes(100_000), Buffer.alloc(400_000)]);
  const compressed: { name: string; data: Buffer; skip?: string | false }[] = [
    { name: "gzip", data: gzipSync(plain) },
    {
      name: "zstd",
      data: hasZstd ? spawnSync("zstd", ["-c", "-q"], { input: plain }).stdout : Buffer.alloc(0),
      skip: !hasZstd && "zstd is not installed",
    },
  ];
  for (const c of compressed) {
    await t.test(c.name, { skip: c.skip }, async () => {
      const inflate = decompressor(detectCompression(c.data));
      assert.ok(inflate);
      const out: Buffer[] = [];
      await pipeline(Readable.from([c.data]), inflate.stream, async (source) => {
        for await (const chunk of source) out.push(chunk as Buffer);
      });
      assert.deepEqual(Buffer.concat(out), plain);
      assert.equal(inflate.bytesIn(), c.data.length);
    });
  }
});
