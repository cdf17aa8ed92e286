import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import { cpuClock } from "../../../test/harness/cpu-time.js";
import type { RpmdbEntry } from "./bdb.js";
import { isSqlite, readSqlite } from "./sqlite.js";
import { MARINER_SQLITE, prng, TESTDATA } from "./testutil.js";

const mariner = readFileSync(MARINER_SQLITE);

function read(buf: Buffer): { entries: RpmdbEntry[]; warnings: string[] } {
  const warnings: string[] = [];
  const entries = readSqlite(buf, (m) => warnings.push(m));
  return { entries, warnings };
}

/** A database made in memory (rollback-journal mode, unlike rpm's WAL files). */
function makeDb(sql: string, rows: [unknown, unknown][] = []): Buffer {
  const db = new Database(":memory:");
  db.exec(sql);
  const ins = rows.length ? db.prepare("INSERT INTO Packages (hnum, blob) VALUES (?, ?)") : undefined;
  for (const r of rows) ins?.run(...r);
  const out = db.serialize();
  db.close();
  return out;
}

const rpmSchema = "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)";

describe("readSqlite", () => {
  test("CBL-Mariner: 129 blobs in hnum order; a WAL-mode file is opened and the caller's buffer restored", () => {
    assert.deepEqual([mariner[18], mariner[19]], [2, 2], "the fixture is in WAL mode");
    const before = createHash("sha256").update(mariner).digest("hex");
    const { entries, warnings } = read(mariner);
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      entries.map((e) => e.id),
      Array.from({ length: 129 }, (_, i) => i + 1),
    );
    assert.equal(createHash("sha256").update(mariner).digest("hex"), before);
  });

  test("rpm 4.18's own database (built by make-fixtures.sh)", () => {
    const { entries, warnings } = read(readFileSync(join(TESTDATA, "built/rpmdb.sqlite")));
    assert.deepEqual(warnings, []);
    assert.equal(entries.length, 5);
  });

  test("a rollback-journal database reads too; hnum 0 and non-blob rows are skipped", () => {
    const blob = Buffer.from([1, 2, 3]);
    const buf = makeDb("CREATE TABLE Packages (hnum INTEGER, blob)", [
      [0, blob],
      [2, blob],
      [3, "text, not a blob"],
      [4.5, blob],
      [1, blob],
    ]);
    assert.deepEqual([buf[18], buf[19]], [1, 1]);
    const { entries, warnings } = read(buf);
    assert.deepEqual(
      entries.map((e) => e.id),
      [1, 2],
    );
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? "", /row 3: not an \(integer, blob\) row/);
  });

  test("no Packages table", () => {
    const r = read(makeDb("CREATE TABLE Other (x)"));
    assert.deepEqual(r.entries, []);
    assert.match(r.warnings[0] ?? "", /no Packages table/);
  });

  test("a Packages view that would never end is refused, not run", () => {
    const r = read(
      makeDb(
        "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x AS hnum, x AS blob FROM c",
      ),
    );
    assert.deepEqual(r.entries, []);
    assert.match(r.warnings[0] ?? "", /Packages is a view, not a table/);
  });

  test("rpm's schema with no rows", () => {
    assert.deepEqual(read(makeDb(rpmSchema)), { entries: [], warnings: [] });
  });

  test("not SQLite at all", () => {
    assert.equal(isSqlite(Buffer.from("RpmP")), false);
    assert.match(read(Buffer.from("hello")).warnings[0] ?? "", /not an SQLite 3 database/);
    const header = Buffer.alloc(100);
    header.write("SQLite format 3\0", "latin1");
    assert.ok(read(header).warnings.length > 0);
  });

  test("truncated and corrupted files: warnings, never a throw; the buffer is always restored", () => {
    const rnd = prng(99);
    const pageSize = mariner.readUInt16BE(16);
    let warned = 0;
    const cpuMs = cpuClock();
    for (let i = 0; i < 60; i++) {
      const n = Math.floor(rnd() * mariner.length);
      const r = read(mariner.subarray(0, n));
      if (r.warnings.length) warned++;
    }
    for (let i = 0; i < 60; i++) {
      const b = Buffer.from(mariner);
      // corrupt the b-tree structure: bytes in page headers and cell pointers
      const page = Math.floor(rnd() * (b.length / pageSize));
      for (let j = 0; j < 8; j++) b[page * pageSize + Math.floor(rnd() * 64)] = Math.floor(rnd() * 256);
      const copy = Buffer.from(b);
      const r = read(b);
      assert.ok(b.equals(copy), "buffer modified");
      if (r.warnings.length) warned++;
    }
    assert.ok(warned > 30, `only ${warned} of 120 damaged databases warned`);
    assert.ok(cpuMs() < 20_000);
  });
});
