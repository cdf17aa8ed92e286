import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ImageInventory } from "../inventory/types.js";
import { applyPolicy } from "../match/policy.js";
import type { Finding, MatchResult } from "../match/types.js";
import {
  alpineNoData,
  glibcWontFix,
  LONG_TITLE,
  NODE_APP_FINDINGS,
  nodeAppResult,
} from "./findings-fixtures.js";
import { formatFindingsTable, totalsLine } from "./findings-table.js";
import {
  alpineImage,
  alpineInventory,
  emptyInventory,
  nodeAppImage,
  nodeAppInventory,
  scratchImage,
  shuffled,
} from "./test-fixtures.js";

const ESC = "\x1b";
/** Every SGR sequence removed. */
const plain = (s: string) => s.replace(new RegExp(`${ESC}\\[[0-9;]*m`, "g"), "");
/** C0 controls other than newline, DEL and C1 controls. */
const hasControl = (s: string) =>
  [...s].some((c) => {
    const n = c.codePointAt(0) as number;
    return (n < 0x20 && n !== 0x0a) || (n >= 0x7f && n <= 0x9f);
  });

/** "<heading>" → its rows (without the column header). */
function groups(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const block of text.split("\n\n")) {
    const lines = block.split("\n");
    if (lines[1]?.trimStart().startsWith("ID ")) out.set(lines[0] as string, lines.slice(2));
  }
  return out;
}

describe("formatFindingsTable", () => {
  const text = formatFindingsTable(nodeAppImage, nodeAppInventory, nodeAppResult, {
    database: "built 2024-04-30 08:00 UTC (1 day ago)",
  });

  test("header: image, digest, platform, OS, package count, database line", () => {
    assert.deepEqual(text.split("\n\n")[0]?.split("\n"), [
      "Image:    127.0.0.1:5000/node-app:1.0",
      `Digest:   ${nodeAppImage.digest}`,
      "Platform: linux/amd64",
      "OS:       Debian GNU/Linux 12 (bookworm)",
      "Packages: 20",
      "Database: built 2024-04-30 08:00 UTC (1 day ago)",
    ]);
  });

  test("warnings come right after the header, and are counted again at the end", () => {
    assert.equal(
      text.split("\n\n")[1],
      "WARNING: app/node_modules/broken/package.json: invalid JSON: Unexpected end of JSON input",
    );
    assert.match(text, /\nWarnings: 1 \(see above\)\n$/);
  });

  test("grouped by package, worst package first, with version, source, ecosystem, layer, location", () => {
    assert.deepEqual(
      [...groups(text).keys()],
      [
        "zlib1g 1:1.2.13.dfsg-1 (source zlib) [deb, layer 0] var/lib/dpkg/status",
        "handlebars 4.5.3 [npm, layer 2] app/node_modules/handlebars/package.json",
        "org.apache.logging.log4j:log4j-core 2.14.1 [maven, layer 3] opt/app/lib/app.jar",
        "lodash 4.17.15 [npm, layer 2] app/node_modules/lodash/package.json",
        "lodash 4.17.15 [npm, layer 2] app/package-lock.json",
        "ws 1.1.0 [npm, layer 2] app/node_modules/ws/package.json",
        "node 14.15.0 [node, layer 1] usr/local/bin/node",
        "marked 0.3.5 [npm, layer 2] app/node_modules/marked/package.json",
        "stdlib v1.15.5 [golang, layer 2] app/node_modules/esbuild-linux-64/bin/esbuild",
        "tar 1.34+dfsg-1.2+deb12u1 [deb, layer 0] var/lib/dpkg/status",
        "libc6 2.36-9+deb12u7 (source glibc) [deb, layer 0] var/lib/dpkg/status",
        "mixin-deep 1.3.0 [npm, layer 2] app/node_modules/mixin-deep/package.json",
      ],
    );
  });

  test("rows: id, severity, fix state or fixed versions, CVSS, title; columns aligned across groups", () => {
    const g = groups(text);
    const row = (heading: string, i = 0) =>
      g
        .get(heading)
        ?.[i]?.trim()
        .split(/\s{2,}/);
    assert.deepEqual(row("lodash 4.17.15 [npm, layer 2] app/node_modules/lodash/package.json", 0), [
      "CVE-2020-8203",
      "HIGH",
      "4.17.19",
      "7.4",
      "Prototype Pollution in lodash",
    ]);
    assert.deepEqual(row("libc6 2.36-9+deb12u7 (source glibc) [deb, layer 0] var/lib/dpkg/status"), [
      "CVE-2019-1010022",
      "NEGLIGIBLE",
      "will not fix",
      "9.8",
      "GNU Libc stack guard protection bypass",
    ]);
    assert.deepEqual(
      row("zlib1g 1:1.2.13.dfsg-1 (source zlib) [deb, layer 0] var/lib/dpkg/status")?.slice(0, 4),
      ["CVE-2023-45853", "CRITICAL", "no fix yet", "9.8"],
    );
    assert.deepEqual(row("tar 1.34+dfsg-1.2+deb12u1 [deb, layer 0] var/lib/dpkg/status")?.slice(2, 4), [
      "fix postponed",
      "10.0",
    ]);
    assert.deepEqual(
      row("mixin-deep 1.3.0 [npm, layer 2] app/node_modules/mixin-deep/package.json")?.slice(1, 4),
      ["UNKNOWN", "1.3.2, 2.0.1", "-"],
    );
    const headers = text.split("\n").filter((l) => l.trimStart().startsWith("ID "));
    assert.equal(new Set(headers).size, 1, "one header layout for every group");
    const titleAt = (headers[0] as string).indexOf("TITLE");
    for (const rows of g.values()) for (const r of rows) assert.notEqual(r[titleAt - 1], undefined);
  });

  test("the same vulnerability in two locations is two rows, in two groups", () => {
    const rows = text.split("\n").filter((l) => l.includes("CVE-2020-8203"));
    assert.equal(rows.length, 2);
  });

  test("long titles are truncated; titleWidth sets the limit", () => {
    const marked = text.split("\n").find((l) => l.includes("GHSA-xf5p-87ch-gxw2")) as string;
    assert.ok(marked.endsWith("..."));
    assert.ok(!marked.includes(LONG_TITLE));
    const wide = formatFindingsTable(nodeAppImage, nodeAppInventory, nodeAppResult, { titleWidth: 500 });
    assert.ok(wide.includes(LONG_TITLE));
  });

  test("terminal control sequences from feeds are stripped; text stays readable", () => {
    assert.ok(!hasControl(text), "no control characters at all without color");
    const wide = formatFindingsTable(nodeAppImage, nodeAppInventory, nodeAppResult, { titleWidth: 200 });
    assert.ok(wide.includes("  Remote code execution in handlebars when compiling untrusted templates\n"));
    assert.ok(!text.includes("osc8.example"), "the OSC 8 hyperlink target is gone");
  });

  test("control characters from the image are escaped, not passed through", () => {
    const inv: ImageInventory = { ...nodeAppInventory, warnings: ["bad\x1b[2Jfile"] };
    const f: Finding = { ...glibcWontFix, package: { ...glibcWontFix.package, name: "evil\x1b]0;x\x07pkg" } };
    const out = formatFindingsTable(nodeAppImage, inv, { findings: [f], warnings: [] });
    assert.ok(!hasControl(out));
    assert.ok(out.includes("evil\\x1b]0;x\\x07pkg 2.36-9+deb12u7"));
    assert.ok(out.includes("WARNING: bad\\x1b[2Jfile"));
  });

  test("totals per severity like Trivy, NEGLIGIBLE only when present, and the ignored count", () => {
    assert.match(
      text,
      /\n\nTotal: 13 \(CRITICAL: 3, HIGH: 5, MEDIUM: 2, LOW: 1, NEGLIGIBLE: 1, UNKNOWN: 1\)\nIgnored: 0\n/,
    );
    assert.equal(totalsLine([]), "Total: 0 (CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0)");
  });

  test("after a policy: kept findings, ignored counted by reason, policy warnings shown", () => {
    const policy = applyPolicy(NODE_APP_FINDINGS, {
      severities: ["critical", "high"],
      ignoreUnfixed: true,
      ignores: [
        { id: "CVE-2021-44228", source: { path: ".trivyignore", line: 1 } },
        {
          id: "CVE-2000-0001",
          expires: new Date("2020-01-01T00:00:00Z"),
          source: { path: ".trivyignore", line: 2 },
        },
      ],
      now: new Date("2024-05-01T00:00:00Z"),
    });
    const out = formatFindingsTable(
      nodeAppImage,
      { ...nodeAppInventory, warnings: [] },
      { findings: policy.kept, warnings: [] },
      { ignored: policy.ignored, warnings: policy.warnings },
    );
    assert.match(out, /\nTotal: 6 \(CRITICAL: 1, HIGH: 5, MEDIUM: 0, LOW: 0, UNKNOWN: 0\)\n/);
    assert.match(
      out,
      /\nIgnored: 7 \(1 by ignore rules, 3 without a fix, 3 below the severity threshold\)\n/,
    );
    assert.match(out, /\nWARNING: \.trivyignore:2: the ignore rule for CVE-2000-0001 expired on 2020-01-01/);
  });

  test("deterministic and independent of finding order", () => {
    for (const seed of [1, 2, 3]) {
      const r: MatchResult = { ...nodeAppResult, findings: shuffled(NODE_APP_FINDINGS, seed) };
      assert.equal(
        formatFindingsTable(nodeAppImage, nodeAppInventory, r, {
          database: "built 2024-04-30 08:00 UTC (1 day ago)",
        }),
        text,
      );
    }
  });

  test("color: severities in Trivy's colours, headings bold; the same text once colour is removed", () => {
    const colored = formatFindingsTable(nodeAppImage, nodeAppInventory, nodeAppResult, {
      color: true,
      database: "built 2024-04-30 08:00 UTC (1 day ago)",
    });
    assert.equal(plain(colored), text);
    assert.ok(colored.includes(`${ESC}[31mCRITICAL${ESC}[0m`));
    assert.ok(colored.includes(`${ESC}[91mHIGH${ESC}[0m`));
    assert.ok(colored.includes(`${ESC}[33mMEDIUM${ESC}[0m`));
    assert.ok(colored.includes(`${ESC}[34mLOW${ESC}[0m`));
    assert.ok(colored.includes(`${ESC}[36mUNKNOWN${ESC}[0m`));
    assert.ok(colored.includes(`${ESC}[1;33mWARNING:${ESC}[0m`));
  });
});

describe("formatFindingsTable: nothing found", () => {
  test("no feed data for the OS: the warning is prominent and the result is not called clean", () => {
    const out = formatFindingsTable(alpineImage, alpineInventory, alpineNoData);
    assert.deepEqual(out.split("\n\n").slice(1), [
      "WARNING: no vulnerability data for Alpine Linux v3.10 (Alpine:v3.10): its 6 OS packages were not checked",
      "No vulnerabilities found in the packages that were checked; see the warnings above.",
      "Total: 0 (CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0)\nIgnored: 0\nWarnings: 1 (see above)\n",
    ]);
  });

  test("a clean result with full coverage says so plainly", () => {
    const out = formatFindingsTable(alpineImage, alpineInventory, { findings: [], warnings: [] });
    assert.ok(out.includes("\n\nNo vulnerabilities found.\n\nTotal: 0 ("));
    assert.ok(!out.includes("WARNING"));
    assert.ok(!out.includes("Warnings:"));
  });

  test("an image without packages: nothing was checked", () => {
    const out = formatFindingsTable(scratchImage, emptyInventory, { findings: [], warnings: [] });
    assert.ok(out.includes("OS:       unknown (no os-release found)"));
    assert.ok(out.includes("No packages found: nothing was checked for vulnerabilities."));
  });
});
