/**
 * `shipshape db update|status|export|import` as a user runs them, on the real feed snapshot in
 * ../shared/vulndata (no hand-written records): one full `db update --mirror` (about 12 s) shared by
 * the file, then smaller builds from the same real files where a test needs its own database.
 * Expected record counts are the snapshot README's, for the sources that read one README row 1:1.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import SQLite from "better-sqlite3";
import { type SourceStatus, VulnerabilityDatabase } from "../src/vulndb/database.js";
import { enrichmentSources, feedSources } from "../src/vulndb/sources/index.js";
import { buildMirrorDatabase, type CliRun, shipshape, vulndataDir } from "./harness/shipshape-cli.js";

let tmp: string;
/** The cache dir of the shared full build. */
let main: string;
let mainRun: CliRun;

const dbFile = (cacheDir: string) => path.join(cacheDir, "db", "vuln.db");
const sha256 = async (file: string) =>
  createHash("sha256")
    .update(await fs.readFile(file))
    .digest("hex");
const ALL_SOURCES = [...feedSources, ...enrichmentSources].map((s) => s.name).sort();

before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-vulndb-"));
    main = path.join(tmp, "main");
    mainRun = await buildMirrorDatabase(main);
  },
  { timeout: 120_000 },
);
after(async () => {
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

const db = (args: string[], cacheDir: string) =>
  shipshape(["db", ...args, "--cache-dir", cacheDir], { home: tmp });

async function statusJson(
  cacheDir: string,
): Promise<{ file: string; builtAt: string; sources: SourceStatus[] }> {
  const run = await db(["status", "--format", "json"], cacheDir);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/**
 * Sources that read exactly one README row, with its record count ("Records" column): osv/Go,
 * osv/PyPI, osv/crates.io, osv/AlmaLinux (unique records), osv/npm, nodejs vuln/core ("171 core"),
 * rubysec and FriendsOfPHP. alpine-secdb (one advisory per vulnerability id over 18 files) and
 * cve-cvss (CVEs with a score) have no README count to compare with.
 */
const README_COUNTS: Record<string, number> = {
  "osv-Go": 4291,
  "osv-PyPI": 2661,
  "osv-crates.io": 1206,
  "osv-AlmaLinux": 5637,
  "osv-npm": 467,
  "nodejs-core": 171,
  rubysec: 1381,
  friendsofphp: 1592,
  // debian/security-tracker-data-2023-04-02.tar.xz: 5,406 DSA and 3,534 DLA entries, one advisory each.
  "debian-tracker": 5406 + 3534,
};

/** "Newest record" per README row, where the README gives a date. */
const README_NEWEST: Record<string, string> = {
  "osv-PyPI": "2024-10-10",
  "osv-crates.io": "2026-08-21",
  "osv-AlmaLinux": "2026-08-21",
  rubysec: "2026-08-18",
  friendsofphp: "2026-08-05",
  "debian-tracker": "2023-04-01",
  // The Go records' own dates are unset; commit-dates.tsv (newest commit 2026-08-21) fills them.
  "osv-Go": "2026-08-21",
};

/**
 * What the snapshot lacks (its README, "Not included"): OSV zips for GHSA-only ecosystems (Maven,
 * NuGet; Packagist and RubyGems come from FriendsOfPHP and rubysec instead), Rocky Linux, Red Hat,
 * SUSE/openSUSE, Debian, Ubuntu and Alpine OSV. The Debian tracker JSON is missing too, but the
 * debian-tracker source reads the mirror's DSA/DLA list tarball instead (and warns that it did).
 */
const UNAVAILABLE = [
  "osv-Alpine",
  "osv-Debian",
  "osv-Maven",
  "osv-NuGet",
  "osv-Packagist",
  "osv-Red-Hat",
  "osv-Rocky-Linux",
  "osv-RubyGems",
  "osv-SUSE",
  "osv-Ubuntu",
  "osv-openSUSE",
];

describe("db update --mirror ../shared/vulndata, then db status", { timeout: 60_000 }, () => {
  test("update: every registered source reported, the summary line on stderr", () => {
    for (const name of ALL_SOURCES)
      assert.match(mainRun.stderr, new RegExp(`^${name}: (\\d+ records|unavailable)`, "m"));
    const available = ALL_SOURCES.length - UNAVAILABLE.length;
    assert.match(
      mainRun.stderr,
      new RegExp(
        `^database .*vuln\\.db: \\d+ records from ${available} of ${ALL_SOURCES.length} sources$`,
        "m",
      ),
    );
  });

  test("status --format json: the README's counts, the unavailable sources as such", async () => {
    const status = await statusJson(main);
    assert.equal(status.file, dbFile(main));
    assert.ok(Date.now() - Date.parse(status.builtAt) < 10 * 60_000, status.builtAt);
    assert.deepEqual(status.sources.map((s) => s.name).sort(), ALL_SOURCES);
    const byName = new Map(status.sources.map((s) => [s.name, s]));
    for (const [name, records] of Object.entries(README_COUNTS)) {
      const s = byName.get(name);
      assert.equal(s?.available, true, name);
      assert.equal(s?.records, records, name);
    }
    for (const [name, newest] of Object.entries(README_NEWEST))
      assert.equal(byName.get(name)?.newest?.slice(0, 10), newest, name);
    assert.deepEqual(
      status.sources
        .filter((s) => !s.available)
        .map((s) => s.name)
        .sort(),
      UNAVAILABLE,
    );
    for (const name of UNAVAILABLE) {
      const s = byName.get(name) as SourceStatus;
      assert.equal(s.records, 0, name);
      assert.equal(s.origin, "(not fetched)", name);
      assert.ok(s.warnings >= 1, `${name}: the "not found" is counted as a warning`);
    }
    // The sources read from the mirror say where.
    assert.equal(byName.get("osv-Go")?.origin, path.join(vulndataDir, "osv/Go/all.zip"));
    assert.equal(byName.get("nodejs-core")?.origin, path.join(vulndataDir, "nodejs/security-wg-vuln.zip"));
    for (const name of ["alpine-secdb", "cve-cvss"]) {
      assert.equal(byName.get(name)?.available, true, name);
      assert.ok((byName.get(name)?.records ?? 0) > 0, name);
    }
    // The summary line's total is the sum of the available sources' records.
    const total = status.sources.reduce((n, s) => n + s.records, 0);
    assert.match(mainRun.stderr, new RegExp(`: ${total} records from `));
  });

  test("status (text): one row per source with its records or 'unavailable'", async () => {
    const run = await db(["status"], main);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.match(
      lines[0] ?? "",
      new RegExp(
        `^${dbFile(main).replace(/[.]/g, "\\.")}: built \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(less than an hour ago\\)$`,
      ),
    );
    assert.match(lines[1] ?? "", /^SOURCE\s+RECORDS\s+NEWEST RECORD\s+FETCHED\s+ORIGIN$/);
    const rows = new Map(lines.slice(2).map((l) => [l.split(/\s+/)[0], l.split(/\s{2,}/)]));
    assert.deepEqual([...rows.keys()].sort(), ALL_SOURCES);
    for (const [name, records] of Object.entries(README_COUNTS))
      assert.equal(rows.get(name)?.[1], String(records), name);
    for (const name of UNAVAILABLE) {
      assert.equal(rows.get(name)?.[1], "unavailable", name);
      assert.equal(rows.get(name)?.at(-1), "(not fetched)", name);
    }
    assert.equal(rows.get("osv-PyPI")?.[2], "2024-10-10");
  });

  test("status without a database: exit 1, saying to run db update", async () => {
    const run = await db(["status"], path.join(tmp, "empty"));
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^shipshape: no vulnerability database at .*empty\/db\/vuln\.db; run `shipshape db update`/m,
    );
  });
});

describe("db export and db import", { timeout: 60_000 }, () => {
  test("round trip: the exported file is the database; imported elsewhere it reports the same", async () => {
    const exported = path.join(tmp, "exported.db");
    const out = await db(["export", exported], main);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /^exported .*main\/db\/vuln\.db to .*exported\.db$/m);
    assert.equal(await sha256(exported), await sha256(dbFile(main)));

    const elsewhere = path.join(tmp, "imported");
    const run = await db(["import", exported], elsewhere);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await sha256(dbFile(elsewhere)), await sha256(exported));
    const [a, b] = [await statusJson(main), await statusJson(elsewhere)];
    assert.deepEqual(b.sources, a.sources);
    assert.equal(b.builtAt, a.builtAt);
    assert.deepEqual(await fs.readdir(path.dirname(dbFile(elsewhere))), ["vuln.db"], "no temp file left");
  });

  test("a file that is not a shipshape database is refused; the installed one is left intact", async () => {
    const target = path.join(tmp, "imported");
    const before = await sha256(dbFile(target));
    const text = path.join(tmp, "notes.txt");
    await fs.writeFile(text, "this is not a database\n".repeat(100));
    // A real SQLite file, but some other program's.
    const other = path.join(tmp, "other.sqlite");
    const o = new SQLite(other);
    o.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    o.close();
    for (const file of [text, other, path.join(tmp, "missing.db")]) {
      const run = await db(["import", file], target);
      assert.equal(run.code, 1, `${file}: ${run.stderr}`);
      assert.match(
        run.stderr,
        file.endsWith("missing.db")
          ? /^shipshape: no vulnerability database at .*missing\.db/m
          : new RegExp(
              `^shipshape: ${file.replace(/[.]/g, "\\.")} is not a shipshape vulnerability database: `,
              "m",
            ),
      );
      assert.equal(await sha256(dbFile(target)), before, `${file}: the installed database changed`);
    }
    assert.deepEqual(await fs.readdir(path.dirname(dbFile(target))), ["vuln.db"]);
    assert.equal((await statusJson(target)).sources.length, ALL_SOURCES.length);
  });
});

describe("the atomic swap", { timeout: 60_000 }, () => {
  let swap: string;
  before(async () => {
    swap = path.join(tmp, "swap");
    await fs.mkdir(path.join(swap, "db"), { recursive: true });
    await fs.copyFile(dbFile(main), dbFile(swap));
  });

  test("a database opened before an update keeps answering from the old file while the update replaces it", async () => {
    const old = VulnerabilityDatabase.open(dbFile(swap));
    try {
      // lodash 4.17.15's three npm advisories (osv/npm NSWG-ECO-368, -493, -516) are in the full build.
      const lodash = () =>
        old
          .affected("npm", "lodash")
          .map((m) => m.advisory.id)
          .sort();
      assert.deepEqual(lodash(), ["NSWG-ECO-368", "NSWG-ECO-493", "NSWG-ECO-516"]);
      const inode = (await fs.stat(dbFile(swap))).ino;
      const builtAt = old.builtAt();
      const nodeEntries = old.affected("Node.js", "node").length;
      assert.ok(nodeEntries > 100, `${nodeEntries} Node.js runtime entries`);

      const run = await buildMirrorDatabase(swap, ["--only", "nodejs-core"]);
      assert.match(run.stderr, /: 171 records from 1 of 1 sources$/m);
      assert.notEqual((await fs.stat(dbFile(swap))).ino, inode, "a new file took the name");

      // The old handle: still the full database, queried after the swap.
      assert.deepEqual(lodash(), ["NSWG-ECO-368", "NSWG-ECO-493", "NSWG-ECO-516"]);
      assert.equal(old.builtAt(), builtAt);
      assert.equal(old.sources().length, ALL_SOURCES.length);
      assert.equal(old.affected("Node.js", "node").length, nodeEntries);

      // A new handle: only what the update built.
      const fresh = VulnerabilityDatabase.open(dbFile(swap));
      try {
        assert.deepEqual(fresh.affected("npm", "lodash"), []);
        assert.equal(fresh.affected("Node.js", "node").length, nodeEntries, "the same nodejs-core data");
        assert.deepEqual(
          fresh.sources().map((s) => [s.name, s.records]),
          [["nodejs-core", 171]],
        );
        assert.notEqual(fresh.builtAt(), builtAt);
      } finally {
        fresh.close();
      }
    } finally {
      old.close();
    }
    assert.deepEqual(await fs.readdir(path.join(swap, "db")), ["vuln.db"], "no build file left");
  });

  test("a failed update (its only source unreadable) leaves the database untouched", async () => {
    const file = dbFile(swap);
    const [hash, stat] = [await sha256(file), await fs.stat(file)];
    const run = await db(["update", "--source", "osv-npm=/nonexistent", "--only", "osv-npm"], swap);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^warning: osv-npm: source unavailable: \/nonexistent not found$/m);
    assert.match(
      run.stderr,
      /^shipshape: no source could be read; the existing database is left as it was$/m,
    );
    assert.equal(await sha256(file), hash);
    const after = await fs.stat(file);
    assert.equal(after.ino, stat.ino);
    assert.equal(after.mtimeMs, stat.mtimeMs);
    assert.deepEqual(await fs.readdir(path.join(swap, "db")), ["vuln.db"], "the half-built file is removed");
    assert.deepEqual(
      (await statusJson(swap)).sources.map((s) => [s.name, s.records]),
      [["nodejs-core", 171]],
    );
  });
});

describe("--source and --only", { timeout: 60_000 }, () => {
  test("--source NAME=PATH reads that source from the path given, mirror or not", async () => {
    // The npm zip under another name, and the Debian DSA/DLA list tarball given as a file of its own.
    const copy = path.join(tmp, "feeds", "npm-advisories.zip");
    await fs.mkdir(path.dirname(copy), { recursive: true });
    await fs.copyFile(path.join(vulndataDir, "osv/npm/all.zip"), copy);
    const tracker = path.join(vulndataDir, "debian/security-tracker-data-2023-04-02.tar.xz");
    const dir = path.join(tmp, "override");
    const run = await db(
      [
        "update",
        "--only",
        "osv-npm,debian-tracker",
        "--source",
        `osv-npm=${copy}`,
        "--source",
        `debian-tracker=${tracker}`,
      ],
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    const byName = new Map((await statusJson(dir)).sources.map((s) => [s.name, s]));
    assert.deepEqual([...byName.keys()].sort(), ["debian-tracker", "osv-npm"]);
    assert.equal(byName.get("osv-npm")?.origin, copy);
    assert.equal(byName.get("osv-npm")?.records, 467);
    // README: 5,406 DSA entries and 3,534 DLA entries, one advisory each.
    assert.equal(byName.get("debian-tracker")?.origin, tracker);
    assert.equal(byName.get("debian-tracker")?.records, 5406 + 3534);
    assert.equal(byName.get("debian-tracker")?.newest?.slice(0, 10), "2023-04-01", "DLA-3380-1, 01 Apr 2023");
  });

  test("an unknown or malformed --source, an unknown --only, a missing --mirror: exit 2, nothing built", async () => {
    const dir = path.join(tmp, "usage");
    const cases: [string[], RegExp][] = [
      [
        ["--source", "osv-nope=/tmp/x.zip"],
        /^shipshape: --source osv-nope=\/tmp\/x\.zip: expected NAME=URL\|PATH with NAME one of .*osv-npm.*$/m,
      ],
      [["--source", "osv-npm"], /^shipshape: --source osv-npm: expected NAME=URL\|PATH/m],
      [["--only", "osv-npm,nope"], /^shipshape: --only: unknown source nope$/m],
      [
        ["--mirror", path.join(tmp, "no-such-mirror")],
        /^shipshape: --mirror .*no-such-mirror does not exist$/m,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await db(["update", ...args], dir);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
    await assert.rejects(fs.access(dir), "no cache dir was created");
  });
});
