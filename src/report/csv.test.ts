import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Finding } from "../match/types.js";
import { CSV_COLUMNS, csvCell, toCsv } from "./csv.js";
import { glibcWontFix, NODE_APP_FINDINGS, nodeAppResult } from "./findings-fixtures.js";
import { nodeAppImage, shuffled } from "./test-fixtures.js";

/** A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes; throws on anything else. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error("unterminated quote");
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i];
        i++;
      }
    } else {
      while (i < text.length && text[i] !== "," && text[i] !== "\r") {
        if (text[i] === '"' || text[i] === "\n") throw new Error(`bare ${JSON.stringify(text[i])} at ${i}`);
        field += text[i];
        i++;
      }
    }
    row.push(field);
    if (text[i] === ",") {
      i++;
    } else if (text.startsWith("\r\n", i)) {
      rows.push(row);
      row = [];
      i += 2;
    } else throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  if (row.length > 0) throw new Error("last record without CRLF");
  return rows;
}

describe("toCsv", () => {
  const text = toCsv(nodeAppImage, nodeAppResult);
  const rows = parseCsv(text);
  const records = rows.slice(1).map((r) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, r[i]])));

  test("RFC 4180: a header, one CRLF-terminated record per finding, the same number of fields", () => {
    assert.deepEqual(rows[0], [...CSV_COLUMNS]);
    assert.equal(rows.length, 1 + NODE_APP_FINDINGS.length);
    assert.ok(rows.every((r) => r.length === CSV_COLUMNS.length));
  });

  test("a record: image, digest, package, version, ecosystem, id, severity, cvss, state, fixes, layer, location, published, link, title", () => {
    assert.deepEqual(
      records.find((r) => r.id === "CVE-2020-8203" && r.location === "app/package-lock.json"),
      {
        image: "127.0.0.1:5000/node-app:1.0",
        digest: nodeAppImage.digest,
        package: "lodash",
        version: "4.17.15",
        ecosystem: "npm",
        id: "CVE-2020-8203",
        severity: "HIGH",
        cvss: "7.4",
        state: "fixed",
        fixed_versions: "4.17.19",
        layer: "2",
        location: "app/package-lock.json",
        published: "2020-07-15",
        link: "https://nvd.nist.gov/vuln/detail/CVE-2020-8203",
        title: "Prototype Pollution in lodash",
      },
    );
    const glibc = records.find((r) => r.id === "CVE-2019-1010022");
    assert.equal(glibc?.state, "will_not_fix");
    assert.equal(glibc?.fixed_versions, "");
    assert.equal(records.find((r) => r.id === "CVE-2021-3114")?.fixed_versions, "1.14.14, 1.15.7");
    assert.equal(records.find((r) => r.id === "GHSA-fhjf-83wg-r2j9")?.cvss, "");
  });

  test("ordered by severity, package, id; the same bytes for any input order", () => {
    assert.deepEqual(
      records.slice(0, 3).map((r) => r.id),
      ["CVE-2023-45853", "CVE-2021-23369", "CVE-2021-44228"],
    );
    for (const seed of [1, 2]) {
      assert.equal(
        toCsv(nodeAppImage, { ...nodeAppResult, findings: shuffled(NODE_APP_FINDINGS, seed) }),
        text,
      );
    }
  });

  test("a title that starts like a formula is defused, and its quotes and commas survive", () => {
    assert.equal(
      records.find((r) => r.id === "CVE-2016-10542")?.title,
      `'=HYPERLINK("https://evil.example","DoS, in ws") "ping" frames`,
    );
    assert.ok(text.includes(`"'=HYPERLINK(""https://evil.example"",""DoS, in ws"") ""ping"" frames"`));
  });

  test("terminal escapes never reach the file", () => {
    const controls = [...text].filter((c) => {
      const n = c.codePointAt(0) as number;
      return (n < 0x20 && n !== 0x0a && n !== 0x0d) || (n >= 0x7f && n <= 0x9f);
    });
    assert.deepEqual(controls, []);
    assert.equal(
      records.find((r) => r.id === "CVE-2021-23369")?.title,
      "Remote code execution in handlebars when compiling untrusted templates",
    );
  });

  test("image-supplied text with separators is quoted, not split", () => {
    const f: Finding = {
      ...glibcWontFix,
      package: { ...glibcWontFix.package, location: 'opt/a,b/"x"\nlib' },
    };
    const [, record] = parseCsv(toCsv(nodeAppImage, { findings: [f], warnings: [] }));
    assert.equal(record?.[CSV_COLUMNS.indexOf("location")], 'opt/a,b/"x"\nlib');
  });

  test("no findings: the header alone", () => {
    assert.equal(toCsv(nodeAppImage, { findings: [], warnings: [] }), `${CSV_COLUMNS.join(",")}\r\n`);
  });
});

describe("csvCell", () => {
  const cases: [string, string][] = [
    ["plain", "plain"],
    ["", ""],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["=1+2", "'=1+2"],
    ["+1", "'+1"],
    ["-1", "'-1"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tx", "'\tx"],
    ["\rx", "'x"],
    ['=HYPERLINK("u","t")', `"'=HYPERLINK(""u"",""t"")"`],
    ["a-b=c", "a-b=c"],
    ["\x1b[31m=red", "'=red"],
    ["ünïcødé", "ünïcødé"],
  ];
  for (const [input, want] of cases) test(JSON.stringify(input), () => assert.equal(csvCell(input), want));
});
