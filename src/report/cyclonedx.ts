/**
 * CycloneDX 1.6 JSON (https://cyclonedx.org/docs/1.6/json/) of one image's inventory.
 *
 * Shape, following what Trivy emits for an image: `metadata.component` is the image (`container`,
 * purl type `oci`); the OS is an `operating-system` component; every package is a `library`
 * component, except a Go binary's main module and the Node.js runtime, which are `application`s.
 * `dependencies` is the containment tree: image → OS and the non-OS packages, OS → its packages,
 * Go main module → the other modules of the same binary; every component has an entry, empty when it
 * has no children (as the specification asks). Facts without a CycloneDX field (layer, location,
 * source package, …) are `properties` in the `shipshape:` namespace.
 *
 * Deterministic: components are ordered by ecosystem, name, version, location; the serial number is a
 * name-based UUID (v5) of the document's content, which includes the image digest, the tool and the
 * timestamp. The same inventory rendered with the same `now` gives byte-identical output (diffable,
 * cacheable, testable); a different inventory, tool version or time gives a different serial number,
 * so two documents with the same serial number and `version: 1` never differ.
 */
import type { ImageIdentity, ImageInventory, InventoriedPackage } from "../inventory/types.js";
import {
  imageDisplayName,
  imageFacts,
  imagePurl,
  isApplication,
  isoSeconds,
  nameBasedUuid,
  packageFacts,
  packageTree,
  parsePurl,
  type Tool,
} from "./common.js";
import { classifyLicense, cleanLicenses, type LicenseNode, render } from "./licenses.js";

export type { Tool } from "./common.js";

export interface CdxProperty {
  name: string;
  value: string;
}

export type CdxLicenseChoice = { license: { id: string } | { name: string } }[] | [{ expression: string }];

export type CdxComponentType = "container" | "operating-system" | "application" | "library";

export interface CdxComponent {
  "bom-ref": string;
  type: CdxComponentType;
  group?: string;
  name: string;
  version?: string;
  description?: string;
  purl?: string;
  licenses?: CdxLicenseChoice;
  properties?: CdxProperty[];
}

export interface CdxDependency {
  ref: string;
  dependsOn: string[];
}

export interface CycloneDxBom {
  $schema: string;
  bomFormat: "CycloneDX";
  specVersion: "1.6";
  serialNumber: string;
  version: 1;
  metadata: {
    timestamp: string;
    tools: { components: { type: "application"; name: string; version: string }[] };
    component: CdxComponent;
    properties?: CdxProperty[];
  };
  components: CdxComponent[];
  dependencies: CdxDependency[];
}

/** purl types whose namespace CycloneDX (and Trivy) put in `group`: Maven groupId, npm scope, Composer vendor. */
const GROUP_TYPES = new Set(["maven", "npm", "composer"]);

export function toCycloneDx(
  image: ImageIdentity,
  inventory: ImageInventory,
  tool: Tool,
  now: Date = new Date(),
): CycloneDxBom {
  const tree = packageTree(inventory);
  const refs = new RefAllocator();

  const imageRef = refs.take(imagePurl(image));
  const imageComponent: CdxComponent = {
    "bom-ref": imageRef,
    type: "container",
    name: imageDisplayName(image),
    version: image.digest,
    purl: imagePurl(image),
    properties: imageFacts(image).map(([name, value]) => ({ name, value })),
  };

  const components: CdxComponent[] = [];
  let osRef: string | undefined;
  const os = inventory.os;
  if (os) {
    osRef = refs.take(`operating-system:${os.id}${os.versionId ? `@${os.versionId}` : ""}`);
    const props: CdxProperty[] = [{ name: "shipshape:os:location", value: os.location }];
    if (os.versionCodename) props.push({ name: "shipshape:os:codename", value: os.versionCodename });
    if (os.idLike?.length) props.push({ name: "shipshape:os:id_like", value: os.idLike.join(" ") });
    components.push({
      "bom-ref": osRef,
      type: "operating-system",
      name: os.id,
      ...(os.versionId ? { version: os.versionId } : {}),
      ...(os.prettyName ? { description: os.prettyName } : {}),
      properties: props,
    });
  }

  const pkgRefs = packageRefs(tree.packages, refs);
  for (const pkg of tree.packages) components.push(packageComponent(image, pkg, pkgRefs.get(pkg) as string));

  const refOf = (p: InventoriedPackage) => pkgRefs.get(p) as string;
  const dependencies: CdxDependency[] = [
    { ref: imageRef, dependsOn: [...(osRef ? [osRef] : []), ...tree.imageChildren.map(refOf)] },
  ];
  if (osRef) dependencies.push({ ref: osRef, dependsOn: tree.osChildren.map(refOf) });
  for (const pkg of tree.packages) {
    dependencies.push({ ref: refOf(pkg), dependsOn: (tree.appChildren.get(pkg) ?? []).map(refOf) });
  }

  const metadata: CycloneDxBom["metadata"] = {
    timestamp: isoSeconds(now),
    tools: { components: [{ type: "application", name: tool.name, version: tool.version }] },
    component: imageComponent,
  };
  if (inventory.warnings.length > 0) {
    metadata.properties = inventory.warnings.map((value) => ({ name: "shipshape:warning", value }));
  }

  const body = { metadata, components, dependencies };
  return {
    $schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: `urn:uuid:${nameBasedUuid(`cyclonedx\n${JSON.stringify(body)}`)}`,
    version: 1,
    ...body,
  };
}

/** Unique bom-refs: a second use of the same text gets "|2", "|3", … */
class RefAllocator {
  private readonly used = new Set<string>();
  take(base: string): string {
    let ref = base;
    for (let n = 2; this.used.has(ref); n++) ref = `${base}|${n}`;
    this.used.add(ref);
    return ref;
  }
}

/**
 * A package's bom-ref is its purl; when the same purl occurs more than once (the same package found in
 * several files) every occurrence gets "|<location>" appended, so the refs do not depend on order.
 */
function packageRefs(packages: InventoriedPackage[], refs: RefAllocator): Map<InventoriedPackage, string> {
  const purlCount = new Map<string, number>();
  for (const p of packages) if (p.purl) purlCount.set(p.purl, (purlCount.get(p.purl) ?? 0) + 1);
  const out = new Map<InventoriedPackage, string>();
  for (const p of packages) {
    const base = p.purl
      ? (purlCount.get(p.purl) ?? 0) > 1
        ? `${p.purl}|${p.location}`
        : p.purl
      : `${p.ecosystem}:${p.name}@${p.version}|${p.location}`;
    out.set(p, refs.take(base));
  }
  return out;
}

function packageComponent(image: ImageIdentity, pkg: InventoriedPackage, ref: string): CdxComponent {
  const purl = parsePurl(pkg.purl);
  let name = pkg.name;
  let group: string | undefined;
  if (purl?.namespace && GROUP_TYPES.has(purl.type)) {
    group = purl.namespace;
    name = purl.name;
  }
  const component: CdxComponent = {
    "bom-ref": ref,
    type: isApplication(pkg) ? "application" : "library",
    ...(group ? { group } : {}),
    name,
  };
  if (pkg.version) component.version = pkg.version;
  if (pkg.purl) component.purl = pkg.purl;
  const licenses = cdxLicenses(pkg.licenses);
  if (licenses) component.licenses = licenses;
  component.properties = packageFacts(image, pkg).map(([n, value]) => ({ name: n, value }));
  return component;
}

/**
 * CycloneDX holds either a list of licenses (each an SPDX `id` or a free-text `name`) or exactly one
 * SPDX `expression`. As Trivy does: when every string is valid SPDX and one of them is compound, they
 * become one expression joined by AND; otherwise each is an `id` when it is a known identifier and a
 * `name` (the original text) when not.
 */
export function cdxLicenses(raw: readonly string[] | undefined): CdxLicenseChoice | undefined {
  const list = uniqueBy(cleanLicenses(raw).map(classifyLicense), (l) =>
    l.kind === "id" ? l.id : l.kind === "expression" ? l.expression : `name:${l.name}`,
  );
  if (list.length === 0) return undefined;
  if (list.some((l) => l.kind === "expression") && list.every((l) => l.kind !== "name")) {
    const nodes: LicenseNode[] = list.map((l) =>
      l.kind === "id" ? { kind: "license", id: l.id, plus: false } : (l.node as LicenseNode),
    );
    const joined = nodes.reduce((left, right) => ({ kind: "and", left, right }));
    return [{ expression: render(joined) }];
  }
  return list.map((l) => ({
    license: l.kind === "id" ? { id: l.id } : { name: l.kind === "expression" ? l.expression : l.name },
  }));
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
