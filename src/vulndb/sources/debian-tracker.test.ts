import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { Advisory, AffectedPackage } from "../types.js";
import {
  advisoryListsIn,
  debianEcosystem,
  debianTrackerSource,
  JsonStreamError,
  jsonObjectMembers,
  parseAdvisoryList,
  trackerJsonAdvisories,
  urgencySeverity,
} from "./debian-tracker.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const shared = process.env.SHIPSHAPE_SHARED ?? path.resolve(repoRoot, "../shared");
const TARBALL = path.join(shared, "vulndata/debian/security-tracker-data-2023-04-02.tar.xz");
const FIXTURE = fileURLToPath(new URL("./testdata/debian-tracker.json", import.meta.url));

async function collect(iterable: AsyncIterable<Advisory>): Promise<Advisory[]> {
  const out: Advisory[] = [];
  for await (const a of iterable) out.push(a);
  return out;
}

const ONLY_LISTS =
  "only DSA/DLA advisory lists were read, no tracker JSON: CVEs fixed without an advisory, and open ones, are not covered";

const byIdOf = (advisories: Advisory[], id: string) => advisories.find((a) => a.id === id);

/** The fixed version of an entry's first range (introduced 0, fixed X). */
function fixedOf(affected: AffectedPackage): string | undefined {
  const event = affected.ranges[0]?.events[1];
  return event && "fixed" in event ? event.fixed : undefined;
}

function chunked(buffer: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += size) parts.push(buffer.subarray(i, i + size));
  return Readable.from(parts);
}

describe("jsonObjectMembers", () => {
  const text = readFileSync(FIXTURE);
  const expected = JSON.parse(text.toString("utf8")) as Record<string, unknown>;

  for (const size of [1, 7, 4096, text.length]) {
    test(`splits the top-level object into members across ${size}-byte chunks`, async () => {
      const seen: Record<string, unknown> = {};
      for await (const m of jsonObjectMembers(chunked(text, size), 1 << 20)) {
        assert.ok(m.value);
        seen[m.key] = JSON.parse(m.value.toString("utf8"));
      }
      assert.deepEqual(seen, expected);
    });
  }

  test("compact documents, primitives, escapes in names and strings", async () => {
    const doc = JSON.stringify({ 'a"b\\': { x: "}{,]" }, n: 12, s: 'str\\"ing', t: true, z: [1, { y: [] }] });
    const got: [string, unknown][] = [];
    for await (const m of jsonObjectMembers(chunked(Buffer.from(doc), 3), 1024)) {
      got.push([m.key, JSON.parse((m.value as Buffer).toString("utf8"))]);
    }
    assert.deepEqual(Object.fromEntries(got), JSON.parse(doc));
  });

  test("strings full of escapes, split at every kind of boundary", async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const alphabet = ['"', "\\", "{", "}", "[", "]", ",", ":", " ", "a", "é", "\n", "\u0000"];
    const text = () =>
      Array.from(
        { length: Math.floor(random() * 30) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join("");
    const doc: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) doc[`${text()}#${i}`] = { [text()]: [text(), { x: text() }], n: i };
    const buffer = Buffer.from(JSON.stringify(doc));
    for (const size of [1, 2, 3, 5, 64]) {
      const seen: Record<string, unknown> = {};
      for await (const m of jsonObjectMembers(chunked(buffer, size), 1 << 20)) {
        seen[m.key] = JSON.parse((m.value as Buffer).toString("utf8"));
      }
      assert.deepEqual(seen, doc, `chunks of ${size}`);
    }
  });

  test("values over the limit are reported by size, not kept", async () => {
    const doc = Buffer.from(JSON.stringify({ small: [1], big: "x".repeat(5000), after: {} }));
    const got = [];
    for await (const m of jsonObjectMembers(chunked(doc, 100), 1000))
      got.push([m.key, m.value?.length, m.size]);
    assert.deepEqual(got, [
      ["small", 3, 3],
      ["big", undefined, 5002],
      ["after", 2, 2],
    ]);
  });

  test("an empty object, and documents that are not objects or end early", async () => {
    const members = async (doc: string) => {
      const out = [];
      for await (const m of jsonObjectMembers(Readable.from([Buffer.from(doc)]), 100)) out.push(m.key);
      return out;
    };
    assert.deepEqual(await members(" {} \n"), []);
    await assert.rejects(members("[1,2]"), JsonStreamError);
    await assert.rejects(members('{"a": {"b": 1}'), JsonStreamError);
    await assert.rejects(members('{"a": 1} x'), JsonStreamError);
    await assert.rejects(members('{"a" 1}'), JsonStreamError);
  });
});

describe("tracker JSON", () => {
  const read = async (file = FIXTURE) => {
    const warnings: string[] = [];
    const advisories = await collect(
      debianTrackerSource.read([{ path: file, origin: "fixture" }], { warn: (m) => warnings.push(m) }),
    );
    return { advisories, warnings, byId: new Map(advisories.map((a) => [a.id, a])) };
  };

  test("real records (vunnel's fixture of the live feed): fixed, never vulnerable, end-of-life", async () => {
    const { byId } = await read();
    assert.deepEqual(byId.get("CVE-2008-7220"), {
      id: "CVE-2008-7220",
      aliases: [],
      source: "debian-tracker",
      details:
        'Unspecified vulnerability in Prototype JavaScript framework (prototypejs) before 1.6.0.2 allows attackers to make "cross-site ajax requests" via unknown vectors.',
      references: [
        { type: "ADVISORY", url: "https://security-tracker.debian.org/tracker/CVE-2008-7220" },
        { type: "REPORT", url: "https://bugs.debian.org/555217" },
      ],
      severities: [],
      vendorSeverity: "high",
      affected: ["Debian:9", "Debian:8", "Debian:10", "Debian:sid"].map((ecosystem) => ({
        ecosystem,
        name: "prototypejs",
        ranges: [{ scheme: "dpkg", events: [{ introduced: "0" }, { fixed: "1.6.0.2-1" }] }],
      })),
    });
    // fixed_version "0": never vulnerable in those releases; urgency "unimportant", kept as the tracker says it.
    const never = byId.get("CVE-2007-2383");
    assert.equal(never?.vendorSeverity, "unimportant");
    assert.deepEqual(
      never?.affected.map((a) => [a.ecosystem, a.state, a.ranges.length]),
      [
        ["Debian:9", "not_affected", 0],
        ["Debian:8", "not_affected", 0],
        ["Debian:10", "not_affected", 0],
        ["Debian:sid", "not_affected", 0],
      ],
    );
    // Every release entry says "not yet assigned" (or end-of-life, which is no urgency): that term stays.
    const chromium = byId.get("CVE-2022-0456");
    assert.equal(chromium?.vendorSeverity, "not yet assigned");
    assert.deepEqual(
      chromium?.affected.map((a) => [a.ecosystem, a.state ?? fixedOf(a)]),
      [
        ["Debian:12", "98.0.4758.80-1"],
        ["Debian:11", "98.0.4758.80-1~deb11u1"],
        ["Debian:10", "end_of_life"],
        ["Debian:sid", "98.0.4758.80-1"],
        ["Debian:9", "end_of_life"],
      ],
    );
    assert.equal(byId.get("CVE-2013-1444")?.vendorSeverity, "low");
    assert.equal(byId.get("CVE-2005-3111")?.vendorSeverity, "medium");
    // "releases": [] (chromium-browser) yields nothing to match: no advisory.
    assert.equal(byId.has("CVE-2022-0358"), false);
  });

  test("open states: no-dsa, postponed, ignored, next point update, undetermined skipped", async () => {
    const { byId } = await read();
    assert.deepEqual(
      byId.get("CVE-2099-0001")?.affected.map((a) => [a.ecosystem, a.state ?? "fixed"]),
      [
        ["Debian:12", "fixed"],
        ["Debian:11", "will_not_fix"],
      ],
    );
    const open = byId.get("CVE-2099-0002");
    assert.deepEqual(
      open?.affected.map((a) => [a.ecosystem, a.state, a.ranges]),
      [
        ["Debian:12", "postponed", []],
        ["Debian:11", "ignored", []],
        ["Debian:13", "affected", []],
        ["Debian:14", "affected", []],
      ],
    );
    // medium* beats low and unimportant; the undetermined sid entry's "high" does not count.
    assert.equal(open?.vendorSeverity, "medium");
  });

  test("one CVE under two packages becomes one advisory; TEMP- issues and malformed entries are skipped", async () => {
    const { byId, advisories, warnings } = await read();
    const shared = byId.get("CVE-2099-0101");
    assert.deepEqual(
      shared?.affected.map((a) => [a.name, a.ecosystem]),
      [
        ["firefox-esr", "Debian:11"],
        ["firefox-esr", "Debian:sid"],
        ["thunderbird", "Debian:11"],
        ["thunderbird", "Debian:sid"],
      ],
    );
    assert.equal(shared?.vendorSeverity, "medium");
    assert.deepEqual(shared?.references.map((r) => r.url).slice(1), ["https://bugs.debian.org/1033333"]);
    assert.equal(advisories.filter((a) => a.id === "CVE-2099-0101").length, 1);
    assert.ok(!advisories.some((a) => a.id.startsWith("TEMP-")));

    const malformed = byId.get("CVE-2099-0003");
    assert.deepEqual(
      malformed?.affected.map((a) => [a.ecosystem, fixedOf(a)]),
      [
        ["Debian:15", "3.5.0-1"],
        ["Debian:experimental-2099", "3.6.0-1"],
      ],
    );
    assert.deepEqual(warnings.sort(), [
      `${FIXTURE}: broken-package: not an object of issues; skipped`,
      `${FIXTURE}: openssl CVE-2099-0003 bookworm: resolved without a fixed_version; skipped`,
      `${FIXTURE}: openssl CVE-2099-0003 bullseye: unknown status "fixed?"; skipped`,
      `${FIXTURE}: openssl CVE-2099-0003 buster: release entry is not an object; skipped`,
      'debian-tracker: unknown release codename "experimental-2099", kept as Debian:experimental-2099',
    ]);
    assert.equal(advisories.length, 9);
  });

  test("compact, gzip-compressed JSON reads the same", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "debian-tracker-"));
    try {
      const compact = JSON.stringify(JSON.parse(readFileSync(FIXTURE, "utf8")));
      const gz = path.join(dir, "json.gz");
      writeFileSync(gz, gzipSync(compact));
      const plain = await read();
      const zipped = await read(gz);
      assert.deepEqual(
        zipped.advisories.map((a) => a.id),
        plain.advisories.map((a) => a.id),
      );
      assert.deepEqual(zipped.byId.get("CVE-2099-0002"), plain.byId.get("CVE-2099-0002"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a truncated document fails the feed", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "debian-tracker-"));
    try {
      const file = path.join(dir, "json");
      writeFileSync(file, readFileSync(FIXTURE, "utf8").slice(0, 2000));
      await assert.rejects(read(file), JsonStreamError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("each CVE is emitted once its last package is read, not at the end", async () => {
    // Package p lists CVEs 10p … 10p+19, so CVE k appears in packages ⌊k/10⌋-1 and ⌊k/10⌋.
    const doc: Record<string, Record<string, unknown>> = {};
    const id = (k: number) => `CVE-2024-${String(100000 + k)}`;
    for (let p = 0; p < 3000; p++) {
      const issues: Record<string, unknown> = {};
      for (let k = p * 10; k < p * 10 + 20; k++) {
        issues[id(k)] = { releases: { bookworm: { status: "resolved", fixed_version: `${p}.0-1` } } };
      }
      doc[`pkg${p}`] = issues;
    }
    const buffer = Buffer.from(JSON.stringify(doc));
    const order: string[] = [];
    for await (const a of trackerJsonAdvisories(() => chunked(buffer, 65536), "synthetic", assert.fail)) {
      order.push(a.id);
      const k = Number(a.id.slice(-6)) - 100000;
      assert.equal(a.affected.length, k < 10 || k >= 30000 ? 1 : 2, a.id);
    }
    assert.equal(order.length, 30010);
    // Emitted in completion order, which here is ascending: nothing waited for the end of the feed.
    assert.deepEqual(order, [...order].sort());
  });
});

describe("DSA/DLA lists", () => {
  test("header forms, cross references, release lines, states, urgencies and notes", () => {
    const text = [
      "[29 Mar 2023] DSA-5380-1 xorg-server - security update",
      "\t{CVE-2023-1393}",
      "\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6",
      "[31 Dec 2009] DSA-1964-1 postgresql-7.4 postgresql-8.1 postgresql-8.3 - several vulnerabilities",
      "\t{CVE-2009-4034 CVE-2009-4136}",
      "\t[etch] - postgresql-8.1 8.1.19-0etch1",
      "\t[lenny] - postgresql-8.3 8.3.9-0lenny1",
      "[31 Aug 2004] DSA-543-1 krb5 -- several vulnerabilities",
      "\t{ CVE-2004-0642  CVE-2004-0643 }",
      "        [woody] - krb5 1.2.4-5woody6 (bug #332424; medium)",
      "\tNOTE: fixed in testing at time of DSA",
      "[31 Jan 2007] DSA-1256-1 gtk+2.0",
      "\t[sarge] - gtk+2.0 <not-affected> (Vulnerable code not present)",
      "\t[etch] - gtk+2.0 <unfixed>",
      "\t[wheezy] - gtk+2.0 <bogus>",
      "garbage line",
      "\t[bullseye] - belongs-to-garbage 1.0",
      "[01 Apr 2023] DLA-3380-2 firmware-nonfree - regression update",
      "\t[buster] - firmware-nonfree <end-of-life>",
      "\tsomething odd",
    ].join("\n");
    const warnings: string[] = [];
    const advisories = [...parseAdvisoryList(text, "list", (m) => warnings.push(m))];
    assert.deepEqual(
      advisories.map((a) => a.id),
      ["DSA-5380-1", "DSA-1964-1", "DSA-543-1", "DSA-1256-1", "DLA-3380-2"],
    );
    const [xorg, pg, krb5, gtk, dla] = advisories as [Advisory, Advisory, Advisory, Advisory, Advisory];
    assert.equal(pg.summary, "postgresql-7.4, postgresql-8.1, postgresql-8.3: several vulnerabilities");
    assert.deepEqual(
      pg.affected.map((a) => [a.ecosystem, a.name]),
      [
        ["Debian:4", "postgresql-8.1"],
        ["Debian:5", "postgresql-8.3"],
      ],
    );
    assert.deepEqual(krb5.aliases, ["CVE-2004-0642", "CVE-2004-0643"]);
    assert.equal(krb5.summary, "krb5: several vulnerabilities");
    assert.equal(krb5.vendorSeverity, "medium");
    assert.equal(krb5.details, "fixed in testing at time of DSA");
    assert.equal(gtk.summary, "gtk+2.0");
    assert.deepEqual(
      gtk.affected.map((a) => [a.ecosystem, a.state]),
      [
        ["Debian:3.1", "not_affected"],
        ["Debian:4", "affected"],
      ],
    );
    assert.deepEqual(dla.affected, [
      { ecosystem: "Debian:10", name: "firmware-nonfree", ranges: [], state: "end_of_life" },
    ]);
    assert.deepEqual(dla.references[1], {
      type: "ADVISORY",
      url: "https://www.debian.org/lts/security/2023/dla-3380-2",
    });
    assert.equal(xorg.published, "2023-03-29T00:00:00Z");
    assert.deepEqual(warnings, [
      "list:15: unknown state <bogus> for gtk+2.0 in wheezy; skipped",
      'list:16: not an advisory header: "garbage line"; its entry is skipped',
      'list:20: unrecognised line "something odd"; skipped',
    ]);
  });

  test("the real 2023-04-02 lists: every entry, exact fields of several", {
    skip: !existsSync(TARBALL),
  }, async (t) => {
    const warnings: string[] = [];
    const started = performance.now();
    const advisories = await collect(
      debianTrackerSource.read([{ path: TARBALL, origin: "mirror" }], { warn: (m) => warnings.push(m) }),
    );
    t.diagnostic(
      `read ${advisories.length} DSA/DLA entries in ${Math.round(performance.now() - started)} ms`,
    );
    // The one defect of the 2023 lists: DSA-423 names the package where the version belongs.
    assert.deepEqual(warnings, [
      `${TARBALL}:data/DSA/list:17244: "kernel-image-2.4.17-ia64" is not a Debian version (kernel-image-2.4.17-ia64 in woody); skipped`,
      ONLY_LISTS,
    ]);
    assert.deepEqual(byIdOf(advisories, "DSA-423")?.affected, []);
    assert.equal(advisories.filter((a) => a.id.startsWith("DSA-")).length, 5406);
    assert.equal(advisories.filter((a) => a.id.startsWith("DLA-")).length, 3534);
    assert.equal(new Set(advisories.map((a) => a.id)).size, 5406 + 3534);
    const byId = new Map(advisories.map((a) => [a.id, a]));

    assert.deepEqual(byId.get("DSA-5380-1"), {
      id: "DSA-5380-1",
      aliases: ["CVE-2023-1393"],
      source: "debian-tracker",
      summary: "xorg-server: security update",
      published: "2023-03-29T00:00:00Z",
      references: [
        { type: "ADVISORY", url: "https://security-tracker.debian.org/tracker/DSA-5380-1" },
        { type: "ADVISORY", url: "https://www.debian.org/security/2023/dsa-5380" },
      ],
      severities: [],
      affected: [
        {
          ecosystem: "Debian:11",
          name: "xorg-server",
          ranges: [{ scheme: "dpkg", events: [{ introduced: "0" }, { fixed: "2:1.20.11-1+deb11u6" }] }],
        },
      ],
    });
    assert.deepEqual(byId.get("DLA-3380-1")?.aliases.length, 11);
    assert.deepEqual(byId.get("DLA-3380-1")?.affected[0]?.ranges[0]?.events[1], {
      fixed: "20190114+really20220913-0+deb10u1",
    });
    // A revision without CVEs of its own.
    assert.deepEqual(byId.get("DSA-5356-2")?.aliases, []);
    assert.equal(byId.get("DSA-5356-2")?.summary, "sox: regression update");
    // The oldest form: no revision number, woody.
    const old = byId.get("DSA-185");
    assert.equal(old?.published, "2002-10-31T00:00:00Z");
    assert.deepEqual(old?.aliases, ["CVE-2002-1235"]);
    assert.deepEqual(
      old?.affected.map((a) => [a.ecosystem, a.name, a.ranges[0]?.events[1]]),
      [["Debian:3.0", "heimdal", { fixed: "0.4e-7.woody.5" }]],
    );
    assert.deepEqual(
      byId.get("DSA-1964-1")?.affected.map((a) => [a.ecosystem, a.name, a.ranges[0]?.events[1]]),
      [
        ["Debian:4", "postgresql-8.1", { fixed: "8.1.19-0etch1" }],
        ["Debian:4", "postgresql-7.4", { fixed: "1:7.4.27-0etch1" }],
        ["Debian:5", "postgresql-8.3", { fixed: "8.3.9-0lenny1" }],
      ],
    );
    assert.equal(byId.get("DSA-857-1")?.vendorSeverity, "low");
    assert.equal(byId.get("DSA-857-1")?.details, "fixed in testing at time of DSA");
    assert.deepEqual(
      byId.get("DSA-2275-1")?.affected.map((a) => [a.ecosystem, a.state ?? "fixed"]),
      [
        ["Debian:6", "fixed"],
        ["Debian:5", "not_affected"],
      ],
    );
    assert.deepEqual(byId.get("DSA-3699-1")?.affected, [
      { ecosystem: "Debian:8", name: "virtualbox", ranges: [], state: "end_of_life" },
    ]);
    assert.deepEqual(byId.get("DSA-880-1")?.affected[0], {
      ecosystem: "Debian:3.0",
      name: "phpmyadmin",
      ranges: [],
      state: "affected",
    });
    // NOTE lines stay notes, even when they look like release lines.
    assert.deepEqual(byId.get("DSA-1605-1")?.affected, []);
    assert.match(byId.get("DSA-1605-1")?.details ?? "", /^<unfixed> \(backport too complicated/);
  });

  test("--mirror: the mirror's debian/ folder as ../shared/vulndata lays it out (the tarball), no bookworm", {
    skip: !existsSync(TARBALL),
  }, async () => {
    const warnings: string[] = [];
    const folder = path.dirname(TARBALL);
    const advisories = await collect(
      debianTrackerSource.read([{ path: folder, origin: "mirror" }], { warn: (m) => warnings.push(m) }),
    );
    assert.equal(advisories.length, 5406 + 3534);
    assert.deepEqual(warnings.slice(1), [ONLY_LISTS]);
    // The 2023 copy predates bookworm's release: no Debian:12 entry, so bookworm images keep the
    // matcher's no-data warning; bullseye (11), stable then, has entries.
    const releases = new Set(advisories.flatMap((a) => a.affected.map((e) => e.ecosystem)));
    assert.equal(releases.has("Debian:12"), false);
    assert.equal(releases.has("Debian:11"), true);
  });

  test("a folder: tracker JSON and lists chosen by name, other files ignored, own inputs read once", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "shipshape-debian-folder-"));
    try {
      const list = [
        "[29 Mar 2023] DSA-5380-1 xorg-server - security update",
        "\t{CVE-2023-1393}",
        "\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6",
        "",
      ].join("\n");
      mkdirSync(path.join(dir, "data", "DSA"), { recursive: true });
      writeFileSync(path.join(dir, "data", "DSA", "list"), list);
      writeFileSync(path.join(dir, "tracker.json"), readFileSync(FIXTURE));
      // A checkout's data/config.json is JSON but not the tracker's: not read.
      writeFileSync(path.join(dir, "data", "config.json"), '{"distributions": {}}');
      writeFileSync(path.join(dir, "README"), "not a feed");
      const warnings: string[] = [];
      const viaFolder = await collect(
        debianTrackerSource.read([{ path: dir, origin: "folder" }], { warn: (m) => warnings.push(m) }),
      );
      const viaFiles = await collect(
        debianTrackerSource.read(
          [
            { path: path.join(dir, "tracker.json"), origin: "json" },
            { path: path.join(dir, "data", "DSA", "list"), origin: "list" },
          ],
          { warn: () => undefined },
        ),
      );
      assert.deepEqual(viaFolder.map((a) => a.id).sort(), viaFiles.map((a) => a.id).sort());
      assert.ok(!warnings.includes(ONLY_LISTS), "the tracker JSON was read");
      // The list given as an input of its own besides the folder: still one advisory per entry.
      const both = await collect(
        debianTrackerSource.read(
          [
            { path: dir, origin: "folder" },
            { path: path.join(dir, "data", "DSA", "list"), origin: "list" },
          ],
          { warn: () => undefined },
        ),
      );
      assert.equal(both.length, viaFolder.length);
      const empty = mkdtempSync(path.join(tmpdir(), "shipshape-debian-empty-"));
      const none: string[] = [];
      assert.deepEqual(
        await collect(
          debianTrackerSource.read([{ path: empty, origin: "e" }], { warn: (m) => none.push(m) }),
        ),
        [],
      );
      assert.deepEqual(none, [
        `${empty}: no tracker JSON, DSA/DLA list or archive of them inside; nothing read`,
      ]);
      rmSync(empty, { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("advisoryListsIn reads the lists out of a checkout tarball", {
    skip: !existsSync(TARBALL),
  }, async () => {
    let n = 0;
    for await (const _ of advisoryListsIn(TARBALL, () => undefined)) n++;
    assert.equal(n, 5406 + 3534);
  });
});

describe("mapping helpers", () => {
  test("codenames", () => {
    assert.deepEqual(debianEcosystem("bookworm"), { ecosystem: "Debian:12", known: true });
    assert.deepEqual(debianEcosystem("trixie"), { ecosystem: "Debian:13", known: true });
    assert.deepEqual(debianEcosystem("forky"), { ecosystem: "Debian:14", known: true });
    assert.deepEqual(debianEcosystem("sid"), { ecosystem: "Debian:sid", known: true });
    assert.deepEqual(debianEcosystem("unstable"), { ecosystem: "Debian:sid", known: true });
    assert.deepEqual(debianEcosystem("woody"), { ecosystem: "Debian:3.0", known: true });
    assert.deepEqual(debianEcosystem("zzz"), { ecosystem: "Debian:zzz", known: false });
  });

  test("urgencies", () => {
    assert.equal(urgencySeverity("high**"), "high");
    assert.equal(urgencySeverity("medium*"), "medium");
    assert.equal(urgencySeverity("unimportant"), "unimportant");
    assert.equal(urgencySeverity("Not yet assigned"), "not yet assigned");
    assert.equal(urgencySeverity("end-of-life"), undefined);
    assert.equal(urgencySeverity(7), undefined);
  });

  test("inputs: the JSON feed (in a mirror, the debian/ folder), DSA and DLA lists optional", () => {
    assert.deepEqual(debianTrackerSource.inputs, [
      { url: "https://security-tracker.debian.org/tracker/data/json", mirrorPath: "debian" },
      {
        url: "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data/DSA/list",
        mirrorPath: "debian/DSA/list",
        optional: true,
      },
      {
        url: "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data/DLA/list",
        mirrorPath: "debian/DLA/list",
        optional: true,
      },
    ]);
    assert.equal(debianTrackerSource.version, 2);
  });
});
