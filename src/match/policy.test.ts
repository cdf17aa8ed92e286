import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  glibcWontFix,
  goStdlib,
  lodashInjection,
  lodashLock,
  lodashModules,
  log4shell,
  markedLong,
  NODE_APP_FINDINGS,
  tarLow,
  zlibUnfixed,
} from "../report/findings-fixtures.js";
import {
  applyPolicy,
  globRegExp,
  IgnoreFileError,
  type IgnoreRule,
  parseIgnoreFile,
  parseSeverities,
  splitPurl,
} from "./policy.js";
import type { Finding } from "./types.js";

const NOW = new Date("2024-05-01T12:00:00Z");
const at = (line: number, path = ".trivyignore") => ({ path, line });
const day = (d: string) => new Date(`${d}T00:00:00Z`);
const rule = (r: Partial<IgnoreRule>): IgnoreRule => ({ source: at(1, "rules.yaml"), ...r });

describe("parseIgnoreFile: .trivyignore", () => {
  test("ids, comments, blank lines, exp: and trailing comments; line numbers kept", () => {
    const text = [
      "# accepted risks",
      "CVE-2021-44228",
      "",
      "   GHSA-p6mc-m468-83gw   ",
      "CVE-2020-8203 exp:2024-06-30",
      "CVE-2019-1010022 # not reachable: no setuid binaries",
      "CVE-2005-2541 exp:2023-01-01 # old base image",
    ].join("\n");
    const file = parseIgnoreFile(text, ".trivyignore");
    assert.equal(file.format, "trivyignore");
    assert.deepEqual(file.warnings, []);
    assert.deepEqual(file.rules, [
      { id: "CVE-2021-44228", expires: undefined, reason: undefined, source: at(2) },
      { id: "GHSA-p6mc-m468-83gw", expires: undefined, reason: undefined, source: at(4) },
      { id: "CVE-2020-8203", expires: day("2024-06-30"), reason: undefined, source: at(5) },
      {
        id: "CVE-2019-1010022",
        expires: undefined,
        reason: "not reachable: no setuid binaries",
        source: at(6),
      },
      { id: "CVE-2005-2541", expires: day("2023-01-01"), reason: "old base image", source: at(7) },
    ]);
  });

  test("CRLF, a byte order mark, and any file name that is not .yaml/.yml", () => {
    const file = parseIgnoreFile("\uFEFFCVE-1\r\nCVE-2\r\n", "ci/ignore-list");
    assert.deepEqual(
      file.rules.map((r) => [r.id, r.source.line]),
      [
        ["CVE-1", 1],
        ["CVE-2", 2],
      ],
    );
  });

  test("tokens Trivy tolerates (key2:value2) are warned about, the id still applies", () => {
    const file = parseIgnoreFile("CVE-2019-0006 exp:9999-01-01 key2:value2\n", ".trivyignore");
    assert.equal(file.rules[0]?.id, "CVE-2019-0006");
    assert.deepEqual(file.warnings, [
      '.trivyignore:1: "key2:value2" after CVE-2019-0006 was not understood and is left out (expected exp:YYYY-MM-DD or a # comment)',
    ]);
  });

  const errors: [string, string, RegExp][] = [
    [
      "month 13",
      "CVE-1\n\nCVE-2 exp:2024-13-01",
      /^\.trivyignore:3: invalid expiry date "2024-13-01" for CVE-2/,
    ],
    ["30 February", "CVE-2 exp:2024-02-30", /^\.trivyignore:1: invalid expiry date "2024-02-30"/],
    ["not zero-padded", "CVE-2 exp:2024-6-1", /:1: invalid expiry date "2024-6-1".*exp:YYYY-MM-DD/],
    ["a timestamp (Trivy takes dates only)", "CVE-2 exp:2024-06-01T00:00:00Z", /:1: invalid expiry date/],
    ["two expiry dates", "CVE-2 exp:2024-06-01 exp:2024-07-01", /:1: more than one expiry date for CVE-2/],
    ["no id", "exp:2024-06-01", /:1: expected a vulnerability id before "exp:2024-06-01"/],
  ];
  for (const [name, text, message] of errors) {
    test(`error: ${name}`, () => {
      assert.throws(
        () => parseIgnoreFile(text, ".trivyignore"),
        (e: unknown) => e instanceof IgnoreFileError && message.test(e.message),
      );
    });
  }
});

describe("parseIgnoreFile: YAML", () => {
  test("shipshape's keys: id, packages (purls and names), paths, expires (date or timestamp), reason", () => {
    const text = `
vulnerabilities:
  - id: CVE-2021-44228
    packages:
      - pkg:maven/org.apache.logging.log4j
      - log4j-core
    paths: ["opt/app/**"]
    expires: 2024-06-30
    reason: the vendor build removes JndiLookup
  - id: CVE-2020-8203
    expires: "2024-05-01T13:00:00+02:00"
`;
    const file = parseIgnoreFile(text, ".shipshape-ignore.yaml");
    assert.equal(file.format, "yaml");
    assert.deepEqual(file.warnings, []);
    assert.deepEqual(file.rules, [
      {
        id: "CVE-2021-44228",
        packages: ["pkg:maven/org.apache.logging.log4j", "log4j-core"],
        paths: ["opt/app/**"],
        expires: day("2024-06-30"),
        reason: "the vendor build removes JndiLookup",
        source: at(3, ".shipshape-ignore.yaml"),
      },
      {
        id: "CVE-2020-8203",
        expires: new Date("2024-05-01T11:00:00Z"),
        source: at(10, ".shipshape-ignore.yaml"),
      },
    ]);
  });

  test("a .trivyignore.yaml as is: purls, expired_at, statement, id-less entries, other sections", () => {
    const text = `vulnerabilities:
  - id: CVE-2019-0005
    expired_at: 2023-01-01
  - purls:
      - "pkg:deb/ubuntu/linux-libc-dev"
    statement: Kernel headers, not exercised at runtime
  - paths:
      - "vendor/**"
misconfigurations:
  - id: AVD-DS-0002
secrets: []
licenses:
  - id: GPL-3.0
`;
    const file = parseIgnoreFile(text, ".trivyignore.yml");
    assert.deepEqual(file.rules, [
      { id: "CVE-2019-0005", expires: day("2023-01-01"), source: at(2, ".trivyignore.yml") },
      {
        packages: ["pkg:deb/ubuntu/linux-libc-dev"],
        reason: "Kernel headers, not exercised at runtime",
        source: at(4, ".trivyignore.yml"),
      },
      { paths: ["vendor/**"], source: at(7, ".trivyignore.yml") },
    ]);
    assert.deepEqual(file.warnings, [
      ".trivyignore.yml:9: the misconfigurations section is not applied: shipshape reports vulnerabilities only",
      ".trivyignore.yml:12: the licenses section is not applied: shipshape reports vulnerabilities only",
    ]);
  });

  for (const [name, text] of [
    ["an empty file", ""],
    ["only comments", "# nothing yet\n"],
    ["an empty list", "vulnerabilities: []\n"],
    ["a null list", "vulnerabilities:\n"],
  ]) {
    test(`no rules: ${name}`, () => assert.deepEqual(parseIgnoreFile(text as string, "x.yaml").rules, []));
  }

  const errors: [string, string, RegExp][] = [
    ["YAML syntax", "vulnerabilities:\n  - id: CVE-1\n   bad: [", /^i\.yaml:\d+: invalid YAML: /],
    ["a list at the top", "- CVE-1\n", /^i\.yaml:1: expected a mapping with a "vulnerabilities" list/],
    [
      "an unknown top-level key",
      "vulnerabilites:\n  - id: CVE-1\n",
      /^i\.yaml:1: unknown key "vulnerabilites"/,
    ],
    [
      "vulnerabilities not a list",
      "vulnerabilities:\n  id: CVE-1\n",
      /^i\.yaml:2: "vulnerabilities" must be a list/,
    ],
    [
      "an entry that is a string",
      "vulnerabilities:\n  - CVE-1\n",
      /^i\.yaml:2: each vulnerabilities entry must be a mapping/,
    ],
    [
      "an unknown entry key",
      "vulnerabilities:\n  - id: CVE-1\n    expiry: 2024-01-01\n",
      /^i\.yaml:3: unknown key "expiry" in a vulnerabilities entry/,
    ],
    ["a numeric id", "vulnerabilities:\n  - id: 2021\n", /^i\.yaml:2: id must be a non-empty string/],
    [
      "packages not a list",
      "vulnerabilities:\n  - id: CVE-1\n    packages: lodash\n",
      /^i\.yaml:3: packages must be a list/,
    ],
    [
      "an invalid purl",
      "vulnerabilities:\n  - id: CVE-1\n    packages: ['pkg:npm']\n",
      /^i\.yaml:3: packages\[0\] "pkg:npm" is not a valid purl/,
    ],
    [
      "a bad date",
      "vulnerabilities:\n  - id: CVE-1\n    expires: next week\n",
      /^i\.yaml:3: invalid expires "next week": expected YYYY-MM-DD or an RFC 3339 timestamp/,
    ],
    [
      "a timestamp without a zone",
      "vulnerabilities:\n  - id: CVE-1\n    expires: 2024-06-01T10:00:00\n",
      /^i\.yaml:3: invalid expires/,
    ],
    [
      "expires and expired_at",
      "vulnerabilities:\n  - id: CVE-1\n    expires: 2024-06-01\n    expired_at: 2024-07-01\n",
      /^i\.yaml:4: "expired_at" repeats "expires"/,
    ],
    ["a duplicate key", "vulnerabilities:\n  - id: CVE-1\n    id: CVE-2\n", /^i\.yaml:3: invalid YAML: /],
    [
      "an entry naming nothing",
      "vulnerabilities:\n  - reason: everything is fine\n",
      /^i\.yaml:2: an entry needs an id, or packages or paths/,
    ],
    [
      "an unclosed bracket in a path",
      "vulnerabilities:\n  - id: CVE-1\n    paths: ['app/[ab']\n",
      /^i\.yaml:3: unclosed "\[" in path pattern "app\/\[ab"/,
    ],
  ];
  for (const [name, text, message] of errors) {
    test(`error: ${name}`, () => {
      assert.throws(
        () => parseIgnoreFile(text, "i.yaml"),
        (e: unknown) => {
          assert.ok(e instanceof IgnoreFileError, String(e));
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }
});

describe("applyPolicy", () => {
  const ids = (fs: readonly Finding[]) => fs.map((f) => `${f.id} ${f.package.name} ${f.package.location}`);

  test("no policy keeps everything, in input order", () => {
    const r = applyPolicy(NODE_APP_FINDINGS, { now: NOW });
    assert.deepEqual(r.kept, NODE_APP_FINDINGS);
    assert.deepEqual(r.ignored, []);
    assert.deepEqual(r.warnings, []);
  });

  test("severities: only the listed ones are kept, the rest ignored with the reason", () => {
    const r = applyPolicy(NODE_APP_FINDINGS, { severities: ["critical", "high"], now: NOW });
    assert.ok(r.kept.every((f) => f.severity === "critical" || f.severity === "high"));
    assert.equal(r.kept.length, 8);
    assert.equal(r.ignored.length, NODE_APP_FINDINGS.length - 8);
    const marked = r.ignored.find((i) => i.finding === markedLong);
    assert.deepEqual(marked && { kind: marked.kind, reason: marked.reason }, {
      kind: "severity",
      reason: "severity MEDIUM is not among CRITICAL, HIGH",
    });
  });

  test("an empty severity list filters nothing (it never hides everything)", () => {
    assert.equal(
      applyPolicy(NODE_APP_FINDINGS, { severities: [], now: NOW }).kept.length,
      NODE_APP_FINDINGS.length,
    );
  });

  test("ignoreUnfixed drops affected, will_not_fix and postponed findings", () => {
    const r = applyPolicy(NODE_APP_FINDINGS, { ignoreUnfixed: true, now: NOW });
    assert.ok(r.kept.every((f) => f.state === "fixed"));
    assert.deepEqual(
      r.ignored.map((i) => [i.finding.id, i.kind, i.reason]),
      [
        ["CVE-2019-1010022", "unfixed", "no fixed version (will not fix) and unfixed findings are ignored"],
        ["CVE-2023-45853", "unfixed", "no fixed version (affected) and unfixed findings are ignored"],
        ["CVE-2005-2541", "unfixed", "no fixed version (postponed) and unfixed findings are ignored"],
      ],
    );
  });

  test("an ignore rule comes first: its finding is kind 'rule' even when unfixed and below the threshold", () => {
    const ignores = [
      rule({ id: "CVE-2019-1010022", reason: "no setuid binaries", expires: day("2024-12-31") }),
    ];
    const r = applyPolicy(NODE_APP_FINDINGS, {
      ignores,
      ignoreUnfixed: true,
      severities: ["critical"],
      now: NOW,
    });
    const g = r.ignored.find((i) => i.finding === glibcWontFix);
    assert.equal(g?.kind, "rule");
    assert.equal(g?.rule, ignores[0]);
    assert.equal(g?.reason, "ignored by rules.yaml:1 (no setuid binaries), until 2024-12-31");
  });

  // Which findings each rule ignores, out of NODE_APP_FINDINGS.
  const cases: { name: string; rule: Partial<IgnoreRule>; ignores: Finding[] }[] = [
    { name: "by id", rule: { id: "CVE-2021-44228" }, ignores: [log4shell] },
    { name: "by alias", rule: { id: "GHSA-jfh8-c2jp-5v3q" }, ignores: [log4shell] },
    { name: "ids in any case", rule: { id: "cve-2021-44228" }, ignores: [log4shell] },
    {
      name: "an id in both lodash locations",
      rule: { id: "CVE-2020-8203" },
      ignores: [lodashLock, lodashModules],
    },
    {
      name: "an id, only in one location (paths)",
      rule: { id: "CVE-2020-8203", paths: ["**/*-lock.json"] },
      ignores: [lodashLock],
    },
    {
      name: "paths under node_modules",
      rule: { paths: ["app/node_modules/lodash/**"] },
      ignores: [lodashModules, lodashInjection],
    },
    {
      name: "paths with alternatives, leading slash",
      rule: { paths: ["/{app/package-lock.json,opt/app/lib/*.jar}"] },
      ignores: [lodashLock, log4shell],
    },
    {
      name: "a purl without version: every vulnerability of the package",
      rule: { packages: ["pkg:npm/lodash"] },
      ignores: [lodashLock, lodashModules, lodashInjection],
    },
    {
      name: "a purl prefix stops at segment boundaries",
      rule: { packages: ["pkg:npm/lod"] },
      ignores: [],
    },
    {
      name: "a Maven group as a purl prefix",
      rule: { packages: ["pkg:maven/org.apache.logging.log4j"] },
      ignores: [log4shell],
    },
    {
      name: "a Go module path prefix",
      rule: { packages: ["pkg:golang/stdlib"] },
      ignores: [goStdlib],
    },
    {
      name: "a purl with version: that version only",
      rule: { id: "CVE-2021-23337", packages: ["pkg:npm/lodash@4.17.15"] },
      ignores: [lodashInjection],
    },
    { name: "a purl with another version", rule: { packages: ["pkg:npm/lodash@4.17.21"] }, ignores: [] },
    {
      name: "qualifiers must be present in the package's purl",
      rule: { packages: ["pkg:deb/debian/libc6?distro=debian-12"] },
      ignores: [glibcWontFix],
    },
    {
      name: "a qualifier that differs",
      rule: { packages: ["pkg:deb/debian/libc6?distro=debian-11"] },
      ignores: [],
    },
    { name: "a binary package name", rule: { packages: ["zlib1g"] }, ignores: [zlibUnfixed] },
    { name: "a source package name", rule: { packages: ["glibc"] }, ignores: [glibcWontFix] },
    {
      name: "an id and a package that do not go together",
      rule: { id: "CVE-2021-44228", packages: ["lodash"] },
      ignores: [],
    },
    { name: "a rule naming nothing ignores nothing", rule: {}, ignores: [] },
  ];
  for (const c of cases) {
    test(`rule ${c.name}`, () => {
      const r = applyPolicy(NODE_APP_FINDINGS, { ignores: [rule(c.rule)], now: NOW });
      assert.deepEqual(ids(r.ignored.map((i) => i.finding)), ids(c.ignores));
      assert.equal(r.kept.length + r.ignored.length, NODE_APP_FINDINGS.length);
      assert.ok(r.ignored.every((i) => i.kind === "rule"));
    });
  }

  test("the first matching rule is the one named", () => {
    const ignores = [
      rule({ id: "CVE-2005-2541", source: at(1) }),
      rule({ packages: ["tar"], source: at(2) }),
    ];
    const r = applyPolicy([tarLow], { ignores, now: NOW });
    assert.equal(r.ignored[0]?.rule?.source.line, 1);
  });

  test("expiry: a rule applies before its instant and stops after it, with a warning", () => {
    const ignores = [
      rule({ id: "CVE-2020-8203", expires: day("2024-05-01"), source: at(3) }),
      rule({ id: "CVE-2021-44228", expires: day("2024-05-02"), source: at(4) }),
      rule({ id: "CVE-1999-0001", expires: day("2020-01-01"), source: at(5) }),
      rule({ packages: ["tar"], expires: day("2024-04-01"), source: at(6) }),
    ];
    const r = applyPolicy(NODE_APP_FINDINGS, { ignores, now: NOW });
    assert.deepEqual(ids(r.ignored.map((i) => i.finding)), ids([log4shell]));
    assert.ok(r.kept.includes(lodashLock) && r.kept.includes(lodashModules) && r.kept.includes(tarLow));
    assert.deepEqual(r.warnings, [
      ".trivyignore:3: the ignore rule for CVE-2020-8203 expired on 2024-05-01 and no longer applies (2 findings no longer ignored)",
      ".trivyignore:5: the ignore rule for CVE-1999-0001 expired on 2020-01-01 and no longer applies",
      ".trivyignore:6: the ignore rule for tar expired on 2024-04-01 and no longer applies (1 finding no longer ignored)",
    ]);
    // At exactly the expiry instant the rule still applies (Trivy: expired when before now).
    const edge = applyPolicy([lodashLock], { ignores: [ignores[0] as IgnoreRule], now: day("2024-05-01") });
    assert.equal(edge.ignored.length, 1);
  });

  test("parsed files and policy together", () => {
    const file = parseIgnoreFile(
      "CVE-2021-44228 # vendor build\nCVE-2020-8203 exp:2024-01-01\n",
      ".trivyignore",
    );
    const r = applyPolicy(NODE_APP_FINDINGS, {
      ignores: file.rules,
      severities: ["critical", "high"],
      now: NOW,
    });
    assert.equal(
      r.ignored.find((i) => i.finding === log4shell)?.reason,
      "ignored by .trivyignore:1 (vendor build)",
    );
    assert.ok(r.kept.includes(lodashLock));
    assert.equal(r.warnings.length, 1);
  });
});

describe("parseSeverities", () => {
  const cases: [string, string[] | RegExp][] = [
    ["CRITICAL,HIGH", ["critical", "high"]],
    ["high, critical", ["critical", "high"]],
    ["LOW,low,Negligible", ["low", "negligible"]],
    ["UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL", ["critical", "high", "medium", "low", "unknown"]],
    ["", []],
    [
      "CRITICAL,SEVERE",
      /unknown severity "SEVERE": expected a comma-separated list of CRITICAL, HIGH, MEDIUM, LOW, NEGLIGIBLE, UNKNOWN/,
    ],
  ];
  for (const [text, want] of cases) {
    test(JSON.stringify(text), () => {
      if (want instanceof RegExp) assert.throws(() => parseSeverities(text), want);
      else assert.deepEqual(parseSeverities(text), want);
    });
  }
});

describe("splitPurl", () => {
  const cases: [string, ReturnType<typeof splitPurl>][] = [
    [
      "pkg:npm/%40babel/code-frame@7.12.13",
      {
        type: "npm",
        segments: ["@babel", "code-frame"],
        version: "7.12.13",
        qualifiers: new Map(),
        subpath: undefined,
      },
    ],
    [
      "pkg:npm/@babel/code-frame",
      {
        type: "npm",
        segments: ["@babel", "code-frame"],
        version: undefined,
        qualifiers: new Map(),
        subpath: undefined,
      },
    ],
    [
      "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12",
      {
        type: "deb",
        segments: ["debian", "libc6"],
        version: "2.36-9+deb12u7",
        qualifiers: new Map([
          ["arch", "amd64"],
          ["distro", "debian-12"],
        ]),
        subpath: undefined,
      },
    ],
    [
      "PKG:PyPI/Django_Rest.Framework@3.0#sub/path/",
      {
        type: "pypi",
        segments: ["django-rest-framework"],
        version: "3.0",
        qualifiers: new Map(),
        subpath: "sub/path",
      },
    ],
    ["pkg:npm", undefined],
    ["pkg:npm/", undefined],
    ["lodash", undefined],
    ["pkg:npm/%E0%A4%A", undefined],
  ];
  for (const [text, want] of cases) test(text, () => assert.deepEqual(splitPurl(text), want));
});

describe("globRegExp", () => {
  const cases: [string, string, boolean][] = [
    ["**/*-lock.json", "app/package-lock.json", true],
    ["**/*-lock.json", "package-lock.json", true],
    ["*.json", "app/package.json", false],
    ["app/*/package.json", "app/x/package.json", true],
    ["app/*/package.json", "app/x/y/package.json", false],
    ["app/**", "app/x/y/package.json", true],
    ["app/?.jar", "app/a.jar", true],
    ["app/[!b]*.jar", "app/a.jar", true],
    ["app/[!b]*.jar", "app/b.jar", false],
    ["{usr,opt}/lib/**", "opt/lib/app.jar", true],
    ["a.b", "axb", false],
    ["app/(x)+", "app/(x)+", true],
  ];
  for (const [glob, path, want] of cases) {
    test(`${glob} ${want ? "matches" : "does not match"} ${path}`, () =>
      assert.equal(globRegExp(glob).test(path), want));
  }
  test("unclosed braces are an error", () => assert.throws(() => globRegExp("{a,b"), /unclosed "\{"/));
});
