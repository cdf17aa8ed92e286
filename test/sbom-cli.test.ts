/**
 * `shipshape sbom` as a user runs it: a child process against the seeded registry on 127.0.0.1, with
 * its layer cache in a temp dir. Expected packages come from the oracles in harness/oracles.ts.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { PackageURL } from "packageurl-js";
import { allExtractors } from "../src/inventory/extractors/index.js";
import { flipByte, layoutBlobPath, ociPy, readLayoutImage } from "./harness/image-kit.js";
import { dpkgPackagesOfTree, goVersionM, npmInstalledPackages, testbedSrc } from "./harness/oracles.js";
import { repoRoot, sharedDir } from "./harness/paths.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage } from "./harness/seed.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let tmp: string;
let cacheDir: string;

function shipshape(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(repoRoot, "src/cli/entry.ts"), ...args],
      // The cache stays in the temp dir even where a test leaves --cache-dir out.
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, XDG_CACHE_HOME: tmp } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const sbom = (...args: string[]) => shipshape(["sbom", ...args, "--cache-dir", cacheDir]);

interface CdxComponent {
  "bom-ref": string;
  type: string;
  name: string;
  version?: string;
  purl?: string;
  properties?: { name: string; value: string }[];
}
interface CdxBom {
  bomFormat: string;
  specVersion: string;
  metadata: { component: CdxComponent; tools: { components: { name: string }[] } };
  components: CdxComponent[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

const prop = (c: CdxComponent, name: string) => c.properties?.find((p) => p.name === name)?.value;

/** type/namespace/name@version of a purl, decoded, qualifiers left out. */
function purlKey(purl: string): string {
  const p = PackageURL.fromString(purl);
  return `${p.type}/${p.namespace ? `${p.namespace}/` : ""}${p.name}@${p.version ?? ""}`;
}

const NODE_RUNTIME_REGISTERED = allExtractors.some((e) => e.name === "node-runtime");

/** node-app's packages as purl keys, from the oracles (see inventory.test.ts for the Go rules). */
async function nodeAppPurlKeys(): Promise<string[]> {
  const deb = (await dpkgPackagesOfTree(path.join(testbedSrc, "bookworm"))).map(
    (p) => `deb/debian/${p.name}@${p.version}`,
  );
  const npm = (await npmInstalledPackages(path.join(testbedSrc, "app/app/node_modules")))
    .filter((p) => p.name !== "tree-kill")
    .map((p) => `npm/${p.name}@${p.version}`);
  const go = await goVersionM(path.join(testbedSrc, "app/app/node_modules/esbuild/bin/esbuild"));
  const [, major, minor, patch] = /^go(\d+)\.(\d+)(?:\.(\d+))?$/.exec(go.goVersion) ?? [];
  const golang = [
    `golang/${go.main.path}@${go.main.version === "(devel)" ? "" : go.main.version}`,
    ...go.deps.map((d) => `golang/${d.path}@${d.version}`),
    `golang/stdlib@v${major}.${minor}.${patch ?? 0}`,
  ];
  const node = NODE_RUNTIME_REGISTERED ? ["generic/node@14.15.0"] : [];
  return [...deb, ...npm, ...golang, ...node].sort();
}

let registry: RunningRegistry;
before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-sbom-"));
    cacheDir = path.join(tmp, "cache");
    registry = await startRegistry({ storageDir: await ensureSeededStorage(), readOnly: true });
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  await registry?.stop();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

describe("shipshape sbom", { timeout: 80_000 }, () => {
  const image = (name: string) => `${registry.host}/${name}`;

  test("CycloneDX 1.6 for node-app: every package with its purl and layer, the OS, a summary on stderr", async () => {
    const run = await sbom(image("node-app:1.0"), "--insecure");
    assert.equal(run.code, 0, run.stderr);
    const bom = JSON.parse(run.stdout) as CdxBom;
    assert.equal(bom.bomFormat, "CycloneDX");
    assert.equal(bom.specVersion, "1.6");
    assert.equal(bom.metadata.tools.components[0]?.name, "shipshape");
    assert.equal(bom.metadata.component.type, "container");
    assert.match(bom.metadata.component.purl ?? "", /^pkg:oci\/node-app@sha256(:|%3A)[0-9a-f]{64}\?/);

    const osComponents = bom.components.filter((c) => c.type === "operating-system");
    assert.deepEqual(
      osComponents.map((c) => [c.name, c.version]),
      [["debian", "12.15"]],
    );
    const packages = bom.components.filter((c) => c.type !== "operating-system");
    assert.ok(
      packages.every((c) => c.purl),
      "every package component has a purl",
    );
    assert.deepEqual(packages.map((c) => purlKey(c.purl as string)).sort(), await nodeAppPurlKeys());

    // Layer facts: index, digest, diff_id and created_by of the layer that brought the package.
    const layerOf = (c: CdxComponent) => [
      prop(c, "shipshape:layer:index"),
      prop(c, "shipshape:layer:created_by"),
    ];
    for (const c of packages) {
      assert.match(prop(c, "shipshape:layer:digest") ?? "", /^sha256:[0-9a-f]{64}$/, c.name);
      assert.match(prop(c, "shipshape:layer:diff_id") ?? "", /^sha256:[0-9a-f]{64}$/, c.name);
      const ecosystem = prop(c, "shipshape:ecosystem");
      if (ecosystem === "deb") assert.deepEqual(layerOf(c), ["0", "debootstrap --variant=minbase bookworm"]);
      if (ecosystem === "npm" || ecosystem === "golang")
        assert.deepEqual(layerOf(c), ["2", "COPY app /app (npm install)"], c.name);
    }
    const lodash = packages.find((c) => c.name === "lodash");
    assert.equal(prop(lodash as CdxComponent, "shipshape:location"), "app/node_modules/lodash/package.json");
    // Every component is in the dependency tree.
    const refs = new Set(bom.dependencies.map((d) => d.ref));
    for (const c of bom.components) assert.ok(refs.has(c["bom-ref"]), c["bom-ref"]);

    assert.match(
      run.stderr,
      new RegExp(`^${packages.length} packages in 4 layers \\(4 read, 0 cached\\)$`, "m"),
    );
    assert.doesNotMatch(run.stderr, /^warning:/m);
  });

  test("--format spdx: SPDX-2.3 JSON, the image DESCRIBED, every package with a purl; the cache is used", async () => {
    const run = await sbom(image("node-app:1.0"), "--insecure", "--format", "spdx");
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as {
      spdxVersion: string;
      SPDXID: string;
      packages: {
        SPDXID: string;
        primaryPackagePurpose: string;
        externalRefs?: { referenceType: string; referenceLocator: string }[];
      }[];
      relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
    };
    assert.equal(doc.spdxVersion, "SPDX-2.3");
    const container = doc.packages.filter((p) => p.primaryPackagePurpose === "CONTAINER");
    assert.equal(container.length, 1);
    assert.ok(
      doc.relationships.some(
        (r) =>
          r.spdxElementId === doc.SPDXID &&
          r.relationshipType === "DESCRIBES" &&
          r.relatedSpdxElement === container[0]?.SPDXID,
      ),
    );
    assert.equal(doc.packages.filter((p) => p.primaryPackagePurpose === "OPERATING-SYSTEM").length, 1);
    const purls = doc.packages
      .filter((p) => !["CONTAINER", "OPERATING-SYSTEM"].includes(p.primaryPackagePurpose))
      .map((p) => p.externalRefs?.find((r) => r.referenceType === "purl")?.referenceLocator);
    assert.ok(purls.every(Boolean));
    assert.deepEqual(purls.map((p) => purlKey(p as string)).sort(), await nodeAppPurlKeys());
    // Every package is contained by something (the image, the OS or a Go main module).
    const contained = new Set(doc.relationships.map((r) => r.relatedSpdxElement));
    for (const p of doc.packages) assert.ok(contained.has(p.SPDXID), p.SPDXID);
    assert.match(run.stderr, /packages in 4 layers \(0 read, 4 cached\)/);
  });

  test("--format table lists the ecosystems; -o writes to a file and leaves stdout empty", async () => {
    const out = path.join(tmp, "table.txt");
    const run = await sbom(image("node-app:1.0"), "--insecure", "--format", "table", "-o", out);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "");
    const text = await fs.readFile(out, "utf8");
    assert.match(text, /^OS:\s+Debian GNU\/Linux 12 \(bookworm\)$/m);
    assert.match(text, /^Layers:\s+4$/m);
    assert.match(text, /^ECOSYSTEM\s+PACKAGES\s+FOUND IN/m);
    assert.match(text, /^deb\s+88\s/m);
    assert.match(text, /^npm\s+25\s/m);
    assert.match(text, /^golang\s+3\s/m);
    assert.ok(!text.includes("\u001b["), "no colour in a file");
  });

  test("--platform linux/arm64 picks the aarch64 image of alpine-multi", async () => {
    const arm = await sbom(image("alpine-multi:3.10.3"), "--insecure", "--platform", "linux/arm64");
    assert.equal(arm.code, 0, arm.stderr);
    const bom = JSON.parse(arm.stdout) as CdxBom;
    assert.equal(prop(bom.metadata.component, "shipshape:image:platform"), "linux/arm64/v8");
    const apk = bom.components.filter((c) => c.purl?.startsWith("pkg:apk/"));
    assert.equal(apk.length, 14);
    for (const c of apk) assert.equal(PackageURL.fromString(c.purl as string).qualifiers?.arch, "aarch64");
    const amd = await sbom(image("alpine-multi:3.10.3"), "--insecure", "--format", "table");
    assert.equal(amd.code, 0, amd.stderr);
    assert.match(amd.stdout, /^Platform:\s+linux\/amd64$/m);
    assert.match(amd.stdout, /^apk\s+14\s/m);
  });

  test("a missing tag, a missing repository and a host that is no registry: exit 1 with a clear message", async () => {
    const tag = await sbom(image("alpine:9.9.9"), "--insecure");
    assert.equal(tag.code, 1);
    assert.equal(tag.stdout, "");
    assert.match(tag.stderr, /^shipshape: 127\.0\.0\.1:\d+\/alpine:9\.9\.9: .*(not found|unknown)/im);

    const repo = await sbom(image("no/such-repo:1"), "--insecure");
    assert.equal(repo.code, 1);
    assert.match(repo.stderr, /^shipshape: 127\.0\.0\.1:\d+\/no\/such-repo:1: .*(not found|unknown)/im);

    // A web server, as a mistyped host usually is: /v2/ is one of its 404 pages.
    const web = http.createServer((_req, res) =>
      res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>"),
    );
    await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = web.address() as AddressInfo;
      const run = await sbom(`127.0.0.1:${port}/alpine:3.10.3`, "--insecure");
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^shipshape: 127\.0\.0\.1:\d+.*not a Docker\/OCI registry API/m);
    } finally {
      web.close();
    }
  });

  test("a broken OCI layout: exit 1 naming what is wrong", async () => {
    const layout = path.join(tmp, "broken-layout");
    await fs.mkdir(layout);
    await fs.writeFile(path.join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    await fs.writeFile(path.join(layout, "index.json"), "{ this is not json");
    const garbage = await sbom(`oci:${layout}:x`);
    assert.equal(garbage.code, 1);
    assert.match(garbage.stderr, /^shipshape: .*broken-layout is not an OCI image layout/m);

    // A valid layout whose layer blob was changed after the fact.
    const corrupt = path.join(tmp, "corrupt-layout");
    const tarball = path.join(sharedDir, "fixtures/rootfs/alpine-minirootfs-3.10.3-x86_64.tar.gz");
    await ociPy("image", corrupt, "alpine", `tar:${tarball}`);
    const descriptor = (await readLayoutImage(corrupt, "alpine")).manifest.layers[0];
    const layer = descriptor?.digest as string;
    await flipByte(layoutBlobPath(corrupt, layer), Math.floor((descriptor?.size as number) / 2));
    // --no-cache: the layer cache would answer for this well-known layer without reading the blob.
    const run = await sbom(`oci:${corrupt}:alpine`, "--no-cache");
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    // A digest mismatch, or the layer walk's error (corrupt data, diff_id): either names the layer.
    assert.match(run.stderr, new RegExp(`^shipshape: .*${layer}`, "m"));

    const unnamed = await sbom(`oci:${corrupt}:nope`);
    assert.equal(unnamed.code, 1);
    assert.match(unnamed.stderr, /no image named "nope"/);
  });

  test("a bad --format or --platform: exit 2 before anything is fetched", async () => {
    const format = await sbom(image("alpine:3.10.3"), "--insecure", "--format", "xml");
    assert.equal(format.code, 2);
    assert.match(format.stderr, /^shipshape: unknown --format xml \(cyclonedx, spdx, table\)$/m);
    const platform = await sbom(image("alpine:3.10.3"), "--insecure", "--platform", "linux");
    assert.equal(platform.code, 2);
    assert.match(platform.stderr, /^shipshape: invalid platform "linux"/m);
    for (const run of [format, platform]) assert.equal(run.stdout, "");
  });
});
