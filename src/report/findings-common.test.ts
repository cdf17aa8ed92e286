import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Finding } from "../match/types.js";
import {
  compareFindings,
  countBySeverity,
  findingTitle,
  idSource,
  isoTimestamp,
  oneLine,
  primaryLink,
  sortFindings,
  stripControlSequences,
  truncate,
} from "./findings-common.js";
import {
  glibcWontFix,
  handlebarsEscapes,
  lodashInjection,
  lodashLock,
  lodashModules,
  log4shell,
  markedLong,
  mixinUnknown,
  NODE_APP_FINDINGS,
  zlibUnfixed,
} from "./findings-fixtures.js";
import { shuffled } from "./test-fixtures.js";

describe("sortFindings", () => {
  test("severity (worst first), then package (ecosystem order, name, version, location), then id", () => {
    const sorted = sortFindings(NODE_APP_FINDINGS);
    assert.deepEqual(
      sorted.map((f) => `${f.severity} ${f.package.ecosystem} ${f.package.name} ${f.id}`),
      [
        "critical deb zlib1g CVE-2023-45853",
        "critical npm handlebars CVE-2021-23369",
        "critical maven org.apache.logging.log4j:log4j-core CVE-2021-44228",
        "high npm lodash CVE-2020-8203",
        "high npm lodash CVE-2021-23337",
        "high npm lodash CVE-2020-8203",
        "high npm ws CVE-2016-10542",
        "high node node CVE-2021-22883",
        "medium npm marked GHSA-xf5p-87ch-gxw2",
        "medium golang stdlib CVE-2021-3114",
        "low deb tar CVE-2005-2541",
        "negligible deb libc6 CVE-2019-1010022",
        "unknown npm mixin-deep GHSA-fhjf-83wg-r2j9",
      ],
    );
    // lodash: node_modules/… sorts before package-lock.json by location
    assert.deepEqual(sorted.slice(3, 6), [lodashModules, lodashInjection, lodashLock]);
  });

  test("independent of input order", () => {
    const want = sortFindings(NODE_APP_FINDINGS);
    for (const seed of [1, 2, 3, 4]) assert.deepEqual(sortFindings(shuffled(NODE_APP_FINDINGS, seed)), want);
  });

  test("ties beyond id are broken by layer and then by content", () => {
    const a: Finding = { ...log4shell, layer: { ...log4shell.layer, index: 1 } };
    const b: Finding = { ...log4shell, layer: { ...log4shell.layer, index: 2 } };
    assert.ok(compareFindings(a, b) < 0);
    const c: Finding = { ...log4shell, sources: ["z"] };
    assert.notEqual(compareFindings(log4shell, c), 0);
  });
});

describe("countBySeverity", () => {
  test("every severity present", () => {
    assert.deepEqual(countBySeverity(NODE_APP_FINDINGS), {
      critical: 3,
      high: 5,
      medium: 2,
      low: 1,
      negligible: 1,
      unknown: 1,
    });
    assert.deepEqual(countBySeverity([]), {
      critical: 0,
      high: 0,
      medium: 0,
      low: 0,
      negligible: 0,
      unknown: 0,
    });
  });
});

describe("stripControlSequences", () => {
  const cases: [string, string, string][] = [
    ["SGR colours", "a\x1b[1;31mred\x1b[0m b", "ared b"],
    ["cursor moves and clear screen", "\x1b[2J\x1b[Hx\x1b[10;20Hy", "xy"],
    ["OSC 8 hyperlink with BEL", "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07", "click"],
    ["OSC title with ST", "\x1b]0;pwned\x1b\\title", "title"],
    ["DCS string", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"],
    ["8-bit CSI and OSC", "a\x9b31mb\x9d0;t\x9cc", "abc"],
    ["two-byte escapes", "a\x1bcb\x1b(Bc", "abc"],
    ["an unterminated OSC swallows the rest", "ok\x1b]0;never ends", "ok"],
    ["bare controls, DEL, backspace, CR", "a\x00b\x08c\x7fd\re", "abcde"],
    ["newlines and tabs stay", "a\nb\tc", "a\nb\tc"],
    ["non-ASCII stays", "ünïcødé – ok", "ünïcødé – ok"],
  ];
  for (const [name, input, want] of cases) test(name, () => assert.equal(stripControlSequences(input), want));

  test("oneLine folds whitespace", () => assert.equal(oneLine("  a\n\n b\t c  "), "a b c"));
});

describe("findingTitle and truncate", () => {
  test("summary, else the description's first line; cleaned", () => {
    assert.equal(findingTitle(log4shell), "Remote code injection in Log4j");
    assert.equal(
      findingTitle(zlibUnfixed),
      "MiniZip in zlib through 1.3 has an integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_64.",
    );
    assert.equal(
      findingTitle(handlebarsEscapes),
      "Remote code execution in handlebars when compiling untrusted templates",
    );
    assert.equal(findingTitle({ ...log4shell, summary: undefined, description: undefined }), "");
  });

  const cases: [string, number, string][] = [
    ["short", 10, "short"],
    ["exactly ten", 11, "exactly ten"],
    ["cut at a word boundary please", 20, "cut at a word..."],
    ["averyveryverylongwordwithoutspaces", 12, "averyvery..."],
    ["ünïcødé ünïcødé ünïcødé", 12, "ünïcødé..."],
  ];
  for (const [text, max, want] of cases) {
    test(`truncate(${JSON.stringify(text)}, ${max})`, () => {
      const got = truncate(text, max);
      assert.equal(got, want);
      assert.ok([...got].length <= max);
    });
  }
  test("the long fixture title is cut", () =>
    assert.ok(truncate(findingTitle(markedLong), 60).endsWith("...")));
});

describe("idSource and primaryLink", () => {
  const cases: [string, string | undefined][] = [
    ["CVE-2021-44228", "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"],
    ["GHSA-jfh8-c2jp-5v3q", "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q"],
    ["GO-2021-0235", "https://pkg.go.dev/vuln/GO-2021-0235"],
    ["RUSTSEC-2021-0001", "https://rustsec.org/advisories/RUSTSEC-2021-0001"],
    ["PYSEC-2021-19", "https://osv.dev/vulnerability/PYSEC-2021-19"],
    ["DSA-5000-1", undefined],
    ["GHSA-not-a-real-id", undefined],
  ];
  for (const [id, url] of cases) test(id, () => assert.equal(idSource(id)?.url, url));

  test("an id without a known page links the feed's first http(s) reference", () => {
    const f: Finding = {
      ...glibcWontFix,
      id: "TEMP-0000000-1A2B3C",
      links: ["mailto:x@y", "https://security-tracker.debian.org/tracker/TEMP-0000000-1A2B3C"],
    };
    assert.equal(primaryLink(f), "https://security-tracker.debian.org/tracker/TEMP-0000000-1A2B3C");
    assert.equal(primaryLink({ ...f, links: [] }), undefined);
    assert.equal(primaryLink(mixinUnknown), "https://github.com/advisories/GHSA-fhjf-83wg-r2j9");
  });
});

describe("isoTimestamp", () => {
  const cases: [string | undefined, string | undefined][] = [
    ["2020-07-15", "2020-07-15T00:00:00Z"],
    ["2021-12-10T10:15:09Z", "2021-12-10T10:15:09Z"],
    ["2021-12-10T10:15:09.123+02:00", "2021-12-10T08:15:09Z"],
    ["soon", undefined],
    [undefined, undefined],
  ];
  for (const [input, want] of cases) test(String(input), () => assert.equal(isoTimestamp(input), want));
});
