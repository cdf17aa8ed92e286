import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Descriptor, type IndexManifest, MediaTypes, type Platform, parseManifest } from "./manifest.js";
import {
  DEFAULT_PLATFORM,
  formatPlatform,
  imageEntries,
  normalizePlatform,
  PlatformNotFoundError,
  parsePlatformString,
  platformMatches,
  selectPlatform,
} from "./platform.js";

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;
const p = (os: string, architecture: string, variant?: string, osVersion?: string): Platform => ({
  os,
  architecture,
  variant,
  "os.version": osVersion,
});

describe("normalizePlatform", () => {
  const cases: [input: Platform, want: Platform][] = [
    [p("linux", "amd64"), p("linux", "amd64")],
    [p("linux", "x86_64"), p("linux", "amd64")],
    [p("linux", "x86-64"), p("linux", "amd64")],
    [p("Linux", "AMD64"), p("linux", "amd64")],
    [p("linux", "aarch64"), p("linux", "arm64")],
    [p("linux", "aarch64", "v8"), p("linux", "arm64")],
    [p("linux", "arm64", "v8"), p("linux", "arm64")],
    [p("linux", "arm64", "8"), p("linux", "arm64")],
    [p("linux", "arm64", "V8"), p("linux", "arm64")],
    [p("linux", "arm64", ""), p("linux", "arm64")],
    [p("linux", "arm"), p("linux", "arm", "v7")],
    [p("linux", "arm", ""), p("linux", "arm", "v7")],
    [p("linux", "arm", "7"), p("linux", "arm", "v7")],
    [p("linux", "arm", "v7"), p("linux", "arm", "v7")],
    [p("linux", "arm", "6"), p("linux", "arm", "v6")],
    [p("linux", "arm", "v5"), p("linux", "arm", "v5")],
    [p("linux", "arm", "V6"), p("linux", "arm", "v6")],
    [p("linux", "armhf"), p("linux", "arm", "v7")],
    [p("linux", "armel"), p("linux", "arm", "v6")],
    [p("linux", "i386"), p("linux", "386")],
    [p("linux", "i686"), p("linux", "386")],
    [p("linux", "386"), p("linux", "386")],
    [p("macos", "arm64"), p("darwin", "arm64")],
    [p("MacOS", "x86_64"), p("darwin", "amd64")],
    [p("darwin", "amd64"), p("darwin", "amd64")],
    [
      p("windows", "amd64", undefined, "10.0.17763.5576"),
      p("windows", "amd64", undefined, "10.0.17763.5576"),
    ],
    [p("linux", "ppc64le"), p("linux", "ppc64le")],
    [p("linux", "s390x"), p("linux", "s390x")],
    [p("linux", "riscv64"), p("linux", "riscv64")],
  ];
  for (const [input, want] of cases) {
    test(`${JSON.stringify([input.os, input.architecture, input.variant])} → ${formatPlatform(want)}`, () => {
      assert.deepEqual(normalizePlatform(input), want);
    });
  }

  test("is idempotent", () => {
    for (const [input] of cases) {
      const once = normalizePlatform(input);
      assert.deepEqual(normalizePlatform(once), once);
    }
  });

  test("does not modify its argument", () => {
    const input = p("linux", "aarch64", "v8");
    normalizePlatform(input);
    assert.deepEqual(input, p("linux", "aarch64", "v8"));
  });
});

describe("parsePlatformString / formatPlatform", () => {
  const ok: [string, Platform, string][] = [
    ["linux/amd64", p("linux", "amd64"), "linux/amd64"],
    ["linux/arm64", p("linux", "arm64"), "linux/arm64"],
    ["linux/arm64/v8", p("linux", "arm64"), "linux/arm64"],
    ["linux/arm", p("linux", "arm", "v7"), "linux/arm/v7"],
    ["linux/arm/v6", p("linux", "arm", "v6"), "linux/arm/v6"],
    ["linux/arm/7", p("linux", "arm", "v7"), "linux/arm/v7"],
    ["linux/x86_64", p("linux", "amd64"), "linux/amd64"],
    ["linux/aarch64", p("linux", "arm64"), "linux/arm64"],
    ["linux/armhf", p("linux", "arm", "v7"), "linux/arm/v7"],
    ["linux/i386", p("linux", "386"), "linux/386"],
    ["macos/arm64", p("darwin", "arm64"), "darwin/arm64"],
    ["windows/amd64", p("windows", "amd64"), "windows/amd64"],
    ["Linux/AMD64", p("linux", "amd64"), "linux/amd64"],
  ];
  for (const [text, want, formatted] of ok) {
    test(`parses ${text} → ${formatted}`, () => {
      const got = parsePlatformString(text);
      assert.deepEqual(got, want);
      assert.equal(formatPlatform(got), formatted);
    });
  }

  const bad = [
    "",
    "linux",
    "/",
    "linux/",
    "/amd64",
    "linux//v7",
    "linux/amd64/",
    "linux/amd64/v8/extra",
    "//",
    "a/b/c/d",
  ];
  for (const text of bad) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parsePlatformString(text),
        (e: unknown) => e instanceof Error && e.message.includes(`"${text}"`) && /os\/arch/.test(e.message),
      );
    });
  }

  test("formatPlatform leaves out a missing variant and os.version", () => {
    assert.equal(formatPlatform(p("windows", "amd64", undefined, "10.0.17763")), "windows/amd64");
    assert.equal(formatPlatform(p("linux", "arm", "v6")), "linux/arm/v6");
    assert.equal(formatPlatform(DEFAULT_PLATFORM), "linux/amd64");
  });
});

describe("platformMatches", () => {
  const cases: [candidate: Platform, wanted: Platform, want: boolean][] = [
    [p("linux", "amd64"), p("linux", "amd64"), true],
    [p("linux", "x86_64"), p("linux", "amd64"), true],
    [p("linux", "amd64"), p("linux", "x86_64"), true],
    [p("linux", "amd64"), p("windows", "amd64"), false],
    [p("linux", "amd64"), p("linux", "arm64"), false],
    [p("linux", "arm64", "v8"), p("linux", "arm64"), true],
    [p("linux", "arm64"), p("linux", "arm64", "v8"), true],
    [p("linux", "aarch64"), p("linux", "arm64", "v8"), true],
    [p("linux", "arm", "v7"), p("linux", "arm"), true],
    [p("linux", "arm"), p("linux", "arm", "v7"), true],
    [p("linux", "arm", "v6"), p("linux", "arm"), false], // arm means arm/v7
    [p("linux", "arm", "v6"), p("linux", "arm", "v7"), false],
    [p("linux", "arm", "v7"), p("linux", "arm", "v6"), false],
    [p("linux", "armel"), p("linux", "arm", "v6"), true],
    [p("linux", "armhf"), p("linux", "arm", "v7"), true],
    [p("linux", "arm64"), p("linux", "arm"), false],
    [p("linux", "amd64", "v3"), p("linux", "amd64"), true], // no variant wanted: any variant will do
    [p("linux", "amd64"), p("linux", "amd64", "v3"), false],
    [p("darwin", "arm64"), p("macos", "arm64"), true],
    [p("linux", "i386"), p("linux", "386"), true],
    [
      p("windows", "amd64", undefined, "10.0.17763.5576"),
      p("windows", "amd64", undefined, "10.0.17763"),
      true,
    ],
    [
      p("windows", "amd64", undefined, "10.0.20348.2340"),
      p("windows", "amd64", undefined, "10.0.17763"),
      false,
    ],
    [p("windows", "amd64", undefined, "10.0.17763.5576"), p("windows", "amd64"), true],
    [p("windows", "amd64"), p("windows", "amd64", undefined, "10.0.17763"), true],
  ];
  for (const [candidate, wanted, want] of cases) {
    const name = `${formatPlatform(candidate)}${candidate["os.version"] ? `@${candidate["os.version"]}` : ""} vs wanted ${formatPlatform(wanted)}${wanted["os.version"] ? `@${wanted["os.version"]}` : ""} → ${want}`;
    test(name, () => assert.equal(platformMatches(candidate, wanted), want));
  }
});

/** The shape BuildKit pushes for a multi-platform official image (docker buildx --provenance). */
const BUILDKIT_INDEX_JSON = JSON.stringify({
  schemaVersion: 2,
  mediaType: MediaTypes.ociIndex,
  manifests: [
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("1"),
      size: 1609,
      platform: { architecture: "amd64", os: "linux" },
    },
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("2"),
      size: 1609,
      platform: { architecture: "arm", os: "linux", variant: "v6" },
    },
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("3"),
      size: 1609,
      platform: { architecture: "arm", os: "linux", variant: "v7" },
    },
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("4"),
      size: 1609,
      platform: { architecture: "arm64", os: "linux", variant: "v8" },
    },
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("5"),
      size: 1609,
      platform: { architecture: "386", os: "linux" },
    },
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("6"),
      size: 1609,
      platform: { architecture: "ppc64le", os: "linux" },
    },
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("a"),
      size: 840,
      annotations: {
        "vnd.docker.reference.digest": d("1"),
        "vnd.docker.reference.type": "attestation-manifest",
      },
      platform: { architecture: "unknown", os: "unknown" },
    },
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("b"),
      size: 840,
      annotations: {
        "vnd.docker.reference.digest": d("4"),
        "vnd.docker.reference.type": "attestation-manifest",
      },
      platform: { architecture: "unknown", os: "unknown" },
    },
  ],
});
const buildkitIndex = () => parseManifest(new TextEncoder().encode(BUILDKIT_INDEX_JSON)) as IndexManifest;

function index(manifests: Partial<Descriptor>[]): IndexManifest {
  return {
    kind: "index",
    mediaType: MediaTypes.ociIndex,
    manifests: manifests.map((m, i) => ({
      mediaType: MediaTypes.ociManifest,
      digest: d(String(i)),
      size: 100,
      ...m,
    })),
  };
}

describe("imageEntries", () => {
  test("keeps image entries and drops BuildKit attestations", () => {
    assert.deepEqual(
      imageEntries(buildkitIndex()).map((e) => e.digest),
      ["1", "2", "3", "4", "5", "6"].map(d),
    );
  });

  test("drops entries without platform, with unknown os, with artifactType, attestations and nested indexes", () => {
    const idx = index([
      { platform: p("linux", "amd64"), digest: d("a") },
      { digest: d("b") },
      { platform: p("unknown", "unknown"), digest: d("c") },
      {
        platform: p("linux", "amd64"),
        artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
        digest: d("d"),
      },
      {
        platform: p("linux", "amd64"),
        annotations: { "vnd.docker.reference.type": "attestation-manifest" },
        digest: d("e"),
      },
      { platform: p("linux", "amd64"), mediaType: MediaTypes.ociIndex, digest: d("f") },
      { platform: p("linux", "amd64"), mediaType: MediaTypes.dockerList, digest: d("9") },
      { platform: p("linux", "arm64"), mediaType: MediaTypes.dockerManifest, digest: d("8") },
    ]);
    assert.deepEqual(
      imageEntries(idx).map((e) => e.digest),
      [d("a"), d("8")],
    );
  });
});

describe("selectPlatform on a BuildKit index", () => {
  const cases: [wanted: string | undefined, digest: string][] = [
    [undefined, d("1")], // default linux/amd64
    ["linux/amd64", d("1")],
    ["linux/x86_64", d("1")],
    ["linux/arm64", d("4")],
    ["linux/arm64/v8", d("4")],
    ["linux/aarch64", d("4")],
    ["linux/arm", d("3")], // arm ≡ arm/v7, not the first arm entry (v6)
    ["linux/arm/v7", d("3")],
    ["linux/armhf", d("3")],
    ["linux/arm/v6", d("2")],
    ["linux/armel", d("2")],
    ["linux/386", d("5")],
    ["linux/i386", d("5")],
    ["linux/ppc64le", d("6")],
  ];
  for (const [wanted, digest] of cases) {
    test(`${wanted ?? "(default)"} → entry ${digest.slice(7, 8)}`, () => {
      const got = wanted
        ? selectPlatform(buildkitIndex(), parsePlatformString(wanted))
        : selectPlatform(buildkitIndex());
      assert.equal(got.digest, digest);
    });
  }

  test("a missing platform is reported with the image platforms available (no unknown/unknown)", () => {
    assert.throws(
      () => selectPlatform(buildkitIndex(), parsePlatformString("linux/s390x")),
      (e: unknown) => {
        assert.ok(e instanceof PlatformNotFoundError);
        assert.ok(e instanceof Error);
        assert.equal(
          e.message,
          "no image for platform linux/s390x in the index (available: linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/386, linux/ppc64le)",
        );
        assert.deepEqual(e.wanted, parsePlatformString("linux/s390x"));
        assert.equal(e.available.length, 6);
        assert.ok(!e.message.includes("unknown"));
        return true;
      },
    );
  });

  test("arm/v5 is not satisfied by v6 or v7", () => {
    assert.throws(
      () => selectPlatform(buildkitIndex(), parsePlatformString("linux/arm/v5")),
      PlatformNotFoundError,
    );
  });

  test("windows is not satisfied by linux", () => {
    assert.throws(
      () => selectPlatform(buildkitIndex(), parsePlatformString("windows/amd64")),
      PlatformNotFoundError,
    );
  });
});

describe("selectPlatform: other indexes", () => {
  test("an attestation listed first with a real platform is still skipped", () => {
    const idx = index([
      {
        platform: p("linux", "amd64"),
        annotations: { "vnd.docker.reference.type": "attestation-manifest" },
        digest: d("a"),
      },
      { platform: p("linux", "amd64"), digest: d("b") },
    ]);
    assert.equal(selectPlatform(idx).digest, d("b"));
  });

  test("a nested index listed first with the platform is skipped for the image entry", () => {
    const idx = index([
      { platform: p("linux", "amd64"), mediaType: MediaTypes.ociIndex, digest: d("a") },
      { platform: p("linux", "amd64"), digest: d("b") },
    ]);
    assert.equal(selectPlatform(idx).digest, d("b"));
  });

  test("an entry whose variant equals the wanted one beats an earlier entry with another variant", () => {
    const idx = index([
      { platform: p("linux", "amd64", "v3"), digest: d("a") },
      { platform: p("linux", "amd64"), digest: d("b") },
    ]);
    assert.equal(selectPlatform(idx, p("linux", "amd64")).digest, d("b"));
    assert.equal(selectPlatform(idx, p("linux", "amd64", "v3")).digest, d("a"));
  });

  test("without an exact variant, any variant of the wanted architecture is taken", () => {
    const idx = index([{ platform: p("linux", "amd64", "v2"), digest: d("a") }]);
    assert.equal(selectPlatform(idx, p("linux", "amd64")).digest, d("a"));
  });

  test("Docker manifest list with old-style architecture names", () => {
    const idx = index([
      { platform: p("linux", "x86_64"), mediaType: MediaTypes.dockerManifest, digest: d("a") },
      { platform: p("linux", "aarch64"), mediaType: MediaTypes.dockerManifest, digest: d("b") },
    ]);
    assert.equal(selectPlatform(idx).digest, d("a"));
    assert.equal(selectPlatform(idx, p("linux", "arm64", "v8")).digest, d("b"));
  });

  test("Windows builds are chosen by os.version prefix", () => {
    const idx = index([
      { platform: p("windows", "amd64", undefined, "10.0.17763.5576"), digest: d("a") },
      { platform: p("windows", "amd64", undefined, "10.0.20348.2340"), digest: d("b") },
      { platform: p("linux", "amd64"), digest: d("c") },
    ]);
    assert.equal(selectPlatform(idx, p("windows", "amd64", undefined, "10.0.20348")).digest, d("b"));
    assert.equal(selectPlatform(idx, p("windows", "amd64", undefined, "10.0.17763")).digest, d("a"));
    assert.equal(selectPlatform(idx, p("windows", "amd64")).digest, d("a"));
    assert.equal(selectPlatform(idx).digest, d("c"));
    assert.throws(
      () => selectPlatform(idx, p("windows", "amd64", undefined, "10.0.26100")),
      PlatformNotFoundError,
    );
  });

  test("an empty index, or one with only attestations, lists no platforms", () => {
    for (const idx of [
      index([]),
      index([
        {
          platform: p("unknown", "unknown"),
          annotations: { "vnd.docker.reference.type": "attestation-manifest" },
        },
      ]),
    ]) {
      assert.throws(
        () => selectPlatform(idx),
        (e: unknown) =>
          e instanceof PlatformNotFoundError &&
          e.available.length === 0 &&
          e.message === "no image for platform linux/amd64 in the index (available: none)",
      );
    }
  });

  test("an index of one image for another platform is not silently taken", () => {
    const idx = index([{ platform: p("linux", "arm64"), digest: d("a") }]);
    assert.throws(
      () => selectPlatform(idx),
      (e: unknown) => e instanceof PlatformNotFoundError && e.message.endsWith("(available: linux/arm64)"),
    );
  });
});
