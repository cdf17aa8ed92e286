import assert from "node:assert/strict";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import { extract as tarExtract } from "tar-stream";
import type { ExtractorFile, FileResult } from "../extractor.js";
import type { OsRelease, Package } from "../types.js";
import {
  distroQualifier,
  finalizeOsPurl,
  osReleaseExtractor,
  parseOsReleaseText,
  resolveOsRelease,
} from "./os-release.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const shared = process.env.SHIPSHAPE_SHARED ?? path.resolve(repoRoot, "../shared");
const pkgdb = path.join(shared, "fixtures/pkgdb");
const rootfs = path.join(shared, "fixtures/rootfs");

const file = (p: string, content: string | Buffer): ExtractorFile => {
  const buf = typeof content === "string" ? Buffer.from(content) : content;
  return { path: p, size: buf.length, mode: 0o100644, content: buf };
};

/** Runs the extractor over files the way the analyzer does: extract each, then reconcile. */
function run(files: Record<string, string | Buffer>): FileResult[] {
  const results: FileResult[] = [];
  for (const [p, content] of Object.entries(files)) {
    const f = file(p, content);
    assert.ok(osReleaseExtractor.wants(f), `wants ${p}`);
    results.push({ extractor: osReleaseExtractor.name, path: p, ...osReleaseExtractor.extract(f) });
  }
  results.sort((a, b) => a.path.localeCompare(b.path));
  return osReleaseExtractor.reconcile?.(results) ?? results;
}

const osOf = (results: FileResult[]) => {
  const withOs = results.filter((r) => r.os);
  assert.ok(withOs.length <= 1, "at most one result carries os after reconcile");
  return withOs[0]?.os;
};

async function readTar(tarball: string, wanted: (p: string) => boolean): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tarExtract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (header, stream, next) => {
      const name = header.name.replace(/^\.?\/+/, "");
      if (header.type !== "file" || !wanted(name)) {
        stream.on("end", next);
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("end", () => {
        out.set(name, Buffer.concat(chunks));
        next();
      });
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  createReadStream(tarball).pipe(createGunzip()).pipe(ex);
  await done;
  return out;
}

describe("parseOsReleaseText (os-release(5) syntax)", () => {
  const cases: { name: string; text: string; want: Record<string, string>; invalid?: number[] }[] = [
    { name: "unquoted", text: "ID=debian\nVERSION_ID=12\n", want: { ID: "debian", VERSION_ID: "12" } },
    {
      name: "double quotes with spaces",
      text: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
      want: { PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)" },
    },
    { name: "single quotes are literal", text: "A='x \\\"y\\\\ $z'", want: { A: 'x \\"y\\\\ $z' } },
    {
      name: 'double-quote escapes: \\" \\\\ \\$ \\`',
      text: 'A="say \\"hi\\" \\\\ \\$HOME \\`cmd\\`"',
      want: { A: 'say "hi" \\ $HOME `cmd`' },
    },
    { name: "other backslashes inside double quotes stay", text: 'A="a\\nb"', want: { A: "a\\nb" } },
    { name: "unquoted backslash escapes the next character", text: "A=a\\ b\\$c", want: { A: "a b$c" } },
    {
      name: "comments and blank lines",
      text: "# a comment\n\n  # indented comment\nID=alpine\n",
      want: { ID: "alpine" },
    },
    { name: "comment after an unquoted value", text: "ID=fedora # the distro", want: { ID: "fedora" } },
    {
      name: "CRLF line ends",
      text: 'ID=ubuntu\r\nVERSION_ID="22.04"\r\n',
      want: { ID: "ubuntu", VERSION_ID: "22.04" },
    },
    { name: "byte-order mark", text: "\uFEFFID=rhel\n", want: { ID: "rhel" } },
    { name: "concatenated quoting", text: `A="a b"'c d'e`, want: { A: "a bc de" } },
    { name: "quoted value spanning lines", text: 'A="one\ntwo"\nB=3', want: { A: "one\ntwo", B: "3" } },
    {
      name: "backslash-newline continues a double-quoted value",
      text: 'A="one \\\ntwo"',
      want: { A: "one two" },
    },
    { name: "empty values", text: "A=\nB=\"\"\nC=''", want: { A: "", B: "", C: "" } },
    { name: "the last assignment wins", text: "ID=a\nID=b", want: { ID: "b" } },
    { name: "blanks around = are tolerated", text: "ID = debian", want: { ID: "debian" } },
    { name: "unterminated quote takes the rest", text: 'A="open\nB=1', want: { A: "open\nB=1" } },
    {
      name: "lines that are not assignments are reported",
      text: "ID=debian\nexport FOO\n=x\n9A=1\nVERSION_ID=12",
      want: { ID: "debian", VERSION_ID: "12" },
      invalid: [2, 3, 4],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { fields, invalid } = parseOsReleaseText(c.text);
      assert.deepEqual(Object.fromEntries(fields), c.want);
      assert.deepEqual(invalid, c.invalid ?? []);
    });
  }
});

describe("extract: one file at a time", () => {
  const cases: { name: string; path: string; text: string | Buffer; os?: OsRelease; warning?: RegExp }[] = [
    {
      name: "Ubuntu os-release: ID_LIKE, codename",
      path: "etc/os-release",
      text: 'PRETTY_NAME="Ubuntu 22.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n',
      os: {
        id: "ubuntu",
        versionId: "22.04",
        versionCodename: "jammy",
        prettyName: "Ubuntu 22.04.3 LTS",
        idLike: ["debian"],
        location: "etc/os-release",
      },
    },
    {
      name: "UBUNTU_CODENAME when VERSION_CODENAME is missing",
      path: "usr/lib/os-release",
      text: 'ID=ubuntu\nVERSION_ID="16.04"\nUBUNTU_CODENAME=xenial\n',
      os: { id: "ubuntu", versionId: "16.04", versionCodename: "xenial", location: "usr/lib/os-release" },
    },
    {
      name: "RHEL: ID_LIKE list, quoted ID",
      path: "etc/os-release",
      text: 'NAME="Red Hat Enterprise Linux"\nVERSION="8.8 (Ootpa)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="8.8"\nPRETTY_NAME="Red Hat Enterprise Linux 8.8 (Ootpa)"\n',
      os: {
        id: "rhel",
        versionId: "8.8",
        prettyName: "Red Hat Enterprise Linux 8.8 (Ootpa)",
        idLike: ["fedora"],
        location: "etc/os-release",
      },
    },
    {
      name: "Rocky: several ID_LIKE",
      path: "etc/os-release",
      text: 'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n',
      os: { id: "rocky", versionId: "9.3", idLike: ["rhel", "centos", "fedora"], location: "etc/os-release" },
    },
    {
      name: "distroless: Debian codename from VERSION",
      path: "etc/os-release",
      text: 'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="11"\nVERSION="Debian GNU/Linux 11 (bullseye)"\nHOME_URL="https://github.com/GoogleContainerTools/distroless"\n',
      os: {
        id: "debian",
        versionId: "11",
        versionCodename: "bullseye",
        prettyName: "Distroless",
        location: "etc/os-release",
      },
    },
    {
      name: "Debian codename from the release table when VERSION says none",
      path: "etc/os-release",
      text: 'ID=debian\nVERSION_ID="12"\n',
      os: { id: "debian", versionId: "12", versionCodename: "bookworm", location: "etc/os-release" },
    },
    {
      name: "NAME stands in for PRETTY_NAME; ID is lower-cased",
      path: "etc/os-release",
      text: 'NAME="Wolfi"\nID=Wolfi\nVERSION_ID=20230201\n',
      os: { id: "wolfi", versionId: "20230201", prettyName: "Wolfi", location: "etc/os-release" },
    },
    {
      name: "no ID: the os-release(5) default 'linux', with a warning",
      path: "etc/os-release",
      text: 'NAME="Custom"\n',
      os: { id: "linux", prettyName: "Custom", location: "etc/os-release" },
      warning: /no ID/,
    },
    { name: "empty os-release", path: "etc/os-release", text: "\n  \n", warning: /empty/ },
    {
      name: "binary garbage",
      path: "usr/lib/os-release",
      text: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff]),
      warning: /binary/,
    },
    {
      name: "prose, no assignments",
      path: "etc/os-release",
      text: "this is not an os-release file\n",
      warning: /no assignments/,
    },
    {
      name: "alpine-release",
      path: "etc/alpine-release",
      text: "3.18.9\n",
      os: { id: "alpine", versionId: "3.18.9", location: "etc/alpine-release" },
    },
    {
      name: "alpine-release of edge",
      path: "etc/alpine-release",
      text: "3.21_alpha20240807\n",
      os: { id: "alpine", versionId: "3.21_alpha20240807", location: "etc/alpine-release" },
    },
    { name: "alpine-release garbage", path: "etc/alpine-release", text: "hello\n", warning: /not a version/ },
    {
      name: "debian_version point release",
      path: "etc/debian_version",
      text: "12.15\n",
      os: { id: "debian", versionId: "12.15", versionCodename: "bookworm", location: "etc/debian_version" },
    },
    {
      name: "debian_version of testing",
      path: "etc/debian_version",
      text: "trixie/sid\n",
      os: { id: "debian", versionCodename: "trixie", location: "etc/debian_version" },
    },
    {
      name: "debian_version garbage",
      path: "etc/debian_version",
      text: "??\n",
      warning: /not a Debian version/,
    },
    {
      name: "CentOS 7",
      path: "etc/centos-release",
      text: "CentOS Linux release 7.9.2009 (Core)\n",
      os: {
        id: "centos",
        versionId: "7.9.2009",
        prettyName: "CentOS Linux release 7.9.2009 (Core)",
        location: "etc/centos-release",
      },
    },
    {
      name: "CentOS Stream",
      path: "etc/centos-release",
      text: "CentOS Stream release 9\n",
      os: {
        id: "centos",
        versionId: "9",
        prettyName: "CentOS Stream release 9",
        location: "etc/centos-release",
      },
    },
    {
      name: "RHEL",
      path: "etc/redhat-release",
      text: "Red Hat Enterprise Linux release 8.8 (Ootpa)\n",
      os: {
        id: "rhel",
        versionId: "8.8",
        prettyName: "Red Hat Enterprise Linux release 8.8 (Ootpa)",
        location: "etc/redhat-release",
      },
    },
    {
      name: "RHEL 7 Server",
      path: "etc/redhat-release",
      text: "Red Hat Enterprise Linux Server release 7.9 (Maipo)",
      os: {
        id: "rhel",
        versionId: "7.9",
        prettyName: "Red Hat Enterprise Linux Server release 7.9 (Maipo)",
        location: "etc/redhat-release",
      },
    },
    {
      name: "Rocky",
      path: "etc/rocky-release",
      text: "Rocky Linux release 9.3 (Blue Onyx)\n",
      os: {
        id: "rocky",
        versionId: "9.3",
        prettyName: "Rocky Linux release 9.3 (Blue Onyx)",
        location: "etc/rocky-release",
      },
    },
    {
      name: "AlmaLinux",
      path: "etc/almalinux-release",
      text: "AlmaLinux release 9.3 (Shamrock Pampas Cat)\n",
      os: {
        id: "almalinux",
        versionId: "9.3",
        prettyName: "AlmaLinux release 9.3 (Shamrock Pampas Cat)",
        location: "etc/almalinux-release",
      },
    },
    {
      name: "Fedora",
      path: "etc/fedora-release",
      text: "Fedora release 39 (Thirty Nine)\n",
      os: {
        id: "fedora",
        versionId: "39",
        prettyName: "Fedora release 39 (Thirty Nine)",
        location: "etc/fedora-release",
      },
    },
    {
      name: "Oracle Linux",
      path: "etc/oracle-release",
      text: "Oracle Linux Server release 8.9\n",
      os: {
        id: "ol",
        versionId: "8.9",
        prettyName: "Oracle Linux Server release 8.9",
        location: "etc/oracle-release",
      },
    },
    {
      name: "Amazon Linux 2 system-release",
      path: "etc/system-release",
      text: "Amazon Linux release 2 (Karoo)\n",
      os: {
        id: "amzn",
        versionId: "2",
        prettyName: "Amazon Linux release 2 (Karoo)",
        location: "etc/system-release",
      },
    },
    {
      name: "Amazon Linux AMI",
      path: "etc/system-release",
      text: "Amazon Linux AMI release 2018.03\n",
      os: {
        id: "amzn",
        versionId: "2018.03",
        prettyName: "Amazon Linux AMI release 2018.03",
        location: "etc/system-release",
      },
    },
    {
      name: "unknown vendor: first word as ID",
      path: "etc/redhat-release",
      text: "Acme Linux release 3.1 (Roadrunner)\n",
      os: {
        id: "acme",
        versionId: "3.1",
        prettyName: "Acme Linux release 3.1 (Roadrunner)",
        location: "etc/redhat-release",
      },
    },
    {
      name: "release file that is not a release line",
      path: "etc/redhat-release",
      text: "hello world\n",
      warning: /not a "<name> release <version>" line/,
    },
    {
      name: "lsb-release",
      path: "etc/lsb-release",
      text: 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\nDISTRIB_DESCRIPTION="Ubuntu 20.04.6 LTS"\n',
      os: {
        id: "ubuntu",
        versionId: "20.04",
        versionCodename: "focal",
        prettyName: "Ubuntu 20.04.6 LTS",
        location: "etc/lsb-release",
      },
    },
    {
      name: "lsb-release without DISTRIB_ID",
      path: "etc/lsb-release",
      text: "X=1\n",
      warning: /no DISTRIB_ID/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = osReleaseExtractor.extract(file(c.path, c.text));
      assert.ok(!(r instanceof Promise));
      assert.deepEqual(r.os, c.os);
      if (c.warning) assert.match((r.warnings ?? []).join("\n"), c.warning);
      else assert.equal(r.warnings, undefined);
    });
  }
});

describe("wants", () => {
  const cases: [string, boolean][] = [
    ["etc/os-release", true],
    ["usr/lib/os-release", true],
    ["etc/alpine-release", true],
    ["etc/debian_version", true],
    ["etc/redhat-release", true],
    ["etc/centos-release", true],
    ["etc/rocky-release", true],
    ["etc/almalinux-release", true],
    ["etc/fedora-release", true],
    ["etc/system-release", true],
    ["etc/oracle-release", true],
    ["etc/lsb-release", true],
    ["/etc/os-release", false],
    ["etc/os-release.bak", false],
    ["usr/share/doc/base-files/os-release", false],
    ["etc/system-release-cpe", false],
  ];
  for (const [p, want] of cases) {
    test(`${p} → ${want}`, () =>
      assert.equal(osReleaseExtractor.wants({ path: p, size: 100, mode: 0o644 }), want));
  }
});

describe("fixtures: the OS of each pkgdb directory and minirootfs tarball", () => {
  const cases: { dir: string; want: OsRelease }[] = [
    {
      dir: "debian-11.11-bullseye",
      want: {
        id: "debian",
        versionId: "11.11",
        versionCodename: "bullseye",
        prettyName: "Debian GNU/Linux 11 (bullseye)",
        location: "etc/os-release",
      },
    },
    {
      dir: "debian-12.15-bookworm",
      want: {
        id: "debian",
        versionId: "12.15",
        versionCodename: "bookworm",
        prettyName: "Debian GNU/Linux 12 (bookworm)",
        location: "etc/os-release",
      },
    },
    {
      dir: "debian-13.7-trixie",
      want: {
        id: "debian",
        versionId: "13.7",
        versionCodename: "trixie",
        prettyName: "Debian GNU/Linux 13 (trixie)",
        location: "etc/os-release",
      },
    },
    {
      dir: "alpine-3.18.9",
      want: {
        id: "alpine",
        versionId: "3.18.9",
        prettyName: "Alpine Linux v3.18",
        location: "etc/os-release",
      },
    },
    {
      dir: "alpine-3.19.4",
      want: {
        id: "alpine",
        versionId: "3.19.4",
        prettyName: "Alpine Linux v3.19",
        location: "etc/os-release",
      },
    },
    {
      dir: "alpine-3.20.3",
      want: {
        id: "alpine",
        versionId: "3.20.3",
        prettyName: "Alpine Linux v3.20",
        location: "etc/os-release",
      },
    },
  ];
  for (const c of cases) {
    test(c.dir, () => {
      const files: Record<string, Buffer> = {};
      for (const p of ["etc/os-release", "etc/debian_version", "etc/alpine-release"]) {
        const full = path.join(pkgdb, c.dir, p);
        if (existsSync(full)) files[p] = readFileSync(full);
      }
      const results = run(files);
      assert.deepEqual(osOf(results), c.want);
      assert.deepEqual(
        results.flatMap((r) => r.warnings ?? []),
        [],
      );
    });
  }

  const tarballs: { file: string; want: OsRelease }[] = [
    {
      file: "rootfs/alpine-minirootfs-3.9.6-x86_64.tar.gz",
      want: { id: "alpine", versionId: "3.9.6", prettyName: "Alpine Linux v3.9", location: "etc/os-release" },
    },
    {
      file: "rootfs/alpine-minirootfs-3.10.3-x86_64.tar.gz",
      want: {
        id: "alpine",
        versionId: "3.10.3",
        prettyName: "Alpine Linux v3.10",
        location: "etc/os-release",
      },
    },
    {
      file: "rootfs/alpine-minirootfs-3.10.3-aarch64.tar.gz",
      want: {
        id: "alpine",
        versionId: "3.10.3",
        prettyName: "Alpine Linux v3.10",
        location: "etc/os-release",
      },
    },
    {
      file: "rootfs/alpine-minirootfs-3.11.13-x86_64.tar.gz",
      want: {
        id: "alpine",
        versionId: "3.11.13",
        prettyName: "Alpine Linux v3.11",
        location: "etc/os-release",
      },
    },
    {
      file: "pkgdb/alpine-3.20.3/alpine-minirootfs-3.20.3-x86_64.tar.gz",
      want: {
        id: "alpine",
        versionId: "3.20.3",
        prettyName: "Alpine Linux v3.20",
        location: "etc/os-release",
      },
    },
  ];
  for (const c of tarballs) {
    test(c.file, async () => {
      const files = await readTar(path.join(shared, "fixtures", c.file), (p) =>
        osReleaseExtractor.wants({ path: p, size: 0, mode: 0o644 }),
      );
      assert.deepEqual([...files.keys()].sort(), ["etc/alpine-release", "etc/os-release"]);
      const os = osOf(run(Object.fromEntries(files)));
      assert.deepEqual(os, c.want);
      assert.equal(distroQualifier(os), `alpine-${c.want.versionId?.split(".").slice(0, 2).join(".")}`);
    });
  }
  test("minirootfs directory exists", () => assert.ok(existsSync(rootfs)));
});

describe("reconcile: precedence and refinement", () => {
  const bookwormUsrLib =
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n';

  test("only usr/lib/os-release (etc/os-release is a symlink the analyzer does not see) + debian_version", () => {
    assert.deepEqual(osOf(run({ "usr/lib/os-release": bookwormUsrLib, "etc/debian_version": "12.15\n" })), {
      id: "debian",
      versionId: "12.15",
      versionCodename: "bookworm",
      prettyName: "Debian GNU/Linux 12 (bookworm)",
      location: "usr/lib/os-release",
    });
  });

  test("old distroless: two different regular files, etc/os-release wins", () => {
    const results = run({
      "etc/os-release":
        'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="11"\nVERSION="Debian GNU/Linux 11 (bullseye)"\n',
      "usr/lib/os-release": bookwormUsrLib.replaceAll("12", "11").replaceAll("bookworm", "bullseye"),
      "etc/debian_version": "11.8\n",
    });
    assert.deepEqual(osOf(results), {
      id: "debian",
      versionId: "11.8",
      versionCodename: "bullseye",
      prettyName: "Distroless",
      location: "etc/os-release",
    });
    assert.equal(results.find((r) => r.os)?.path, "etc/os-release");
    assert.equal(results.length, 3, "every input result is kept");
  });

  test("an ID-less etc/os-release defers to usr/lib/os-release", () => {
    const results = run({ "etc/os-release": 'NAME="x"\n', "usr/lib/os-release": bookwormUsrLib });
    assert.equal(osOf(results)?.location, "usr/lib/os-release");
    assert.match(results.flatMap((r) => r.warnings ?? []).join(), /no ID/);
  });

  test("an ID-less os-release defers to a release file", () => {
    assert.deepEqual(osOf(run({ "etc/os-release": "NAME=x\n", "etc/alpine-release": "3.19.4\n" })), {
      id: "alpine",
      versionId: "3.19.4",
      location: "etc/alpine-release",
    });
  });

  test("no os-release: the vendor file before redhat-release and system-release", () => {
    const os = osOf(
      run({
        "etc/redhat-release": "Rocky Linux release 8.9 (Green Obsidian)\n",
        "etc/system-release": "Rocky Linux release 8.9 (Green Obsidian)\n",
        "etc/rocky-release": "Rocky Linux release 8.9 (Green Obsidian)\n",
      }),
    );
    assert.equal(os?.id, "rocky");
    assert.equal(os?.location, "etc/rocky-release");
  });

  test("no os-release: lsb-release before debian_version (Ubuntu has both)", () => {
    const os = osOf(
      run({
        "etc/debian_version": "bullseye/sid\n",
        "etc/lsb-release": "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n",
      }),
    );
    assert.deepEqual(os, { id: "ubuntu", versionId: "22.04", location: "etc/lsb-release" });
  });

  test("Ubuntu's debian_version does not refine Ubuntu", () => {
    const os = osOf(
      run({
        "etc/os-release": 'ID=ubuntu\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\n',
        "etc/debian_version": "bookworm/sid\n",
      }),
    );
    assert.deepEqual(os, {
      id: "ubuntu",
      versionId: "22.04",
      versionCodename: "jammy",
      location: "etc/os-release",
    });
  });

  test("CentOS 7: centos-release refines VERSION_ID 7", () => {
    const os = osOf(
      run({
        "etc/os-release":
          'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n',
        "etc/centos-release": "CentOS Linux release 7.9.2009 (Core)\n",
      }),
    );
    assert.equal(os?.versionId, "7.9.2009");
    assert.equal(os?.location, "etc/os-release");
  });

  test("a release file that contradicts os-release does not override it", () => {
    const os = osOf(run({ "etc/os-release": bookwormUsrLib, "etc/debian_version": "11.2\n" }));
    assert.equal(os?.versionId, "12");
  });

  test("Debian testing: no VERSION_ID anywhere", () => {
    const os = osOf(
      run({
        "etc/os-release":
          'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=trixie\nID=debian\n',
        "etc/debian_version": "trixie/sid\n",
      }),
    );
    assert.deepEqual(os, {
      id: "debian",
      versionCodename: "trixie",
      prettyName: "Debian GNU/Linux trixie/sid",
      location: "etc/os-release",
    });
    assert.equal(distroQualifier(os), "debian-trixie");
  });

  test("nothing usable: no os, warnings kept", () => {
    const results = run({ "etc/alpine-release": "garbage\n" });
    assert.equal(osOf(results), undefined);
    assert.equal(results[0]?.warnings?.length, 1);
  });

  test("resolveOsRelease over no results", () => assert.deepEqual(resolveOsRelease([]), {}));
});

describe("distroQualifier", () => {
  const cases: [OsRelease | undefined, string | undefined][] = [
    [{ id: "debian", versionId: "12", location: "" }, "debian-12"],
    [{ id: "debian", versionId: "12.15", location: "" }, "debian-12"],
    [{ id: "debian", versionCodename: "trixie", location: "" }, "debian-trixie"],
    [{ id: "ubuntu", versionId: "22.04", location: "" }, "ubuntu-22.04"],
    [{ id: "alpine", versionId: "3.10.3", location: "" }, "alpine-3.10"],
    [{ id: "alpine", versionId: "3.20", location: "" }, "alpine-3.20"],
    [
      { id: "alpine", versionId: "3.21.0_alpha20240807", prettyName: "Alpine Linux edge", location: "" },
      "alpine-edge",
    ],
    [{ id: "rhel", versionId: "8.8", location: "" }, "rhel-8.8"],
    [{ id: "wolfi", versionId: "20230201", location: "" }, "wolfi-20230201"],
    [{ id: "linux", location: "" }, undefined],
    [undefined, undefined],
  ];
  for (const [os, want] of cases) {
    test(`${JSON.stringify(os)} → ${want}`, () => assert.equal(distroQualifier(os), want));
  }
});

describe("finalizeOsPurl", () => {
  const deb: Package = {
    ecosystem: "deb",
    name: "libstdc++6",
    version: "12.2.0-14+deb12u1",
    arch: "amd64",
    purl: "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14+deb12u1?arch=amd64",
    location: "var/lib/dpkg/status",
  };
  const apk: Package = {
    ecosystem: "apk",
    name: "musl",
    version: "1.2.5-r0",
    arch: "x86_64",
    purl: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64",
    location: "lib/apk/db/installed",
  };
  const npm: Package = {
    ecosystem: "npm",
    name: "left-pad",
    version: "1.3.0",
    purl: "pkg:npm/left-pad@1.3.0",
    location: "app/package-lock.json",
  };
  const debian12: OsRelease = { id: "debian", versionId: "12.15", location: "etc/os-release" };
  const cases: { name: string; pkg: Package; os: OsRelease | undefined; want: string }[] = [
    {
      name: "deb on Debian",
      pkg: deb,
      os: debian12,
      want: "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14+deb12u1?arch=amd64&distro=debian-12",
    },
    {
      name: "deb on Ubuntu: namespace ubuntu",
      pkg: { ...deb, purl: "pkg:deb/debian/bash@5.1-6ubuntu1?arch=amd64" },
      os: { id: "ubuntu", versionId: "22.04", idLike: ["debian"], location: "etc/os-release" },
      want: "pkg:deb/ubuntu/bash@5.1-6ubuntu1?arch=amd64&distro=ubuntu-22.04",
    },
    {
      name: "deb on a derivative (ID_LIKE=debian)",
      pkg: { ...deb, purl: "pkg:deb/debian/bash@5.2.15-2?arch=armhf" },
      os: { id: "raspbian", versionId: "12", idLike: ["debian"], location: "etc/os-release" },
      want: "pkg:deb/raspbian/bash@5.2.15-2?arch=armhf&distro=raspbian-12",
    },
    {
      name: "deb with epoch keeps the version as written",
      pkg: { ...deb, purl: "pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?arch=amd64" },
      os: debian12,
      want: "pkg:deb/debian/bsdutils@1:2.38.1-5+deb12u3?arch=amd64&distro=debian-12",
    },
    {
      name: "apk on Alpine: the branch",
      pkg: apk,
      os: { id: "alpine", versionId: "3.20.3", location: "etc/os-release" },
      want: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20",
    },
    {
      name: "apk on Wolfi: namespace wolfi",
      pkg: apk,
      os: { id: "wolfi", versionId: "20230201", location: "etc/os-release" },
      want: "pkg:apk/wolfi/musl@1.2.5-r0?arch=x86_64&distro=wolfi-20230201",
    },
    {
      name: "an existing distro qualifier is replaced (idempotent)",
      pkg: { ...apk, purl: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20" },
      os: { id: "alpine", versionId: "3.20.3", location: "etc/os-release" },
      want: "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20",
    },
    { name: "apk in a Debian image: unchanged", pkg: apk, os: debian12, want: apk.purl },
    {
      name: "deb in an Alpine image: unchanged",
      pkg: deb,
      os: { id: "alpine", versionId: "3.20.3", location: "" },
      want: deb.purl,
    },
    { name: "no OS: unchanged", pkg: deb, os: undefined, want: deb.purl },
    { name: "other ecosystems: unchanged", pkg: npm, os: debian12, want: npm.purl },
    { name: "unparsable purl: unchanged", pkg: { ...deb, purl: "garbage" }, os: debian12, want: "garbage" },
  ];
  for (const c of cases) test(c.name, () => assert.equal(finalizeOsPurl(c.pkg, c.os), c.want));
});

test("extractor constants", () => {
  assert.equal(osReleaseExtractor.name, "os-release");
  assert.equal(typeof osReleaseExtractor.version, "number");
  assert.match(osReleaseExtractor.spec, /os-release\(5\)/);
  assert.ok(osReleaseExtractor.maxFileBytes >= 4096);
});
