import assert from "node:assert/strict";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import { PackageURL } from "packageurl-js";
import { extract as tarExtract } from "tar-stream";
import type { ExtractorFile, ExtractorResult, FileResult } from "../extractor.js";
import type { Package } from "../types.js";
import {
  type DpkgExtractorResult,
  dpkgExtractor,
  finalizeDebPurl,
  MAX_COPYRIGHT_BYTES,
  osFromDpkgPackages,
  parseCopyright,
  parseDeb822,
  parseFileList,
  parseStatusFile,
  splitDep5License,
} from "./dpkg.js";
import { osReleaseExtractor } from "./os-release.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const shared = process.env.SHIPSHAPE_SHARED ?? path.resolve(repoRoot, "../shared");
const pkgdb = path.join(shared, "fixtures/pkgdb");

const file = (p: string, content: string | Buffer): ExtractorFile => {
  const buf = typeof content === "string" ? Buffer.from(content) : content;
  return { path: p, size: buf.length, mode: 0o100644, content: buf };
};

const extract = (p: string, content: string | Buffer): DpkgExtractorResult => {
  const r = dpkgExtractor.extract(file(p, content));
  assert.ok(!(r instanceof Promise));
  return r as DpkgExtractorResult;
};

/** extract + reconcile over a set of files, as the analyzer does. */
function run(files: Record<string, string | Buffer>): FileResult[] {
  const results: FileResult[] = [];
  for (const [p, content] of Object.entries(files)) {
    assert.ok(dpkgExtractor.wants(file(p, content)), `wants ${p}`);
    results.push({ extractor: dpkgExtractor.name, path: p, ...extract(p, content) });
  }
  results.sort((a, b) => a.path.localeCompare(b.path));
  return dpkgExtractor.reconcile?.(results) ?? results;
}

const packagesOf = (results: (FileResult | ExtractorResult)[]) => results.flatMap((r) => r.packages ?? []);
const warningsOf = (results: (FileResult | ExtractorResult)[]) => results.flatMap((r) => r.warnings ?? []);

interface OracleRow {
  name: string;
  version: string;
  sourceName: string;
  sourceVersion: string;
  arch: string;
}

/** expected-packages.tsv: dpkg-query's own reading of the fixture. */
function oracle(dir: string): OracleRow[] {
  const lines = readFileSync(path.join(pkgdb, dir, "expected-packages.tsv"), "utf8")
    .trim()
    .split("\n");
  assert.equal(lines[0], "package\tversion\tsource_package\tsource_version\tarchitecture\tstatus");
  return lines.slice(1).map((line) => {
    const [name, version, sourceName, sourceVersion, arch, status] = line.split("\t") as string[];
    assert.equal(status?.trim(), "ii", `${name} is installed per dpkg-query`);
    return {
      name: name as string,
      version: version as string,
      sourceName: sourceName as string,
      sourceVersion: sourceVersion as string,
      arch: arch as string,
    };
  });
}

const row = (p: Package): OracleRow => ({
  name: p.name,
  version: p.version,
  sourceName: p.source?.name as string,
  sourceVersion: p.source?.version as string,
  arch: p.arch as string,
});

const byName = (a: { name: string; arch?: string }, b: { name: string; arch?: string }) =>
  a.name.localeCompare(b.name) || (a.arch ?? "").localeCompare(b.arch ?? "");

const DEBIAN_FIXTURES = ["debian-11.11-bullseye", "debian-12.15-bookworm", "debian-13.7-trixie"];

describe("fixtures: var/lib/dpkg/status against dpkg-query's oracle", () => {
  for (const dir of DEBIAN_FIXTURES) {
    test(dir, () => {
      const status = readFileSync(path.join(pkgdb, dir, "var/lib/dpkg/status"));
      const r = extract("var/lib/dpkg/status", status);
      assert.equal(r.warnings, undefined);
      const packages = [...(r.packages ?? [])].sort(byName);
      assert.deepEqual(packages.map(row), oracle(dir).sort(byName));
      for (const p of packages) {
        assert.equal(p.ecosystem, "deb");
        assert.equal(p.location, "var/lib/dpkg/status");
        assert.equal(
          p.purl,
          new PackageURL(
            "deb",
            "debian",
            p.name,
            p.version,
            { arch: p.arch as string },
            undefined,
          ).toString(),
        );
        assert.equal(p.licenses, undefined, "status carries no licences");
        assert.equal(p.files, undefined, "files come from .list files in reconcile");
      }
    });
  }

  test("spot checks: purl encoding, epoch, source version, Multi-Arch", () => {
    const status = readFileSync(path.join(pkgdb, "debian-12.15-bookworm/var/lib/dpkg/status"));
    const pkgs = new Map((extract("var/lib/dpkg/status", status).packages ?? []).map((p) => [p.name, p]));
    assert.deepEqual(pkgs.get("libstdc++6"), {
      ecosystem: "deb",
      name: "libstdc++6",
      version: "12.2.0-14+deb12u1",
      purl: "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14+deb12u1?arch=amd64",
      source: { name: "gcc-12", version: "12.2.0-14+deb12u1" },
      arch: "amd64",
      location: "var/lib/dpkg/status",
      properties: { multiArch: "same" },
    });
    assert.deepEqual(pkgs.get("bsdutils"), {
      ecosystem: "deb",
      name: "bsdutils",
      version: "1:2.38.1-5+deb12u3",
      purl: "pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?arch=amd64",
      source: { name: "util-linux", version: "2.38.1-5+deb12u3" },
      arch: "amd64",
      location: "var/lib/dpkg/status",
      properties: { multiArch: "foreign" },
    });
    // Binary NMU: the binary version has +b13, the source does not.
    assert.deepEqual(pkgs.get("bash")?.source, { name: "bash", version: "5.2.15-2" });
    // No Source field: the package is its own source, epoch included.
    assert.deepEqual(pkgs.get("libcap2")?.source, { name: "libcap2", version: "1:2.66-4+deb12u3" });
    assert.equal(pkgs.get("adduser")?.arch, "all");
    assert.equal(pkgs.get("apt")?.properties, undefined, "apt has no Multi-Arch field");
  });

  test("CRLF line ends give the same packages", () => {
    const lf = readFileSync(path.join(pkgdb, "debian-11.11-bullseye/var/lib/dpkg/status"), "utf8");
    const crlf = extract("var/lib/dpkg/status", lf.replaceAll("\n", "\r\n"));
    assert.equal(crlf.warnings, undefined);
    assert.deepEqual(crlf.packages, extract("var/lib/dpkg/status", lf).packages);
  });

  test("truncated at any point: never throws, never reports a wrong package", () => {
    const text = readFileSync(path.join(pkgdb, "debian-13.7-trixie/var/lib/dpkg/status"), "utf8");
    const want = new Map(oracle("debian-13.7-trixie").map((o) => [o.name, o]));
    const step = Math.max(1, Math.floor(text.length / 997));
    for (let cut = 0; cut <= text.length; cut += step) {
      const { packages, warnings } = parseStatusFile(text.slice(0, cut), "var/lib/dpkg/status", true);
      for (const p of packages) assert.deepEqual(row(p), want.get(p.name), `cut at ${cut}: ${p.name}`);
      // A cut on a paragraph boundary is indistinguishable from a complete file; any other is reported.
      if (cut > 0 && !text.slice(0, cut).endsWith("\n\n"))
        assert.ok(warnings.length > 0, `cut at ${cut} is reported`);
    }
  });
});

const stanza = (fields: Record<string, string | undefined>) =>
  `${Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n")}\n\n`;

describe("Status: which packages are on disk", () => {
  const cases: { status: string | undefined; reported: boolean; warning?: RegExp; property?: string }[] = [
    { status: "install ok installed", reported: true },
    { status: "hold ok installed", reported: true },
    { status: "deinstall ok installed", reported: true },
    { status: "purge ok installed", reported: true },
    { status: "install ok unpacked", reported: true, property: "install ok unpacked" },
    { status: "install ok half-configured", reported: true, property: "install ok half-configured" },
    { status: "install ok triggers-awaited", reported: true, property: "install ok triggers-awaited" },
    { status: "install ok triggers-pending", reported: true, property: "install ok triggers-pending" },
    {
      status: "install reinstreq half-installed",
      reported: true,
      warning: /files may be incomplete/,
      property: "install reinstreq half-installed",
    },
    { status: "deinstall ok config-files", reported: false },
    { status: "purge ok not-installed", reported: false },
    { status: "unknown ok not-installed", reported: false },
    { status: "install ok sideways", reported: false, warning: /unrecognised Status/ },
    { status: "installed", reported: false, warning: /unrecognised Status/ },
    { status: undefined, reported: false, warning: /no Status field/ },
  ];
  for (const c of cases) {
    test(`${c.status ?? "(no Status)"} → ${c.reported ? "reported" : "not reported"}`, () => {
      const text = stanza({ Package: "foo", Status: c.status, Architecture: "amd64", Version: "1.0-1" });
      const { packages, warnings } = parseStatusFile(text, "var/lib/dpkg/status", true);
      assert.equal(packages.length, c.reported ? 1 : 0);
      assert.equal(packages[0]?.properties?.status, c.property);
      if (c.warning) assert.match(warnings.join("\n"), c.warning);
      else assert.deepEqual(warnings, []);
    });
  }

  test("distroless status.d files have no Status and are installed", () => {
    const r = extract(
      "var/lib/dpkg/status.d/libc6",
      stanza({ Package: "libc6", Source: "glibc", Version: "2.36-9+deb12u4", Architecture: "amd64" }),
    );
    assert.deepEqual(r, {
      packages: [
        {
          ecosystem: "deb",
          name: "libc6",
          version: "2.36-9+deb12u4",
          purl: "pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64",
          source: { name: "glibc", version: "2.36-9+deb12u4" },
          arch: "amd64",
          location: "var/lib/dpkg/status.d/libc6",
        },
      ],
    });
  });
});

describe("Source field", () => {
  const cases: { source: string | undefined; want: { name: string; version: string }; warning?: RegExp }[] = [
    { source: undefined, want: { name: "bin", version: "1:2.0-3+b1" } },
    { source: "src", want: { name: "src", version: "1:2.0-3+b1" } },
    { source: "src (1:2.0-3)", want: { name: "src", version: "1:2.0-3" } },
    { source: "src(2.0-3)", want: { name: "src", version: "2.0-3" } },
    { source: "src ( 2.0-3 )", want: { name: "src", version: "2.0-3" } },
    { source: "src (2.0-3", want: { name: "bin", version: "1:2.0-3+b1" }, warning: /unparsable Source/ },
    { source: "two words", want: { name: "bin", version: "1:2.0-3+b1" }, warning: /unparsable Source/ },
  ];
  for (const c of cases) {
    test(`${c.source ?? "(absent)"}`, () => {
      const text = stanza({
        Package: "bin",
        Status: "install ok installed",
        Architecture: "amd64",
        Source: c.source,
        Version: "1:2.0-3+b1",
      });
      const { packages, warnings } = parseStatusFile(text, "var/lib/dpkg/status", true);
      assert.deepEqual(packages[0]?.source, c.want);
      if (c.warning) assert.match(warnings.join("\n"), c.warning);
      else assert.deepEqual(warnings, []);
    });
  }
});

describe("malformed status files: parse what can be parsed, warn on the rest", () => {
  const good = stanza({
    Package: "good",
    Status: "install ok installed",
    Architecture: "amd64",
    Version: "1.0",
  });
  const also = stanza({
    Package: "also",
    Status: "install ok installed",
    Architecture: "all",
    Version: "2.0",
  });
  const cases: { name: string; text: string | Buffer; want: string[]; warning?: RegExp }[] = [
    { name: "empty file", text: "", want: [] },
    { name: "only blank lines", text: "\n\n \n\t\n", want: [] },
    {
      name: "paragraph without Package",
      text: `${good}Status: install ok installed\nVersion: 1\n\n${also}`,
      want: ["good", "also"],
      warning: /no Package field/,
    },
    {
      name: "paragraph without Version",
      text: `${good}Package: nover\nStatus: install ok installed\n\n${also}`,
      want: ["good", "also"],
      warning: /nover: no Version field/,
    },
    {
      name: "missing Architecture is tolerated (old dpkg)",
      text: "Package: old\nStatus: install ok installed\nVersion: 1\n\n",
      want: ["old"],
    },
    {
      name: "truncated mid-line: the cut line is dropped",
      text: `${good}Package: cut\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.2`,
      want: ["good"],
      warning: /ends mid-line.*\n.*cut: no Version field/,
    },
    {
      name: "truncated after a complete line",
      text: `${good}Package: cut\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.2.3-4\nDescription: x`,
      want: ["good", "cut"],
      warning: /ends mid-line/,
    },
    {
      name: "last paragraph not terminated",
      text: `${good}Package: last\nStatus: install ok installed\nVersion: 3\n`,
      want: ["good", "last"],
      warning: /not terminated by a blank line/,
    },
    {
      name: "binary garbage between paragraphs",
      text: Buffer.concat([Buffer.from(good), garbage(4096, 7), Buffer.from(`\n\n${also}`)]),
      want: ["good", "also"],
      warning: /malformed line/,
    },
    {
      name: "NUL-filled block (a zeroed disk block)",
      text: Buffer.concat([Buffer.from(good), Buffer.alloc(1024), Buffer.from(`\n\n${also}`)]),
      want: ["good", "also"],
      warning: /malformed line/,
    },
    {
      name: "continuation line without a field",
      text: ` orphan continuation\n${good}`,
      want: ["good"],
      warning: /malformed line/,
    },
    {
      name: "repeated field: the first value stays",
      text: "Package: dup\nStatus: install ok installed\nVersion: 1\nVersion: 2\n\n",
      want: ["dup@1"],
      warning: /malformed line/,
    },
    {
      name: "field names are case-insensitive, blanks before the colon tolerated",
      text: "PACKAGE: upper\nstatus : install ok installed\nversion: 1\n\n",
      want: ["upper"],
    },
    {
      name: "comment lines are skipped",
      text: `# written by hand\n${good}`,
      want: ["good"],
    },
    {
      name: "blank-only separator lines and a BOM",
      text: `\uFEFF${good.trimEnd()}\n \t\n${also}`,
      want: ["good", "also"],
    },
    {
      name: "invalid package name",
      text: `Package: bad name\nStatus: install ok installed\nVersion: 1\n\n${good}`,
      want: ["good"],
      warning: /invalid package name/,
    },
    {
      name: "invalid version",
      text: `Package: badver\nStatus: install ok installed\nVersion: 1 2\n\n${good}`,
      want: ["good"],
      warning: /invalid Version/,
    },
    {
      name: "invalid architecture is dropped, package kept",
      text: "Package: badarch\nStatus: install ok installed\nArchitecture: am d64\nVersion: 1\n\n",
      want: ["badarch"],
      warning: /invalid Architecture/,
    },
    {
      name: "Description and Conffiles continuations do not leak into fields",
      text: "Package: multi\nStatus: install ok installed\nConffiles:\n /etc/x 0123\nDescription: short\n Version: 9\n .\n long\nVersion: 1\n\n",
      want: ["multi@1"],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = extract("var/lib/dpkg/status", c.text);
      const got = (r.packages ?? []).map((p) =>
        c.want.some((w) => w.includes("@")) ? `${p.name}@${p.version}` : p.name,
      );
      assert.deepEqual(got, c.want);
      if (c.warning) assert.match((r.warnings ?? []).join("\n"), c.warning);
      else assert.equal(r.warnings, undefined);
    });
  }

  test("random bytes never throw", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const r = extract("var/lib/dpkg/status", garbage(2048, seed));
      assert.ok(Array.isArray(r.packages));
    }
  });

  test("a flood of problems is summarised", () => {
    const text = Array.from(
      { length: 40 },
      (_, i) => `Package: p${i}\nStatus: install ok installed\n\n`,
    ).join("");
    const { warnings } = parseStatusFile(text, "var/lib/dpkg/status", true);
    assert.equal(warnings.length, 11);
    assert.match(warnings[10] as string, /and 30 more/);
  });
});

/** Deterministic pseudo-random bytes. */
function garbage(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

describe("parseDeb822", () => {
  test("fields, continuation lines, paragraph line numbers", () => {
    const { paragraphs, malformed } = parseDeb822("A: 1\nB: two\n  lines\n\n\nC:3\n");
    assert.equal(malformed, 0);
    assert.equal(paragraphs.length, 2);
    assert.deepEqual(paragraphs[0]?.fields.get("b"), { name: "B", value: "two\nlines" });
    assert.equal(paragraphs[1]?.line, 6);
    assert.equal(paragraphs[1]?.fields.get("c")?.value, "3");
  });
});

describe("file lists", () => {
  test("info/<pkg>.list: leading slash removed, /. and parent directories dropped", () => {
    const r = extract(
      "var/lib/dpkg/info/bash.list",
      "/.\n/bin\n/bin/bash\n/etc\n/etc/bash.bashrc\n/etc/skel\n/etc/skel/.bashrc\n/usr\n/usr/share\n/usr/share/doc\n/usr/share/doc/bash\n/var/empty\n",
    );
    assert.deepEqual(r, {
      ownedFiles: {
        owner: "bash",
        paths: ["bin/bash", "etc/bash.bashrc", "etc/skel/.bashrc", "usr/share/doc/bash", "var/empty"],
      },
    });
  });

  test("info/<pkg>:<arch>.list keeps the arch in the owner; CRLF tolerated", () => {
    const r = extract("var/lib/dpkg/info/libc6:amd64.list", "/.\r\n/lib\r\n/lib/libc.so.6\r\n");
    assert.deepEqual(r.ownedFiles, { owner: "libc6:amd64", paths: ["lib/libc.so.6"] });
  });

  test("parseFileList: a missing intermediate directory still hides its ancestors", () => {
    assert.deepEqual(parseFileList("/usr\n/usr/lib/x/y.so\n"), ["usr/lib/x/y.so"]);
  });

  test("status.d/<pkg>.md5sums (distroless) lists files", () => {
    const r = extract(
      "var/lib/dpkg/status.d/tzdata.md5sums",
      "d41d8cd98f00b204e9800998ecf8427e  usr/share/zoneinfo/UTC\n0123456789abcdef0123456789abcdef  /usr/share/doc/tzdata/copyright\nnot a line\n",
    );
    assert.deepEqual(r.ownedFiles, {
      owner: "tzdata",
      paths: ["usr/share/zoneinfo/UTC", "usr/share/doc/tzdata/copyright"],
    });
    assert.match((r.warnings ?? []).join(), /1 malformed line/);
  });
});

describe("copyright licences", () => {
  test("DEP-5: Files and header License synopses, split and de-duplicated", () => {
    const text = [
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
      "Upstream-Name: demo",
      "",
      "Files: *",
      "Copyright: 2020 Someone",
      "License: GPL-2+",
      " This program is free software; see /usr/share/common-licenses/GPL-2.",
      "",
      "Files: lib/*",
      "License: LGPL-2.1+ or BSD-3-clause",
      "",
      "Files: perl/*",
      "License: GPL-1+ or Artistic, and Unicode",
      "",
      "Files: doc/*",
      "License: gpl-2+",
      "",
      "Files: m4/*",
      "License: GPL-3+ with Autoconf exception",
      "",
      "License: GPL-2+",
      " The text.",
      "",
      "License: Unreferenced-1.0",
      " A stand-alone paragraph that no Files paragraph uses.",
      "",
    ].join("\n");
    assert.deepEqual(parseCopyright(text), [
      "GPL-2+",
      "LGPL-2.1+",
      "BSD-3-clause",
      "GPL-1+",
      "Artistic",
      "Unicode",
      "GPL-3+ with Autoconf exception",
    ]);
  });

  test("DEP-5 with only stand-alone License paragraphs", () => {
    assert.deepEqual(
      parseCopyright("Format: https://dep-team.pages.debian.net/deps/dep5\n\nLicense: MIT\n text\n"),
      ["MIT"],
    );
  });

  test("old DEP-5 draft header Format-Specification", () => {
    assert.deepEqual(
      parseCopyright(
        "Format-Specification: http://svn.debian.org/wsvn/dep/web/deps/dep5.mdwn\n\nFiles: *\nLicense: Expat\n",
      ),
      ["Expat"],
    );
  });

  test("free-form file: the common-licenses it points to", () => {
    const text =
      "This is the Debian prepackaged version of glibc.\n\nOn Debian systems, the complete text of the GNU Library\nGeneral Public License can be found in `/usr/share/common-licenses/LGPL-2.1'.\nand /usr/share/common-licenses/GPL-2.  Also /usr/share/common-licenses/ alone.\nLicense: free-text lines are not trusted here\n";
    assert.deepEqual(parseCopyright(text), ["LGPL-2.1", "GPL-2"]);
  });

  test("nothing recognisable: no licences", () =>
    assert.deepEqual(parseCopyright("All rights reserved.\n"), []));

  const splits: [string, string[]][] = [
    ["GPL-2+", ["GPL-2+"]],
    ["GPL-2+ or Artistic", ["GPL-2+", "Artistic"]],
    ["Sleepycat and BSD-3-clause", ["Sleepycat", "BSD-3-clause"]],
    ["BSD-3-clause and/or GPL-3+", ["BSD-3-clause", "GPL-3+"]],
    ["GPL-1+ or Artistic, and BSD-4-clause-POWERDOG", ["GPL-1+", "Artistic", "BSD-4-clause-POWERDOG"]],
    ["REGCOMP, and GPL-1+ or Artistic", ["REGCOMP", "GPL-1+", "Artistic"]],
    ["GPL-2 with Linux-syscall-note exception", ["GPL-2 with Linux-syscall-note exception"]],
    ["MPL-1.1 or GPL-2+ or LGPL-2.1+", ["MPL-1.1", "GPL-2+", "LGPL-2.1+"]],
  ];
  for (const [synopsis, want] of splits) {
    test(`split ${JSON.stringify(synopsis)}`, () => assert.deepEqual(splitDep5License(synopsis), want));
  }

  test("extract: copyright files carry the doc directory's package name", () => {
    assert.deepEqual(extract("usr/share/doc/zlib1g/copyright", "Format: x\n\nFiles: *\nLicense: Zlib\n"), {
      copyright: { package: "zlib1g", licenses: ["Zlib"] },
    });
  });
});

describe("wants", () => {
  const cases: [string, number, boolean][] = [
    ["var/lib/dpkg/status", 1 << 20, true],
    ["var/lib/dpkg/status-old", 100, false],
    ["var/lib/dpkg/available", 100, false],
    ["var/lib/dpkg/status.d/libc6", 100, true],
    ["var/lib/dpkg/status.d/libc6.md5sums", 100, true],
    ["var/lib/dpkg/status.d/.hidden", 100, false],
    ["var/lib/dpkg/status.d/sub/x", 100, false],
    ["var/lib/dpkg/info/bash.list", 100, true],
    ["var/lib/dpkg/info/libc6:amd64.list", 100, true],
    ["var/lib/dpkg/info/bash.md5sums", 100, false],
    ["var/lib/dpkg/info/bash.postinst", 100, false],
    ["var/lib/dpkg/info/.list", 100, false],
    ["usr/share/doc/bash/copyright", 2000, true],
    ["usr/share/doc/bash/copyright", MAX_COPYRIGHT_BYTES + 1, false],
    ["usr/share/doc/bash/examples/copyright", 100, false],
    ["usr/share/doc/copyright", 100, false],
    ["opt/app/var/lib/dpkg/status", 100, false],
  ];
  for (const [p, size, want] of cases) {
    test(`${p} (${size} B) → ${want}`, () =>
      assert.equal(dpkgExtractor.wants({ path: p, size, mode: 0o644 }), want));
  }
});

describe("reconcile", () => {
  const status = [
    stanza({
      Package: "bash",
      Status: "install ok installed",
      Architecture: "amd64",
      Version: "5.2.15-2+b2",
    }),
    stanza({
      Package: "libc6",
      Status: "install ok installed",
      Architecture: "amd64",
      "Multi-Arch": "same",
      Source: "glibc",
      Version: "2.36-9",
    }),
    stanza({
      Package: "libc-bin",
      Status: "install ok installed",
      Architecture: "amd64",
      Source: "glibc",
      Version: "2.36-9",
    }),
    stanza({
      Package: "libc6",
      Status: "install ok installed",
      Architecture: "i386",
      "Multi-Arch": "same",
      Source: "glibc",
      Version: "2.36-9",
    }),
    stanza({ Package: "oldpkg", Status: "deinstall ok config-files", Architecture: "amd64", Version: "1" }),
  ].join("");

  test("files from .list per name and name:arch, licences from copyright or the same source", () => {
    const results = run({
      "var/lib/dpkg/status": status,
      "var/lib/dpkg/info/bash.list": "/.\n/bin\n/bin/bash\n",
      "var/lib/dpkg/info/libc6:amd64.list": "/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n",
      "var/lib/dpkg/info/libc6:i386.list": "/.\n/lib\n/lib/i386-linux-gnu/libc.so.6\n",
      "var/lib/dpkg/info/oldpkg.list": "/etc/oldpkg.conf\n",
      "usr/share/doc/bash/copyright": "Format: x\n\nFiles: *\nLicense: GPL-3+\n",
      "usr/share/doc/libc6/copyright":
        "See /usr/share/common-licenses/LGPL-2.1 and /usr/share/common-licenses/GPL-2\n",
      "usr/share/doc/not-installed/copyright": "Format: x\n\nFiles: *\nLicense: MIT\n",
    });
    const pkgs = packagesOf(results).map((p) => [`${p.name}:${p.arch}`, p.files, p.licenses]);
    assert.deepEqual(pkgs, [
      ["bash:amd64", ["bin/bash"], ["GPL-3+"]],
      ["libc6:amd64", ["lib/x86_64-linux-gnu/libc.so.6"], ["LGPL-2.1", "GPL-2"]],
      // libc-bin has no copyright of its own here: glibc's, through libc6.
      ["libc-bin:amd64", undefined, ["LGPL-2.1", "GPL-2"]],
      ["libc6:i386", ["lib/i386-linux-gnu/libc.so.6"], ["LGPL-2.1", "GPL-2"]],
    ]);
    // The config-files package's list is not ownership any more; copyright results are consumed.
    assert.deepEqual(
      results.map((r) => [r.path, r.ownedFiles?.owner]),
      [
        ["var/lib/dpkg/info/bash.list", "bash"],
        ["var/lib/dpkg/info/libc6:amd64.list", "libc6:amd64"],
        ["var/lib/dpkg/info/libc6:i386.list", "libc6:i386"],
        ["var/lib/dpkg/status", undefined],
      ],
    );
    assert.deepEqual(warningsOf(results), []);
  });

  test("distroless: status.d paragraphs with md5sums, duplicates of status dropped", () => {
    const results = run({
      "var/lib/dpkg/status.d/base-files": stanza({
        Package: "base-files",
        Version: "12.4+deb12u5",
        Architecture: "amd64",
      }),
      "var/lib/dpkg/status.d/base-files.md5sums": "0123456789abcdef0123456789abcdef  etc/debian_version\n",
      "var/lib/dpkg/status.d/tzdata": stanza({
        Package: "tzdata",
        Version: "2024a-0+deb12u1",
        Architecture: "all",
      }),
      "var/lib/dpkg/status": stanza({
        Package: "tzdata",
        Status: "install ok installed",
        Version: "2024a-0+deb12u1",
        Architecture: "all",
      }),
    });
    const pkgs = packagesOf(results).map((p) => [p.name, p.location, p.files]);
    assert.deepEqual(pkgs, [
      ["tzdata", "var/lib/dpkg/status", undefined],
      ["base-files", "var/lib/dpkg/status.d/base-files", ["etc/debian_version"]],
    ]);
  });

  test("without any package database, file lists are kept as they are", () => {
    const results = run({ "var/lib/dpkg/info/x.list": "/usr/bin/x\n" });
    assert.deepEqual(results[0]?.ownedFiles, { owner: "x", paths: ["usr/bin/x"] });
  });

  test("reconcile does not modify its input", () => {
    const input: FileResult[] = [
      { extractor: "dpkg", path: "var/lib/dpkg/status", ...extract("var/lib/dpkg/status", status) },
      {
        extractor: "dpkg",
        path: "var/lib/dpkg/info/bash.list",
        ...extract("var/lib/dpkg/info/bash.list", "/bin/bash\n"),
      },
    ];
    const before = JSON.stringify(input);
    dpkgExtractor.reconcile?.(input);
    assert.equal(JSON.stringify(input), before);
  });
});

describe("osFromDpkgPackages and finalizeDebPurl", () => {
  const pkg = (name: string, version: string): Package => ({
    ecosystem: "deb",
    name,
    version,
    purl: "",
    location: `var/lib/dpkg/status.d/${name}`,
  });
  test("base-files names the Debian release", () =>
    assert.deepEqual(
      osFromDpkgPackages([pkg("tzdata", "2024a-0+deb12u1"), pkg("base-files", "12.4+deb12u15")]),
      {
        id: "debian",
        versionId: "12",
        versionCodename: "bookworm",
        location: "var/lib/dpkg/status.d/base-files",
      },
    ));
  test("without base-files: the +debNNuM suffixes vote", () =>
    assert.deepEqual(
      osFromDpkgPackages([
        pkg("libc6", "2.31-13+deb11u11"),
        pkg("libssl1.1", "1.1.1w-0+deb11u1"),
        pkg("x", "1.0"),
      ]),
      { id: "debian", versionId: "11", versionCodename: "bullseye", location: "var/lib/dpkg/status.d/libc6" },
    ));
  test("Ubuntu's base-files says nothing about Debian", () =>
    assert.equal(osFromDpkgPackages([pkg("base-files", "12ubuntu4.6")]), undefined));
  test("no packages", () => assert.equal(osFromDpkgPackages([]), undefined));

  test("the fixtures' packages imply their release", () => {
    for (const [dir, major] of [
      ["debian-11.11-bullseye", "11"],
      ["debian-12.15-bookworm", "12"],
      ["debian-13.7-trixie", "13"],
    ] as const) {
      const r = extract("var/lib/dpkg/status", readFileSync(path.join(pkgdb, dir, "var/lib/dpkg/status")));
      assert.equal(osFromDpkgPackages(r.packages ?? [])?.versionId, major, dir);
    }
  });

  test("finalizeDebPurl with the fixture's own OS", () => {
    const dir = path.join(pkgdb, "debian-12.15-bookworm");
    const osResults = ["etc/os-release", "etc/debian_version"].map((p) => ({
      extractor: "os-release",
      path: p,
      ...(osReleaseExtractor.extract(file(p, readFileSync(path.join(dir, p)))) as ExtractorResult),
    }));
    const os = osReleaseExtractor.reconcile?.(osResults).find((r) => r.os)?.os;
    assert.equal(os?.versionId, "12.15");
    const pkgs =
      extract("var/lib/dpkg/status", readFileSync(path.join(dir, "var/lib/dpkg/status"))).packages ?? [];
    const bsdutils = pkgs.find((p) => p.name === "bsdutils") as Package;
    assert.equal(
      finalizeDebPurl(bsdutils, os),
      "pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?arch=amd64&distro=debian-12",
    );
    const npm: Package = { ecosystem: "npm", name: "a", version: "1", purl: "pkg:npm/a@1", location: "x" };
    assert.equal(finalizeDebPurl(npm, os), "pkg:npm/a@1");
    // The analyzer's hooks: finalize returns the package with its final purl, nothing else changed.
    assert.deepEqual(dpkgExtractor.finalize(bsdutils, os), {
      ...bsdutils,
      purl: "pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?arch=amd64&distro=debian-12",
    });
    assert.equal(dpkgExtractor.finalize(npm, os), npm);
    assert.equal(dpkgExtractor.finalize(bsdutils, undefined), bsdutils);
    assert.deepEqual(dpkgExtractor.inferOs([npm, ...pkgs]), {
      id: "debian",
      versionId: "12",
      versionCodename: "bookworm",
      location: "var/lib/dpkg/status",
    });
  });
});

/** The testbed's debian:bookworm image (one layer from the same debootstrap as the 12.15 fixture). */
function bookwormLayer(): string | undefined {
  const layout = path.join(homedir(), ".cache/shipshape/testbed/layout");
  try {
    const index = JSON.parse(readFileSync(path.join(layout, "index.json"), "utf8")) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const m = index.manifests.find(
      (x) => x.annotations?.["org.opencontainers.image.ref.name"] === "debian--bookworm",
    );
    if (!m) return undefined;
    const blob = (d: string) => path.join(layout, "blobs", ...d.split(":"));
    const manifest = JSON.parse(readFileSync(blob(m.digest), "utf8")) as { layers: { digest: string }[] };
    const layer = manifest.layers[0] && blob(manifest.layers[0].digest);
    return layer && existsSync(layer) ? layer : undefined;
  } catch {
    return undefined;
  }
}

const layerPath = bookwormLayer();

test("testbed debian:bookworm layer: every wanted file through extract and reconcile", {
  skip: layerPath ? false : "testbed layout not built (~/.cache/shipshape/testbed)",
}, async () => {
  const results: FileResult[] = [];
  const osResults: FileResult[] = [];
  const ex = tarExtract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (h, stream, next) => {
      const name = h.name.replace(/^\.?\/+/, "");
      const info = { path: name, size: h.size ?? 0, mode: h.mode ?? 0 };
      const dpkg = h.type === "file" && dpkgExtractor.wants(info);
      const osr = h.type === "file" && osReleaseExtractor.wants(info);
      if (!dpkg && !osr) {
        stream.on("end", next);
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("end", () => {
        const f = file(name, Buffer.concat(chunks));
        if (dpkg) results.push({ extractor: "dpkg", path: name, ...extract(name, f.content) });
        if (osr)
          osResults.push({
            extractor: "os-release",
            path: name,
            ...(osReleaseExtractor.extract(f) as ExtractorResult),
          });
        next();
      });
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  createReadStream(layerPath as string)
    .pipe(createGunzip())
    .pipe(ex);
  await done;

  // etc/os-release is a symlink in the layer: only usr/lib/os-release reaches the extractor.
  assert.deepEqual(osResults.map((r) => r.path).sort(), ["etc/debian_version", "usr/lib/os-release"]);
  const os = osReleaseExtractor.reconcile?.(osResults).find((r) => r.os)?.os;
  assert.deepEqual(os, {
    id: "debian",
    versionId: "12.15",
    versionCodename: "bookworm",
    prettyName: "Debian GNU/Linux 12 (bookworm)",
    location: "usr/lib/os-release",
  });

  const reconciled = dpkgExtractor.reconcile?.(results.sort((a, b) => a.path.localeCompare(b.path))) ?? [];
  assert.deepEqual(warningsOf(reconciled), []);
  const pkgs = packagesOf(reconciled).sort(byName);
  assert.deepEqual(pkgs.map(row), oracle("debian-12.15-bookworm").sort(byName));
  // Every package has its .list file; every list has an installed owner.
  for (const p of pkgs) assert.ok((p.files ?? []).length > 0, `${p.name} has files`);
  assert.equal(reconciled.filter((r) => r.ownedFiles).length, pkgs.length);
  const get = (name: string) => pkgs.find((p) => p.name === name) as Package;
  assert.ok(get("bash").files?.includes("bin/bash"));
  assert.ok(get("libc6").files?.includes("lib/x86_64-linux-gnu/libc.so.6"));
  assert.ok(!get("bash").files?.includes("bin"), "directories holding files are not files");
  assert.deepEqual(get("adduser").licenses, ["GPL-2+"]);
  assert.deepEqual(get("zlib1g").licenses, ["Zlib"]);
  assert.deepEqual(get("libc6").licenses, ["LGPL-2.1", "GPL-2"]);
  assert.deepEqual(get("libsystemd0").licenses, [
    "LGPL-2.1+",
    "CC0-1.0",
    "GPL-2 with Linux-syscall-note exception",
    "Expat",
    "public-domain",
    "GPL-2+",
  ]);
  // usr/share/doc/libgcc-s1 and libstdc++6 are symlinks to gcc-12-base: licences via source gcc-12.
  const gcc = get("gcc-12-base").licenses;
  assert.deepEqual(gcc, ["GPL", "GPL-3", "GFDL-1.2", "GPL-2", "Artistic", "LGPL"]);
  assert.deepEqual(get("libgcc-s1").licenses, gcc);
  assert.deepEqual(get("libstdc++6").licenses, gcc);
  assert.ok(!(get("perl-base").licenses ?? []).some((l) => /^(and|or) /.test(l)));
  // libcrypt1's copyright is free prose that names no common-licenses file.
  assert.deepEqual(
    pkgs.filter((p) => !p.licenses).map((p) => p.name),
    ["libcrypt1"],
  );
  assert.equal(
    finalizeDebPurl(get("libstdc++6"), os),
    "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14+deb12u1?arch=amd64&distro=debian-12",
  );
});

test("extractor constants", () => {
  assert.equal(dpkgExtractor.name, "dpkg");
  assert.equal(typeof dpkgExtractor.version, "number");
  assert.match(dpkgExtractor.spec, /deb822/);
  assert.ok(dpkgExtractor.maxFileBytes >= 16 * 1024 * 1024);
});
