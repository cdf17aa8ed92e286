/**
 * Test-only findings for the report tests, against the inventories of test-fixtures.ts: several
 * ecosystems (deb, npm, golang, maven, the Node.js runtime), fixed / unfixed / will-not-fix states, a
 * vendor severity that disagrees with the CVSS score, one vulnerability in two locations of the same
 * package, a long title, and feed text with terminal escapes and characters CSV and SARIF must
 * escape. Ids and scores are modelled on the real advisories; the texts are abridged. Not imported by
 * production code.
 */
import type { InventoriedPackage } from "../inventory/types.js";
import type { Finding, MatchResult } from "../match/types.js";
import { alpineInventory, nodeAppInventory } from "./test-fixtures.js";

function pkg(name: string, location?: string): InventoriedPackage {
  const found = nodeAppInventory.packages.find(
    (p) => p.name === name && (location === undefined || p.location === location),
  );
  if (!found) throw new Error(`fixture: no package ${name} ${location ?? ""}`);
  return found;
}

function finding(p: InventoriedPackage, f: Partial<Finding> & Pick<Finding, "id" | "severity">): Finding {
  return {
    aliases: [],
    package: {
      name: p.name,
      version: p.version,
      ecosystem: p.ecosystem,
      purl: p.purl,
      location: p.location,
      source: p.source && p.source.name !== p.name ? p.source : undefined,
    },
    layer: p.layer,
    state: "fixed",
    fixedVersions: [],
    links: [],
    sources: ["osv"],
    ...f,
  };
}

const V31 = (vector: string, score: number, source = "nvd") => ({
  version: "3.1" as const,
  vector: `CVSS:3.1/${vector}`,
  score,
  source,
});

export const LONG_TITLE =
  "Regular expression denial of service in the markdown parser when it renders crafted links, emphasis and " +
  "nested block quotes, which lets a remote attacker exhaust the CPU of any service that renders user input";

export const log4shell = finding(pkg("org.apache.logging.log4j:log4j-core"), {
  id: "CVE-2021-44228",
  aliases: ["GHSA-jfh8-c2jp-5v3q"],
  severity: "critical",
  cvss: V31("AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10),
  fixedVersions: ["2.15.0"],
  published: "2021-12-10T10:15:09Z",
  modified: "2023-04-03T20:15:08Z",
  summary: "Remote code injection in Log4j",
  description:
    "Apache Log4j2 2.0-beta9 through 2.15.0 JNDI features used in configuration, log messages, and parameters do not protect against attacker controlled LDAP and other JNDI related endpoints.",
  links: [
    "https://logging.apache.org/log4j/2.x/security.html",
    "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
  ],
  sources: ["osv"],
});

/** The same lodash vulnerability found twice: in the lock file and in node_modules. */
export const lodashLock = finding(pkg("lodash", "app/package-lock.json"), {
  id: "CVE-2020-8203",
  aliases: ["GHSA-p6mc-m468-83gw"],
  severity: "high",
  cvss: V31("AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:H", 7.4),
  fixedVersions: ["4.17.19"],
  published: "2020-07-15",
  summary: "Prototype Pollution in lodash",
  links: ["https://github.com/lodash/lodash/issues/4744"],
});
export const lodashModules: Finding = (() => {
  const { package: _package, layer: _layer, ...rest } = lodashLock;
  return finding(pkg("lodash", "app/node_modules/lodash/package.json"), rest);
})();

export const lodashInjection = finding(pkg("lodash", "app/node_modules/lodash/package.json"), {
  id: "CVE-2021-23337",
  aliases: ["GHSA-35jh-r3h4-6jhm"],
  severity: "high",
  cvss: V31("AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", 7.2),
  fixedVersions: ["4.17.21"],
  summary: 'Command Injection in lodash\'s "template", via the variable option',
});

/** Feed text carrying a colour change, a cursor move, an OSC 8 hyperlink and a newline. */
export const handlebarsEscapes = finding(pkg("handlebars"), {
  id: "CVE-2021-23369",
  aliases: ["GHSA-f2jv-r9rf-7988"],
  severity: "critical",
  cvss: V31("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
  fixedVersions: ["4.7.7"],
  summary:
    "Remote code execution \x1b[31min\x1b[0m handlebars\x1b[2J\x1b[H when compiling \x1b]8;;https://osc8.example\x07untrusted\x1b]8;;\x07\ntemplates",
});

/** A title that begins like a spreadsheet formula, with quotes and commas. */
export const wsFormula = finding(pkg("ws"), {
  id: "CVE-2016-10542",
  aliases: ["GHSA-6663-c963-2gqg"],
  severity: "high",
  cvss: V31("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
  fixedVersions: ["1.1.1"],
  summary: '=HYPERLINK("https://evil.example","DoS, in ws") "ping" frames',
});

export const markedLong = finding(pkg("marked"), {
  id: "GHSA-xf5p-87ch-gxw2",
  severity: "medium",
  vendorSeverity: "moderate",
  fixedVersions: ["0.3.9"],
  summary: LONG_TITLE,
  sources: ["osv"],
});

/** No CVSS, no vendor rating. */
export const mixinUnknown = finding(pkg("mixin-deep"), {
  id: "GHSA-fhjf-83wg-r2j9",
  severity: "unknown",
  fixedVersions: ["1.3.2", "2.0.1"],
  summary: "Prototype Pollution in mixin-deep",
});

export const goStdlib = finding(pkg("stdlib"), {
  id: "CVE-2021-3114",
  aliases: ["GO-2021-0235"],
  severity: "medium",
  cvss: V31("AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
  fixedVersions: ["1.14.14", "1.15.7"],
  summary: "Incorrect operations on the P-224 curve in crypto/elliptic",
});

export const nodeRuntime = finding(pkg("node"), {
  id: "CVE-2021-22883",
  severity: "high",
  cvss: V31("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
  fixedVersions: ["14.16.0"],
  summary: "HTTP2 'unknownProtocol' cause Denial of Service by resource exhaustion",
  sources: ["nodejs-security-wg"],
});

/** Debian says "unimportant" and will not fix; NVD scores it 9.8. */
export const glibcWontFix = finding(pkg("libc6"), {
  id: "CVE-2019-1010022",
  severity: "negligible",
  vendorSeverity: "unimportant",
  state: "will_not_fix",
  cvss: V31("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
  summary: "GNU Libc stack guard protection bypass",
  sources: ["debian-tracker"],
});

export const zlibUnfixed = finding(pkg("zlib1g"), {
  id: "CVE-2023-45853",
  severity: "critical",
  state: "affected",
  cvss: V31("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
  description:
    "MiniZip in zlib through 1.3 has an integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_64.\nSecond line.",
  sources: ["debian-tracker"],
});

/** CVSS v2 only, low. */
export const tarLow = finding(pkg("tar"), {
  id: "CVE-2005-2541",
  severity: "low",
  vendorSeverity: "low",
  state: "postponed",
  cvss: { version: "2.0", vector: "AV:N/AC:L/Au:N/C:C/I:C/A:C", score: 10, source: "nvd" },
  summary: "Tar 1.15.1 does not properly warn the user when extracting setuid or setgid files",
  sources: ["debian-tracker"],
});

export const NODE_APP_FINDINGS: Finding[] = [
  lodashLock,
  lodashModules,
  lodashInjection,
  log4shell,
  handlebarsEscapes,
  wsFormula,
  markedLong,
  mixinUnknown,
  goStdlib,
  nodeRuntime,
  glibcWontFix,
  zlibUnfixed,
  tarLow,
];

export const nodeAppResult: MatchResult = { findings: NODE_APP_FINDINGS, warnings: [] };

/** Alpine with no feed for its release: nothing found, and a warning that says why. */
export const alpineNoData: MatchResult = {
  findings: [],
  warnings: [
    `no vulnerability data for Alpine Linux v3.10 (Alpine:v3.10): its ${alpineInventory.packages.length} OS packages were not checked`,
  ],
};
