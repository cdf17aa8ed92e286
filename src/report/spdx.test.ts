/**
 * Structural checks of the SPDX 2.3 JSON output (no SPDX validator is installed): required document
 * and package fields, SPDXID syntax and uniqueness, relationship endpoints, license expressions that
 * parse and whose LicenseRefs are all defined, and the containment tree.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ImageInventory } from "../inventory/types.js";
import { knownLicenseId, type LicenseNode, parseLicenseExpression } from "./licenses.js";
import { idString, type SpdxDocument, type SpdxPackage, toSpdx } from "./spdx.js";
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

const SPDXID = /^SPDXRef-[A-Za-z0-9.-]+$/;
const PURPOSES = new Set([
  "APPLICATION",
  "FRAMEWORK",
  "LIBRARY",
  "CONTAINER",
  "OPERATING-SYSTEM",
  "DEVICE",
  "FIRMWARE",
  "SOURCE",
  "ARCHIVE",
  "FILE",
  "INSTALL",
  "OTHER",
]);

// The properties the SPDX 2.3 JSON schema allows (it forbids others).
const DOCUMENT_KEYS = new Set([
  "$schema",
  "SPDXID",
  "annotations",
  "comment",
  "creationInfo",
  "dataLicense",
  "externalDocumentRefs",
  "hasExtractedLicensingInfos",
  "name",
  "revieweds",
  "spdxVersion",
  "documentNamespace",
  "documentDescribes",
  "packages",
  "files",
  "snippets",
  "relationships",
]);
const PACKAGE_KEYS = new Set([
  "SPDXID",
  "annotations",
  "attributionTexts",
  "builtDate",
  "checksums",
  "comment",
  "copyrightText",
  "description",
  "downloadLocation",
  "externalRefs",
  "filesAnalyzed",
  "hasFiles",
  "homepage",
  "licenseComments",
  "licenseConcluded",
  "licenseDeclared",
  "licenseInfoFromFiles",
  "name",
  "originator",
  "packageFileName",
  "packageVerificationCode",
  "primaryPackagePurpose",
  "releaseDate",
  "sourceInfo",
  "summary",
  "supplier",
  "validUntilDate",
  "versionInfo",
]);

function onlyKeys(obj: object, allowed: Set<string>, where: string) {
  for (const k of Object.keys(obj))
    assert.ok(allowed.has(k), `${where}: property "${k}" is not in the schema`);
}

/** Every id and LicenseRef in a parsed expression is known / defined. */
function checkLicenseNode(node: LicenseNode, defined: Set<string>, where: string) {
  switch (node.kind) {
    case "license":
      assert.equal(knownLicenseId(node.id), node.id, `${where}: ${node.id}`);
      break;
    case "ref":
      assert.ok(defined.has(node.ref), `${where}: ${node.ref} is defined in hasExtractedLicensingInfos`);
      break;
    case "unknown":
      assert.fail(`${where}: ${node.text} is neither a known id nor a LicenseRef`);
      break;
    case "with":
      checkLicenseNode(node.license, defined, where);
      break;
    default:
      checkLicenseNode(node.left, defined, where);
      checkLicenseNode(node.right, defined, where);
  }
}

function checkDocument(doc: SpdxDocument) {
  assert.equal(doc.spdxVersion, "SPDX-2.3");
  assert.equal(doc.dataLicense, "CC0-1.0");
  assert.equal(doc.SPDXID, "SPDXRef-DOCUMENT");
  assert.ok(doc.name.length > 0);
  const ns = new URL(doc.documentNamespace);
  assert.ok(ns.protocol === "https:" && !doc.documentNamespace.includes("#"), "absolute URI without #");
  assert.match(doc.creationInfo.created, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.ok(doc.creationInfo.creators.length > 0);
  for (const c of doc.creationInfo.creators) assert.match(c, /^(Tool|Organization|Person): \S/);

  const defined = new Set<string>();
  for (const e of doc.hasExtractedLicensingInfos ?? []) {
    assert.match(e.licenseId, /^LicenseRef-[A-Za-z0-9.-]+$/);
    assert.ok(!defined.has(e.licenseId), `${e.licenseId} defined once`);
    assert.ok(e.extractedText.length > 0);
    defined.add(e.licenseId);
  }

  onlyKeys(doc, DOCUMENT_KEYS, "document");
  onlyKeys(
    doc.creationInfo,
    new Set(["comment", "created", "creators", "licenseListVersion"]),
    "creationInfo",
  );
  const ids = new Set<string>(["SPDXRef-DOCUMENT"]);
  for (const p of doc.packages) {
    onlyKeys(p, PACKAGE_KEYS, p.SPDXID);
    assert.match(p.SPDXID, SPDXID);
    assert.ok(!ids.has(p.SPDXID), `SPDXID ${p.SPDXID} is unique`);
    ids.add(p.SPDXID);
    assert.ok(p.name.length > 0);
    assert.equal(p.downloadLocation, "NOASSERTION");
    assert.equal(p.filesAnalyzed, false);
    assert.equal(p.licenseConcluded, "NOASSERTION");
    assert.ok(PURPOSES.has(p.primaryPackagePurpose), p.primaryPackagePurpose);
    if (p.licenseDeclared !== "NOASSERTION" && p.licenseDeclared !== "NONE") {
      const node = parseLicenseExpression(p.licenseDeclared);
      assert.ok(node, `${p.SPDXID}: licenseDeclared ${p.licenseDeclared} parses`);
      checkLicenseNode(node, defined, p.SPDXID);
    }
    for (const r of p.externalRefs ?? []) {
      assert.equal(r.referenceCategory, "PACKAGE-MANAGER");
      assert.equal(r.referenceType, "purl");
      assert.match(r.referenceLocator, /^pkg:[a-z][a-z0-9.+-]*\//);
    }
    for (const a of p.annotations ?? []) {
      assert.equal(a.annotationType, "OTHER");
      assert.match(a.annotator, /^Tool: /);
      assert.equal(a.annotationDate, doc.creationInfo.created);
      assert.match(a.comment, /^shipshape:[a-z_]+(:[A-Za-z0-9_.-]+)*: /);
    }
    for (const c of p.checksums ?? []) assert.match(c.checksumValue, /^[0-9a-f]{64}$/);
  }
  // Every defined LicenseRef is used.
  const used = doc.packages.map((p) => p.licenseDeclared).join(" ");
  for (const id of defined)
    assert.ok(new RegExp(`(^|[ (])${id.replace(/\./g, "\\.")}($|[ )])`).test(used), id);

  const parent = new Map<string, string>();
  let describes = 0;
  for (const r of doc.relationships) {
    assert.ok(ids.has(r.spdxElementId), `relationship from ${r.spdxElementId} resolves`);
    assert.ok(ids.has(r.relatedSpdxElement), `relationship to ${r.relatedSpdxElement} resolves`);
    if (r.relationshipType === "DESCRIBES") {
      describes++;
      assert.equal(r.spdxElementId, "SPDXRef-DOCUMENT");
      assert.equal(r.relatedSpdxElement, "SPDXRef-Image");
    } else {
      assert.equal(r.relationshipType, "CONTAINS");
      assert.ok(!parent.has(r.relatedSpdxElement), `${r.relatedSpdxElement} is contained once`);
      parent.set(r.relatedSpdxElement, r.spdxElementId);
    }
  }
  assert.equal(describes, 1);
  for (const p of doc.packages) {
    let at = p.SPDXID;
    for (let steps = 0; at !== "SPDXRef-Image"; steps++) {
      assert.ok(steps < doc.packages.length, `${p.SPDXID}: no cycle`);
      at = parent.get(at) as string;
      assert.ok(at, `${p.SPDXID} is reachable from the image`);
    }
  }
}

const pkg = (doc: SpdxDocument, name: string) => {
  const found = doc.packages.filter((p) => p.name === name);
  assert.ok(found.length > 0, name);
  return found as [SpdxPackage, ...SpdxPackage[]];
};
const annotation = (p: SpdxPackage, name: string) =>
  p.annotations?.find((a) => a.comment.startsWith(`${name}: `))?.comment.slice(name.length + 2);
const children = (doc: SpdxDocument, id: string) =>
  doc.relationships
    .filter((r) => r.spdxElementId === id && r.relationshipType === "CONTAINS")
    .map((r) => r.relatedSpdxElement);

describe("toSpdx: structure", () => {
  for (const f of FIXTURES) {
    test(`${f.name}: valid 2.3 shape, unique SPDXIDs, resolvable relationships`, () => {
      checkDocument(toSpdx(f.image, f.inventory, TOOL, NOW));
    });
    test(`${f.name}: deterministic, and independent of input order`, () => {
      const a = JSON.stringify(toSpdx(f.image, f.inventory, TOOL, NOW));
      assert.equal(JSON.stringify(toSpdx(f.image, f.inventory, TOOL, NOW)), a);
      for (const seed of [4, 5, 6]) {
        const inv: ImageInventory = { ...f.inventory, packages: shuffled(f.inventory.packages, seed) };
        assert.equal(JSON.stringify(toSpdx(f.image, inv, TOOL, new Date(NOW))), a, `seed ${seed}`);
      }
    });
  }
});

describe("toSpdx: content", () => {
  const doc = toSpdx(nodeAppImage, nodeAppInventory, TOOL, NOW);

  test("document: creator, creation time, namespace naming the image and ending in a UUID", () => {
    assert.deepEqual(doc.creationInfo, {
      created: "2024-05-01T12:34:56Z",
      creators: ["Tool: shipshape-0.1.0"],
    });
    assert.equal(doc.name, "127.0.0.1:5000/node-app:1.0");
    assert.match(
      doc.documentNamespace,
      /^https:\/\/spdx\.org\/spdxdocs\/shipshape\/127\.0\.0\.1-5000-node-app-1\.0-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.match(doc.comment ?? "", /invalid JSON/);
  });

  test("the namespace changes with the content, time and tool", () => {
    const namespaces = [
      doc,
      toSpdx(nodeAppImage, nodeAppInventory, TOOL, new Date("2024-05-02T00:00:00Z")),
      toSpdx(nodeAppImage, nodeAppInventory, { ...TOOL, version: "0.2.0" }, NOW),
      toSpdx(nodeAppImage, { ...nodeAppInventory, packages: nodeAppInventory.packages.slice(2) }, TOOL, NOW),
    ].map((d) => d.documentNamespace);
    assert.equal(new Set(namespaces).size, 4);
  });

  test("the image: CONTAINER with the oci purl and the manifest digest as checksum", () => {
    const image = doc.packages[0] as SpdxPackage;
    assert.equal(image.SPDXID, "SPDXRef-Image");
    assert.equal(image.primaryPackagePurpose, "CONTAINER");
    assert.equal(image.versionInfo, nodeAppImage.digest);
    assert.deepEqual(image.checksums, [{ algorithm: "SHA256", checksumValue: "e".repeat(64) }]);
    assert.match(
      image.externalRefs?.[0]?.referenceLocator ?? "",
      /^pkg:oci\/node-app@sha256:e{64}\?arch=amd64&/,
    );
  });

  test("the OS contains the deb packages; the image contains the OS and the rest", () => {
    const os = pkg(doc, "debian")[0];
    assert.equal(os.SPDXID, "SPDXRef-OperatingSystem");
    assert.equal(os.primaryPackagePurpose, "OPERATING-SYSTEM");
    assert.equal(os.versionInfo, "12");
    const osKids = children(doc, os.SPDXID);
    assert.equal(osKids.length, 4);
    assert.ok(osKids.every((id) => id.startsWith("SPDXRef-Package-deb-")));
    const imageKids = children(doc, "SPDXRef-Image");
    assert.equal(imageKids[0], os.SPDXID);
    assert.ok(imageKids.every((id) => !id.startsWith("SPDXRef-Package-deb-")));
  });

  test("readable SPDXIDs; the same package in two files gets two hashed IDs", () => {
    assert.equal(pkg(doc, "@babel/code-frame")[0].SPDXID, "SPDXRef-Package-npm-babel-code-frame-7.12.13");
    assert.equal(pkg(doc, "zlib1g")[0].SPDXID, "SPDXRef-Package-deb-zlib1g-1-1.2.13.dfsg-1");
    const lodash = pkg(doc, "lodash").map((p) => p.SPDXID);
    assert.equal(lodash.length, 2);
    for (const id of lodash) assert.match(id, /^SPDXRef-Package-npm-lodash-4\.17\.15-[0-9a-f]{8}$/);
    assert.notEqual(lodash[0], lodash[1]);
  });

  test("licenseDeclared: SPDX expressions, unknown texts as defined LicenseRefs, NOASSERTION when none", () => {
    const declared = (name: string) => pkg(doc, name)[0].licenseDeclared;
    assert.equal(declared("libc6"), "GPL-2.0-or-later AND LGPL-2.1-or-later");
    assert.equal(declared("base-files"), "GPL-2.0-or-later");
    assert.equal(declared("tar"), "LicenseRef-GPL-3-plus AND LicenseRef-GPL-2-plus");
    assert.equal(declared("ws"), "(MIT OR Apache-2.0) AND LicenseRef-BSD");
    assert.equal(declared("moment"), "MIT OR Apache-2.0");
    assert.equal(declared("marked"), "LicenseRef-SEE-LICENSE-IN-LICENSE.md");
    assert.equal(declared("mixin-deep"), "LicenseRef-Proprietary");
    assert.equal(declared("org.apache.logging.log4j:log4j-core"), "LicenseRef-Apache-License-Version-2.0");
    assert.equal(declared("stdlib"), "NOASSERTION");
    assert.deepEqual(
      doc.hasExtractedLicensingInfos?.map((e) => [e.licenseId, e.extractedText]),
      [
        ["LicenseRef-Apache-License-Version-2.0", "Apache License, Version 2.0"],
        ["LicenseRef-BSD", "BSD"],
        ["LicenseRef-GPL-2-plus", "GPL-2+"],
        ["LicenseRef-GPL-3-plus", "GPL-3+"],
        ["LicenseRef-Proprietary", "LicenseRef-Proprietary"],
        ["LicenseRef-SEE-LICENSE-IN-LICENSE.md", "SEE LICENSE IN LICENSE.md"],
      ],
    );
  });

  test("license texts that map to the same LicenseRef are told apart by a hash", () => {
    const base = nodeAppInventory.packages[5];
    assert.ok(base);
    const inv: ImageInventory = {
      packages: [
        { ...base, name: "a", purl: "pkg:npm/a@1", licenses: ["Foo License"] },
        { ...base, name: "b", purl: "pkg:npm/b@1", licenses: ["Foo-License"] },
        { ...base, name: "c", purl: "pkg:npm/c@1", licenses: ["MIT OR Foo-License"] },
      ],
      warnings: [],
    };
    const d = toSpdx(nodeAppImage, inv, TOOL, NOW);
    checkDocument(d);
    const ids = d.hasExtractedLicensingInfos?.map((e) => e.licenseId) ?? [];
    assert.equal(ids.length, 2);
    for (const id of ids) assert.match(id, /^LicenseRef-Foo-License-[0-9a-f]{8}$/);
    assert.equal(pkg(d, "b")[0].licenseDeclared, pkg(d, "c")[0].licenseDeclared.replace("MIT OR ", ""));
  });

  test("purposes: APPLICATION for the Go main module and the Node.js runtime, LIBRARY otherwise", () => {
    const apps = doc.packages.filter((p) => p.primaryPackagePurpose === "APPLICATION").map((p) => p.name);
    assert.deepEqual(apps, ["github.com/evanw/esbuild", "node"]);
    const main = pkg(doc, "github.com/evanw/esbuild")[0];
    assert.deepEqual(
      children(doc, main.SPDXID).map((id) => doc.packages.find((p) => p.SPDXID === id)?.name),
      ["golang.org/x/sys", "stdlib"],
    );
  });

  test("source package and location in sourceInfo; layer facts as annotations", () => {
    const libc = pkg(doc, "libc6")[0];
    assert.equal(
      libc.sourceInfo,
      "built package from: glibc 2.36-9+deb12u7; package found in: var/lib/dpkg/status",
    );
    assert.equal(annotation(libc, "shipshape:layer:index"), "0");
    assert.equal(annotation(libc, "shipshape:layer:digest"), nodeAppImage.layers[0]?.digest);
    assert.equal(annotation(libc, "shipshape:layer:created_by"), "debootstrap --variant=minbase bookworm");
    assert.equal(
      libc.externalRefs?.[0]?.referenceLocator,
      "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12",
    );
  });

  test("alpine: the apk packages under the OS", () => {
    const d = toSpdx(alpineImage, alpineInventory, TOOL, NOW);
    assert.equal(children(d, "SPDXRef-OperatingSystem").length, 6);
    assert.equal(pkg(d, "scanelf")[0].licenseDeclared, "GPL-2.0-only AND LGPL-2.1+");
    assert.equal(d.hasExtractedLicensingInfos, undefined);
  });

  test("OS-less image: no OPERATING-SYSTEM package, binaries' modules under their main modules", () => {
    const d = toSpdx(scratchImage, scratchInventory, TOOL, NOW);
    assert.ok(d.packages.every((p) => p.primaryPackagePurpose !== "OPERATING-SYSTEM"));
    assert.equal(children(d, "SPDXRef-Image").length, 2);
    const server = pkg(d, "example.com/server")[0];
    assert.equal(children(d, server.SPDXID).length, 3);
    assert.equal(pkg(d, "golang.org/x/net").length, 2);
  });
});

describe("checkDocument catches what it is meant to catch", () => {
  const good = () => structuredClone(toSpdx(nodeAppImage, nodeAppInventory, TOOL, NOW));
  const broken: [string, (d: SpdxDocument) => void][] = [
    [
      "duplicate SPDXID",
      (d) => ((d.packages[3] as SpdxPackage).SPDXID = (d.packages[2] as SpdxPackage).SPDXID),
    ],
    ["SPDXID with a bad character", (d) => ((d.packages[2] as SpdxPackage).SPDXID = "SPDXRef-a_b")],
    [
      "dangling relationship",
      (d) => ((d.relationships[1] as { relatedSpdxElement: string }).relatedSpdxElement = "SPDXRef-x"),
    ],
    ["uncontained package", (d) => d.relationships.pop()],
    ["undefined LicenseRef", (d) => ((d.packages[2] as SpdxPackage).licenseDeclared = "LicenseRef-Nope")],
    ["unknown license id", (d) => ((d.packages[2] as SpdxPackage).licenseDeclared = "GPL-2")],
    ["unparsable expression", (d) => ((d.packages[2] as SpdxPackage).licenseDeclared = "MIT OR")],
  ];
  for (const [name, mutate] of broken) {
    test(name, () => {
      const d = good();
      mutate(d);
      assert.throws(() => checkDocument(d));
    });
  }
});

test("idString keeps letters, digits, '.' and '-' and folds the rest", () => {
  assert.equal(idString("@babel/code-frame"), "babel-code-frame");
  assert.equal(idString("1:2.3+dfsg~1"), "1-2.3-dfsg-1");
  assert.equal(idString("ünïcode name"), "n-code-name");
  assert.equal(idString("///"), "");
});
