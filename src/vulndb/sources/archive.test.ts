import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import {
  ArchiveError,
  archiveEntries,
  archiveKind,
  directoryEntries,
  normalizeArchiveName,
  tarEntries,
  tarGzEntries,
  tarXzEntries,
  zipEntries,
} from "./archive.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const shared = process.env.SHIPSHAPE_SHARED ?? path.resolve(repoRoot, "../shared");
const GO_ZIP = path.join(shared, "vulndata/osv/Go/all.zip");
const DEBIAN_TAR_XZ = path.join(shared, "vulndata/debian/security-tracker-data-2023-04-02.tar.xz");

async function tarBuffer(
  entries: { name: string; content?: string; type?: tar.Header["type"]; size?: number }[],
) {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type && e.type !== "file") pack.entry({ name: e.name, type: e.type, linkname: "x" });
    else pack.entry({ name: e.name }, e.content ?? "");
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function names(iterable: AsyncIterable<{ name: string; content: Buffer }>) {
  const out: [string, string][] = [];
  for await (const e of iterable) out.push([e.name, e.content.toString("utf8")]);
  return out;
}

describe("zipEntries", { skip: !existsSync(GO_ZIP) }, () => {
  test("every entry of a real OSV zip, one at a time", async () => {
    let count = 0;
    let first: string | undefined;
    for await (const entry of zipEntries(GO_ZIP)) {
      count++;
      first ??= entry.name;
      assert.equal(JSON.parse(entry.content.toString("utf8")).id, entry.name.replace(/\.json$/, ""));
    }
    assert.equal(count, 4291);
    assert.equal(first, "GO-2020-0001.json");
  });

  test("the filter sees names before any data is read; oversized entries are skipped with a warning", async () => {
    const warnings: string[] = [];
    const got = await names(
      zipEntries(GO_ZIP, {
        filter: (name) => name.startsWith("GO-2022-046"),
        maxEntryBytes: 5000,
        warn: (m) => warnings.push(m),
      }),
    );
    // GO-2022-0463.json is 11,372 bytes; GO-2022-0464 … 0469 do not exist.
    assert.deepEqual(
      got.map(([n]) => n),
      ["GO-2022-0460.json", "GO-2022-0461.json", "GO-2022-0462.json"],
    );
    assert.deepEqual(warnings, [
      `${GO_ZIP}: GO-2022-0463.json: 11372 bytes, more than the 5000-byte entry limit; skipped`,
    ]);
  });

  test("stopping early closes the archive", async () => {
    let n = 0;
    for await (const _ of zipEntries(GO_ZIP)) if (++n === 3) break;
    assert.equal(n, 3);
  });

  test("not a zip", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "archive-"));
    try {
      const bad = path.join(dir, "bad.zip");
      writeFileSync(bad, Buffer.concat([Buffer.from("PK\x03\x04"), Buffer.alloc(100, 1)]));
      await assert.rejects(names(zipEntries(bad)), ArchiveError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("tar", () => {
  test("regular files only, names normalised, unsafe and oversized entries skipped", async () => {
    const buffer = await tarBuffer([
      { name: "./data/DSA/list", content: "dsa" },
      { name: "data/", type: "directory" },
      { name: "data/link", type: "symlink" },
      { name: "../escape", content: "no" },
      { name: "big", content: "x".repeat(100) },
      { name: "/abs/ok", content: "abs" },
    ]);
    const warnings: string[] = [];
    const got = await names(
      tarEntries(Readable.from([buffer]), { maxEntryBytes: 50, warn: (m) => warnings.push(m) }, "t.tar"),
    );
    assert.deepEqual(got, [
      ["data/DSA/list", "dsa"],
      ["abs/ok", "abs"],
    ]);
    assert.deepEqual(warnings, [
      't.tar: skipped entry with an unsafe name "../escape"',
      "t.tar: big: 100 bytes, more than the 50-byte entry limit; skipped",
    ]);
  });

  test("tar.gz, and a truncated archive", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "archive-"));
    try {
      const buffer = await tarBuffer([
        { name: "a.json", content: "{}" },
        { name: "b.json", content: "[]" },
      ]);
      const tgz = path.join(dir, "x.tar.gz");
      writeFileSync(tgz, gzipSync(buffer));
      assert.equal(await archiveKind(tgz), "tar.gz");
      assert.deepEqual(await names(tarGzEntries(tgz)), [
        ["a.json", "{}"],
        ["b.json", "[]"],
      ]);
      const cut = path.join(dir, "cut.tar.gz");
      writeFileSync(cut, gzipSync(buffer).subarray(0, 60));
      await assert.rejects(names(tarGzEntries(cut)), ArchiveError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the real Debian tracker tarball (xz)", { skip: !existsSync(DEBIAN_TAR_XZ) }, async () => {
    assert.equal(await archiveKind(DEBIAN_TAR_XZ), "tar.xz");
    const got = new Map<string, number>();
    for await (const e of tarXzEntries(DEBIAN_TAR_XZ)) got.set(e.name, e.content.length);
    assert.deepEqual([...got.keys()].sort(), [
      "data/DLA/list",
      "data/DSA/list",
      "data/config.json",
      "data/next-oldstable-point-update.txt",
      "data/next-point-update.txt",
    ]);
    assert.equal(got.get("data/DSA/list"), 858071);
    assert.equal(got.get("data/DLA/list"), 495014);
  });
});

describe("directories and sniffing", () => {
  test("directoryEntries walks in name order, skips symlinks and oversized files", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "archive-"));
    try {
      mkdirSync(path.join(dir, "b/c"), { recursive: true });
      writeFileSync(path.join(dir, "z.json"), "z");
      writeFileSync(path.join(dir, "a.json"), "a");
      writeFileSync(path.join(dir, "b/c/d.json"), "d");
      writeFileSync(path.join(dir, "b/huge"), "h".repeat(20));
      symlinkSync(path.join(dir, "a.json"), path.join(dir, "link.json"));
      const warnings: string[] = [];
      assert.deepEqual(
        await names(directoryEntries(dir, { maxEntryBytes: 10, warn: (m) => warnings.push(m) })),
        [
          ["a.json", "a"],
          ["b/c/d.json", "d"],
          ["z.json", "z"],
        ],
      );
      assert.deepEqual(warnings, [`${dir}: b/huge: 20 bytes, more than the 10-byte entry limit; skipped`]);
      assert.equal(await archiveKind(dir), "directory");
      assert.equal(await archiveKind(path.join(dir, "a.json")), "file");
      await assert.rejects(names(archiveEntries(path.join(dir, "a.json"))), ArchiveError);
      const plainTar = path.join(dir, "x.tar");
      writeFileSync(plainTar, await tarBuffer([{ name: "q", content: "1" }]));
      assert.equal(await archiveKind(plainTar), "tar");
      assert.deepEqual(await names(archiveEntries(plainTar)), [["q", "1"]]);
      const gz = path.join(dir, "x.gz");
      writeFileSync(gz, gzipSync("{}"));
      assert.equal(await archiveKind(gz), "gzip");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("archiveKind tells zip and tar.xz by content", {
    skip: !existsSync(GO_ZIP) || !existsSync(DEBIAN_TAR_XZ),
  }, async () => {
    assert.equal(await archiveKind(GO_ZIP), "zip");
    const dir = mkdtempSync(path.join(tmpdir(), "archive-"));
    try {
      const renamed = path.join(dir, "no-extension");
      writeFileSync(renamed, readFileSync(DEBIAN_TAR_XZ));
      assert.equal(await archiveKind(renamed), "tar.xz");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("normalizeArchiveName", () => {
    assert.equal(normalizeArchiveName("./a/./b"), "a/b");
    assert.equal(normalizeArchiveName("/a//b/"), "a/b");
    assert.equal(normalizeArchiveName("a\\b"), "a/b");
    assert.equal(normalizeArchiveName("a/../b"), "b");
    assert.equal(normalizeArchiveName("../b"), undefined);
    assert.equal(normalizeArchiveName("./"), undefined);
  });
});
