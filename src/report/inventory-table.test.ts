import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ImageInventory } from "../inventory/types.js";
import { formatInventoryTable } from "./inventory-table.js";
import {
  alpineImage,
  alpineInventory,
  emptyInventory,
  FIXTURES,
  nodeAppImage,
  nodeAppInventory,
  scratchImage,
  scratchInventory,
  shuffled,
} from "./test-fixtures.js";

const ESC = "\x1b";
const BOLD = `${ESC}[1m`;
const RESET = `${ESC}[0m`;
const stripBold = (s: string) => s.split(BOLD).join("").split(RESET).join("");
/** C0 controls other than newline, DEL and C1 controls. */
const hasControl = (s: string) =>
  [...s].some((c) => {
    const n = c.codePointAt(0) as number;
    return (n < 0x20 && n !== 0x0a) || (n >= 0x7f && n <= 0x9f);
  });

/** The lines of each "<ecosystem> (<n>)" section: [title, header, ...rows]. */
function sections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const blocks = text.split("\n\n");
  for (const b of blocks) {
    const lines = b.split("\n").filter(Boolean);
    if (lines[1]?.startsWith("NAME")) out.set(lines[0] as string, lines);
  }
  return out;
}

/** Start offsets of the column headers in a header line. */
function columnStarts(header: string, names: string[]): number[] {
  return names.map((n) => header.indexOf(n));
}

describe("formatInventoryTable", () => {
  const text = formatInventoryTable(nodeAppImage, nodeAppInventory);

  test("header: image, digest, OS, layers, package count", () => {
    const head = text.split("\n\n")[0]?.split("\n") ?? [];
    assert.deepEqual(head, [
      "Image:    127.0.0.1:5000/node-app:1.0",
      `Digest:   ${nodeAppImage.digest}`,
      `Index:    ${nodeAppImage.indexDigest}`,
      "Platform: linux/amd64",
      "OS:       Debian GNU/Linux 12 (bookworm)",
      "Layers:   4",
      "Packages: 20",
    ]);
  });

  test("summary: one line per ecosystem with count and where found, package folders folded", () => {
    const summary = text.split("\n\n")[1]?.split("\n") ?? [];
    assert.deepEqual(summary, [
      "ECOSYSTEM  PACKAGES  FOUND IN",
      "deb               4  var/lib/dpkg/status",
      "npm              10  app/node_modules/ (9 files), app/package-lock.json",
      "golang            3  app/node_modules/esbuild-linux-64/bin/esbuild",
      "maven             2  opt/app/lib/app.jar",
      "node              1  usr/local/bin/node",
    ]);
  });

  test("packages grouped by ecosystem, sorted, every column aligned across all groups", () => {
    const s = sections(text);
    assert.deepEqual([...s.keys()], ["deb (4)", "npm (10)", "golang (3)", "maven (2)", "node (1)"]);
    const names = ["NAME", "VERSION", "SOURCE", "LAYER", "LOCATION"];
    const starts = columnStarts((s.get("deb (4)") as string[])[1] as string, names);
    assert.ok(starts.every((x, i) => x >= 0 && (i === 0 || x > (starts[i - 1] as number))));
    for (const [title, lines] of s) {
      assert.deepEqual(
        columnStarts(lines[1] as string, names),
        starts,
        `${title}: same header in every group`,
      );
      for (const row of lines.slice(2)) {
        // each value starts at its column (LAYER is right-aligned: it ends where the header ends)
        for (const [i, start] of starts.entries()) {
          if (i === 3) {
            const end = start + "LAYER".length;
            assert.match(row.slice(start, end), /^ *\d+$/, `${title}: layer of ${row}`);
          } else {
            assert.notEqual(row[start], " ", `${title}: column ${names[i]} of ${JSON.stringify(row)}`);
            if (start > 0) assert.equal(row[start - 1], " ", `${title}: gap before ${names[i]}`);
          }
        }
        assert.equal(row, row.trimEnd(), "no trailing blanks");
      }
    }
    const deb = (s.get("deb (4)") as string[]).slice(2).map((r) => r.split(/\s{2,}/));
    assert.deepEqual(deb[1], ["libc6", "2.36-9+deb12u7", "glibc 2.36-9+deb12u7", "0", "var/lib/dpkg/status"]);
    assert.deepEqual(deb[0]?.slice(0, 3), ["base-files", "12.4+deb12u5", "-"], "no source: -");
    const npm = (s.get("npm (10)") as string[]).slice(2).map((r) => r.split(/\s{2,}/)[0]);
    assert.deepEqual(npm.slice(0, 5), [
      "@babel/code-frame",
      "esbuild-linux-64",
      "handlebars",
      "lodash",
      "lodash",
    ]);
  });

  test("warnings at the end", () => {
    assert.ok(text.endsWith(`\nWarnings (1):\n  - ${nodeAppInventory.warnings[0]}\n`));
  });

  test("without color there are no escape sequences; with color only headings are bold", () => {
    assert.ok(!text.includes(ESC));
    const colored = formatInventoryTable(nodeAppImage, nodeAppInventory, { color: true });
    assert.equal(stripBold(colored), text, "colour adds nothing but SGR codes");
    const boldLines = colored.split("\n").filter((l) => l.includes(ESC));
    for (const l of boldLines) {
      const plain = stripBold(l);
      const isHeading =
        /^(NAME|ECOSYSTEM) /.test(plain) ||
        /^[a-z]+ \(\d+\)$/.test(plain) ||
        /^[A-Za-z]+: +/.test(plain) ||
        plain.startsWith("Warnings (");
      assert.ok(isHeading, `only headings are bold: ${JSON.stringify(l)}`);
      assert.ok(l.startsWith(BOLD), l);
    }
    const rows = colored
      .split("\n")
      .filter((l) => l.includes("var/lib/dpkg/status") && !l.startsWith("deb "));
    assert.ok(rows.length > 0 && rows.every((l) => !l.includes(ESC)), "package rows are not coloured");
  });

  test("image-supplied control characters are escaped, not printed", () => {
    const base = nodeAppInventory.packages[5];
    assert.ok(base);
    const inv: ImageInventory = {
      packages: [{ ...base, name: "evil\x1b[2J\x1b]0;pwned\x07", version: "1\r\n2", location: "a\u009bb" }],
      warnings: ["bad\x1b[31m file"],
    };
    const out = formatInventoryTable(nodeAppImage, inv, { color: true });
    const withoutOurCodes = stripBold(out);
    assert.ok(!hasControl(withoutOurCodes), JSON.stringify(withoutOurCodes));
    assert.ok(out.includes("evil\\x1b[2J\\x1b]0;pwned\\x07"));
    assert.ok(out.includes("1\\x0d\\x0a2"));
    assert.ok(out.includes("a\\x9bb"));
    assert.ok(out.includes("bad\\x1b[31m file"));
  });

  test("OS-less image", () => {
    const out = formatInventoryTable(scratchImage, scratchInventory);
    assert.match(out, /^OS: +unknown \(no os-release found\)$/m);
    assert.match(out, /^golang +7 +app\/healthcheck, app\/server$/m);
    assert.ok(!out.includes("Index:"), "no index line for an image that did not come from an index");
  });

  test("empty inventory", () => {
    const out = formatInventoryTable(scratchImage, emptyInventory);
    assert.match(out, /\nPackages: 0\n\nNo packages found\.\n$/);
  });

  test("alpine: source column from the apk origin, platform with variant", () => {
    const out = formatInventoryTable(alpineImage, alpineInventory);
    assert.match(out, /^Platform:\s+linux\/arm64\/v8$/m);
    assert.match(out, /^ssl_client\s+1\.30\.1-r2\s+busybox 1\.30\.1-r2\s+0\s+lib\/apk\/db\/installed$/m);
  });

  test("more than three places in the summary are counted, not listed", () => {
    const base = nodeAppInventory.packages.find((p) => p.ecosystem === "maven");
    assert.ok(base);
    const inv: ImageInventory = {
      packages: ["a.jar", "b.jar", "c.jar", "d.jar", "e.jar"].map((l) => ({ ...base, location: `opt/${l}` })),
      warnings: [],
    };
    assert.match(
      formatInventoryTable(nodeAppImage, inv),
      /^maven +5 +opt\/a\.jar, opt\/b\.jar, opt\/c\.jar \(\+2 more\)$/m,
    );
  });

  for (const f of FIXTURES) {
    test(`${f.name}: deterministic and independent of input order`, () => {
      const a = formatInventoryTable(f.image, f.inventory);
      const inv: ImageInventory = { ...f.inventory, packages: shuffled(f.inventory.packages, 9) };
      assert.equal(formatInventoryTable(f.image, inv), a);
      assert.ok(a.endsWith("\n") && !a.endsWith("\n\n"));
    });
  }
});
