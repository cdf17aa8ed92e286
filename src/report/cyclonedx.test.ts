/**
 * No CycloneDX JSON-schema validator is installed (neither @cyclonedx/cyclonedx-library nor ajv), so
 * `checkBom` below checks the parts of the CycloneDX 1.6 schema this output uses: required fields,
 * the properties each object may have (the schema forbids others), enumerations, the serial number
 * pattern, the two shapes of `licenses`, and the bom-ref graph.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ImageInventory } from "../inventory/types.js";
import type { Finding } from "../match/types.js";
import {
  type CdxComponent,
  type CdxVulnerability,
  type CycloneDxBom,
  cdxLicenses,
  toCycloneDx,
} from "./cyclonedx.js";
import {
  glibcWontFix,
  lodashLock,
  lodashModules,
  log4shell,
  NODE_APP_FINDINGS,
  tarLow,
} from "./findings-fixtures.js";
import { knownLicenseId, parseLicenseExpression } from "./licenses.js";
import {
  alpineImage,
  alpineInventory,
  FIXTURES,
  NOW,
  nodeAppImage,
  nodeAppInventory,
  scratchImage,
  scratchInventory,
  shuffled,
  TOOL,
} from "./test-fixtures.js";

// biome-ignore format: the schema's list
const COMPONENT_KEYS = new Set([
  "type", "mime-type", "bom-ref", "supplier", "manufacturer", "authors", "author", "publisher", "group", "name",
  "version", "description", "scope", "hashes", "licenses", "copyright", "cpe", "purl", "omniborId", "swhid", "swid",
  "modified", "pedigree", "externalReferences", "properties", "components", "evidence", "releaseNotes", "modelCard",
  "data", "cryptoProperties", "signature", "tags",
]);
// biome-ignore format: the schema's list
const COMPONENT_TYPES = new Set([
  "application", "framework", "library", "container", "platform", "operating-system", "device", "device-driver",
  "firmware", "file", "machine-learning-model", "data", "cryptographic-asset",
]);
// biome-ignore format: the schema's list
const BOM_KEYS = new Set([
  "$schema", "bomFormat", "specVersion", "serialNumber", "version", "metadata", "components", "services",
  "externalReferences", "dependencies", "compositions", "vulnerabilities", "annotations", "formulation",
  "declarations", "definitions", "properties", "signature",
]);
// biome-ignore format: the schema's list
const METADATA_KEYS = new Set([
  "timestamp", "lifecycles", "tools", "authors", "component", "manufacture", "manufacturer", "supplier", "licenses",
  "properties",
]);

function onlyKeys(obj: object, allowed: Set<string>, where: string) {
  for (const k of Object.keys(obj))
    assert.ok(allowed.has(k), `${where}: property "${k}" is not in the schema`);
}

function checkComponent(c: CdxComponent, where: string) {
  onlyKeys(c, COMPONENT_KEYS, where);
  assert.ok(COMPONENT_TYPES.has(c.type), `${where}: type ${c.type}`);
  assert.equal(typeof c.name, "string");
  assert.ok(c.name.length > 0, `${where}: empty name`);
  assert.ok(typeof c["bom-ref"] === "string" && c["bom-ref"].length > 0, `${where}: bom-ref`);
  if (c.version !== undefined) assert.equal(typeof c.version, "string");
  if (c.purl !== undefined) assert.match(c.purl, /^pkg:[a-z][a-z0-9.+-]*\//);
  for (const p of c.properties ?? []) {
    onlyKeys(p, new Set(["name", "value"]), `${where} property`);
    assert.match(p.name, /^shipshape:[a-z_]+(:[A-Za-z0-9_.-]+)*$/, `${where}: property name ${p.name}`);
    assert.equal(typeof p.value, "string");
  }
  if (c.licenses !== undefined) {
    const list = c.licenses as unknown[];
    assert.ok(Array.isArray(list) && list.length > 0, `${where}: licenses`);
    const first = list[0] as Record<string, unknown>;
    if ("expression" in first) {
      assert.equal(list.length, 1, `${where}: an expression must be the only entry`);
      onlyKeys(first, new Set(["expression", "bom-ref", "acknowledgement"]), where);
      assert.ok(
        parseLicenseExpression(first.expression as string),
        `${where}: expression ${first.expression}`,
      );
    } else {
      for (const entry of list as Record<string, Record<string, string>>[]) {
        onlyKeys(entry, new Set(["license"]), where);
        const license = entry.license as Record<string, string>;
        const keys = Object.keys(license);
        assert.deepEqual(keys.length, 1, `${where}: license has exactly one of id/name`);
        if ("id" in license) assert.equal(knownLicenseId(license.id as string), license.id, `${where}: id`);
        else assert.equal(typeof license.name, "string", `${where}: name`);
      }
    }
  }
}

/** Schema shape plus graph: unique bom-refs, every dependency resolves, one entry per component, a tree. */
function checkBom(bom: CycloneDxBom) {
  onlyKeys(bom, BOM_KEYS, "bom");
  assert.equal(bom.bomFormat, "CycloneDX");
  assert.equal(bom.specVersion, "1.6");
  assert.equal(bom.version, 1);
  assert.match(bom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  onlyKeys(bom.metadata, METADATA_KEYS, "metadata");
  assert.match(bom.metadata.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  assert.ok(Array.isArray(bom.metadata.tools.components) && bom.metadata.tools.components.length === 1);
  for (const t of bom.metadata.tools.components) checkComponent({ ...t, "bom-ref": "tool" }, "tool");
  checkComponent(bom.metadata.component, "metadata.component");
  assert.equal(bom.metadata.component.type, "container");
  for (const [i, c] of bom.components.entries()) checkComponent(c, `components[${i}] ${c.name}`);

  const refs = [bom.metadata.component, ...bom.components].map((c) => c["bom-ref"]);
  assert.equal(new Set(refs).size, refs.length, "bom-refs are unique");
  const known = new Set(refs);

  const depRefs = bom.dependencies.map((d) => d.ref);
  assert.equal(new Set(depRefs).size, depRefs.length, "one dependency entry per ref");
  assert.deepEqual([...depRefs].sort(), [...refs].sort(), "every component has a dependency entry");
  const parents = new Map<string, string>();
  for (const d of bom.dependencies) {
    onlyKeys(d, new Set(["ref", "dependsOn", "provides"]), "dependency");
    assert.ok(known.has(d.ref), `dependency ref ${d.ref} resolves`);
    assert.equal(new Set(d.dependsOn).size, d.dependsOn.length, `dependsOn of ${d.ref} has no duplicates`);
    for (const child of d.dependsOn) {
      assert.ok(known.has(child), `dependsOn ${child} resolves`);
      assert.ok(!parents.has(child), `${child} has one parent`);
      parents.set(child, d.ref);
    }
  }
  // Everything but the image hangs, directly or not, under the image.
  const root = bom.metadata.component["bom-ref"];
  for (const ref of refs) {
    let at = ref;
    for (let steps = 0; at !== root; steps++) {
      assert.ok(steps < refs.length, `${ref} reaches the image without a cycle`);
      at = parents.get(at) as string;
      assert.ok(at, `${ref} is reachable from the image`);
    }
  }
}

const componentByName = (bom: CycloneDxBom, name: string, group?: string) => {
  const found = bom.components.filter((c) => c.name === name && c.group === group);
  assert.ok(found.length > 0, `component ${group ?? ""} ${name}`);
  return found;
};
const prop = (c: CdxComponent, name: string) => c.properties?.find((p) => p.name === name)?.value;
const depsOf = (bom: CycloneDxBom, ref: string) =>
  bom.dependencies.find((d) => d.ref === ref)?.dependsOn ?? [];

describe("toCycloneDx: structure", () => {
  for (const f of FIXTURES) {
    test(`${f.name}: valid 1.6 shape, unique refs, resolvable tree`, () => {
      checkBom(toCycloneDx(f.image, f.inventory, TOOL, NOW));
    });
    test(`${f.name}: deterministic, and independent of input order`, () => {
      const a = JSON.stringify(toCycloneDx(f.image, f.inventory, TOOL, NOW));
      assert.equal(JSON.stringify(toCycloneDx(f.image, f.inventory, TOOL, NOW)), a);
      for (const seed of [1, 2, 3]) {
        const inv: ImageInventory = { ...f.inventory, packages: shuffled(f.inventory.packages, seed) };
        assert.equal(JSON.stringify(toCycloneDx(f.image, inv, TOOL, new Date(NOW))), a, `seed ${seed}`);
      }
    });
  }
});

describe("toCycloneDx: content", () => {
  const bom = toCycloneDx(nodeAppImage, nodeAppInventory, TOOL, NOW);

  test("metadata: timestamp, tool, the image as an oci purl with the platform manifest digest", () => {
    assert.equal(bom.metadata.timestamp, "2024-05-01T12:34:56Z");
    assert.deepEqual(bom.metadata.tools.components, [
      { type: "application", name: "shipshape", version: "0.1.0" },
    ]);
    const image = bom.metadata.component;
    assert.equal(image.name, "127.0.0.1:5000/node-app");
    assert.equal(image.version, nodeAppImage.digest);
    assert.equal(
      image.purl,
      `pkg:oci/node-app@${nodeAppImage.digest}?arch=amd64&repository_url=127.0.0.1%3A5000%2Fnode-app&tag=1.0`,
    );
    assert.equal(image["bom-ref"], image.purl);
    assert.equal(prop(image, "shipshape:image:index_digest"), nodeAppImage.indexDigest);
    assert.equal(image.properties?.filter((p) => p.name === "shipshape:image:diff_id").length, 4);
    assert.deepEqual(bom.metadata.properties, [
      { name: "shipshape:warning", value: nodeAppInventory.warnings[0] },
    ]);
  });

  test("the OS component holds the OS packages; the image holds the OS and the rest", () => {
    const os = bom.components[0] as CdxComponent;
    assert.equal(os.type, "operating-system");
    assert.equal(os.name, "debian");
    assert.equal(os.version, "12");
    const osDeps = depsOf(bom, os["bom-ref"]);
    assert.equal(osDeps.length, 4);
    assert.ok(osDeps.every((r) => r.startsWith("pkg:deb/")));
    const imageDeps = depsOf(bom, bom.metadata.component["bom-ref"]);
    assert.equal(imageDeps[0], os["bom-ref"]);
    assert.ok(imageDeps.every((r) => !r.startsWith("pkg:deb/")));
  });

  test("components are ordered by ecosystem, name, version, location", () => {
    const eco = bom.components.slice(1).map((c) => prop(c, "shipshape:ecosystem"));
    assert.deepEqual([...new Set(eco)], ["deb", "npm", "golang", "maven", "node"]);
    const deb = bom.components.filter((c) => prop(c, "shipshape:ecosystem") === "deb").map((c) => c.name);
    assert.deepEqual(deb, ["base-files", "libc6", "tar", "zlib1g"]);
  });

  test("a purl found in two files gets two components with location-qualified refs", () => {
    const lodash = componentByName(bom, "lodash");
    assert.deepEqual(
      lodash.map((c) => c["bom-ref"]),
      [
        "pkg:npm/lodash@4.17.15|app/node_modules/lodash/package.json",
        "pkg:npm/lodash@4.17.15|app/package-lock.json",
      ],
    );
    assert.ok(lodash.every((c) => c.purl === "pkg:npm/lodash@4.17.15"));
    // a purl found once keeps the bare purl as its ref
    assert.equal(componentByName(bom, "handlebars")[0]?.["bom-ref"], "pkg:npm/handlebars@4.5.3");
  });

  test("group: npm scope and Maven groupId, as Trivy does; Go module paths stay whole names", () => {
    assert.equal(componentByName(bom, "code-frame", "@babel").length, 1);
    assert.equal(componentByName(bom, "log4j-core", "org.apache.logging.log4j").length, 1);
    assert.equal(componentByName(bom, "golang.org/x/sys").length, 1);
  });

  test("applications: the Go main module (holding its binary's modules) and the Node.js runtime", () => {
    const apps = bom.components.filter((c) => c.type === "application").map((c) => c.name);
    assert.deepEqual(apps, ["github.com/evanw/esbuild", "node"]);
    const main = componentByName(bom, "github.com/evanw/esbuild")[0] as CdxComponent;
    assert.deepEqual(depsOf(bom, main["bom-ref"]), [
      "pkg:golang/golang.org/x/sys@v0.0.0-20201119102817-f84b799fce68",
      "pkg:golang/stdlib@v1.15.5",
    ]);
    assert.ok(depsOf(bom, bom.metadata.component["bom-ref"]).includes(main["bom-ref"]));
  });

  test("package properties: layer, location, source, extra properties", () => {
    const libc = componentByName(bom, "libc6")[0] as CdxComponent;
    assert.deepEqual(Object.fromEntries((libc.properties ?? []).map((p) => [p.name, p.value])), {
      "shipshape:ecosystem": "deb",
      "shipshape:location": "var/lib/dpkg/status",
      "shipshape:layer:index": "0",
      "shipshape:layer:digest": nodeAppImage.layers[0]?.digest,
      "shipshape:layer:diff_id": nodeAppImage.layers[0]?.diffId,
      "shipshape:layer:created_by": "debootstrap --variant=minbase bookworm",
      "shipshape:source:name": "glibc",
      "shipshape:source:version": "2.36-9+deb12u7",
      "shipshape:arch": "amd64",
    });
    const log4j = componentByName(bom, "log4j-core", "org.apache.logging.log4j")[0] as CdxComponent;
    assert.equal(
      prop(log4j, "shipshape:property:archivePath"),
      "opt/app/lib/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar",
    );
    assert.equal(
      componentByName(bom, "zlib1g")[0]?.version,
      "1:1.2.13.dfsg-1",
      "the dpkg version with epoch",
    );
  });

  test("licenses as declared", () => {
    const lic = (name: string, group?: string) => componentByName(bom, name, group)[0]?.licenses;
    assert.deepEqual(lic("libc6"), [
      { license: { id: "GPL-2.0-or-later" } },
      { license: { id: "LGPL-2.1-or-later" } },
    ]);
    assert.deepEqual(lic("base-files"), [{ license: { id: "GPL-2.0-or-later" } }], "case duplicates merged");
    assert.deepEqual(lic("tar"), [{ license: { name: "GPL-3+" } }, { license: { name: "GPL-2+" } }]);
    assert.deepEqual(lic("moment"), [{ expression: "MIT OR Apache-2.0" }]);
    assert.deepEqual(lic("ws"), [{ license: { name: "MIT OR Apache-2.0" } }, { license: { name: "BSD" } }]);
    assert.deepEqual(lic("log4j-core", "org.apache.logging.log4j"), [
      { license: { name: "Apache License, Version 2.0" } },
    ]);
    assert.deepEqual(lic("jdk-tools", "org.openjdk"), [
      { expression: "GPL-2.0-only WITH Classpath-exception-2.0 AND GPL-2.0-with-classpath-exception" },
    ]);
    assert.equal(componentByName(bom, "lodash")[1]?.licenses, undefined, "no license, no field");
  });

  test("the serial number follows the content: same input same number, other time/tool/image another", () => {
    const again = toCycloneDx(nodeAppImage, nodeAppInventory, TOOL, NOW).serialNumber;
    assert.equal(again, bom.serialNumber);
    const others = [
      toCycloneDx(nodeAppImage, nodeAppInventory, TOOL, new Date("2024-05-01T12:34:57Z")),
      toCycloneDx(nodeAppImage, nodeAppInventory, { ...TOOL, version: "0.1.1" }, NOW),
      toCycloneDx({ ...nodeAppImage, digest: `sha256:${"1".repeat(64)}` }, nodeAppInventory, TOOL, NOW),
      toCycloneDx(
        nodeAppImage,
        { ...nodeAppInventory, packages: nodeAppInventory.packages.slice(1) },
        TOOL,
        NOW,
      ),
    ].map((b) => b.serialNumber);
    assert.equal(new Set([bom.serialNumber, ...others]).size, 5);
  });

  test("alpine: apk packages under the OS, source (origin) kept, arm64 purl", () => {
    const a = toCycloneDx(alpineImage, alpineInventory, TOOL, NOW);
    assert.equal(a.components[0]?.type, "operating-system");
    assert.equal(depsOf(a, a.components[0]?.["bom-ref"] as string).length, 6);
    const ssl = componentByName(a, "ssl_client")[0] as CdxComponent;
    assert.equal(prop(ssl, "shipshape:source:name"), "busybox");
    assert.deepEqual(componentByName(a, "scanelf")[0]?.licenses, [
      { expression: "GPL-2.0-only AND LGPL-2.1+" },
    ]);
    assert.match(a.metadata.component.purl as string, /\?arch=arm64&repository_url=/);
  });

  test("OS-less image: no operating-system component; each binary's modules under its main module", () => {
    const s = toCycloneDx(scratchImage, scratchInventory, TOOL, NOW);
    assert.ok(s.components.every((c) => c.type !== "operating-system"));
    const image = s.metadata.component;
    assert.equal(image.name, "oci:./layout:server");
    assert.equal(image.purl, `pkg:oci/layout@${scratchImage.digest}?arch=amd64`);
    assert.deepEqual(depsOf(s, image["bom-ref"]), [
      "pkg:golang/example.com/healthcheck@v0.1.0",
      "pkg:golang/example.com/server@v1.2.3",
    ]);
    assert.deepEqual(depsOf(s, "pkg:golang/example.com/server@v1.2.3"), [
      "pkg:golang/github.com/gorilla/mux@v1.8.0",
      "pkg:golang/golang.org/x/net@v0.17.0|app/server",
      "pkg:golang/stdlib@v1.21.3|app/server",
    ]);
    assert.deepEqual(depsOf(s, "pkg:golang/example.com/healthcheck@v0.1.0"), [
      "pkg:golang/golang.org/x/net@v0.17.0|app/healthcheck",
      "pkg:golang/stdlib@v1.21.3|app/healthcheck",
    ]);
  });

  test("OS packages without a detected OS hang under the image", () => {
    const inv: ImageInventory = { ...alpineInventory, os: undefined };
    const b = toCycloneDx(alpineImage, inv, TOOL, NOW);
    checkBom(b);
    assert.equal(depsOf(b, b.metadata.component["bom-ref"]).length, 6);
  });

  test("a package without a purl, and exact duplicates, still get unique refs", () => {
    const p = nodeAppInventory.packages[5];
    assert.ok(p);
    const inv: ImageInventory = {
      packages: [
        { ...p, purl: "" },
        { ...p, purl: "" },
        { ...p, purl: "pkg:npm/x@1" },
        { ...p, purl: "pkg:npm/x@1" },
      ],
      warnings: [],
    };
    const b = toCycloneDx(nodeAppImage, inv, TOOL, NOW);
    checkBom(b);
    assert.equal(b.components.filter((c) => c.purl === undefined).length, 2);
  });
});

describe("checkBom catches what it is meant to catch", () => {
  const good = () => structuredClone(toCycloneDx(nodeAppImage, nodeAppInventory, TOOL, NOW));
  const broken: [string, (b: CycloneDxBom) => void][] = [
    [
      "duplicate bom-ref",
      (b) => ((b.components[2] as CdxComponent)["bom-ref"] = b.components[1]?.["bom-ref"] as string),
    ],
    ["dangling dependsOn", (b) => b.dependencies[0]?.dependsOn.push("pkg:npm/nowhere@1")],
    ["missing dependency entry", (b) => b.dependencies.pop()],
    ["unreachable component", (b) => b.dependencies[1]?.dependsOn.pop()],
    ["property outside the schema", (b) => Object.assign(b.components[1] as object, { foo: 1 })],
    [
      "unknown license id",
      (b) => ((b.components[1] as CdxComponent).licenses = [{ license: { id: "GPL-2" } }]),
    ],
    [
      "expression next to a license",
      (b) =>
        ((b.components[1] as CdxComponent).licenses = [
          { expression: "MIT" },
          { license: { id: "MIT" } },
        ] as unknown as CdxComponent["licenses"]),
    ],
    ["bad serial number", (b) => (b.serialNumber = "urn:uuid:XYZ")],
  ];
  for (const [name, mutate] of broken) {
    test(name, () => {
      const b = good();
      mutate(b);
      assert.throws(() => checkBom(b));
    });
  }
});

describe("cdxLicenses", () => {
  const cases: { licenses: string[] | undefined; want: ReturnType<typeof cdxLicenses> }[] = [
    { licenses: undefined, want: undefined },
    { licenses: ["", " "], want: undefined },
    { licenses: ["MIT"], want: [{ license: { id: "MIT" } }] },
    { licenses: ["MIT", "ISC"], want: [{ license: { id: "MIT" } }, { license: { id: "ISC" } }] },
    { licenses: ["MIT OR ISC"], want: [{ expression: "MIT OR ISC" }] },
    { licenses: ["MIT OR ISC", "Zlib"], want: [{ expression: "(MIT OR ISC) AND Zlib" }] },
    { licenses: ["MIT OR ISC", "MIT OR ISC"], want: [{ expression: "MIT OR ISC" }] },
    {
      licenses: ["MIT OR ISC", "Custom"],
      want: [{ license: { name: "MIT OR ISC" } }, { license: { name: "Custom" } }],
    },
    { licenses: ["mit", "MIT"], want: [{ license: { id: "MIT" } }] },
    { licenses: ["MIT License"], want: [{ license: { name: "MIT License" } }] },
  ];
  for (const c of cases) {
    test(JSON.stringify(c.licenses), () => assert.deepEqual(cdxLicenses(c.licenses), c.want));
  }
});

// biome-ignore format: the schema's list
const VULNERABILITY_KEYS = new Set([
  "bom-ref", "id", "source", "references", "ratings", "cwes", "description", "detail", "recommendation",
  "workaround", "proofOfConcept", "advisories", "created", "published", "updated", "rejected", "credits", "tools",
  "analysis", "affects", "properties",
]);
const RATING_KEYS = new Set(["source", "score", "severity", "method", "vector", "justification"]);
const SEVERITIES = new Set(["critical", "high", "medium", "low", "info", "none", "unknown"]);
const METHODS = new Set(["CVSSv2", "CVSSv3", "CVSSv31", "CVSSv4", "OWASP", "SSVC", "other"]);
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The CycloneDX 1.6 `vulnerability` object as far as used, and every affects ref resolving to a component. */
function checkVulnerabilities(bom: CycloneDxBom) {
  checkBom(bom);
  const refs = new Set(bom.components.map((c) => c["bom-ref"]));
  const list = bom.vulnerabilities as CdxVulnerability[];
  assert.ok(Array.isArray(list));
  for (const v of list) {
    const where = `vulnerability ${v.id}`;
    onlyKeys(v, VULNERABILITY_KEYS, where);
    assert.ok(v.id.length > 0);
    if (v.source) onlyKeys(v.source, new Set(["name", "url"]), `${where} source`);
    for (const r of v.references ?? []) {
      onlyKeys(r, new Set(["id", "source"]), `${where} reference`);
      assert.ok(r.id && r.source, `${where}: reference needs id and source`);
    }
    for (const r of v.ratings ?? []) {
      onlyKeys(r, RATING_KEYS, `${where} rating`);
      if (r.severity) assert.ok(SEVERITIES.has(r.severity), `${where}: severity ${r.severity}`);
      if (r.method) assert.ok(METHODS.has(r.method), `${where}: method ${r.method}`);
      if (r.score !== undefined) assert.equal(typeof r.score, "number");
    }
    for (const a of v.advisories ?? []) onlyKeys(a, new Set(["title", "url"]), `${where} advisory`);
    for (const k of ["published", "updated"] as const)
      if (v[k]) assert.match(v[k] as string, DATE_TIME, `${where} ${k}`);
    assert.ok(v.affects.length > 0, `${where}: affects something`);
    const affected = v.affects.map((a) => a.ref);
    assert.equal(new Set(affected).size, affected.length, `${where}: affects are unique`);
    for (const a of v.affects) {
      onlyKeys(a, new Set(["ref", "versions"]), `${where} affects`);
      assert.ok(refs.has(a.ref), `${where}: affects ${a.ref} resolves to a component`);
      for (const ver of a.versions) {
        onlyKeys(ver, new Set(["version", "range", "status"]), `${where} version`);
        assert.ok(["affected", "unaffected", "unknown"].includes(ver.status));
      }
    }
    for (const p of v.properties ?? []) assert.match(p.name, /^shipshape:[a-z_]+$/);
  }
  const ids = list.map((v) => v.id);
  assert.equal(new Set(ids).size, ids.length, "one entry per vulnerability id");
}

describe("toCycloneDx: vulnerabilities", () => {
  const bom = toCycloneDx(nodeAppImage, nodeAppInventory, TOOL, NOW, NODE_APP_FINDINGS);
  const vulns = bom.vulnerabilities as CdxVulnerability[];
  const vuln = (id: string) => vulns.find((v) => v.id === id) as CdxVulnerability;
  const refOf = (f: Finding) =>
    bom.components.find(
      (c) => c.purl === f.package.purl && prop(c, "shipshape:location") === f.package.location,
    )?.["bom-ref"];

  test("valid 1.6 vulnerabilities whose refs resolve to components", () => checkVulnerabilities(bom));

  test("without the argument the SBOM is unchanged, byte for byte", () => {
    const sbom = JSON.stringify(toCycloneDx(nodeAppImage, nodeAppInventory, TOOL, NOW));
    assert.equal(JSON.stringify(toCycloneDx(nodeAppImage, nodeAppInventory, TOOL, NOW, undefined)), sbom);
    assert.ok(!sbom.includes('"vulnerabilities"'));
    assert.notEqual(
      bom.serialNumber,
      JSON.parse(sbom).serialNumber,
      "vulnerabilities are part of the content",
    );
  });

  test("an empty list says 'scanned, nothing found'", () => {
    const empty = toCycloneDx(nodeAppImage, nodeAppInventory, TOOL, NOW, []);
    assert.deepEqual(empty.vulnerabilities, []);
    checkBom(empty);
  });

  test("one entry per id, in report order (severity, package, id)", () => {
    assert.deepEqual(
      vulns.map((v) => v.id),
      [
        "CVE-2023-45853",
        "CVE-2021-23369",
        "CVE-2021-44228",
        "CVE-2020-8203",
        "CVE-2021-23337",
        "CVE-2016-10542",
        "CVE-2021-22883",
        "GHSA-xf5p-87ch-gxw2",
        "CVE-2021-3114",
        "CVE-2005-2541",
        "CVE-2019-1010022",
        "GHSA-fhjf-83wg-r2j9",
      ],
    );
  });

  test("a full entry: source, references, ratings, description, recommendation, advisories, dates, affects", () => {
    assert.deepEqual(vuln("CVE-2021-44228"), {
      id: "CVE-2021-44228",
      source: { name: "NVD", url: "https://nvd.nist.gov/vuln/detail/CVE-2021-44228" },
      affects: [
        {
          ref: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
          versions: [{ version: "2.14.1", status: "affected" }],
        },
      ],
      references: [
        {
          id: "GHSA-jfh8-c2jp-5v3q",
          source: {
            name: "GitHub Advisory Database",
            url: "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q",
          },
        },
      ],
      ratings: [
        {
          source: { name: "nvd" },
          method: "CVSSv31",
          vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
          score: 10,
          severity: "critical",
        },
      ],
      description: "Remote code injection in Log4j",
      detail: log4shell.description,
      recommendation: "Upgrade org.apache.logging.log4j:log4j-core to 2.15.0",
      advisories: [
        { url: "https://logging.apache.org/log4j/2.x/security.html" },
        { url: "https://nvd.nist.gov/vuln/detail/CVE-2021-44228" },
      ],
      published: "2021-12-10T10:15:09Z",
      updated: "2023-04-03T20:15:08Z",
      properties: [
        { name: "shipshape:fix_state", value: "fixed" },
        { name: "shipshape:source", value: "osv" },
      ],
    });
  });

  test("the same id in two locations: one entry affecting both components", () => {
    const v = vuln("CVE-2020-8203");
    assert.deepEqual(
      v.affects.map((a) => a.ref),
      [refOf(lodashModules), refOf(lodashLock)],
    );
    assert.deepEqual(
      v.affects.map((a) => a.ref),
      [
        "pkg:npm/lodash@4.17.15|app/node_modules/lodash/package.json",
        "pkg:npm/lodash@4.17.15|app/package-lock.json",
      ],
    );
    assert.equal(v.recommendation, "Upgrade lodash to 4.17.19");
    assert.equal(v.published, "2020-07-15T00:00:00Z");
  });

  test("no fix: the distribution's word as the recommendation; vendor rating next to NVD's", () => {
    const g = vuln(glibcWontFix.id);
    assert.equal(g.recommendation, "libc6: the distribution will not fix this");
    assert.deepEqual(g.ratings, [
      {
        source: { name: "nvd" },
        method: "CVSSv31",
        vector: glibcWontFix.cvss?.vector,
        score: 9.8,
        severity: "critical",
      },
      { source: { name: "debian-tracker" }, severity: "info", method: "other" },
    ]);
    assert.deepEqual(g.properties?.[0], { name: "shipshape:fix_state", value: "will_not_fix" });
    const t = vuln(tarLow.id);
    assert.equal(t.ratings?.[0]?.method, "CVSSv2");
    assert.equal(t.recommendation, "tar: the distribution has postponed the fix");
    assert.equal(vuln("CVE-2023-45853").recommendation, "zlib1g: no fixed version yet");
    assert.equal(vuln("CVE-2021-3114").recommendation, "Upgrade stdlib to 1.14.14 or 1.15.7");
    assert.equal(vuln("GHSA-fhjf-83wg-r2j9").ratings, undefined, "nothing to rate, no ratings");
  });

  test("feed text without terminal escapes", () => {
    assert.equal(vuln("CVE-2021-23369").description?.includes("\x1b"), false);
  });

  test("a finding for a package not in the inventory is left out and reported", () => {
    const stray: Finding = {
      ...log4shell,
      package: { ...log4shell.package, purl: "pkg:maven/x/y@1", name: "y", location: "nowhere.jar" },
    };
    const b = toCycloneDx(nodeAppImage, nodeAppInventory, TOOL, NOW, [stray, lodashLock]);
    checkVulnerabilities(b);
    assert.deepEqual(
      b.vulnerabilities?.map((v) => v.id),
      ["CVE-2020-8203"],
    );
    assert.ok(
      b.metadata.properties?.some(
        (p) =>
          p.name === "shipshape:warning" &&
          p.value === "CVE-2021-44228: y 2.14.1 (nowhere.jar) is not in the inventory; left out of affects",
      ),
    );
  });

  test("deterministic, and independent of the order of findings and packages", () => {
    const a = JSON.stringify(bom);
    for (const seed of [1, 2, 3]) {
      const inv: ImageInventory = {
        ...nodeAppInventory,
        packages: shuffled(nodeAppInventory.packages, seed),
      };
      assert.equal(
        JSON.stringify(toCycloneDx(nodeAppImage, inv, TOOL, NOW, shuffled(NODE_APP_FINDINGS, seed))),
        a,
      );
    }
  });
});
