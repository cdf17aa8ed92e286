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
 *
 * Vulnerabilities (optional, `vulnerabilities` argument): the CycloneDX 1.6 `vulnerabilities[]` of a
 * scan, one entry per vulnerability id as Trivy merges them, `affects` listing the bom-ref of every
 * component the id was found in (each ref resolves to a component above; a finding whose package is
 * not in the inventory is left out and named in a `shipshape:warning` metadata property). See
 * `cdxVulnerabilities` for the fields. Without the argument the document is exactly the SBOM; with
 * an empty list it says "scanned, nothing found" (`vulnerabilities: []`).
 */
import type { ImageIdentity, ImageInventory, InventoriedPackage } from "../inventory/types.js";
import { scoreSeverity, vendorSeverity } from "../match/severity.js";
import type { Cvss, Finding, NormalizedSeverity } from "../match/types.js";
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
import {
  comparePackages,
  idSource,
  isoTimestamp,
  sortFindings,
  stripControlSequences,
} from "./findings-common.js";
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

export type CdxSeverity = "critical" | "high" | "medium" | "low" | "info" | "none" | "unknown";

export interface CdxSource {
  name?: string;
  url?: string;
}

export interface CdxRating {
  source?: CdxSource;
  score?: number;
  severity?: CdxSeverity;
  method?: "CVSSv2" | "CVSSv3" | "CVSSv31" | "CVSSv4" | "other";
  vector?: string;
}

export interface CdxVulnerability {
  id: string;
  source?: CdxSource;
  references?: { id: string; source: CdxSource }[];
  ratings?: CdxRating[];
  description?: string;
  detail?: string;
  recommendation?: string;
  advisories?: { url: string }[];
  published?: string;
  updated?: string;
  affects: { ref: string; versions: { version: string; status: "affected" }[] }[];
  properties?: CdxProperty[];
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
  vulnerabilities?: CdxVulnerability[];
}

/** purl types whose namespace CycloneDX (and Trivy) put in `group`: Maven groupId, npm scope, Composer vendor. */
const GROUP_TYPES = new Set(["maven", "npm", "composer"]);

export function toCycloneDx(
  image: ImageIdentity,
  inventory: ImageInventory,
  tool: Tool,
  now: Date = new Date(),
  vulnerabilities?: readonly Finding[],
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
  const warnings = [...inventory.warnings];
  let vulns: CdxVulnerability[] | undefined;
  if (vulnerabilities) {
    const built = cdxVulnerabilities(vulnerabilities, tree.packages, pkgRefs);
    vulns = built.vulnerabilities;
    warnings.push(...built.warnings);
  }
  if (warnings.length > 0) {
    metadata.properties = warnings.map((value) => ({ name: "shipshape:warning", value }));
  }

  const body = vulns
    ? { metadata, components, dependencies, vulnerabilities: vulns }
    : { metadata, components, dependencies };
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

const CDX_SEVERITY: Record<NormalizedSeverity, CdxSeverity> = {
  critical: "critical",
  high: "high",
  medium: "medium",
  low: "low",
  negligible: "info",
  unknown: "unknown",
};

const CVSS_METHOD: Record<Cvss["version"], NonNullable<CdxRating["method"]>> = {
  "2.0": "CVSSv2",
  "3.0": "CVSSv3",
  "3.1": "CVSSv31",
  "4.0": "CVSSv4",
};

/** What a fix state recommends, per package. */
function recommendationFor(f: Finding): string {
  const name = f.package.name;
  switch (f.state) {
    case "fixed":
      return f.fixedVersions.length > 0
        ? `Upgrade ${name} to ${f.fixedVersions.join(" or ")}`
        : `Upgrade ${name} to a fixed version`;
    case "will_not_fix":
      return `${name}: the distribution will not fix this`;
    case "postponed":
      return `${name}: the distribution has postponed the fix`;
    case "end_of_life":
      return `${name}: the release is end of life; no fix will be published`;
    case "ignored":
      return `${name}: the distribution ignores this (minor issue)`;
    default:
      return `${name}: no fixed version yet`;
  }
}

/**
 * CycloneDX 1.6 vulnerabilities from findings: one entry per id (first seen in report order: severity,
 * package, id), with
 * - `source`: the id's publisher (CVE → NVD, GHSA → GitHub, GO → Go, …), else the feed that reported it;
 * - `references`: the aliases, each with its own publisher;
 * - `ratings`: each distinct CVSS (source, method CVSSv2/CVSSv3/CVSSv31/CVSSv4, score, vector, and the
 *   score's band as severity), and the vendor's rating (`method: "other"`) when a feed gave one;
 *   negligible is CycloneDX's "info";
 * - `description` (the feed's summary), `detail` (its description), `recommendation` ("Upgrade X to
 *   Y", or what the distribution says when there is no fix), `advisories` (the feed's links),
 *   `published` / `updated` as RFC 3339 timestamps;
 * - `affects`: every component the id was found in, `versions: [{version, status: "affected"}]`;
 * - `properties`: `shipshape:fix_state` per distinct state, `shipshape:source` per reporting feed.
 * Findings are matched to components by purl and location (then purl alone, then ecosystem, name,
 * version and location); a finding with no component is left out and reported as a warning.
 */
export function cdxVulnerabilities(
  findings: readonly Finding[],
  packages: readonly InventoriedPackage[],
  refs: ReadonlyMap<InventoriedPackage, string>,
): { vulnerabilities: CdxVulnerability[]; warnings: string[] } {
  const byKey = new Map<string, InventoriedPackage[]>();
  const index = (key: string, p: InventoriedPackage) => byKey.set(key, [...(byKey.get(key) ?? []), p]);
  for (const p of packages) {
    if (p.purl) {
      index(`purl+location\0${p.purl}\0${p.location}`, p);
      index(`purl\0${p.purl}`, p);
    }
    index(`identity\0${p.ecosystem}\0${p.name}\0${p.version}\0${p.location}`, p);
  }
  const refFor = (f: Finding): string | undefined => {
    const keys = [
      ...(f.package.purl
        ? [`purl+location\0${f.package.purl}\0${f.package.location}`, `purl\0${f.package.purl}`]
        : []),
      `identity\0${f.package.ecosystem}\0${f.package.name}\0${f.package.version}\0${f.package.location}`,
    ];
    for (const key of keys) {
      const candidates = byKey.get(key);
      if (!candidates) continue;
      const p = candidates.find((c) => c.layer.index === f.layer.index) ?? candidates[0];
      if (p) return refs.get(p);
    }
    return undefined;
  };

  const groups = new Map<string, Finding[]>();
  for (const f of sortFindings(findings)) groups.set(f.id, [...(groups.get(f.id) ?? []), f]);

  const warnings: string[] = [];
  const vulnerabilities: CdxVulnerability[] = [];
  for (const [id, group] of groups) {
    const affects = new Map<string, Set<string>>();
    const resolved: Finding[] = [];
    for (const f of group) {
      const ref = refFor(f);
      if (!ref) {
        warnings.push(
          `${id}: ${f.package.name} ${f.package.version} (${f.package.location}) is not in the inventory; left out of affects`,
        );
        continue;
      }
      resolved.push(f);
      affects.set(ref, (affects.get(ref) ?? new Set()).add(f.package.version));
    }
    const first = resolved[0];
    if (!first) continue;
    const text = (t: string | undefined) => (t ? stripControlSequences(t).trim() || undefined : undefined);
    const summary = text(group.find((f) => f.summary)?.summary);
    const details = text(group.find((f) => f.description)?.description);
    const links = [...new Set(group.flatMap((f) => f.links))];
    const aliases = [...new Set(group.flatMap((f) => f.aliases))].filter((a) => a !== id).sort();
    const states = [...new Set(resolved.map((f) => f.state))].sort();
    const feeds = [...new Set(group.flatMap((f) => f.sources))].sort();
    const recommendations = [
      ...new Set([...resolved].sort((a, b) => comparePackages(a.package, b.package)).map(recommendationFor)),
    ];
    const vuln: CdxVulnerability = {
      id,
      source: idSource(id) ?? { name: feeds[0] ?? "shipshape", ...(links[0] ? { url: links[0] } : {}) },
      affects: [],
    };
    if (aliases.length > 0) {
      vuln.references = aliases.map((alias) => ({
        id: alias,
        source: idSource(alias) ?? { name: feeds[0] ?? "shipshape" },
      }));
    }
    const ratings = cdxRatings(group);
    if (ratings.length > 0) vuln.ratings = ratings;
    if (summary ?? details) vuln.description = (summary ?? details) as string;
    if (summary && details && details !== summary) vuln.detail = details;
    if (recommendations.length > 0) vuln.recommendation = recommendations.join("; ");
    if (links.length > 0) vuln.advisories = links.map((url) => ({ url }));
    const published = isoTimestamp(group.find((f) => f.published)?.published);
    const updated = isoTimestamp(group.find((f) => f.modified)?.modified);
    if (published) vuln.published = published;
    if (updated) vuln.updated = updated;
    vuln.affects = [...affects].map(([ref, versions]) => ({
      ref,
      versions: [...versions].map((version) => ({ version, status: "affected" as const })),
    }));
    vuln.properties = [
      ...states.map((value) => ({ name: "shipshape:fix_state", value })),
      ...feeds.map((value) => ({ name: "shipshape:source", value })),
    ];
    vulnerabilities.push(vuln);
  }
  return { vulnerabilities, warnings };
}

function cdxRatings(group: readonly Finding[]): CdxRating[] {
  const ratings = new Map<string, CdxRating>();
  for (const f of group) {
    const c = f.cvss;
    if (c) {
      const rating: CdxRating = {
        source: { name: c.source },
        method: CVSS_METHOD[c.version],
        vector: c.vector,
      };
      if (c.score !== undefined && Number.isFinite(c.score)) {
        rating.score = c.score;
        rating.severity = c.score === 0 ? "none" : CDX_SEVERITY[scoreSeverity(c.score)];
      }
      ratings.set(JSON.stringify(rating), rating);
    }
    const vendor = vendorSeverity(f.vendorSeverity);
    if (vendor) {
      const rating: CdxRating = {
        source: { name: f.sources[0] ?? "vendor" },
        severity: CDX_SEVERITY[vendor],
        method: "other",
      };
      ratings.set(JSON.stringify(rating), rating);
    }
  }
  return [...ratings.values()];
}
