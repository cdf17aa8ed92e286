import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { OsRelease, Package } from "../types.js";
import { parseHeader, Tag, Type } from "./header.js";
import {
  finalizeRpmPackage,
  headerToPackage,
  osFromRpmPackages,
  parseSourceRpm,
  rpmDistroQualifier,
  rpmPurl,
  rpmPurlNamespace,
  vendorNamespace,
} from "./package.js";
import { buildHeader, packageEntries } from "./testutil.js";

describe("parseSourceRpm", () => {
  const cases: [string, ReturnType<typeof parseSourceRpm>][] = [
    ["util-linux-2.32.1-42.el8_8.src.rpm", { name: "util-linux", version: "2.32.1-42.el8_8" }],
    ["gcc11-11.2.1+git610-1.3.9.src.rpm", { name: "gcc11", version: "11.2.1+git610-1.3.9" }],
    ["kernel-5.14.0-284.11.1.el9_2.nosrc.rpm", { name: "kernel", version: "5.14.0-284.11.1.el9_2" }],
    ["python-setuptools-57.4.0-1.fc35.src.rpm", { name: "python-setuptools", version: "57.4.0-1.fc35" }],
    ["a-1-2.src.rpm", { name: "a", version: "1-2" }],
    ["bash-5.1.8-1.cm2.x86_64.rpm", undefined],
    ["bash-5.1.8.src.rpm", undefined],
    ["-1-2.src.rpm", undefined],
    ["bash--1.src.rpm", undefined],
    ["bash-1-.src.rpm", undefined],
    ["src.rpm", undefined],
    ["", undefined],
    ["(none)", undefined],
  ];
  for (const [input, want] of cases)
    test(JSON.stringify(input), () => assert.deepEqual(parseSourceRpm(input), want));
});

describe("purl namespace and distro", () => {
  const os = (id: string, versionId?: string): OsRelease => ({ id, versionId, location: "etc/os-release" });
  const ns: [string, string][] = [
    ["rhel", "redhat"],
    ["centos", "centos"],
    ["fedora", "fedora"],
    ["rocky", "rocky"],
    ["almalinux", "almalinux"],
    ["ol", "oracle"],
    ["amzn", "amazon"],
    ["sles", "suse"],
    ["sles_sap", "suse"],
    ["sled", "suse"],
    ["sle-micro", "suse"],
    ["opensuse-leap", "opensuse"],
    ["opensuse-tumbleweed", "opensuse"],
    ["mariner", "mariner"],
    ["azurelinux", "azurelinux"],
    ["Photon", "photon"],
  ];
  for (const [id, want] of ns) test(`${id} → ${want}`, () => assert.equal(rpmPurlNamespace(os(id)), want));
  test("distro qualifier", () => {
    assert.equal(rpmDistroQualifier(os("rhel", "8.8")), "rhel-8.8");
    assert.equal(rpmDistroQualifier(os("opensuse-tumbleweed")), "opensuse-tumbleweed");
  });
  test("vendor guesses", () => {
    assert.equal(vendorNamespace("Red Hat, Inc."), "redhat");
    assert.equal(vendorNamespace("SUSE LLC <https://www.suse.com/>"), "suse");
    assert.equal(vendorNamespace("openSUSE"), "opensuse");
    assert.equal(vendorNamespace("Fedora Project"), "fedora");
    assert.equal(vendorNamespace("Microsoft Corporation"), "microsoft");
    assert.equal(vendorNamespace("MongoDB, Inc."), undefined);
    assert.equal(vendorNamespace(undefined), undefined);
  });
});

describe("rpmPurl", () => {
  test("arch, epoch and distro qualifiers, sorted; zero epoch left out", () => {
    assert.equal(
      rpmPurl({
        namespace: "redhat",
        name: "libuuid",
        version: "2.32.1",
        release: "42.el8_8",
        arch: "x86_64",
      }),
      "pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64",
    );
    assert.equal(
      rpmPurl({
        namespace: "redhat",
        name: "tar",
        version: "1.30",
        release: "5.el8",
        arch: "x86_64",
        epoch: 2,
        distro: "rhel-8.8",
      }),
      "pkg:rpm/redhat/tar@1.30-5.el8?arch=x86_64&distro=rhel-8.8&epoch=2",
    );
    assert.equal(rpmPurl({ name: "x", version: "1", release: "1", epoch: 0 }), "pkg:rpm/x@1-1");
  });
  test("special characters in the name are percent-encoded", () => {
    assert.equal(
      rpmPurl({
        namespace: "suse",
        name: "libstdc++6",
        version: "11.2.1+git610",
        release: "1.3.9",
        arch: "x86_64",
      }),
      // packageurl-js 2 encodes "+" in the name but not in the version
      "pkg:rpm/suse/libstdc%2B%2B6@11.2.1+git610-1.3.9?arch=x86_64",
    );
  });
});

describe("headerToPackage", () => {
  const toPkg = (entries: Parameters<typeof buildHeader>[0]) =>
    headerToPackage(parseHeader(buildHeader(entries)), "var/lib/rpm/Packages", 7);

  test("full package", () => {
    const r = toPkg(
      packageEntries({
        name: "tar",
        version: "1.30",
        release: "5.el8",
        epoch: 2,
        arch: "x86_64",
        sourceRpm: "tar-1.30-5.el8.src.rpm",
        vendor: "Red Hat, Inc.",
        license: "GPLv3+",
        files: ["/usr/bin/tar", "/usr/share/doc/tar/README", "/"],
        extra: [{ tag: Tag.MODULARITYLABEL, type: Type.STRING, value: "tar:1:8000:abc" }],
      }),
    );
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.package, {
      ecosystem: "rpm",
      name: "tar",
      version: "2:1.30-5.el8",
      purl: "pkg:rpm/redhat/tar@1.30-5.el8?arch=x86_64&epoch=2",
      location: "var/lib/rpm/Packages",
      source: { name: "tar", version: "1.30-5.el8" },
      arch: "x86_64",
      epoch: 2,
      release: "5.el8",
      vendor: "Red Hat, Inc.",
      modularityLabel: "tar:1:8000:abc",
      licenses: ["GPLv3+"],
      files: ["usr/bin/tar", "usr/share/doc/tar/README"],
      properties: { size: "1234", sourceRpm: "tar-1.30-5.el8.src.rpm" },
    } satisfies Package);
  });

  test("epoch 0 is kept as a field but not written into version or purl; absent epoch is undefined", () => {
    const zero = toPkg(packageEntries({ name: "a", version: "1", release: "2", epoch: 0 })).package;
    assert.equal(zero?.epoch, 0);
    assert.equal(zero?.version, "1-2");
    assert.equal(zero?.purl, "pkg:rpm/a@1-2");
    const none = toPkg(packageEntries({ name: "a", version: "1", release: "2" })).package;
    assert.equal(none?.epoch, undefined);
    assert.equal("epoch" in (none ?? {}), false);
  });

  test('"(none)" and empty strings count as absent', () => {
    const r = toPkg(
      packageEntries({
        name: "a",
        version: "1",
        release: "2",
        vendor: "(none)",
        license: "",
        sourceRpm: "(none)",
      }),
    );
    assert.equal(r.package?.vendor, undefined);
    assert.equal(r.package?.licenses, undefined);
    assert.equal(r.package?.source, undefined);
    assert.deepEqual(r.warnings, []);
  });

  test("gpg-pubkey pseudo-packages are skipped without a warning", () => {
    const r = toPkg(packageEntries({ name: "gpg-pubkey", version: "fd431d51", release: "4ae0493b" }));
    assert.equal(r.package, undefined);
    assert.equal(r.skipped, "gpg-pubkey-fd431d51-4ae0493b");
    assert.deepEqual(r.warnings, []);
  });

  test("missing NAME/VERSION/RELEASE: skipped with a warning", () => {
    const r = toPkg([{ tag: Tag.NAME, type: Type.STRING, value: "only-name" }]);
    assert.equal(r.package, undefined);
    assert.match(r.warnings[0] ?? "", /header #7 has no NAME, VERSION or RELEASE/);
  });

  test("a malformed SOURCERPM is reported and left out", () => {
    const r = toPkg(packageEntries({ name: "a", version: "1", release: "2", sourceRpm: "weird" }));
    assert.equal(r.package?.source, undefined);
    assert.equal(r.package?.properties?.sourceRpm, "weird");
    assert.match(r.warnings[0] ?? "", /SOURCERPM "weird"/);
  });

  test("legacy OLDFILENAMES file list", () => {
    const r = toPkg(
      [
        ...packageEntries({ name: "old", version: "1", release: "1" }),
        { tag: Tag.OLDFILENAMES, type: Type.STRING_ARRAY, value: ["/bin/old", "/etc/old.conf"] },
      ].sort((a, b) => a.tag - b.tag),
    );
    assert.deepEqual(r.package?.files, ["bin/old", "etc/old.conf"]);
  });

  test("inconsistent file arrays are reported and the file list dropped", () => {
    const base = packageEntries({ name: "a", version: "1", release: "1" });
    const bad = toPkg(
      [
        ...base,
        { tag: Tag.DIRINDEXES, type: Type.INT32, value: [0, 5] },
        { tag: Tag.BASENAMES, type: Type.STRING_ARRAY, value: ["x", "y"] },
        { tag: Tag.DIRNAMES, type: Type.STRING_ARRAY, value: ["/usr/"] },
      ].sort((a, b) => a.tag - b.tag),
    );
    assert.equal(bad.package?.files, undefined);
    assert.match(bad.warnings[0] ?? "", /DIRINDEXES\[1\] = 5 is past 1 DIRNAMES/);
    const short = toPkg(
      [
        ...base,
        { tag: Tag.DIRINDEXES, type: Type.INT32, value: [0] },
        { tag: Tag.BASENAMES, type: Type.STRING_ARRAY, value: ["x", "y"] },
        { tag: Tag.DIRNAMES, type: Type.STRING_ARRAY, value: ["/usr/"] },
      ].sort((a, b) => a.tag - b.tag),
    );
    assert.equal(short.package?.files, undefined);
    assert.match(short.warnings[0] ?? "", /2 BASENAMES but 1 DIRINDEXES/);
  });

  test("LONGSIZE wins over SIZE", () => {
    const r = toPkg(
      packageEntries({
        name: "big",
        version: "1",
        release: "1",
        extra: [{ tag: Tag.LONGSIZE, type: Type.INT64, value: [5n * 2n ** 32n] }],
      }),
    );
    assert.equal(r.package?.properties?.size, String(5 * 2 ** 32));
  });
});

describe("finalizeRpmPackage", () => {
  const pkg: Package = {
    ecosystem: "rpm",
    name: "tar",
    version: "2:1.30-5.el8",
    purl: "pkg:rpm/redhat/tar@1.30-5.el8?arch=x86_64&epoch=2",
    epoch: 2,
    release: "5.el8",
    arch: "x86_64",
    location: "var/lib/rpm/Packages",
  };
  test("sets namespace and distro from the OS, keeps the rest", () => {
    const out = finalizeRpmPackage(pkg, { id: "rocky", versionId: "8.9", location: "etc/os-release" });
    assert.equal(out.purl, "pkg:rpm/rocky/tar@1.30-5.el8?arch=x86_64&distro=rocky-8.9&epoch=2");
    assert.equal(out.version, pkg.version);
    assert.equal(pkg.purl, "pkg:rpm/redhat/tar@1.30-5.el8?arch=x86_64&epoch=2", "input not modified");
  });
  test("a release containing dashes-free text and an absent epoch", () => {
    const p: Package = {
      ...pkg,
      version: "1.30-5.el8",
      epoch: undefined,
      purl: "pkg:rpm/tar@1.30-5.el8?arch=x86_64",
    };
    const out = finalizeRpmPackage(p, { id: "rhel", versionId: "8.8", location: "etc/os-release" });
    assert.equal(out.purl, "pkg:rpm/redhat/tar@1.30-5.el8?arch=x86_64&distro=rhel-8.8");
  });
  test("no OS, or not an rpm package: unchanged", () => {
    assert.equal(finalizeRpmPackage(pkg, undefined), pkg);
    const deb: Package = {
      ecosystem: "deb",
      name: "x",
      version: "1",
      purl: "pkg:deb/debian/x@1",
      location: "x",
    };
    assert.equal(finalizeRpmPackage(deb, { id: "debian", location: "etc/os-release" }), deb);
  });
});

describe("osFromRpmPackages", () => {
  const p = (name: string, version: string, release: string, epoch?: number): Package => ({
    ecosystem: "rpm",
    name,
    version: `${epoch ? `${epoch}:` : ""}${version}-${release}`,
    release,
    epoch,
    purl: "pkg:rpm/x",
    location: "var/lib/rpm/rpmdb.sqlite",
  });
  const cases: [string, Package[], { id: string; versionId?: string } | undefined][] = [
    [
      "RHEL 8.8",
      [p("bash", "4.4", "1.el8"), p("redhat-release", "8.8", "0.8.el8")],
      { id: "rhel", versionId: "8.8" },
    ],
    ["RHEL 7 server", [p("redhat-release-server", "7.9", "7.el7")], { id: "rhel", versionId: "7.9" }],
    ["CentOS 7", [p("centos-release", "7", "9.2009.1.el7.centos")], { id: "centos", versionId: "7" }],
    ["CentOS Stream 9", [p("centos-stream-release", "9.0", "24.el9")], { id: "centos", versionId: "9.0" }],
    ["Rocky 9.3", [p("rocky-release", "9.3", "1.2.el9")], { id: "rocky", versionId: "9.3" }],
    ["Fedora 39", [p("fedora-release-common", "39", "36")], { id: "fedora", versionId: "39" }],
    ["Amazon Linux 2", [p("system-release", "2", "16.amzn2", 1)], { id: "amzn", versionId: "2" }],
    ["system-release of another vendor", [p("system-release", "39", "1.fc39")], undefined],
    ["SLES 15.3", [p("sles-release", "15.3", "55.4.1")], { id: "sles", versionId: "15.3" }],
    ["Leap 15.5", [p("openSUSE-release", "15.5", "lp155.286.1")], { id: "opensuse-leap", versionId: "15.5" }],
    [
      "Tumbleweed",
      [p("openSUSE-release", "20240101", "2810.1")],
      { id: "opensuse-tumbleweed", versionId: "20240101" },
    ],
    ["CBL-Mariner 2.0", [p("mariner-release", "2.0", "4.cm2")], { id: "mariner", versionId: "2.0" }],
    ["no release package", [p("libuuid", "2.32.1", "42.el8_8")], undefined],
  ];
  for (const [name, pkgs, want] of cases) {
    test(name, () => {
      const os = osFromRpmPackages(pkgs);
      assert.deepEqual(os && { id: os.id, versionId: os.versionId }, want);
      if (os) assert.equal(os.location, "var/lib/rpm/rpmdb.sqlite");
    });
  }
});
