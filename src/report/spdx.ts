/**
 * SPDX 2.3 JSON (https://spdx.github.io/spdx-spec/v2.3/) of one image's inventory.
 *
 * The document DESCRIBES the image package (purpose CONTAINER, purl type `oci`, the manifest digest as
 * checksum); the image CONTAINS the OS package (OPERATING-SYSTEM) and the non-OS packages, the OS
 * CONTAINS its packages, and a Go binary's main module (APPLICATION, like the Node.js runtime)
 * CONTAINS the other modules of the same binary — the same tree as the CycloneDX output.
 *
 * Every package: `downloadLocation` and `licenseConcluded` NOASSERTION (a scanner draws no
 * conclusions), `filesAnalyzed: false` (so no verification code is due), `licenseDeclared` a valid
 * expression built from what the package declares — identifiers not on the SPDX list become
 * `LicenseRef-…` defined in `hasExtractedLicensingInfos` with the original text — or NOASSERTION when
 * it declares nothing. Layer, location and other facts are annotations (`shipshape:…: value`, the
 * names of the CycloneDX properties).
 *
 * Deterministic: SPDXIDs are derived from the packages (readable, disambiguated by a content hash), the
 * document namespace ends in a name-based UUID of the document's content (image digest, tool,
 * creation time included): unique per document version as SPDX requires, reproducible for a fixed
 * `now`.
 */
import type { ImageIdentity, ImageInventory, InventoriedPackage } from "../inventory/types.js";
import {
  imageDisplayName,
  imageFacts,
  imagePurl,
  isApplication,
  isoSeconds,
  nameBasedUuid,
  OS_ECOSYSTEMS,
  packageFacts,
  packageTree,
  shortHash,
  type Tool,
} from "./common.js";
import { cleanLicenses, type LicenseNode, parseLicenseExpression, render } from "./licenses.js";

export type SpdxPurpose = "CONTAINER" | "OPERATING-SYSTEM" | "APPLICATION" | "LIBRARY";

export interface SpdxAnnotation {
  annotationDate: string;
  annotationType: "OTHER";
  annotator: string;
  comment: string;
}

export interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  downloadLocation: "NOASSERTION";
  filesAnalyzed: false;
  licenseConcluded: "NOASSERTION";
  licenseDeclared: string;
  checksums?: { algorithm: "SHA256"; checksumValue: string }[];
  sourceInfo?: string;
  description?: string;
  externalRefs?: { referenceCategory: "PACKAGE-MANAGER"; referenceType: "purl"; referenceLocator: string }[];
  primaryPackagePurpose: SpdxPurpose;
  annotations?: SpdxAnnotation[];
}

export interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: "DESCRIBES" | "CONTAINS";
  relatedSpdxElement: string;
}

export interface SpdxExtractedLicense {
  licenseId: string;
  extractedText: string;
  name: string;
}

export interface SpdxDocument {
  spdxVersion: "SPDX-2.3";
  dataLicense: "CC0-1.0";
  SPDXID: "SPDXRef-DOCUMENT";
  name: string;
  documentNamespace: string;
  comment?: string;
  creationInfo: { created: string; creators: string[] };
  packages: SpdxPackage[];
  relationships: SpdxRelationship[];
  hasExtractedLicensingInfos?: SpdxExtractedLicense[];
}

const IMAGE_ID = "SPDXRef-Image";
const OS_ID = "SPDXRef-OperatingSystem";
const DOCUMENT_ID = "SPDXRef-DOCUMENT";

export function toSpdx(
  image: ImageIdentity,
  inventory: ImageInventory,
  tool: Tool,
  now: Date = new Date(),
): SpdxDocument {
  const created = isoSeconds(now);
  const annotator = `Tool: ${tool.name}-${tool.version}`;
  const annotate = (facts: [string, string][]): SpdxAnnotation[] =>
    facts.map(([name, value]) => ({
      annotationDate: created,
      annotationType: "OTHER",
      annotator,
      comment: `${name}: ${value}`,
    }));

  const tree = packageTree(inventory);
  const licenseTerms = tree.packages.map((p) => licenseTermsOf(p.licenses));
  const licenseRefs = allocateLicenseRefs(licenseTerms.flat());

  const imagePackage: SpdxPackage = {
    SPDXID: IMAGE_ID,
    name: imageDisplayName(image),
    versionInfo: image.digest,
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: "NOASSERTION",
    externalRefs: [purlRef(imagePurl(image))],
    primaryPackagePurpose: "CONTAINER",
    annotations: annotate(imageFacts(image)),
  };
  const sha256 = /^sha256:([0-9a-f]{64})$/.exec(image.digest);
  if (sha256) imagePackage.checksums = [{ algorithm: "SHA256", checksumValue: sha256[1] as string }];

  const packages: SpdxPackage[] = [imagePackage];
  const relationships: SpdxRelationship[] = [
    { spdxElementId: DOCUMENT_ID, relationshipType: "DESCRIBES", relatedSpdxElement: IMAGE_ID },
  ];
  const contains = (parent: string, child: string) =>
    relationships.push({ spdxElementId: parent, relationshipType: "CONTAINS", relatedSpdxElement: child });

  const os = inventory.os;
  if (os) {
    const facts: [string, string][] = [["shipshape:os:location", os.location]];
    if (os.versionCodename) facts.push(["shipshape:os:codename", os.versionCodename]);
    if (os.idLike?.length) facts.push(["shipshape:os:id_like", os.idLike.join(" ")]);
    packages.push({
      SPDXID: OS_ID,
      name: os.id,
      ...(os.versionId ? { versionInfo: os.versionId } : {}),
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      licenseConcluded: "NOASSERTION",
      licenseDeclared: "NOASSERTION",
      ...(os.prettyName ? { description: os.prettyName } : {}),
      primaryPackagePurpose: "OPERATING-SYSTEM",
      annotations: annotate(facts),
    });
    contains(IMAGE_ID, OS_ID);
  }

  const ids = packageIds(tree.packages);
  tree.packages.forEach((pkg, i) => {
    const terms = licenseTerms[i] as LicenseNode[];
    const declared =
      terms.length === 0
        ? "NOASSERTION"
        : render(
            terms.reduce((left, right) => ({ kind: "and", left, right })),
            (text) => licenseRefs.get(text) as string,
          );
    const sourceInfo: string[] = [];
    if (pkg.source && OS_ECOSYSTEMS.has(pkg.ecosystem)) {
      sourceInfo.push(
        `built package from: ${[pkg.source.name, pkg.source.version].filter(Boolean).join(" ")}`,
      );
    }
    sourceInfo.push(`package found in: ${pkg.location}`);
    const spdxPackage: SpdxPackage = {
      SPDXID: ids.get(pkg) as string,
      name: pkg.name || "NOASSERTION",
      ...(pkg.version ? { versionInfo: pkg.version } : {}),
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      licenseConcluded: "NOASSERTION",
      licenseDeclared: declared,
      sourceInfo: sourceInfo.join("; "),
      ...(pkg.purl ? { externalRefs: [purlRef(pkg.purl)] } : {}),
      primaryPackagePurpose: isApplication(pkg) ? "APPLICATION" : "LIBRARY",
      annotations: annotate(packageFacts(image, pkg)),
    };
    packages.push(spdxPackage);
  });

  const idOf = (p: InventoriedPackage) => ids.get(p) as string;
  for (const p of tree.osChildren) contains(OS_ID, idOf(p));
  for (const p of tree.imageChildren) contains(IMAGE_ID, idOf(p));
  for (const p of tree.packages)
    for (const child of tree.appChildren.get(p) ?? []) contains(idOf(p), idOf(child));

  const extracted: SpdxExtractedLicense[] = [...licenseRefs]
    .map(([text, licenseId]) => ({ licenseId, extractedText: text, name: text }))
    .sort((a, b) => (a.licenseId < b.licenseId ? -1 : a.licenseId > b.licenseId ? 1 : 0));

  const body: Omit<SpdxDocument, "documentNamespace"> = {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: DOCUMENT_ID,
    name: image.name,
    ...(inventory.warnings.length > 0 ? { comment: `Warnings: ${inventory.warnings.join("; ")}` } : {}),
    creationInfo: { created, creators: [annotator] },
    packages,
    relationships,
    ...(extracted.length > 0 ? { hasExtractedLicensingInfos: extracted } : {}),
  };
  const uuid = nameBasedUuid(`spdx\n${JSON.stringify(body)}`);
  const documentNamespace = `https://spdx.org/spdxdocs/${idString(tool.name) || "shipshape"}/${idString(image.name) || "image"}-${uuid}`;
  const { spdxVersion, dataLicense, SPDXID, name, ...rest } = body;
  return { spdxVersion, dataLicense, SPDXID, name, documentNamespace, ...rest };
}

function purlRef(locator: string): NonNullable<SpdxPackage["externalRefs"]>[number] {
  return { referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: locator };
}

/** Text reduced to SPDX idstring characters (letters, digits, "." and "-"), runs of others as one "-". */
export function idString(text: string): string {
  return text
    .replace(/[^A-Za-z0-9.-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .replace(/-{2,}/g, "-");
}

/**
 * "SPDXRef-Package-<ecosystem>-<name>-<version>"; where two packages come out the same (one package
 * found in several files, or names that differ only in characters an SPDXID cannot hold) each gets a
 * hash of its purl, location and layer appended, so an ID does not depend on which others exist.
 */
function packageIds(packages: InventoriedPackage[]): Map<InventoriedPackage, string> {
  const base = (p: InventoriedPackage) =>
    ["SPDXRef-Package", p.ecosystem, idString(p.name), idString(p.version)].filter(Boolean).join("-");
  const count = new Map<string, number>();
  for (const p of packages) count.set(base(p), (count.get(base(p)) ?? 0) + 1);
  const used = new Set<string>([IMAGE_ID, OS_ID, DOCUMENT_ID]);
  const out = new Map<InventoriedPackage, string>();
  for (const p of packages) {
    let id = base(p);
    if ((count.get(id) ?? 0) > 1 || used.has(id)) {
      id = `${id}-${shortHash([p.purl, p.name, p.version, p.location, p.layer.digest].join("\n"))}`;
    }
    const first = id;
    for (let n = 2; used.has(id); n++) id = `${first}-${n}`;
    used.add(id);
    out.set(p, id);
  }
  return out;
}

/**
 * One package's declared licenses as expression trees (to be joined by AND). A string that is not an
 * expression becomes one `unknown` term, as do identifiers not on the list and LicenseRefs (which
 * must be defined in this document to be valid).
 */
function licenseTermsOf(licenses: readonly string[] | undefined): LicenseNode[] {
  const out: LicenseNode[] = [];
  const seen = new Set<string>();
  for (const text of cleanLicenses(licenses)) {
    const parsed = parseLicenseExpression(text);
    const node = parsed ? refsToUnknown(parsed) : ({ kind: "unknown", text } as const);
    const key = render(node, (t) => `\u0000${t}`);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(node);
    }
  }
  return out;
}

function refsToUnknown(node: LicenseNode): LicenseNode {
  switch (node.kind) {
    case "ref":
      return { kind: "unknown", text: node.ref };
    case "with":
      return { ...node, license: refsToUnknown(node.license) };
    case "and":
    case "or":
      return { ...node, left: refsToUnknown(node.left), right: refsToUnknown(node.right) };
    default:
      return node;
  }
}

function unknownTexts(node: LicenseNode, out: string[]): string[] {
  switch (node.kind) {
    case "unknown":
      out.push(node.text);
      break;
    case "with":
      unknownTexts(node.license, out);
      break;
    case "and":
    case "or":
      unknownTexts(node.left, out);
      unknownTexts(node.right, out);
      break;
  }
  return out;
}

const LICENSE_REF = /^LicenseRef-[A-Za-z0-9.-]+$/;

/**
 * text → LicenseRef id for every unrecognised license text in the document. The id is the text made
 * into an idstring ("Apache License, Version 2.0" → "LicenseRef-Apache-License-Version-2.0", "GPL-2+" →
 * "LicenseRef-GPL-2-plus"); texts
 * that collide all get a hash of their text appended, so the choice does not depend on order.
 */
function allocateLicenseRefs(terms: LicenseNode[]): Map<string, string> {
  const texts = [...new Set(terms.flatMap((t) => unknownTexts(t, [])))].sort();
  const base = (text: string) =>
    LICENSE_REF.test(text) ? text : `LicenseRef-${idString(text.replace(/\+/g, "-plus")) || shortHash(text)}`;
  const count = new Map<string, number>();
  for (const t of texts) count.set(base(t), (count.get(base(t)) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const t of texts) {
    const b = base(t);
    out.set(t, (count.get(b) ?? 0) > 1 ? `${b}-${shortHash(t)}` : b);
  }
  return out;
}
