import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FeedInput } from "../source.js";
import type { Advisory } from "../types.js";
import {
  ALPINE_BRANCHES,
  alpineSecdbSource,
  branchFromPath,
  parseSecfixId,
  SecdbCollector,
} from "./alpine-secdb.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const shared = process.env.SHIPSHAPE_SHARED ?? path.resolve(repoRoot, "../shared");
const mirror = path.join(shared, "vulndata");

/** The inputs a mirror laid out as ../shared/vulndata provides (optional ones it lacks left out). */
function mirrorInputs(): FeedInput[] {
  return alpineSecdbSource.inputs
    .map((input) => ({ path: path.join(mirror, input.mirrorPath), origin: input.url }))
    .filter((input) => existsSync(input.path));
}

async function read(inputs: FeedInput[]): Promise<{ advisories: Advisory[]; warnings: string[] }> {
  const warnings: string[] = [];
  const advisories: Advisory[] = [];
  for await (const a of alpineSecdbSource.read(inputs, { warn: (m) => warnings.push(m) })) advisories.push(a);
  return { advisories, warnings };
}

const fix = (ecosystem: string, name: string, fixed: string) => ({
  ecosystem,
  name,
  ranges: [{ scheme: "apk", events: [{ introduced: "0" }, { fixed }] }],
});

describe("alpine-secdb on the real v3.3 … v3.11 documents", {
  skip: !existsSync(path.join(mirror, "alpine")),
}, () => {
  test("every document, package entry and id reference is read", async (t) => {
    const inputs = mirrorInputs();
    assert.equal(inputs.length, 18);
    const started = performance.now();
    const { advisories, warnings } = await read(inputs);
    t.diagnostic(
      `${advisories.length} advisories from 18 documents in ${Math.round(performance.now() - started)} ms`,
    );
    assert.deepEqual(warnings, []);

    // README: 1,652 package entries and 12,028 CVE references across the 18 files.
    const collector = new SecdbCollector(assert.fail);
    const { readFileSync } = await import("node:fs");
    for (const input of inputs)
      collector.addDocument(JSON.parse(readFileSync(input.path, "utf8")), input.path);
    assert.equal(collector.packageEntries, 1652);
    assert.equal(collector.references, 12028);
    assert.equal(advisories.length, 2476);
    assert.equal(new Set(advisories.map((a) => a.id)).size, advisories.length);
    const byId = new Map(advisories.map((a) => [a.id, a]));

    assert.deepEqual(byId.get("CVE-2019-10206"), {
      id: "CVE-2019-10206",
      aliases: [],
      source: "alpine-secdb",
      references: [{ type: "ADVISORY", url: "https://security.alpinelinux.org/vuln/CVE-2019-10206" }],
      severities: [],
      affected: [
        fix("Alpine:v3.7", "ansible", "2.4.6.0-r1"),
        fix("Alpine:v3.8", "ansible", "2.6.19-r0"),
        fix("Alpine:v3.9", "ansible", "2.7.13-r0"),
        fix("Alpine:v3.10", "ansible", "2.8.4-r0"),
        fix("Alpine:v3.11", "ansible", "2.8.4-r0"),
      ],
    });
    // "0": db in v3.8 was never affected.
    assert.deepEqual(byId.get("CVE-2016-0682")?.affected, [
      { ecosystem: "Alpine:v3.8", name: "db", ranges: [], state: "not_affected" },
    ]);
    // An id with a second id beside it, a Xen advisory without CVE, repaired CVE spellings.
    assert.deepEqual(byId.get("CVE-2019-5060")?.aliases, ["TALOS-2019-0844"]);
    assert.equal(byId.get("CVE-2019-5060")?.affected.length, 4);
    assert.deepEqual(byId.get("XSA-207")?.references, []);
    assert.equal(byId.get("XSA-207")?.affected.length, 9);
    // openjdk7's "CVE_2019-2426", beside openjdk8's correctly spelled one.
    assert.deepEqual(
      byId.get("CVE-2019-2426")?.affected.filter((a) => a.name === "openjdk7"),
      ["v3.6", "v3.7", "v3.8", "v3.9", "v3.10", "v3.11"].map((b) =>
        fix(`Alpine:${b}`, "openjdk7", "7.211.2.6.17-r0"),
      ),
    );
    assert.deepEqual(
      byId.get("CVE-2018-16859")?.affected.find((a) => a.ecosystem === "Alpine:v3.9"),
      fix("Alpine:v3.9", "ansible", "2.7.3-r0"),
    );
    // "CVE-2017-8073.patch" (weechat, v3.3–v3.5) still names CVE-2017-8073.
    assert.ok(
      byId.get("CVE-2017-8073")?.affected.some((a) => a.ecosystem === "Alpine:v3.3" && a.name === "weechat"),
    );
    // A null id list (heimdal 7.4.0-r0 in v3.6) contributes nothing, the other versions do.
    assert.deepEqual(
      byId.get("CVE-2017-11103")?.affected.find((a) => a.ecosystem === "Alpine:v3.6"),
      fix("Alpine:v3.6", "heimdal", "7.1.0-r1"),
    );
    for (const a of advisories)
      for (const p of a.affected) assert.match(p.ecosystem, /^Alpine:v3\.(3|4|5|6|7|8|9|10|11)$/);
  });
});

describe("secdb documents", () => {
  const collect = (documents: [unknown, string, string?][]) => {
    const warnings: string[] = [];
    const collector = new SecdbCollector((m) => warnings.push(m));
    for (const [doc, label, branch] of documents) collector.addDocument(doc, label, branch);
    return { advisories: collector.advisories(), warnings, collector };
  };

  test("a real fix beats a '0' for the same branch and package; two fixes give two entries", () => {
    const doc = {
      distroversion: "v3.20",
      reponame: "main",
      packages: [
        {
          pkg: {
            name: "jenkins",
            secfixes: { "2.332.1-r0": ["CVE-2022-20612"], "2.319.2-r0": ["CVE-2022-20612"] },
          },
        },
        { pkg: { name: "curl", secfixes: { "0": ["CVE-2020-1111"], "8.0.0-r0": ["CVE-2020-1111"] } } },
        { pkg: { name: "zlib", secfixes: { "1.3-r0": ["CVE-2020-2222"], "0": ["CVE-2020-2222"] } } },
      ],
    };
    const { advisories } = collect([[doc, "doc"]]);
    const byId = new Map(advisories.map((a) => [a.id, a]));
    assert.deepEqual(byId.get("CVE-2022-20612")?.affected, [
      fix("Alpine:v3.20", "jenkins", "2.332.1-r0"),
      fix("Alpine:v3.20", "jenkins", "2.319.2-r0"),
    ]);
    assert.deepEqual(byId.get("CVE-2020-1111")?.affected, [fix("Alpine:v3.20", "curl", "8.0.0-r0")]);
    assert.deepEqual(byId.get("CVE-2020-2222")?.affected, [fix("Alpine:v3.20", "zlib", "1.3-r0")]);
  });

  test("null and malformed parts are tolerated and reported", () => {
    const { advisories, warnings, collector } = collect([
      [{ distroversion: "v3.3", reponame: "community", packages: null }, "a"],
      [
        { reponame: "main", packages: [{ pkg: { name: "x", secfixes: { "1-r0": ["CVE-2024-0001"] } } }] },
        "b",
        "edge",
      ],
      [{ reponame: "main", packages: [] }, "c"],
      [[], "d"],
      [{ distroversion: "v3.19", packages: {} }, "e"],
      [
        {
          distroversion: "v3.19",
          packages: [
            null,
            { pkg: { secfixes: {} } },
            { pkg: { name: "p", secfixes: null } },
            { pkg: { name: "q", secfixes: [] } },
            {
              pkg: {
                name: "r",
                secfixes: {
                  "1-r0": null,
                  "2-r0": "CVE-2024-1",
                  "3-r0": [7, "see upstream", "CVE-2024-0002 (+ regression fix)"],
                },
              },
            },
          ],
        },
        "f",
      ],
    ]);
    assert.deepEqual(
      advisories.map((a) => [a.id, a.affected.map((p) => `${p.ecosystem} ${p.name}`)]),
      [
        ["CVE-2024-0001", ["Alpine:edge x"]],
        ["CVE-2024-0002", ["Alpine:v3.19 r"]],
      ],
    );
    assert.deepEqual(warnings, [
      "c: no distroversion; skipped",
      "d: not a secdb document (expected a JSON object); skipped",
      'e: "packages" is not a list; skipped',
      "f: package entry without a name; skipped",
      "f: package entry without a name; skipped",
      'f: q: "secfixes" is not an object; skipped',
      "f: r 2-r0: id list is not a list; skipped",
      "f: r 3-r0: non-string id 7; skipped",
      'f: r 3-r0: no vulnerability id in "see upstream"; skipped',
    ]);
    assert.equal(collector.packageEntries, 4);
  });

  test("id strings", () => {
    assert.deepEqual(parseSecfixId("CVE-2019-5060 TALOS-2019-0844"), {
      cves: ["CVE-2019-5060"],
      others: ["TALOS-2019-0844"],
      rest: "",
    });
    assert.deepEqual(
      parseSecfixId("CVE-2018-10103 (SMB - partially fixed, but SMB printing disabled)").cves,
      ["CVE-2018-10103"],
    );
    assert.deepEqual(parseSecfixId("CVE_2019-2426").cves, ["CVE-2019-2426"]);
    assert.deepEqual(parseSecfixId("CVE 2018-16859").cves, ["CVE-2018-16859"]);
    assert.deepEqual(parseSecfixId("CVE-2017-8073.patch").cves, ["CVE-2017-8073"]);
    assert.deepEqual(parseSecfixId("CVE-2020-1111 CVE-2020-2222").cves, ["CVE-2020-1111", "CVE-2020-2222"]);
    assert.deepEqual(parseSecfixId("XSA-207"), { cves: [], others: ["XSA-207"], rest: "" });
    assert.deepEqual(parseSecfixId("wnpa-sec-2017-18").others, ["wnpa-sec-2017-18"]);
    assert.equal(branchFromPath("https://secdb.alpinelinux.org/v3.20/community.json"), "v3.20");
    assert.equal(branchFromPath("/m/alpine/edge/main.json"), "edge");
  });

  test("inputs: main and community of v3.2 … v3.22 and edge, all optional; missing ones are simply absent", async () => {
    assert.equal(ALPINE_BRANCHES[0], "v3.2");
    assert.equal(ALPINE_BRANCHES.at(-2), "v3.22");
    assert.equal(ALPINE_BRANCHES.at(-1), "edge");
    assert.equal(alpineSecdbSource.inputs.length, 44);
    assert.deepEqual(alpineSecdbSource.inputs[0], {
      url: "https://secdb.alpinelinux.org/v3.2/main.json",
      mirrorPath: "alpine/v3.2/main.json",
      optional: true,
    });
    assert.ok(alpineSecdbSource.inputs.every((i) => i.optional === true));

    const dir = mkdtempSync(path.join(tmpdir(), "secdb-"));
    try {
      const file = path.join(dir, "main.json");
      // The live secdb's shape for a current branch (distroversion from the document).
      writeFileSync(
        file,
        JSON.stringify({
          apkurl: "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
          archs: ["x86_64"],
          reponame: "main",
          urlprefix: "https://dl-cdn.alpinelinux.org/alpine",
          distroversion: "v3.22",
          packages: [{ pkg: { name: "openssl", secfixes: { "3.5.1-r0": ["CVE-2025-4575"] } } }],
        }),
      );
      const broken = path.join(dir, "broken.json");
      writeFileSync(broken, "{");
      const { advisories, warnings } = await read([
        { path: file, origin: "https://secdb.alpinelinux.org/v3.22/main.json" },
        { path: broken, origin: "https://secdb.alpinelinux.org/v3.22/community.json" },
        { path: path.join(dir, "gone.json"), origin: "https://secdb.alpinelinux.org/v3.23/main.json" },
      ]);
      assert.deepEqual(
        advisories.map((a) => [a.id, a.affected]),
        [["CVE-2025-4575", [fix("Alpine:v3.22", "openssl", "3.5.1-r0")]]],
      );
      assert.equal(warnings.length, 2);
      assert.match(warnings[0] ?? "", /broken\.json .*invalid JSON/);
      assert.match(warnings[1] ?? "", /gone\.json .*ENOENT.*skipped/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
