import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ZERO_TIME } from "../api/schemas.js";
import { type ImageConfig, parseImageConfig } from "../image/config.js";
import type { InventoriedPackage } from "../inventory/types.js";
import type { Finding } from "../match/types.js";
import {
  alpineNoData,
  glibcWontFix,
  lodashInjection,
  lodashLock,
  lodashModules,
  log4shell,
  markedLong,
  mixinUnknown,
  NODE_APP_FINDINGS,
  tarLow,
  zlibUnfixed,
} from "./findings-fixtures.js";
import {
  buildImageScanResult,
  compactResult,
  failedImageScanResult,
  goTime,
  type ImageScanInput,
  type ImageScanResult,
  normalizeSeverities,
  projectFields,
  type Vulnerability,
  vulnerabilityStatus,
  withLayerVulnerabilities,
} from "./prisma-result.js";
import { normalizeSeverity } from "./risk.js";
import {
  alpineImage,
  alpineInventory,
  emptyInventory,
  nodeAppImage,
  nodeAppInventory,
  scratchImage,
  scratchInventory,
} from "./test-fixtures.js";

const epoch = (iso: string) => Date.parse(iso) / 1000;
const CONFIG_DIGEST = nodeAppImage.configDigest;
const diffIds = nodeAppImage.layers.map((l) => l.diffId);
/** An environment value no result may repeat. */
const SECRET = "s3cr3t-token-value";

/**
 * The node-app config as the registry serves it: four layers, one empty-layer step between them, the
 * container defaults `docker build` writes.
 */
const nodeAppConfig: ImageConfig = parseImageConfig(
  Buffer.from(
    JSON.stringify({
      created: "2024-04-30T10:00:00.5Z",
      os: "linux",
      architecture: "amd64",
      config: {
        Env: ["PATH=/usr/local/bin:/usr/bin", "NODE_ENV=production", `NPM_TOKEN=${SECRET}`],
        Entrypoint: ["node"],
        Cmd: ["server.js"],
        Labels: { "org.opencontainers.image.version": "1.0", maintainer: "ops" },
        User: "node",
        WorkingDir: "/app",
        ExposedPorts: { "8080/tcp": {} },
        Healthcheck: { Test: ["CMD-SHELL", "curl -f http://127.0.0.1:8080/ || exit 1"] },
      },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: [
        { created: "2024-04-01T00:00:00Z", created_by: "debootstrap --variant=minbase bookworm" },
        { created: "2024-04-01T00:00:01Z", created_by: 'CMD ["bash"]', empty_layer: true },
        { created: "2024-04-30T09:00:00Z", created_by: "RUN step 1" },
        { created: "2024-04-30T09:30:00Z", created_by: "RUN step 2" },
        { created: "2024-04-30T10:00:00Z", created_by: "RUN step 3" },
      ],
    }),
  ),
);

const SCAN_TIME = new Date("2024-05-01T12:34:56.789Z");
const FIRST_SCAN = new Date("2024-04-30T12:00:00Z");

function nodeAppInput(overrides: Partial<ImageScanInput> = {}): ImageScanInput {
  return {
    identity: nodeAppImage,
    config: nodeAppConfig,
    inventory: nodeAppInventory,
    findings: NODE_APP_FINDINGS,
    warnings: [],
    repoTag: { registry: "127.0.0.1:5000", repo: "node-app", tag: "1.0" },
    registryType: "2",
    collections: ["All", "apps"],
    hostname: "scanner-1",
    scanTime: SCAN_TIME,
    firstScanTime: FIRST_SCAN,
    pushTime: new Date("2024-04-30T10:05:00.120Z"),
    scanId: 7,
    scanVersion: "0.1.0",
    ...overrides,
  };
}

const nodeApp = buildImageScanResult(nodeAppInput());

function vulnerability(result: ImageScanResult, cve: string, packageName?: string): Vulnerability {
  const found = result.vulnerabilities?.find(
    (v) => v.cve === cve && (packageName === undefined || v.packageName === packageName),
  );
  assert.ok(found, `no vulnerability ${cve}`);
  return found;
}

describe("buildImageScanResult: identity and image fields", () => {
  it("names the image, its id, digests and scan context", () => {
    assert.equal(nodeApp._id, "127.0.0.1:5000/node-app:1.0");
    assert.equal(nodeApp.id, CONFIG_DIGEST);
    assert.equal(nodeApp.type, "registry");
    assert.deepEqual(nodeApp.repoTag, { registry: "127.0.0.1:5000", repo: "node-app", tag: "1.0" });
    assert.deepEqual(nodeApp.tags, [nodeApp.repoTag]);
    assert.deepEqual(nodeApp.repoDigests, [`127.0.0.1:5000/node-app@${nodeAppImage.digest}`]);
    assert.equal(nodeApp.scanTime, "2024-05-01T12:34:56.789Z");
    assert.equal(nodeApp.firstScanTime, "2024-04-30T12:00:00Z");
    assert.equal(nodeApp.pushTime, "2024-04-30T10:05:00.12Z");
    assert.equal(nodeApp.creationTime, "2024-04-30T10:00:00.5Z");
    assert.equal(nodeApp.scanID, 7);
    assert.equal(nodeApp.scanVersion, "0.1.0");
    assert.equal(nodeApp.registryType, "2");
    assert.deepEqual(nodeApp.collections, ["All", "apps"]);
    assert.equal(nodeApp.hostname, "scanner-1");
    assert.deepEqual(nodeApp.instances, [
      {
        image: "127.0.0.1:5000/node-app:1.0",
        host: "scanner-1",
        modified: "2024-05-01T12:34:56.789Z",
        registry: "127.0.0.1:5000",
        repo: "node-app",
        tag: "1.0",
      },
    ]);
    assert.equal(nodeApp.err, "");
  });

  it("the id is the config digest, not the manifest digest", () => {
    assert.notEqual(CONFIG_DIGEST, nodeAppImage.digest);
    assert.equal(nodeApp.image.id, CONFIG_DIGEST);
    assert.equal(nodeApp.history?.at(-1)?.id, CONFIG_DIGEST);
  });

  it("without a config the id stays the config digest, history comes from the layers", () => {
    const result = buildImageScanResult(nodeAppInput({ config: undefined }));
    assert.equal(result.id, CONFIG_DIGEST);
    assert.equal(result.creationTime, "2024-04-30T10:00:00Z");
    assert.deepEqual(
      result.history?.map((h) => [h.created, h.instruction, h.sizeBytes, h.emptyLayer]),
      nodeAppImage.layers.map((l) => [0, l.createdBy, l.size, false]),
    );
    assert.deepEqual(result.image, { created: "2024-04-30T10:00:00Z", os: "linux", id: CONFIG_DIGEST });
    assert.deepEqual(
      result.vulnerabilities?.map((v) => v.layerTime),
      result.vulnerabilities?.map(() => 0),
    );
  });

  const osRows: [string, ImageScanResult, Record<string, unknown>][] = [
    [
      "Debian: codename as release",
      nodeApp,
      {
        osDistro: "debian",
        osDistroVersion: "12",
        osDistroRelease: "bookworm",
        distro: "Debian GNU/Linux 12 (bookworm)",
        packageManager: true,
        isARM64: false,
      },
    ],
    [
      "Alpine: VERSION_ID as release, arm64",
      buildImageScanResult(
        nodeAppInput({ identity: alpineImage, config: undefined, inventory: alpineInventory, findings: [] }),
      ),
      {
        osDistro: "alpine",
        osDistroVersion: "3.10.3",
        osDistroRelease: "3.10.3",
        distro: "Alpine Linux v3.10",
        packageManager: true,
        isARM64: true,
      },
    ],
    [
      "no OS",
      buildImageScanResult(
        nodeAppInput({
          identity: scratchImage,
          config: undefined,
          inventory: scratchInventory,
          findings: [],
        }),
      ),
      {
        osDistro: "",
        osDistroVersion: "",
        osDistroRelease: "",
        distro: "",
        packageManager: false,
        isARM64: false,
      },
    ],
  ];
  for (const [name, result, expected] of osRows) {
    it(`OS fields: ${name}`, () => {
      const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, (result as never)[k]]));
      assert.deepEqual(actual, expected);
      assert.deepEqual(result.installedProducts, {
        osDistro: expected.distro,
        hasPackageManager: expected.packageManager,
      });
    });
  }

  it("history, layers and the runtime config", () => {
    assert.deepEqual(nodeApp.history, [
      {
        created: epoch("2024-04-01T00:00:00Z"),
        instruction: "debootstrap --variant=minbase bookworm",
        id: "<missing>",
        sizeBytes: 1000,
        emptyLayer: false,
      },
      {
        created: epoch("2024-04-01T00:00:01Z"),
        instruction: 'CMD ["bash"]',
        id: "<missing>",
        sizeBytes: 0,
        emptyLayer: true,
      },
      {
        created: epoch("2024-04-30T09:00:00Z"),
        instruction: "RUN step 1",
        id: "<missing>",
        sizeBytes: 2000,
        emptyLayer: false,
      },
      {
        created: epoch("2024-04-30T09:30:00Z"),
        instruction: "RUN step 2",
        id: "<missing>",
        sizeBytes: 3000,
        emptyLayer: false,
      },
      {
        created: epoch("2024-04-30T10:00:00Z"),
        instruction: "RUN step 3",
        id: CONFIG_DIGEST,
        sizeBytes: 4000,
        emptyLayer: false,
      },
    ]);
    assert.deepEqual(nodeApp.layers, diffIds);
    assert.equal(nodeApp.topLayer, diffIds[3]);
    assert.deepEqual(nodeApp.image, {
      created: "2024-04-30T10:00:00.5Z",
      entrypoint: ["node", "server.js"],
      labels: { "org.opencontainers.image.version": "1.0", maintainer: "ops" },
      user: "node",
      workingDir: "/app",
      os: "linux",
      id: CONFIG_DIGEST,
      healthcheck: true,
    });
    assert.deepEqual(nodeApp.labels, ["maintainer:ops", "org.opencontainers.image.version:1.0"]);
  });

  it("never repeats the config's environment", () => {
    for (const view of [nodeApp, compactResult(nodeApp)]) {
      const json = JSON.stringify(view);
      assert.equal(json.includes(SECRET), false);
      assert.equal(json.includes("NODE_ENV"), false);
    }
  });

  const configOf = (config: unknown, architecture = "amd64") =>
    parseImageConfig(
      Buffer.from(
        JSON.stringify({
          created: "2024-04-30T10:00:00Z",
          architecture,
          os: "linux",
          config,
          rootfs: { diff_ids: diffIds },
        }),
      ),
    );
  const imageRows: [name: string, config: ImageConfig, want: Partial<ImageScanResult["image"]>][] = [
    ["no container defaults", configOf(undefined), { healthcheck: false }],
    ["Cmd only", configOf({ Cmd: ["bash"] }), { entrypoint: ["bash"], healthcheck: false }],
    [
      "Entrypoint only",
      configOf({ Entrypoint: ["/docker-entrypoint.sh"] }),
      { entrypoint: ["/docker-entrypoint.sh"], healthcheck: false },
    ],
    [
      "Entrypoint then Cmd",
      configOf({ Entrypoint: ["uvicorn"], Cmd: ["app.main:app"] }),
      { entrypoint: ["uvicorn", "app.main:app"], healthcheck: false },
    ],
    [
      "unset user, working dir and labels are left out",
      configOf({ User: "", WorkingDir: "", Labels: {}, Cmd: null, Entrypoint: null }),
      { healthcheck: false },
    ],
    [
      "user and working dir",
      configOf({ User: "1000:1000", WorkingDir: "/srv" }),
      { user: "1000:1000", workingDir: "/srv", healthcheck: false },
    ],
    ["HEALTHCHECK NONE", configOf({ Healthcheck: { Test: ["NONE"] } }), { healthcheck: false }],
    ["HEALTHCHECK CMD", configOf({ Healthcheck: { Test: ["CMD", "/probe"] } }), { healthcheck: true }],
  ];
  for (const [name, config, want] of imageRows) {
    it(`image details: ${name}`, () => {
      const result = buildImageScanResult(nodeAppInput({ config }));
      assert.deepEqual(result.image, {
        created: "2024-04-30T10:00:00Z",
        os: "linux",
        id: CONFIG_DIGEST,
        ...want,
      });
      assert.deepEqual(result.labels, []);
    });
  }

  const archRows: [architecture: string, isARM64: boolean][] = [
    ["arm64", true],
    ["aarch64", true],
    ["ARM64", true],
    ["amd64", false],
    ["arm", false],
    ["", false],
  ];
  for (const [architecture, isARM64] of archRows) {
    it(`isARM64 for architecture ${JSON.stringify(architecture)}: ${isARM64}`, () => {
      const identity = { ...nodeAppImage, architecture };
      const result = buildImageScanResult(nodeAppInput({ identity, config: configOf({}, architecture) }));
      assert.equal(result.isARM64, isARM64);
    });
  }

  it("history sizes are left out where the manifest has none (schema 1)", () => {
    const identity = { ...nodeAppImage, layers: nodeAppImage.layers.map((l) => ({ ...l, size: -1 })) };
    const result = buildImageScanResult(nodeAppInput({ identity }));
    assert.deepEqual(
      result.history?.map((h) => h.sizeBytes),
      [undefined, 0, undefined, undefined, undefined],
    );
  });

  it("vendor zero values for what a registry scan does not produce", () => {
    assert.equal(nodeApp.complianceIssues, null);
    assert.equal(nodeApp.complianceIssuesCount, 0);
    assert.deepEqual(nodeApp.complianceDistribution, { critical: 0, high: 0, medium: 0, low: 0, total: 0 });
    assert.equal(nodeApp.complianceRiskScore, 0);
    assert.equal(nodeApp.binaries, null);
    assert.deepEqual(nodeApp.hosts, {});
    assert.deepEqual(nodeApp.secretScanMetrics, {});
    assert.deepEqual(nodeApp.firewallProtection, { enabled: false, supported: false, outOfBandMode: "" });
    assert.equal(nodeApp.malwareAnalyzedTime, ZERO_TIME);
    assert.equal(buildImageScanResult(nodeAppInput({ pushTime: undefined })).pushTime, ZERO_TIME);
  });
});

describe("buildImageScanResult: vulnerabilities", () => {
  const layerTime = [
    epoch("2024-04-01T00:00:00Z"),
    epoch("2024-04-30T09:00:00Z"),
    epoch("2024-04-30T09:30:00Z"),
    epoch("2024-04-30T10:00:00Z"),
  ];
  const first = "2024-04-30T12:00:00Z";
  type Row = Pick<
    Vulnerability,
    | "cve"
    | "id"
    | "severity"
    | "cvss"
    | "status"
    | "packageName"
    | "packageVersion"
    | "packageType"
    | "link"
    | "published"
    | "applicableRules"
    | "layerTime"
    | "discovered"
  > & { binaryPkgs?: string[] };
  const rows: Row[] = [
    {
      cve: "CVE-2023-45853",
      id: 46,
      severity: "critical",
      cvss: 9.8,
      status: "open",
      packageName: "zlib",
      packageVersion: "1:1.2.13.dfsg-1",
      packageType: "package",
      link: "https://security-tracker.debian.org/tracker/CVE-2023-45853",
      published: 0,
      applicableRules: ["*"],
      layerTime: layerTime[0] as number,
      discovered: first,
      binaryPkgs: ["zlib1g"],
    },
    {
      cve: "CVE-2019-1010022",
      id: 46,
      severity: "unimportant",
      cvss: 9.8,
      status: "will not fix",
      packageName: "glibc",
      packageVersion: "2.36-9+deb12u7",
      packageType: "package",
      link: "https://security-tracker.debian.org/tracker/CVE-2019-1010022",
      published: 0,
      applicableRules: ["*"],
      layerTime: layerTime[0] as number,
      discovered: first,
      binaryPkgs: ["libc6"],
    },
    {
      cve: "CVE-2005-2541",
      id: 46,
      severity: "low",
      cvss: 10,
      status: "deferred",
      packageName: "tar",
      packageVersion: "1.34+dfsg-1.2+deb12u1",
      packageType: "package",
      link: "https://security-tracker.debian.org/tracker/CVE-2005-2541",
      published: 0,
      applicableRules: ["*"],
      layerTime: layerTime[0] as number,
      discovered: first,
      binaryPkgs: ["tar"],
    },
    {
      cve: "CVE-2021-44228",
      id: 47,
      severity: "critical",
      cvss: 10,
      status: "fixed in 2.15.0",
      packageName: "org.apache.logging.log4j:log4j-core",
      packageVersion: "2.14.1",
      packageType: "jar",
      link: "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
      published: epoch("2021-12-10T10:15:09Z"),
      applicableRules: ["<2.15.0"],
      layerTime: layerTime[3] as number,
      discovered: first,
    },
    {
      cve: "CVE-2020-8203",
      id: 49,
      severity: "high",
      cvss: 7.4,
      status: "fixed in 4.17.19",
      packageName: "lodash",
      packageVersion: "4.17.15",
      packageType: "nodejs",
      link: "https://nvd.nist.gov/vuln/detail/CVE-2020-8203",
      published: epoch("2020-07-15T00:00:00Z"),
      applicableRules: ["<4.17.19"],
      layerTime: layerTime[2] as number,
      discovered: first,
    },
    {
      cve: "GHSA-xf5p-87ch-gxw2",
      id: 49,
      severity: "moderate",
      cvss: 0,
      status: "fixed in 0.3.9",
      packageName: "marked",
      packageVersion: "0.3.5",
      packageType: "nodejs",
      link: "https://github.com/advisories/GHSA-xf5p-87ch-gxw2",
      published: 0,
      applicableRules: ["<0.3.9"],
      layerTime: layerTime[2] as number,
      discovered: first,
    },
    {
      cve: "GHSA-fhjf-83wg-r2j9",
      id: 49,
      severity: "unassigned",
      cvss: 0,
      status: "fixed in 1.3.2, 2.0.1",
      packageName: "mixin-deep",
      packageVersion: "1.3.0",
      packageType: "nodejs",
      link: "https://github.com/advisories/GHSA-fhjf-83wg-r2j9",
      published: 0,
      applicableRules: ["<1.3.2", "<2.0.1"],
      layerTime: layerTime[2] as number,
      discovered: first,
    },
    {
      cve: "CVE-2021-3114",
      id: 412,
      severity: "medium",
      cvss: 5.9,
      status: "fixed in 1.14.14, 1.15.7",
      packageName: "stdlib",
      packageVersion: "v1.15.5",
      packageType: "go",
      link: "https://nvd.nist.gov/vuln/detail/CVE-2021-3114",
      published: 0,
      applicableRules: ["<1.14.14", "<1.15.7"],
      layerTime: layerTime[2] as number,
      discovered: first,
    },
    {
      cve: "CVE-2021-22883",
      id: 411,
      severity: "high",
      cvss: 7.5,
      status: "fixed in 14.16.0",
      packageName: "node",
      packageVersion: "14.15.0",
      packageType: "binary",
      link: "https://nvd.nist.gov/vuln/detail/CVE-2021-22883",
      published: 0,
      applicableRules: ["<14.16.0"],
      layerTime: layerTime[1] as number,
      discovered: first,
    },
  ];
  for (const row of rows) {
    it(`${row.cve} in ${row.packageName}`, () => {
      const v = vulnerability(nodeApp, row.cve, row.packageName);
      const actual = Object.fromEntries(Object.keys(row).map((k) => [k, (v as never)[k]]));
      assert.deepEqual(actual, row);
      if (!row.binaryPkgs) assert.equal(v.binaryPkgs, undefined);
      assert.equal(v.type, "image");
      assert.equal(v.fixDate, 0);
      assert.equal(
        v.layerDiffID,
        diffIds[NODE_APP_FINDINGS.find((f) => f.id === row.cve)?.layer.index ?? -1],
      );
    });
  }

  it("the description is the feed's text without terminal control, else its summary", () => {
    assert.equal(vulnerability(nodeApp, zlibUnfixed.id).description, zlibUnfixed.description);
    assert.equal(vulnerability(nodeApp, lodashInjection.id).description, lodashInjection.summary);
    assert.equal(
      vulnerability(nodeApp, "CVE-2021-23369").description,
      "Remote code execution in handlebars when compiling untrusted\ntemplates",
    );
  });

  it("a language package found at two locations is one vulnerability; both locations count it", () => {
    assert.equal(nodeApp.vulnerabilities?.filter((v) => v.cve === lodashLock.id).length, 1);
    const lodash = nodeApp.packages
      ?.find((g) => g.pkgsType === "nodejs")
      ?.pkgs.filter((p) => p.name === "lodash")
      .map((p) => [p.path, p.cveCount]);
    assert.deepEqual(lodash, [
      ["/app/node_modules/lodash/package.json", 2],
      ["/app/package-lock.json", 1],
    ]);
    assert.equal(lodashModules.id, lodashLock.id);
  });

  it("OS findings of binary packages built from one source are one vulnerability listing them", () => {
    const alpinePackage = (name: string) =>
      alpineInventory.packages.find((p) => p.name === name) as InventoriedPackage;
    const inBusybox = (p: InventoriedPackage): Finding => ({
      ...tarLow,
      package: {
        name: p.name,
        version: p.version,
        ecosystem: p.ecosystem,
        purl: p.purl,
        location: p.location,
        source: p.source,
      },
      layer: p.layer,
      state: "fixed",
      fixedVersions: ["1.30.1-r3"],
    });
    const result = buildImageScanResult(
      nodeAppInput({
        identity: alpineImage,
        config: undefined,
        inventory: alpineInventory,
        findings: [inBusybox(alpinePackage("ssl_client")), inBusybox(alpinePackage("busybox"))],
      }),
    );
    assert.equal(result.vulnerabilities?.length, 1);
    const v = result.vulnerabilities?.[0] as Vulnerability;
    assert.deepEqual(
      [v.packageName, v.packageVersion, v.binaryPkgs, v.status, v.link],
      [
        "busybox",
        "1.30.1-r2",
        ["busybox", "ssl_client"],
        "fixed in 1.30.1-r3",
        "https://security.alpinelinux.org/vuln/CVE-2005-2541",
      ],
    );
    assert.equal(result.vulnerabilitiesCount, 1);
  });

  it("discovered is the first scan, or the publication when that came later", () => {
    const late = { ...log4shell, published: "2024-05-01T08:00:00Z" };
    const result = buildImageScanResult(nodeAppInput({ findings: [late] }));
    assert.equal(result.vulnerabilities?.[0]?.discovered, "2024-05-01T08:00:00Z");
  });

  it("counts, distribution by normalized severity, risk score and the union of risk factors", () => {
    // 12 vulnerabilities (the two lodash locations are one): critical zlib, handlebars, log4shell;
    // high lodash ×2, ws, node; medium marked (moderate), stdlib; low tar, glibc (unimportant), mixin-deep (unassigned).
    assert.equal(nodeApp.vulnerabilitiesCount, 12);
    assert.equal(nodeApp.vulnerabilities?.length, 12);
    assert.deepEqual(nodeApp.vulnerabilityDistribution, {
      critical: 3,
      high: 4,
      medium: 2,
      low: 3,
      total: 12,
    });
    assert.equal(nodeApp.vulnerabilityRiskScore, 3 * 1_000_000 + 4 * 10_000 + 2 * 100 + 3);
    assert.deepEqual(Object.keys(nodeApp.riskFactors), [
      "Attack complexity: low",
      "Attack vector: network",
      "Critical severity",
      "DoS - High",
      "Has fix",
      "High severity",
      "Medium severity",
      "Remote execution",
    ]);
  });

  it("a vendor's low rating outranks its 9.8 CVSS in the distribution", () => {
    const result = buildImageScanResult(nodeAppInput({ findings: [glibcWontFix] }));
    assert.deepEqual(result.vulnerabilityDistribution, { critical: 0, high: 0, medium: 0, low: 1, total: 1 });
    assert.equal(result.vulnerabilityRiskScore, 1);
  });

  it("vulnerabilities are ordered worst first", () => {
    const order = { critical: 0, high: 1, medium: 2, low: 3 } as const;
    const ranks = nodeApp.vulnerabilities?.map((v) => order[normalizeSeverity(v.severity, v.cvss)]) ?? [];
    assert.deepEqual(
      ranks,
      [...ranks].sort((a, b) => a - b),
    );
  });
});

describe("vulnerabilityStatus", () => {
  const rows: [string, Finding, string][] = [
    ["fixed, one version", log4shell, "fixed in 2.15.0"],
    ["fixed, two versions", mixinUnknown, "fixed in 1.3.2, 2.0.1"],
    ["affected without a fix", zlibUnfixed, "open"],
    ["will not fix", glibcWontFix, "will not fix"],
    ["postponed", tarLow, "deferred"],
    ["end of life", { ...zlibUnfixed, state: "end_of_life" }, "end of life"],
    ["ignored", { ...zlibUnfixed, state: "ignored" }, "ignored"],
  ];
  for (const [name, finding, expected] of rows) {
    it(name, () => assert.equal(vulnerabilityStatus(finding), expected));
  }
});

describe("buildImageScanResult: packages", () => {
  it("groups the inventory by package type with cveCount, layerTime, purl, path and license", () => {
    assert.deepEqual(
      nodeApp.packages?.map((g) => [g.pkgsType, g.pkgs.length]),
      [
        ["package", 4],
        ["binary", 1],
        ["nodejs", 10],
        ["jar", 2],
        ["go", 3],
      ],
    );
    const byName = (type: string, name: string) =>
      nodeApp.packages?.find((g) => g.pkgsType === type)?.pkgs.find((p) => p.name === name);
    assert.deepEqual(byName("package", "libc6"), {
      name: "libc6",
      version: "2.36-9+deb12u7",
      license: "GPL-2.0-or-later, LGPL-2.1-or-later",
      cveCount: 1,
      layerTime: epoch("2024-04-01T00:00:00Z"),
      purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12",
      osPackage: true,
    });
    assert.deepEqual(byName("jar", "org.apache.logging.log4j:log4j-core"), {
      name: "org.apache.logging.log4j:log4j-core",
      version: "2.14.1",
      license: "Apache License, Version 2.0",
      cveCount: 1,
      layerTime: epoch("2024-04-30T10:00:00Z"),
      purl: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
      path: "/opt/app/lib/app.jar",
    });
    assert.equal(byName("package", "base-files")?.cveCount, 0);
    assert.equal(byName("binary", "node")?.cveCount, 1);
  });
});

describe("buildImageScanResult: warnings and images without findings", () => {
  it("an OS release without vulnerability data is flagged and its warning kept", () => {
    const result = buildImageScanResult(
      nodeAppInput({
        identity: alpineImage,
        config: undefined,
        inventory: alpineInventory,
        findings: alpineNoData.findings,
        warnings: alpineNoData.warnings,
      }),
    );
    assert.equal(result.missingDistroVulnCoverage, true);
    assert.deepEqual(result.scanWarnings, alpineNoData.warnings);
    assert.equal(nodeApp.missingDistroVulnCoverage, false);
    assert.deepEqual(nodeApp.scanWarnings, nodeAppInventory.warnings);
  });

  it("zero findings: null vulnerabilities, zero counts, no risk factors", () => {
    const result = buildImageScanResult(
      nodeAppInput({ identity: scratchImage, config: undefined, inventory: emptyInventory, findings: [] }),
    );
    assert.equal(result.vulnerabilities, null);
    assert.equal(result.vulnerabilitiesCount, 0);
    assert.deepEqual(result.vulnerabilityDistribution, { critical: 0, high: 0, medium: 0, low: 0, total: 0 });
    assert.equal(result.vulnerabilityRiskScore, 0);
    assert.deepEqual(result.riskFactors, {});
    assert.equal(result.packages, null);
  });

  it("a failed scan keeps what is known, sets err and counts nothing", () => {
    const { identity: _i, inventory: _inv, findings: _f, warnings: _w, ...context } = nodeAppInput();
    const bare = failedImageScanResult({
      ...context,
      config: undefined,
      error: "pull failed: 500",
    });
    assert.deepEqual(
      [bare._id, bare.id, bare.err, bare.repoDigests, bare.history, bare.vulnerabilities, bare.packages],
      ["127.0.0.1:5000/node-app:1.0", "", "pull failed: 500", [], null, null, null],
    );
    assert.equal(bare.vulnerabilitiesCount, 0);
    assert.equal(bare.vulnerabilityRiskScore, 0);
    assert.equal(bare.creationTime, ZERO_TIME);
    const known = failedImageScanResult({
      ...context,
      identity: nodeAppImage,
      error: "layer 2: digest mismatch",
    });
    assert.equal(known.id, CONFIG_DIGEST);
    assert.deepEqual(known.repoDigests, nodeApp.repoDigests);
    assert.equal(known.creationTime, nodeApp.creationTime);
    assert.equal(known.history?.length, 5);
    assert.equal(known.err, "layer 2: digest mismatch");
    assert.deepEqual(known.vulnerabilityDistribution, { critical: 0, high: 0, medium: 0, low: 0, total: 0 });
  });
});

describe("compactResult", () => {
  const compact = compactResult(nodeApp);
  it("drops findings, inventory, history and extended metadata", () => {
    assert.deepEqual(
      [
        compact.vulnerabilities,
        compact.complianceIssues,
        compact.packages,
        compact.binaries,
        compact.history,
      ],
      [null, null, null, null, null],
    );
    assert.equal("layers" in compact, false);
    assert.deepEqual(compact.image, { created: "2024-04-30T10:00:00.5Z", entrypoint: ["node", "server.js"] });
  });
  it("keeps counts, distributions, risk and identity", () => {
    for (const key of [
      "_id",
      "id",
      "vulnerabilitiesCount",
      "vulnerabilityDistribution",
      "vulnerabilityRiskScore",
      "complianceDistribution",
      "riskFactors",
      "repoTag",
      "topLayer",
      "labels",
      "scanTime",
    ] as const) {
      assert.deepEqual(compact[key], nodeApp[key], key);
    }
  });
});

describe("projectFields", () => {
  const rows: [string[], Record<string, unknown>][] = [
    [["repoTag.repo"], { _id: nodeApp._id, repoTag: { repo: "node-app" } }],
    [
      ["repoTag.registry", "repoTag.tag", "labels"],
      {
        _id: nodeApp._id,
        repoTag: { registry: "127.0.0.1:5000", tag: "1.0" },
        labels: ["maintainer:ops", "org.opencontainers.image.version:1.0"],
      },
    ],
    [["hosts"], { _id: nodeApp._id, hosts: {} }],
    [["clusters"], { _id: nodeApp._id }],
    [
      ["repoTag.nothing", "image.created"],
      { _id: nodeApp._id, image: { created: "2024-04-30T10:00:00.5Z" } },
    ],
    [["_id"], { _id: nodeApp._id }],
    [[], { _id: nodeApp._id }],
  ];
  for (const [fields, expected] of rows) {
    it(JSON.stringify(fields), () => assert.deepEqual(projectFields(nodeApp, fields), expected));
  }
  it("copies, so the projection cannot change the result", () => {
    const projected = projectFields(nodeApp, ["repoTag"]) as { repoTag: { repo: string } };
    projected.repoTag.repo = "changed";
    assert.equal(nodeApp.repoTag.repo, "node-app");
  });
});

describe("normalizeSeverities", () => {
  const normalized = normalizeSeverities(withLayerVulnerabilities(nodeApp));
  const rows: [string, string, string][] = [
    [markedLong.id, "moderate", "medium"],
    [glibcWontFix.id, "unimportant", "low"],
    [mixinUnknown.id, "unassigned", "low"],
    [tarLow.id, "low", "low"],
    [log4shell.id, "critical", "critical"],
  ];
  for (const [cve, raw, expected] of rows) {
    it(`${cve}: ${raw} → ${expected}`, () => {
      assert.equal(vulnerability(nodeApp, cve).severity, raw);
      assert.equal(vulnerability(normalized, cve).severity, expected);
      const inHistory = normalized.history
        ?.flatMap((h) => h.vulnerabilities ?? [])
        .find((v) => v.cve === cve);
      assert.equal(inHistory?.severity, expected);
    });
  }
  it("leaves the counts as they are", () => {
    assert.deepEqual(normalized.vulnerabilityDistribution, nodeApp.vulnerabilityDistribution);
    assert.equal(normalized.vulnerabilityRiskScore, nodeApp.vulnerabilityRiskScore);
  });
});

describe("withLayerVulnerabilities", () => {
  const layered = withLayerVulnerabilities(nodeApp);
  it("puts each vulnerability under the history entry of its introducing layer", () => {
    assert.deepEqual(
      layered.history?.map((h) => [h.instruction, h.vulnerabilities?.map((v) => v.cve).sort()]),
      [
        ["debootstrap --variant=minbase bookworm", ["CVE-2005-2541", "CVE-2019-1010022", "CVE-2023-45853"]],
        ['CMD ["bash"]', undefined],
        ["RUN step 1", ["CVE-2021-22883"]],
        [
          "RUN step 2",
          [
            "CVE-2016-10542",
            "CVE-2020-8203",
            "CVE-2021-23337",
            "CVE-2021-23369",
            "CVE-2021-3114",
            "GHSA-fhjf-83wg-r2j9",
            "GHSA-xf5p-87ch-gxw2",
          ],
        ],
        ["RUN step 3", ["CVE-2021-44228"]],
      ],
    );
    assert.equal(
      nodeApp.history?.some((h) => h.vulnerabilities),
      false,
    );
  });
  it("a compact result has no history to fill", () => {
    assert.equal(withLayerVulnerabilities(compactResult(nodeApp)).history, null);
  });
});

describe("goTime", () => {
  const rows: [Date | undefined, string][] = [
    [new Date("2026-03-12T20:14:54.675Z"), "2026-03-12T20:14:54.675Z"],
    [new Date("2026-02-25T15:23:52.930Z"), "2026-02-25T15:23:52.93Z"],
    [new Date("2026-02-09T15:16:09.000Z"), "2026-02-09T15:16:09Z"],
    [new Date("2026-02-09T15:16:10.100Z"), "2026-02-09T15:16:10.1Z"],
    [undefined, ZERO_TIME],
    [new Date(Number.NaN), ZERO_TIME],
  ];
  for (const [date, expected] of rows) {
    it(`${date?.toString() ?? "undefined"} → ${expected}`, () => assert.equal(goTime(date), expected));
  }
});
