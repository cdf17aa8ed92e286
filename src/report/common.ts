/**
 * What the report formats share: package order, which packages are OS packages or applications, the
 * image's OCI purl, the `shipshape:*` facts every package carries, and name-based UUIDs.
 */
import { createHash } from "node:crypto";
import { PackageURL } from "packageurl-js";
import type { Ecosystem, ImageIdentity, ImageInventory, InventoriedPackage } from "../inventory/types.js";

/** The tool named as the document's creator. */
export interface Tool {
  name: string;
  version: string;
}

/** The ecosystems whose packages belong to the operating system (listed under the OS component). */
export const OS_ECOSYSTEMS: ReadonlySet<string> = new Set<Ecosystem>(["apk", "deb", "rpm"]);

/**
 * Package property (value "true") marking a Go binary's main module. Such a module is reported as an
 * application, and the other Go modules read from the same binary (same `location`) hang under it.
 */
export const GO_MAIN_MODULE_PROPERTY = "goMainModule";

/** Order of ecosystems in every report: the order of `Ecosystem` in inventory/types.ts, then by name. */
const ECOSYSTEM_ORDER: readonly string[] = [
  "apk",
  "deb",
  "rpm",
  "npm",
  "pypi",
  "golang",
  "maven",
  "gem",
  "cargo",
  "composer",
  "nuget",
  "node",
];

/** Code-unit comparison: the same order in every locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareEcosystems(a: string, b: string): number {
  const ia = ECOSYSTEM_ORDER.indexOf(a);
  const ib = ECOSYSTEM_ORDER.indexOf(b);
  if (ia !== ib) return (ia < 0 ? ECOSYSTEM_ORDER.length : ia) - (ib < 0 ? ECOSYSTEM_ORDER.length : ib);
  return compareStrings(a, b);
}

/**
 * Packages by ecosystem, name, version, location; then purl, layer and finally the whole record, so
 * the order never depends on the input order.
 */
export function sortPackages(packages: readonly InventoriedPackage[]): InventoriedPackage[] {
  return [...packages].sort(
    (a, b) =>
      compareEcosystems(a.ecosystem, b.ecosystem) ||
      compareStrings(a.name, b.name) ||
      compareStrings(a.version, b.version) ||
      compareStrings(a.location, b.location) ||
      compareStrings(a.purl, b.purl) ||
      a.layer.index - b.layer.index ||
      compareStrings(JSON.stringify(a), JSON.stringify(b)),
  );
}

/** Application (a Go main module, the Node.js runtime) or library, as CycloneDX and SPDX call them. */
export function isApplication(pkg: InventoriedPackage): boolean {
  if (pkg.ecosystem === "node") return true;
  return pkg.ecosystem === "golang" && pkg.properties?.[GO_MAIN_MODULE_PROPERTY] === "true";
}

/** Parsed purl, or undefined when the extractor could not build a valid one. */
export function parsePurl(purl: string): PackageURL | undefined {
  if (!purl) return undefined;
  try {
    return PackageURL.fromString(purl);
  } catch {
    return undefined;
  }
}

/**
 * The parent of every package in the report tree: the OS for OS packages (when the OS is known), the
 * main module of the same Go binary for Go modules, else the image (undefined).
 */
export interface PackageTree {
  packages: InventoriedPackage[];
  /** Children of the OS node; empty when the image has no detected OS. */
  osChildren: InventoriedPackage[];
  /** Children of the image node besides the OS. */
  imageChildren: InventoriedPackage[];
  /** Go main module → the other modules of its binary. */
  appChildren: Map<InventoriedPackage, InventoriedPackage[]>;
}

export function packageTree(inventory: ImageInventory): PackageTree {
  const packages = sortPackages(inventory.packages);
  const mainByLocation = new Map<string, InventoriedPackage>();
  for (const p of packages) {
    if (p.ecosystem === "golang" && isApplication(p) && !mainByLocation.has(p.location)) {
      mainByLocation.set(p.location, p);
    }
  }
  const tree: PackageTree = { packages, osChildren: [], imageChildren: [], appChildren: new Map() };
  for (const p of packages) {
    const main = p.ecosystem === "golang" ? mainByLocation.get(p.location) : undefined;
    if (main && main !== p) {
      const list = tree.appChildren.get(main) ?? [];
      list.push(p);
      tree.appChildren.set(main, list);
    } else if (inventory.os && OS_ECOSYSTEMS.has(p.ecosystem)) {
      tree.osChildren.push(p);
    } else {
      tree.imageChildren.push(p);
    }
  }
  return tree;
}

/** "registry/repository" when known, else the reference as the user gave it. */
export function imageDisplayName(image: ImageIdentity): string {
  if (image.repository) return image.registry ? `${image.registry}/${image.repository}` : image.repository;
  return image.name;
}

/**
 * The image's purl (purl-spec type `oci`): the name is the last fragment of the repository, lower
 * case; the version is the manifest digest; `repository_url` is registry/repository without the
 * name's version; `arch` and `tag` as known. The digest is the platform's image manifest (not the
 * index), because that is what was analysed; the index digest is kept as a property.
 */
const TRANSPORT = /^(oci|oci-archive|docker-archive|docker|dir|containers-storage):(\/\/)?/;

export function imagePurl(image: ImageIdentity): string {
  let name: string;
  if (image.repository) {
    name = image.repository.slice(image.repository.lastIndexOf("/") + 1);
  } else {
    // "oci:./layout:alpine", "docker-archive:img.tar", "alpine:3.10": the last path fragment, no tag.
    const withoutTransport = image.name.replace(TRANSPORT, "");
    const last = withoutTransport.slice(withoutTransport.lastIndexOf("/") + 1);
    name = last.replace(/@.*$/, "").replace(/:[^:]*$/, "");
  }
  name = name.toLowerCase() || "image";
  const qualifiers: Record<string, string> = {};
  if (image.architecture) qualifiers.arch = image.architecture;
  if (image.repository) {
    qualifiers.repository_url = image.registry ? `${image.registry}/${image.repository}` : image.repository;
  }
  if (image.tag) qualifiers.tag = image.tag;
  return new PackageURL("oci", undefined, name, image.digest, qualifiers, undefined).toString();
}

export function platformOf(image: ImageIdentity): string {
  return [image.os, image.architecture, image.variant].filter(Boolean).join("/");
}

/**
 * The facts about one package that neither format has a field for, as [name, value] pairs in a fixed
 * order: CycloneDX `properties`, SPDX annotations. Names live in the `shipshape:` namespace.
 */
export function packageFacts(image: ImageIdentity, pkg: InventoriedPackage): [string, string][] {
  const facts: [string, string][] = [];
  const add = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== "") facts.push([`shipshape:${name}`, String(value)]);
  };
  add("ecosystem", pkg.ecosystem);
  add("location", pkg.location);
  add("layer:index", pkg.layer.index);
  add("layer:digest", pkg.layer.digest);
  add("layer:diff_id", image.layers[pkg.layer.index]?.diffId);
  add("layer:created_by", pkg.layer.createdBy);
  add("source:name", pkg.source?.name);
  add("source:version", pkg.source?.version);
  add("arch", pkg.arch);
  add("epoch", pkg.epoch);
  add("release", pkg.release);
  add("vendor", pkg.vendor);
  add("modularity_label", pkg.modularityLabel);
  const extra = Object.entries(pkg.properties ?? {}).sort(([a], [b]) => compareStrings(a, b));
  for (const [key, value] of extra) add(`property:${key}`, value);
  return facts;
}

/** Facts about the image itself, in the same namespace. */
export function imageFacts(image: ImageIdentity): [string, string][] {
  const facts: [string, string][] = [];
  const add = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== "") facts.push([`shipshape:image:${name}`, String(value)]);
  };
  add("reference", image.name);
  add("registry", image.registry);
  add("repository", image.repository);
  add("tag", image.tag);
  add("digest", image.digest);
  add("index_digest", image.indexDigest);
  add("platform", platformOf(image));
  add("created", image.created);
  add("layer_count", image.layers.length);
  for (const layer of image.layers) add("diff_id", layer.diffId);
  return facts;
}

/** Timestamps without milliseconds: "2024-05-01T12:00:00Z". */
export function isoSeconds(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Fixed namespace of shipshape's name-based UUIDs (itself a random v4 UUID). */
const UUID_NAMESPACE = Buffer.from("6f1c2d1e7b9a4c5e8e3f0a1b2c3d4e5f", "hex");

/** RFC 4122 §4.3 name-based UUID, version 5 (SHA-1), over `name` in shipshape's namespace. */
export function nameBasedUuid(name: string): string {
  const hash = createHash("sha1").update(UUID_NAMESPACE).update(name, "utf8").digest();
  const b = hash.subarray(0, 16);
  b[6] = ((b[6] as number) & 0x0f) | 0x50;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function shortHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 8);
}

/** Control characters (C0, DEL, C1) as \xNN, so image-supplied text cannot drive the terminal. */
export function escapeControls(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    out += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\x${code.toString(16).padStart(2, "0")}` : ch;
  }
  return out;
}
