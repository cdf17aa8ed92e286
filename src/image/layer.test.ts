import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { defaultLayerLimits, type LayerEntry, LayerError, normalizeEntryPath, walkLayer } from "./layer.js";

type Item = {
  name: string;
  content?: string | Buffer;
  type?: "file" | "directory" | "symlink" | "link";
  linkname?: string;
};

async function tarOf(items: Item[]): Promise<Buffer> {
  const pack = tar.pack();
  // Read while packing: a large entry would otherwise wait forever on backpressure.
  const chunks: Buffer[] = [];
  const reading = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const item of items) {
    const content = item.content === undefined ? undefined : Buffer.from(item.content);
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        {
          name: item.name,
          type: item.type ?? "file",
          linkname: item.linkname,
          mode: 0o644,
          size: content?.length ?? 0,
        },
        content ?? "",
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await reading;
  return Buffer.concat(chunks);
}

async function walk(
  blob: Buffer,
  want: (e: LayerEntry) => boolean = () => true,
  limits = defaultLayerLimits,
) {
  const files = new Map<string, string>();
  const result = await walkLayer(
    Readable.from([blob]),
    { digest: "sha256:test" },
    {
      select: (e) => (want(e) ? { selection: null, maxBytes: 1024 } : undefined),
      file: (e, c) => void files.set(e.path, c.toString()),
    },
    limits,
  );
  return { ...result, contents: files };
}

test("entry paths are normalised and traversal is refused", () => {
  const cases: [string, string | undefined][] = [
    ["etc/os-release", "etc/os-release"],
    ["./etc/os-release", "etc/os-release"],
    ["/etc/passwd", "etc/passwd"],
    ["usr//lib/./x", "usr/lib/x"],
    ["a/b/../c", "a/c"],
    ["../etc/shadow", undefined],
    ["a/../../etc/shadow", undefined],
    ["./", ""],
    ["", ""],
    [".", ""],
    ["..", undefined],
    ["etc/", "etc"],
    ["a/b/..", "a"],
    ["a/.", "a"],
    ["a/.hidden/.b", "a/.hidden/.b"],
    ["..a/b..", "..a/b.."],
    ["a/...", "a/..."],
    ["a/..b/c", "a/..b/c"],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeEntryPath(input), expected, input);
});

test("uncompressed and gzip layers give the same files and the same uncompressed size", async () => {
  const raw = await tarOf([
    { name: "etc/", type: "directory" },
    { name: "etc/os-release", content: "ID=test\n" },
    { name: "usr/bin/tool", content: "binary" },
  ]);
  for (const blob of [raw, gzipSync(raw)]) {
    const w = await walk(blob, (e) => e.path === "etc/os-release");
    assert.deepEqual([...w.contents], [["etc/os-release", "ID=test\n"]]);
    assert.equal(w.uncompressedBytes, raw.length);
    assert.deepEqual(
      w.files.map((f) => f.path),
      ["etc/os-release", "usr/bin/tool"],
    );
  }
});

test("whiteouts and opaque directories are collected, not offered as files", async () => {
  const raw = await tarOf([
    { name: "app/node_modules/.wh.tree-kill", content: "" },
    { name: "var/cache/.wh..wh..opq", content: "" },
    { name: ".wh.toplevel", content: "" },
  ]);
  const w = await walk(raw);
  assert.deepEqual(w.whiteouts, ["app/node_modules/tree-kill", "toplevel"]);
  assert.deepEqual(w.opaqueDirs, ["var/cache"]);
  assert.equal(w.contents.size, 0);
});

test("an entry climbing out of the root is skipped with a warning; the rest is read", async () => {
  const raw = await tarOf([
    { name: "../../etc/cron.d/evil", content: "x" },
    { name: "etc/os-release", content: "ID=ok\n" },
  ]);
  const w = await walk(raw);
  assert.deepEqual([...w.contents.keys()], ["etc/os-release"]);
  assert.match(w.warnings[0] ?? "", /escaping the root.*\.\.\/\.\.\/etc\/cron\.d\/evil/);
});

test("a hardlink to a selected file yields its content; symlinks are never followed", async () => {
  const raw = await tarOf([
    { name: "usr/lib/os-release", content: "ID=debian\n" },
    { name: "etc/os-release", type: "symlink", linkname: "../usr/lib/os-release" },
    { name: "etc/os-release-copy", type: "link", linkname: "usr/lib/os-release" },
  ]);
  const w = await walk(raw);
  assert.deepEqual(
    [...w.contents],
    [
      ["usr/lib/os-release", "ID=debian\n"],
      ["etc/os-release-copy", "ID=debian\n"],
    ],
  );
});

test("files over the selector's limit are not read and say why", async () => {
  const raw = await tarOf([{ name: "big.json", content: Buffer.alloc(4096, 1) }]);
  const w = await walk(raw);
  assert.equal(w.contents.size, 0);
  assert.match(w.warnings[0] ?? "", /big\.json: 4096 bytes exceeds the 1024-byte limit/);
});

test("hostile and broken layers fail with a LayerError naming the layer", async () => {
  const raw = await tarOf([{ name: "a.txt", content: "hello".repeat(1000) }]);
  const gz = gzipSync(raw);
  const bomb = gzipSync(await tarOf([{ name: "zeros", content: Buffer.alloc(4 * 1024 * 1024) }]));
  const cases: [string, Buffer, RegExp, typeof defaultLayerLimits?][] = [
    ["truncated gzip", gz.subarray(0, Math.floor(gz.length / 2)), /layer sha256:test: (truncated|corrupt)/],
    [
      "corrupt gzip",
      Buffer.concat([gz.subarray(0, 20), Buffer.alloc(200, 0x55), gz.subarray(220)]),
      /layer sha256:test: corrupt compressed data/,
    ],
    [
      "not a tar",
      Buffer.from("this is not a tar archive at all, just text".repeat(30)),
      /layer sha256:test: not a tar archive|truncated/,
    ],
    [
      "ratio bomb",
      bomb,
      /compression ratio above 50:1/,
      { ...defaultLayerLimits, maxRatio: 50, ratioFloorBytes: 1024 * 1024 },
    ],
    [
      "size bomb",
      raw,
      /more than 4096 bytes uncompressed/,
      { ...defaultLayerLimits, maxUncompressedBytes: 4096 },
    ],
    [
      "entry count",
      await tarOf([
        { name: "1", content: "" },
        { name: "2", content: "" },
        { name: "3", content: "" },
      ]),
      /more than 2 entries/,
      { ...defaultLayerLimits, maxEntries: 2 },
    ],
  ];
  for (const [name, blob, message, limits] of cases) {
    await assert.rejects(
      walk(blob, () => true, limits),
      (e: unknown) => e instanceof LayerError && message.test(e.message),
      name,
    );
  }
});
