import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  bareMediaType,
  InvalidManifestError,
  MANIFEST_ACCEPT,
  type Manifest,
  MediaTypes,
  parseManifest,
} from "./manifest.js";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const hex = (c: string) => c.repeat(64).slice(0, 64);
const d = (c: string) => `sha256:${hex(c)}`;

// Byte-exact copies of documents the testbed (../../shared/testbed/oci.py) wrote to its OCI layout.
/** alpine-multi:3.10.3 — an OCI index over linux/amd64 and linux/arm64/v8. */
const TESTBED_INDEX =
  '{"manifests": [{"digest": "sha256:2f767b134cad207efef70c03101a3e0d11b2608ef0f529260ee25365e80015a2", "mediaType": "application/vnd.oci.image.manifest.v1+json", "platform": {"architecture": "amd64", "os": "linux"}, "size": 422}, {"digest": "sha256:ac1d004291d9de74eab387f9d59bab42608e47a84c55bd99275232fbafd1ba7c", "mediaType": "application/vnd.oci.image.manifest.v1+json", "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}, "size": 422}], "mediaType": "application/vnd.oci.image.index.v1+json", "schemaVersion": 2}';
const TESTBED_INDEX_DIGEST = "sha256:5ee7fe7db5603535318fa87fbf7224dcc0962ffe15307941d9b0ed2a9868b39b";
/** node-app:1.0 — an OCI image manifest with four gzip layers. */
const TESTBED_MANIFEST =
  '{"config": {"digest": "sha256:a7b6b3fbdd4963bc6a8284ced64090f517f224592e8e1b97fe0e04bc5ff737ee", "mediaType": "application/vnd.oci.image.config.v1+json", "size": 884}, "layers": [{"digest": "sha256:125194569565d88fadf3a05297b95e183c4df4e8786d88b5c531bfba90c94e02", "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 48701484}, {"digest": "sha256:0c745d7f5b97c005cf6847b29d187407dceb8bc8f45b303546c07581e2e4107f", "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 27876412}, {"digest": "sha256:1e58427a9032544084fcde7a67ee6e17d604c8207c75314c5358e945ea3ac6d0", "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 5112572}, {"digest": "sha256:17c7e5bcbf36491488ecadc0350dabfbcb9c9860cbe168ca41311d8c87010cdb", "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 164}], "mediaType": "application/vnd.oci.image.manifest.v1+json", "schemaVersion": 2}';
const TESTBED_MANIFEST_DIGEST = "sha256:332fb6f75b42f0c82626b9639c1d4f01de9f80b296b28e00c72c7552bff596e0";

/** Docker Hub style schema 2 manifest. */
const DOCKER_MANIFEST = {
  schemaVersion: 2,
  mediaType: MediaTypes.dockerManifest,
  config: { mediaType: MediaTypes.dockerConfig, size: 1457, digest: d("b") },
  layers: [
    { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 2591575, digest: d("c") },
    { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 32, digest: d("e") },
  ],
};

/** Docker manifest list with Linux and Windows entries (os.version, foreign layers live in the children). */
const DOCKER_LIST = {
  schemaVersion: 2,
  mediaType: MediaTypes.dockerList,
  manifests: [
    {
      mediaType: MediaTypes.dockerManifest,
      size: 528,
      digest: d("1"),
      platform: { architecture: "amd64", os: "linux" },
    },
    {
      mediaType: MediaTypes.dockerManifest,
      size: 528,
      digest: d("2"),
      platform: { architecture: "arm", os: "linux", variant: "v7" },
    },
    {
      mediaType: MediaTypes.dockerManifest,
      size: 1124,
      digest: d("3"),
      platform: { architecture: "amd64", os: "windows", "os.version": "10.0.17763.5576" },
    },
  ],
};

/** Windows image with a foreign (non-distributable) base layer. */
const WINDOWS_MANIFEST = {
  schemaVersion: 2,
  mediaType: MediaTypes.dockerManifest,
  config: { mediaType: MediaTypes.dockerConfig, size: 1920, digest: d("4") },
  layers: [
    {
      mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      size: 1654613376,
      digest: d("5"),
      urls: ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:5555", 42, null],
    },
    { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: 1190, digest: d("6") },
  ],
};

/** BuildKit output: OCI index with an attestation manifest and index annotations. */
const BUILDKIT_INDEX = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociIndex,
  manifests: [
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("7"),
      size: 1610,
      platform: { architecture: "amd64", os: "linux" },
    },
    {
      mediaType: MediaTypes.ociManifest,
      digest: d("8"),
      size: 566,
      annotations: {
        "vnd.docker.reference.digest": d("7"),
        "vnd.docker.reference.type": "attestation-manifest",
      },
      platform: { architecture: "unknown", os: "unknown" },
    },
  ],
  annotations: { "org.opencontainers.image.created": "2024-05-01T10:00:00Z", "bogus.number": 5 },
};

/** A Helm chart pushed as an OCI artifact. */
const HELM_MANIFEST = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociManifest,
  config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: d("9"), size: 117 },
  layers: [{ mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", digest: d("a"), size: 3561 }],
  annotations: { "org.opencontainers.image.title": "mychart", "org.opencontainers.image.version": "0.1.0" },
};

/** OCI 1.1 artifact (SBOM) with artifactType and the empty config descriptor. */
const SBOM_MANIFEST = {
  schemaVersion: 2,
  mediaType: MediaTypes.ociManifest,
  artifactType: "application/spdx+json",
  config: {
    mediaType: "application/vnd.oci.empty.v1+json",
    digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    size: 2,
    data: "e30=",
  },
  layers: [{ mediaType: "application/spdx+json", digest: d("f"), size: 4242 }],
  subject: { mediaType: MediaTypes.ociManifest, digest: d("7"), size: 1610 },
};

const SCHEMA1_HISTORY = [
  {
    v1Compatibility:
      '{"architecture":"amd64","config":{"Cmd":["/hello"]},"created":"2016-07-01T19:39:27.532838486Z","id":"c54a2cc56cbb"}',
  },
  { v1Compatibility: '{"id":"a9eb17255234","created":"2016-07-01T19:39:27.08Z"}' },
];
/** Docker Hub style signed schema 1 (no mediaType in the body). */
const SCHEMA1_SIGNED = {
  schemaVersion: 1,
  name: "library/hello-world",
  tag: "latest",
  architecture: "amd64",
  fsLayers: [
    { blobSum: "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4" },
    { blobSum: d("b") },
  ],
  history: SCHEMA1_HISTORY,
  signatures: [
    {
      header: {
        jwk: { crv: "P-256", kid: "OD6I:6DRK:JXEJ:KBM4", kty: "EC", x: "YIpXa", y: "ZxRqz" },
        alg: "ES256",
      },
      signature: "XREm0L8WNn27Ga_iE_vRnTxVMhhYY0Zst_FfkKopg6gWSoTOZTuW4rK0fg_IqnKkEKlbD83tD46LKEGi5aIVFg",
      protected:
        "eyJmb3JtYXRMZW5ndGgiOjY2MjgsImZvcm1hdFRhaWwiOiJDbjAiLCJ0aW1lIjoiMjAxNS0wOS0xMVQwNDoxMzo0OFoifQ",
    },
  ],
};
const SCHEMA1_UNSIGNED = {
  schemaVersion: 1,
  name: "team/app",
  tag: "old",
  architecture: "arm",
  fsLayers: [{ blobSum: d("c") }],
  history: [SCHEMA1_HISTORY[0], { notV1: true }, "junk", { v1Compatibility: 7 }],
};

const kind = (m: Manifest) => [m.kind, m.mediaType];

describe("bareMediaType", () => {
  const cases: [string | undefined, string][] = [
    [undefined, ""],
    ["", ""],
    [MediaTypes.ociIndex, MediaTypes.ociIndex],
    [`${MediaTypes.ociManifest}; charset=utf-8`, MediaTypes.ociManifest],
    [`  ${MediaTypes.dockerManifest}  ;charset="UTF-8"; q=1`, MediaTypes.dockerManifest],
    ["Application/Vnd.Docker.Distribution.Manifest.V2+JSON", MediaTypes.dockerManifest],
    ["application/json; charset=utf-8", "application/json"],
    [";charset=utf-8", ""],
  ];
  for (const [input, want] of cases) {
    test(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () =>
      assert.equal(bareMediaType(input), want));
  }
});

describe("MANIFEST_ACCEPT", () => {
  test("names all six manifest types in one comma-separated header", () => {
    const types = MANIFEST_ACCEPT.split(",").map((s) => s.trim());
    assert.deepEqual(
      new Set(types),
      new Set([
        MediaTypes.ociIndex,
        MediaTypes.ociManifest,
        MediaTypes.dockerList,
        MediaTypes.dockerManifest,
        MediaTypes.dockerSchema1Signed,
        MediaTypes.dockerSchema1,
      ]),
    );
    assert.equal(types.length, 6);
    assert.ok(!MANIFEST_ACCEPT.includes("*/*"));
  });
});

describe("parseManifest: real testbed documents", () => {
  test("the bytes are the ones the layout addresses (fixtures not re-serialised)", () => {
    const sha = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;
    assert.equal(sha(TESTBED_INDEX), TESTBED_INDEX_DIGEST);
    assert.equal(sha(TESTBED_MANIFEST), TESTBED_MANIFEST_DIGEST);
  });

  test("OCI index: two platform entries, digests and sizes kept", () => {
    const m = parseManifest(enc(TESTBED_INDEX), MediaTypes.ociIndex);
    assert.equal(m.kind, "index");
    if (m.kind !== "index") return;
    assert.equal(m.mediaType, MediaTypes.ociIndex);
    assert.deepEqual(
      m.manifests.map((e) => [
        e.digest,
        e.size,
        e.mediaType,
        e.platform?.os,
        e.platform?.architecture,
        e.platform?.variant,
      ]),
      [
        [
          "sha256:2f767b134cad207efef70c03101a3e0d11b2608ef0f529260ee25365e80015a2",
          422,
          MediaTypes.ociManifest,
          "linux",
          "amd64",
          undefined,
        ],
        [
          "sha256:ac1d004291d9de74eab387f9d59bab42608e47a84c55bd99275232fbafd1ba7c",
          422,
          MediaTypes.ociManifest,
          "linux",
          "arm64",
          "v8",
        ],
      ],
    );
  });

  test("OCI image manifest: config and four layers in order", () => {
    const m = parseManifest(enc(TESTBED_MANIFEST), `${MediaTypes.ociManifest}; charset=utf-8`);
    assert.equal(m.kind, "image");
    if (m.kind !== "image") return;
    assert.equal(m.config.mediaType, MediaTypes.ociConfig);
    assert.equal(m.config.size, 884);
    assert.equal(m.config.digest, "sha256:a7b6b3fbdd4963bc6a8284ced64090f517f224592e8e1b97fe0e04bc5ff737ee");
    assert.deepEqual(
      m.layers.map((l) => l.size),
      [48701484, 27876412, 5112572, 164],
    );
    assert.ok(m.layers.every((l) => l.mediaType === "application/vnd.oci.image.layer.v1.tar+gzip"));
    assert.equal(m.artifactType, undefined);
  });
});

describe("parseManifest: media type from Content-Type, body, structure", () => {
  const cases: [name: string, body: unknown, contentType: string | undefined, want: [string, string]][] = [
    ["OCI index by Content-Type", TESTBED_INDEX, MediaTypes.ociIndex, ["index", MediaTypes.ociIndex]],
    [
      "OCI manifest by Content-Type",
      TESTBED_MANIFEST,
      MediaTypes.ociManifest,
      ["image", MediaTypes.ociManifest],
    ],
    [
      "Docker schema 2 by Content-Type",
      DOCKER_MANIFEST,
      MediaTypes.dockerManifest,
      ["image", MediaTypes.dockerManifest],
    ],
    ["Docker list by Content-Type", DOCKER_LIST, MediaTypes.dockerList, ["index", MediaTypes.dockerList]],
    [
      "schema 1 signed by Content-Type",
      SCHEMA1_SIGNED,
      MediaTypes.dockerSchema1Signed,
      ["schema1", MediaTypes.dockerSchema1Signed],
    ],
    [
      "schema 1 unsigned by Content-Type",
      SCHEMA1_UNSIGNED,
      MediaTypes.dockerSchema1,
      ["schema1", MediaTypes.dockerSchema1],
    ],
    [
      "Content-Type with parameters and odd case",
      DOCKER_MANIFEST,
      "Application/VND.Docker.Distribution.Manifest.v2+json; charset=utf-8",
      ["image", MediaTypes.dockerManifest],
    ],
    [
      "Content-Type wins over a different body mediaType",
      { ...DOCKER_MANIFEST, mediaType: MediaTypes.ociManifest },
      MediaTypes.dockerManifest,
      ["image", MediaTypes.dockerManifest],
    ],
    // generic Content-Type → body mediaType
    [
      "application/json → body mediaType (Docker list)",
      DOCKER_LIST,
      "application/json",
      ["index", MediaTypes.dockerList],
    ],
    [
      "application/json; charset=utf-8 → body mediaType",
      DOCKER_MANIFEST,
      "application/json; charset=utf-8",
      ["image", MediaTypes.dockerManifest],
    ],
    [
      "application/octet-stream (Artifactory behind a proxy) → body mediaType",
      TESTBED_MANIFEST,
      "application/octet-stream",
      ["image", MediaTypes.ociManifest],
    ],
    ["text/plain → body mediaType", DOCKER_LIST, "text/plain", ["index", MediaTypes.dockerList]],
    ["no Content-Type → body mediaType", DOCKER_MANIFEST, undefined, ["image", MediaTypes.dockerManifest]],
    ["empty Content-Type → body mediaType", DOCKER_LIST, "", ["index", MediaTypes.dockerList]],
    // no usable type anywhere → structure
    [
      "sniff: manifests[] → OCI index",
      { schemaVersion: 2, manifests: DOCKER_LIST.manifests },
      undefined,
      ["index", MediaTypes.ociIndex],
    ],
    [
      "sniff: empty manifests[] → OCI index",
      { schemaVersion: 2, manifests: [] },
      "application/json",
      ["index", MediaTypes.ociIndex],
    ],
    [
      "sniff: config + layers → OCI manifest",
      { schemaVersion: 2, config: DOCKER_MANIFEST.config, layers: DOCKER_MANIFEST.layers },
      "application/octet-stream",
      ["image", MediaTypes.ociManifest],
    ],
    [
      "sniff: non-string body mediaType is ignored",
      { schemaVersion: 2, mediaType: 2, config: DOCKER_MANIFEST.config, layers: [] },
      undefined,
      ["image", MediaTypes.ociManifest],
    ],
    [
      "sniff: empty body mediaType is ignored",
      { schemaVersion: 2, mediaType: "", manifests: [] },
      undefined,
      ["index", MediaTypes.ociIndex],
    ],
    [
      "sniff: fsLayers without signatures → unsigned schema 1",
      SCHEMA1_UNSIGNED,
      undefined,
      ["schema1", MediaTypes.dockerSchema1],
    ],
    [
      "sniff: fsLayers with signatures → signed schema 1 (its digest needs the header)",
      SCHEMA1_SIGNED,
      "application/json",
      ["schema1", MediaTypes.dockerSchema1Signed],
    ],
  ];
  for (const [name, body, contentType, want] of cases) {
    test(name, () => assert.deepEqual(kind(parseManifest(enc(body), contentType)), want));
  }
});

describe("parseManifest: descriptor and document details", () => {
  test("Docker manifest list keeps platform fields including os.version", () => {
    const m = parseManifest(enc(DOCKER_LIST), MediaTypes.dockerList);
    assert.equal(m.kind, "index");
    if (m.kind !== "index") return;
    assert.deepEqual(
      m.manifests.map((e) => e.platform),
      [
        { os: "linux", architecture: "amd64", variant: undefined, "os.version": undefined },
        { os: "linux", architecture: "arm", variant: "v7", "os.version": undefined },
        { os: "windows", architecture: "amd64", variant: undefined, "os.version": "10.0.17763.5576" },
      ],
    );
  });

  test("BuildKit index: annotations kept (strings only), attestation entry present with its platform", () => {
    const m = parseManifest(enc(BUILDKIT_INDEX), MediaTypes.ociIndex);
    if (m.kind !== "index") return assert.fail(m.kind);
    assert.deepEqual(m.annotations, { "org.opencontainers.image.created": "2024-05-01T10:00:00Z" });
    assert.equal(m.manifests.length, 2);
    assert.equal(m.manifests[1]?.annotations?.["vnd.docker.reference.type"], "attestation-manifest");
    assert.deepEqual(m.manifests[1]?.platform?.os, "unknown");
  });

  test("an entry without a usable platform has platform undefined", () => {
    const m = parseManifest(
      enc({
        mediaType: MediaTypes.ociIndex,
        manifests: [
          { mediaType: MediaTypes.ociManifest, digest: d("1"), size: 1 },
          { mediaType: MediaTypes.ociManifest, digest: d("2"), size: 1, platform: { os: "linux" } },
          { mediaType: MediaTypes.ociManifest, digest: d("3"), size: 1, platform: "linux/amd64" },
        ],
      }),
    );
    if (m.kind !== "index") return assert.fail(m.kind);
    assert.deepEqual(
      m.manifests.map((e) => e.platform),
      [undefined, undefined, undefined],
    );
  });

  test("descriptor without mediaType gets an empty one", () => {
    const m = parseManifest(
      enc({ mediaType: MediaTypes.ociIndex, manifests: [{ digest: d("1"), size: 0 }] }),
    );
    if (m.kind !== "index") return assert.fail(m.kind);
    assert.equal(m.manifests[0]?.mediaType, "");
    assert.equal(m.manifests[0]?.size, 0);
  });

  test("foreign layer urls are kept, non-strings dropped", () => {
    const m = parseManifest(enc(WINDOWS_MANIFEST), MediaTypes.dockerManifest);
    if (m.kind !== "image") return assert.fail(m.kind);
    assert.deepEqual(m.layers[0]?.urls, [
      "https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:5555",
    ]);
    assert.equal(m.layers[1]?.urls, undefined);
    assert.equal(m.layers[0]?.size, 1654613376);
  });

  test("Helm chart: non-image config media type and annotations come through", () => {
    const m = parseManifest(enc(HELM_MANIFEST), MediaTypes.ociManifest);
    if (m.kind !== "image") return assert.fail(m.kind);
    assert.equal(m.config.mediaType, "application/vnd.cncf.helm.config.v1+json");
    assert.equal(m.annotations?.["org.opencontainers.image.title"], "mychart");
  });

  test("OCI 1.1 artifact: artifactType and the empty config", () => {
    const m = parseManifest(enc(SBOM_MANIFEST), MediaTypes.ociManifest);
    if (m.kind !== "image") return assert.fail(m.kind);
    assert.equal(m.artifactType, "application/spdx+json");
    assert.equal(m.config.mediaType, "application/vnd.oci.empty.v1+json");
    assert.equal(m.config.size, 2);
  });

  test("schema 1: architecture, fsLayers in order, only well-formed history entries", () => {
    const signed = parseManifest(enc(SCHEMA1_SIGNED), MediaTypes.dockerSchema1Signed);
    if (signed.kind !== "schema1") return assert.fail(signed.kind);
    assert.equal(signed.architecture, "amd64");
    assert.deepEqual(
      signed.fsLayers.map((l) => l.blobSum),
      ["sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4", d("b")],
    );
    assert.equal(signed.history.length, 2);
    assert.match(signed.history[0]?.v1Compatibility ?? "", /"architecture":"amd64"/);

    const unsigned = parseManifest(enc(SCHEMA1_UNSIGNED), MediaTypes.dockerSchema1);
    if (unsigned.kind !== "schema1") return assert.fail(unsigned.kind);
    assert.equal(unsigned.architecture, "arm");
    assert.equal(unsigned.history.length, 1);
  });

  test("schema 1 without architecture or history", () => {
    const m = parseManifest(enc({ schemaVersion: 1, fsLayers: [] }), MediaTypes.dockerSchema1);
    if (m.kind !== "schema1") return assert.fail(m.kind);
    assert.equal(m.architecture, "");
    assert.deepEqual(m.history, []);
  });

  test("a UTF-8 byte order mark does not break parsing", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...enc(TESTBED_MANIFEST)]);
    assert.equal(parseManifest(bytes, MediaTypes.ociManifest).kind, "image");
  });

  test("non-ASCII annotation values survive", () => {
    const m = parseManifest(
      enc({ ...HELM_MANIFEST, annotations: { "org.opencontainers.image.authors": "Zoë Ångström" } }),
    );
    if (m.kind !== "image") return assert.fail(m.kind);
    assert.equal(m.annotations?.["org.opencontainers.image.authors"], "Zoë Ångström");
  });
});

describe("parseManifest: malformed documents → InvalidManifestError", () => {
  const goodIndexEntry = { mediaType: MediaTypes.ociManifest, digest: d("1"), size: 10 };
  const withLayer = (layer: unknown) => ({ ...DOCKER_MANIFEST, layers: [DOCKER_MANIFEST.layers[0], layer] });
  const withEntry = (entry: unknown) => ({ ...DOCKER_LIST, manifests: [goodIndexEntry, entry] });
  const withConfig = (config: unknown) => ({ ...DOCKER_MANIFEST, config });
  const cases: [name: string, bytes: Uint8Array, contentType: string | undefined, why: RegExp][] = [
    ["empty body", enc(""), MediaTypes.ociManifest, /JSON/],
    ["truncated JSON", enc(TESTBED_MANIFEST.slice(0, -10)), MediaTypes.ociManifest, /JSON/],
    ["HTML error page", enc("<html><body>502 Bad Gateway</body></html>"), "text/html", /JSON/],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), undefined, /JSON/],
    ["null", enc("null"), MediaTypes.ociManifest, /object/],
    ["array", enc("[]"), MediaTypes.ociIndex, /object/],
    ["string", enc('"manifest"'), undefined, /object/],
    ["number", enc("42"), undefined, /object/],
    ["object without any known structure", enc({ schemaVersion: 2 }), undefined, /unsupported/],
    [
      "unknown Content-Type",
      enc(TESTBED_MANIFEST),
      "application/vnd.oci.artifact.manifest.v1+json",
      /unsupported/,
    ],
    ["HTML Content-Type with a manifest body", enc(TESTBED_MANIFEST), "text/html", /unsupported/],
    [
      "generic type and unknown body mediaType",
      enc({ mediaType: "application/vnd.foo+json" }),
      "application/json",
      /unsupported/,
    ],
    ["index type without manifests", enc(DOCKER_MANIFEST), MediaTypes.ociIndex, /manifests/],
    [
      "index with manifests as an object",
      enc({ mediaType: MediaTypes.ociIndex, manifests: {} }),
      undefined,
      /manifests/,
    ],
    ["image type without layers", enc(DOCKER_LIST), MediaTypes.dockerManifest, /layers/],
    ["image with layers null", enc({ ...DOCKER_MANIFEST, layers: null }), undefined, /layers/],
    ["image without config", enc({ mediaType: MediaTypes.ociManifest, layers: [] }), undefined, /config/],
    ["config is a string", enc(withConfig(d("b"))), undefined, /config/],
    [
      "config digest missing",
      enc(withConfig({ mediaType: MediaTypes.dockerConfig, size: 1 })),
      undefined,
      /config.*digest/,
    ],
    [
      "config size missing",
      enc(withConfig({ mediaType: MediaTypes.dockerConfig, digest: d("b") })),
      undefined,
      /config.*size/,
    ],
    [
      "schema 1 without fsLayers",
      enc({ schemaVersion: 1, history: [] }),
      MediaTypes.dockerSchema1,
      /fsLayers/,
    ],
    ["schema 1 fsLayers not an array", enc({ fsLayers: {} }), MediaTypes.dockerSchema1Signed, /fsLayers/],
    [
      "schema 1 blobSum not a string",
      enc({ fsLayers: [{ blobSum: 1 }] }),
      MediaTypes.dockerSchema1,
      /fsLayers/,
    ],
    ["schema 1 fsLayers entry null", enc({ fsLayers: [null] }), MediaTypes.dockerSchema1, /fsLayers/],
    // bad descriptors
    ["layer is null", enc(withLayer(null)), undefined, /layers\[1\]/],
    ["layer is an array", enc(withLayer([d("1"), 1])), undefined, /layers\[1\]/],
    ["layer digest missing", enc(withLayer({ mediaType: "x", size: 1 })), undefined, /layers\[1\].*digest/],
    ["layer digest empty", enc(withLayer({ digest: "", size: 1 })), undefined, /layers\[1\].*digest/],
    ["layer digest a number", enc(withLayer({ digest: 123, size: 1 })), undefined, /layers\[1\].*digest/],
    ["layer digest without algorithm", enc(withLayer({ digest: hex("a"), size: 1 })), undefined, /digest/],
    [
      "layer digest with an empty encoding",
      enc(withLayer({ digest: "sha256:", size: 1 })),
      undefined,
      /digest/,
    ],
    [
      "layer digest with a path",
      enc(withLayer({ digest: "sha256:../../etc/passwd", size: 1 })),
      undefined,
      /digest/,
    ],
    ["layer digest with a query", enc(withLayer({ digest: `${d("a")}?x=1`, size: 1 })), undefined, /digest/],
    ["layer digest with spaces", enc(withLayer({ digest: ` ${d("a")}`, size: 1 })), undefined, /digest/],
    [
      "layer digest upper-case algorithm",
      enc(withLayer({ digest: `SHA256:${hex("a")}`, size: 1 })),
      undefined,
      /digest/,
    ],
    ["sha256 digest too short", enc(withLayer({ digest: "sha256:abc123", size: 1 })), undefined, /digest/],
    [
      "sha256 digest 63 hex",
      enc(withLayer({ digest: `sha256:${hex("a").slice(1)}`, size: 1 })),
      undefined,
      /digest/,
    ],
    [
      "sha256 digest upper-case hex",
      enc(withLayer({ digest: `sha256:${hex("A")}`, size: 1 })),
      undefined,
      /digest/,
    ],
    ["sha256 digest not hex", enc(withLayer({ digest: `sha256:${hex("z")}`, size: 1 })), undefined, /digest/],
    [
      "sha512 digest of sha256 length",
      enc(withLayer({ digest: `sha512:${hex("a")}`, size: 1 })),
      undefined,
      /digest/,
    ],
    ["layer size missing", enc(withLayer({ digest: d("1") })), undefined, /layers\[1\].*size/],
    ["layer size negative", enc(withLayer({ digest: d("1"), size: -1 })), undefined, /size/],
    ["layer size fractional", enc(withLayer({ digest: d("1"), size: 1.5 })), undefined, /size/],
    ["layer size a string", enc(withLayer({ digest: d("1"), size: "100" })), undefined, /size/],
    ["layer size null", enc(withLayer({ digest: d("1"), size: null })), undefined, /size/],
    [
      "layer size beyond 2^53",
      enc(
        `{"layers":[{"digest":"${d("1")}","size":9007199254740993}],"config":${JSON.stringify(DOCKER_MANIFEST.config)}}`,
      ),
      MediaTypes.ociManifest,
      /size/,
    ],
    [
      "layer size 1e400 (Infinity)",
      enc(
        `{"layers":[{"digest":"${d("1")}","size":1e400}],"config":${JSON.stringify(DOCKER_MANIFEST.config)}}`,
      ),
      MediaTypes.ociManifest,
      /size/,
    ],
    [
      "index entry with a bad digest",
      enc(withEntry({ digest: "md5", size: 1 })),
      undefined,
      /manifests\[1\].*digest/,
    ],
    [
      "index entry with a bad size",
      enc(withEntry({ digest: d("2"), size: -5 })),
      undefined,
      /manifests\[1\].*size/,
    ],
    ["index entry is a string", enc(withEntry(d("2"))), undefined, /manifests\[1\]/],
  ];
  for (const [name, bytes, contentType, why] of cases) {
    test(name, () => {
      assert.throws(
        () => parseManifest(bytes, contentType),
        (e: unknown) => e instanceof InvalidManifestError && why.test(e.message),
      );
    });
  }

  test("InvalidManifestError is an Error", () => {
    try {
      parseManifest(enc("{"));
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof Error && e instanceof InvalidManifestError);
    }
  });

  test("other digest algorithms matching the OCI grammar are accepted", () => {
    const m = parseManifest(
      enc(withLayer({ digest: `sha512:${"ab".repeat(64)}`, size: 1 })),
      MediaTypes.dockerManifest,
    );
    if (m.kind !== "image") return assert.fail(m.kind);
    assert.equal(m.layers[1]?.digest, `sha512:${"ab".repeat(64)}`);
    const blake = parseManifest(enc(withLayer({ digest: `blake3:${hex("d")}`, size: 1 })));
    assert.equal(blake.kind, "image");
  });
});

/** Every manifest and index the testbed built, when its layout is on this machine. */
const layout = join(homedir(), ".cache/shipshape/testbed/layout");
describe("parseManifest: whole testbed layout", {
  skip: existsSync(layout) ? false : `no testbed layout at ${layout}`,
}, () => {
  test("index.json and every manifest/index blob parse, with every referenced digest well-formed", () => {
    const root = parseManifest(readFileSync(join(layout, "index.json")));
    assert.equal(root.kind, "index");
    if (root.kind !== "index") return;
    assert.ok(root.manifests.length > 0);
    let parsed = 0;
    const blobs = join(layout, "blobs/sha256");
    for (const name of readdirSync(blobs)) {
      const path = join(blobs, name);
      const bytes = readFileSync(path);
      if (bytes.length > 64 * 1024 || bytes[0] !== 0x7b) continue;
      let body: { mediaType?: unknown };
      try {
        body = JSON.parse(bytes.toString("utf8"));
      } catch {
        continue;
      }
      if (body.mediaType !== MediaTypes.ociManifest && body.mediaType !== MediaTypes.ociIndex) continue;
      // Through both the registry's Content-Type and the generic-type fallback.
      const m = parseManifest(bytes, body.mediaType);
      assert.deepEqual(kind(parseManifest(bytes, "application/octet-stream")), kind(m), name);
      assert.equal(m.kind, body.mediaType === MediaTypes.ociIndex ? "index" : "image", name);
      parsed++;
    }
    assert.ok(parsed > 0, "no manifests found in the layout");
  });
});
