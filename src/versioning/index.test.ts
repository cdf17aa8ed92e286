import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { allSchemes, schemeFor, schemeForEcosystem } from "./index.js";

describe("versioning registry", () => {
  test("schemeFor knows every scheme by its name", () => {
    const names = ["dpkg", "apk", "rpm", "semver", "go", "pep440", "maven", "rubygems", "composer", "nuget"];
    for (const name of names) assert.equal(schemeFor(name)?.name, name, name);
    assert.deepEqual(
      allSchemes()
        .map((s) => s.name)
        .sort(),
      [...names].sort(),
    );
    assert.equal(schemeFor("ecosystem"), undefined);
    assert.equal(schemeFor("SEMVER"), undefined);
  });

  test("every scheme states a version and a spec", () => {
    for (const s of allSchemes()) {
      assert.ok(Number.isInteger(s.version) && s.version >= 1, s.name);
      assert.ok(s.spec.length > 0, s.name);
    }
  });

  const ecosystems: [string, string | undefined][] = [
    ["npm", "semver"],
    ["crates.io", "semver"],
    ["Node.js", "semver"],
    ["Go", "go"],
    ["PyPI", "pep440"],
    ["Maven", "maven"],
    ["RubyGems", "rubygems"],
    ["Packagist", "composer"],
    ["NuGet", "nuget"],
    ["Alpine:v3.19", "apk"],
    ["Alpine", "apk"],
    ["Wolfi", "apk"],
    ["Debian:12", "dpkg"],
    ["Debian", "dpkg"],
    ["Ubuntu:22.04", "dpkg"],
    ["Ubuntu:Pro:22.04:LTS", "dpkg"],
    ["AlmaLinux:8", "rpm"],
    ["Rocky Linux:9", "rpm"],
    ["Red Hat:enterprise_linux:9::appstream", "rpm"],
    ["SUSE:Linux Enterprise Server 15 SP5", "rpm"],
    ["pypi", undefined],
    ["Hex", undefined],
    ["Pub", undefined],
    ["", undefined],
    ["Alpine-ish:3", undefined],
  ];
  for (const [ecosystem, want] of ecosystems)
    test(`schemeForEcosystem(${JSON.stringify(ecosystem)}) = ${want}`, () =>
      assert.equal(schemeForEcosystem(ecosystem)?.name, want));
});
