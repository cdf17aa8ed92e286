import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Finding } from "../match/types.js";
import { glibcWontFix, log4shell, NODE_APP_FINDINGS, wsFormula, zlibUnfixed } from "./findings-fixtures.js";
import { csvTime, REGISTRY_CSV_COLUMNS, registryCsv } from "./prisma-csv.js";
import {
  buildImageScanResult,
  failedImageScanResult,
  type ImageScanInput,
  type ImageScanResult,
  withLayerVulnerabilities,
} from "./prisma-result.js";
import { emptyInventory, nodeAppImage, nodeAppInventory, scratchImage } from "./test-fixtures.js";

const HEADER =
  "Registry,Repository,Tag,Id,Distro,Hosts,Layer,CVE ID,Compliance ID,Type,Severity,Packages,Source Package," +
  "Package Version,Package License,CVSS,Fix Status,Risk Factors,Vulnerability Tags,Description,Cause,Containers," +
  "Custom Labels,Published,Discovered,Binaries,Clusters\r\n";

const CONFIG_DIGEST = nodeAppImage.configDigest;

function input(findings: Finding[], overrides: Partial<ImageScanInput> = {}): ImageScanInput {
  return {
    identity: nodeAppImage,
    inventory: nodeAppInventory,
    findings,
    warnings: [],
    repoTag: { registry: "127.0.0.1:5000", repo: "node-app", tag: "1.0" },
    registryType: "2",
    collections: ["All"],
    hostname: "scanner-1",
    scanTime: new Date("2024-05-01T12:34:56.789Z"),
    firstScanTime: new Date("2024-04-30T12:00:00.250Z"),
    scanId: 1,
    scanVersion: "0.1.0",
    ...overrides,
  };
}

const image = (findings: Finding[], overrides: Partial<ImageScanInput> = {}) =>
  buildImageScanResult(input(findings, overrides));

const prefix = `127.0.0.1:5000,node-app,1.0,${CONFIG_DIGEST},debian-bookworm,0`;

/** Parses RFC 4180 text back into rows, to check quoting round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += c;
  }
  return rows;
}

describe("registryCsv", () => {
  it("starts with the header line of spec 6.11", () => {
    assert.equal(registryCsv([]).next().value, HEADER);
    assert.equal(REGISTRY_CSV_COLUMNS.join(","), HEADER.trimEnd());
  });

  const rows: [string, Finding, string][] = [
    [
      "OS finding: binary package, source package, quoted multi-line description, no publication date",
      zlibUnfixed,
      `${prefix},,CVE-2023-45853,46,OS,critical,zlib1g,zlib,1:1.2.13.dfsg-1,Zlib,9.80,open,` +
        `Attack complexity: low; Attack vector: network; Critical severity; Remote execution,,` +
        `"MiniZip in zlib through 1.3 has an integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_64.\nSecond line.",` +
        `,0,,,2024-04-30 12:00:00.250,,\r\n`,
    ],
    [
      "OS finding the vendor will not fix, rated by its vendor term",
      glibcWontFix,
      `${prefix},,CVE-2019-1010022,46,OS,unimportant,libc6,glibc,2.36-9+deb12u7,` +
        `"GPL-2.0-or-later, LGPL-2.1-or-later",9.80,will not fix,` +
        `Attack complexity: low; Attack vector: network; Remote execution,,GNU Libc stack guard protection bypass,` +
        `,0,,,2024-04-30 12:00:00.250,,\r\n`,
    ],
    [
      "language finding: commas in license and description, publication date",
      log4shell,
      `${prefix},,CVE-2021-44228,47,jar,critical,org.apache.logging.log4j:log4j-core,,2.14.1,` +
        `"Apache License, Version 2.0",10.00,fixed in 2.15.0,` +
        `Attack complexity: low; Attack vector: network; Critical severity; Has fix; Remote execution,,` +
        `"Apache Log4j2 2.0-beta9 through 2.15.0 JNDI features used in configuration, log messages, and parameters do not protect against attacker controlled LDAP and other JNDI related endpoints.",` +
        `,0,,2021-12-10 10:15:09.000,2024-04-30 12:00:00.250,,\r\n`,
    ],
    [
      "quotes doubled, and a formula start defused",
      wsFormula,
      `${prefix},,CVE-2016-10542,49,nodejs,high,ws,,1.1.0,"(MIT OR Apache-2.0), BSD",7.50,fixed in 1.1.1,` +
        `Attack complexity: low; Attack vector: network; DoS - High; Has fix; High severity,,` +
        `"'=HYPERLINK(""https://evil.example"",""DoS, in ws"") ""ping"" frames",` +
        `,0,,,2024-04-30 12:00:00.250,,\r\n`,
    ],
  ];
  for (const [name, finding, expected] of rows) {
    it(name, () => {
      assert.deepEqual([...registryCsv([image([finding])])], [HEADER, expected]);
    });
  }

  it("one row per vulnerability, each parsing back to the 27 columns", () => {
    const result = image(NODE_APP_FINDINGS);
    const lines = [...registryCsv([result])];
    assert.equal(lines.length, 1 + result.vulnerabilitiesCount);
    const parsed = parseCsv(lines.join(""));
    assert.deepEqual(parsed[0], [...REGISTRY_CSV_COLUMNS]);
    for (const row of parsed.slice(1)) assert.equal(row.length, REGISTRY_CSV_COLUMNS.length);
    assert.deepEqual(
      parsed.slice(1).map((r) => r[7]),
      result.vulnerabilities?.map((v) => v.cve),
    );
    const zlib = parsed.find((r) => r[7] === zlibUnfixed.id);
    assert.equal(zlib?.[19], zlibUnfixed.description);
  });

  it("images without findings, and failed images, contribute no row", () => {
    const clean = image([], { identity: scratchImage, inventory: emptyInventory });
    const failed = failedImageScanResult({ ...input([]), error: "pull failed" });
    assert.deepEqual([...registryCsv([clean, failed])], [HEADER]);
    assert.deepEqual([...registryCsv([clean, image([log4shell]), failed])].length, 2);
  });

  it("images in the order given", () => {
    const other = image([zlibUnfixed], { repoTag: { registry: "127.0.0.1:5000", repo: "other", tag: "2" } });
    const lines = [...registryCsv([image([log4shell]), other])];
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(",").slice(1, 3).join(":")),
      ["node-app:1.0", "other:2"],
    );
  });

  it("fills Layer with the introducing layer's instruction when the layers mapping was applied", () => {
    const layered = withLayerVulnerabilities(image([log4shell, zlibUnfixed]));
    const layers = parseCsv([...registryCsv([layered])].join(""))
      .slice(1)
      .map((r) => [r[7], r[6]]);
    assert.deepEqual(layers, [
      [zlibUnfixed.id, "debootstrap --variant=minbase bookworm"],
      [log4shell.id, "RUN step 3"],
    ]);
  });

  it("streams: lines come out before later results are produced", () => {
    let produced = 0;
    function* results(): Generator<ImageScanResult> {
      for (;;) {
        produced++;
        yield image([log4shell]);
      }
    }
    const lines = registryCsv(results());
    const firstThree = [lines.next().value, lines.next().value, lines.next().value];
    assert.equal(firstThree[0], HEADER);
    assert.equal(produced, 2);
  });
});

describe("csvTime", () => {
  const rows: [Date, string][] = [
    [new Date("2021-12-10T10:15:09Z"), "2021-12-10 10:15:09.000"],
    [new Date("2026-03-12T20:14:54.675Z"), "2026-03-12 20:14:54.675"],
    [new Date("0001-01-01T00:00:00Z"), ""],
    [new Date(Number.NaN), ""],
  ];
  for (const [date, expected] of rows) {
    it(`${expected || "empty"}`, () => assert.equal(csvTime(date), expected));
  }
});
