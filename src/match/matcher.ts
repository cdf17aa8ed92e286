/**
 * The matching stage: a stored inventory × the vulnerability database → findings. OS packages are
 * looked up by the distribution's own identity (Debian and Ubuntu by source package and release,
 * Alpine by origin and branch, RPM distributions by package and source RPM within the release);
 * language packages by ecosystem and name. Nothing here pulls an image: re-matching after a
 * database update reads only the stored inventory.
 */
import type { ImageInventory, InventoriedPackage, OsRelease } from "../inventory/types.js";
import { schemeFor, schemeForEcosystem } from "../versioning/index.js";
import type { VersioningScheme } from "../versioning/scheme.js";
import type { AffectedMatch, VulnerabilityDatabase } from "../vulndb/database.js";
import type { Advisory, FixState } from "../vulndb/types.js";
import { evaluate } from "./ranges.js";
import { betterCvss, normalizedSeverity, preferredCvss } from "./severity.js";
import type { Finding, MatchResult } from "./types.js";

const LANGUAGE_ECOSYSTEMS: Record<string, string> = {
  npm: "npm",
  pypi: "PyPI",
  golang: "Go",
  cargo: "crates.io",
  gem: "RubyGems",
  composer: "Packagist",
  maven: "Maven",
  nuget: "NuGet",
  node: "Node.js",
};

/** The advisory ecosystem of an OS's packages, as distro feeds key them ("Debian:12", "Alpine:v3.10", …). */
export function osEcosystem(os: OsRelease | undefined): string | undefined {
  if (!os?.versionId) return undefined;
  const major = os.versionId.split(".")[0];
  const majorMinor = os.versionId.split(".").slice(0, 2).join(".");
  switch (os.id) {
    case "debian":
      return `Debian:${major}`;
    case "ubuntu":
      return `Ubuntu:${majorMinor}`;
    case "alpine":
      return `Alpine:v${majorMinor}`;
    case "almalinux":
      return `AlmaLinux:${major}`;
    case "rocky":
      return `Rocky Linux:${major}`;
    case "rhel":
      return `Red Hat:${major}`;
    default:
      return undefined;
  }
}

/**
 * Every key distro feeds may file this release under: osEcosystem's, and for Ubuntu also OSV's
 * "Ubuntu:22.04:LTS" (the OSV schema makes the ":LTS" suffix mandatory for LTS releases).
 */
function osEcosystemKeys(os: OsRelease | undefined): string[] {
  const key = osEcosystem(os);
  if (!key) return [];
  return os?.id === "ubuntu" ? [key, `${key}:LTS`] : [key];
}

interface Lookup {
  ecosystem: string;
  name: string;
  version: string;
}

/** The (ecosystem, name, version) keys under which feeds may list a package. */
function lookups(pkg: InventoriedPackage, osKeys: string[]): Lookup[] {
  const language = LANGUAGE_ECOSYSTEMS[pkg.ecosystem];
  if (language) return [{ ecosystem: language, name: pkg.name, version: pkg.version }];
  return osKeys.flatMap((ecosystem): Lookup[] => {
    switch (pkg.ecosystem) {
      case "deb":
        // Debian and Ubuntu track source packages and their versions (binNMU suffixes are not in the feeds).
        return [
          { ecosystem, name: pkg.source?.name ?? pkg.name, version: pkg.source?.version ?? pkg.version },
        ];
      case "apk":
        return [{ ecosystem, name: pkg.source?.name ?? pkg.name, version: pkg.version }];
      case "rpm": {
        const keys = [{ ecosystem, name: pkg.name, version: pkg.version }];
        if (pkg.source?.name && pkg.source.name !== pkg.name)
          keys.push({ ecosystem, name: pkg.source.name, version: pkg.version });
        return keys;
      }
      default:
        return [];
    }
  });
}

const CVE = /^CVE-\d{4}-\d+$/;

function vulnerabilityId(advisory: Advisory): string {
  if (CVE.test(advisory.id)) return advisory.id;
  return advisory.aliases.find((a) => CVE.test(a)) ?? advisory.id;
}

/** When sources disagree, the state that says most: a fix beats no fix; "affected" beats softer states. */
const STATE_RANK: Record<FixState, number> = {
  fixed: 6,
  affected: 5,
  postponed: 4,
  will_not_fix: 3,
  ignored: 2,
  end_of_life: 1,
  not_affected: 0,
};

export function matchInventory(inventory: ImageInventory, db: VulnerabilityDatabase): MatchResult {
  const warnings: string[] = [];
  const covered = db.ecosystems();
  const os = inventory.os;
  const osKey = osEcosystem(os);
  const osKeys = osEcosystemKeys(os);
  const osPackages = inventory.packages.filter((p) => !LANGUAGE_ECOSYSTEMS[p.ecosystem]);
  if (osPackages.length > 0) {
    if (!os)
      warnings.push(`the operating system is unknown: ${osPackages.length} OS packages were not checked`);
    else if (!osKeys.some((k) => covered.has(k))) {
      warnings.push(
        `no vulnerability data for ${os.prettyName ?? `${os.id} ${os.versionId ?? ""}`.trim()} (${osKey ?? os.id}): ` +
          `its ${osPackages.length} OS packages were not checked`,
      );
    }
  }
  const findings = new Map<string, Finding>();
  let unparsable = 0;
  for (const pkg of inventory.packages) {
    for (const key of lookups(pkg, osKeys)) {
      const scheme: VersioningScheme | undefined = schemeForEcosystem(key.ecosystem);
      // No version (a Go main module built from a checkout) means nothing to compare, not a parse failure.
      if (!scheme || key.version === "") continue;
      if (!scheme.isValid(key.version)) {
        unparsable++;
        continue;
      }
      for (const match of db.affected(key.ecosystem, key.name)) {
        // The verdict first: it needs only the entry, the withdrawn check reads the whole advisory.
        const verdict = verdictFor(match, key.version, scheme);
        if (!verdict || match.advisory.withdrawn) continue;
        record(findings, pkg, match, verdict, db);
      }
    }
  }
  if (unparsable > 0)
    warnings.push(
      `${unparsable} package versions could not be parsed by their ecosystem's rules and were not checked`,
    );
  const list = [...findings.values()].sort(
    (a, b) =>
      a.package.ecosystem.localeCompare(b.package.ecosystem) ||
      a.package.name.localeCompare(b.package.name) ||
      a.id.localeCompare(b.id),
  );
  return { findings: list, warnings };
}

function verdictFor(
  match: AffectedMatch,
  version: string,
  scheme: VersioningScheme,
): { state: FixState; fixed: string[] } | undefined {
  const entry = match.affected;
  if (entry.state === "not_affected") return undefined;
  if (entry.ranges.length === 0 && !entry.versions?.length) {
    // A distro's unfixed statement: the package is affected in every version until a fix exists.
    return entry.state ? { state: entry.state, fixed: [] } : undefined;
  }
  const verdict = evaluate(entry, version, schemeFor, scheme);
  if (!verdict.affected) return undefined;
  const fixed = verdict.fixed.length > 0 ? verdict.fixed : statedFix(entry.fixedVersions, version, scheme);
  return { state: fixed.length > 0 ? "fixed" : (entry.state ?? "affected"), fixed };
}

/** The first of the entry's separately stated fixed versions above the installed one (none: []). */
function statedFix(fixedVersions: string[] | undefined, version: string, scheme: VersioningScheme): string[] {
  const above = (fixedVersions ?? []).filter((v) => scheme.isValid(v) && scheme.compare(v, version) > 0);
  above.sort((a, b) => scheme.compare(a, b));
  return above.slice(0, 1);
}

function record(
  findings: Map<string, Finding>,
  pkg: InventoriedPackage,
  match: AffectedMatch,
  verdict: { state: FixState; fixed: string[] },
  db: VulnerabilityDatabase,
): void {
  const advisory = match.advisory;
  const id = vulnerabilityId(advisory);
  const key = `${pkg.purl}\0${pkg.location}\0${id}`;
  const existing = findings.get(key);
  const aliases = [advisory.id, ...advisory.aliases].filter((a) => a !== id);
  if (existing) {
    existing.aliases = [...new Set([...existing.aliases, ...aliases])].sort();
    existing.fixedVersions = [...new Set([...existing.fixedVersions, ...verdict.fixed])];
    if (STATE_RANK[verdict.state] > STATE_RANK[existing.state]) existing.state = verdict.state;
    if (!existing.sources.includes(advisory.source)) existing.sources.push(advisory.source);
    existing.vendorSeverity ??= advisory.vendorSeverity;
    // The newest CVSS version any source gives, as for a single advisory (severity.ts).
    existing.cvss = betterCvss(existing.cvss, preferredCvss(advisory.severities));
    existing.severity = normalizedSeverity(existing.vendorSeverity, existing.cvss);
    existing.summary ??= advisory.summary;
    existing.description ??= advisory.details;
    existing.links = [...new Set([...existing.links, ...advisory.references.map((r) => r.url)])];
    return;
  }
  // Advisories without scores borrow the CVE's from the enrichment source (NVD-style CVSS).
  const cvss = preferredCvss(advisory.severities) ?? (CVE.test(id) ? preferredCvss(db.cvss(id)) : undefined);
  findings.set(key, {
    id,
    aliases: [...new Set(aliases)].sort(),
    package: {
      name: pkg.name,
      version: pkg.version,
      ecosystem: pkg.ecosystem,
      purl: pkg.purl,
      location: pkg.location,
      source:
        pkg.source && (pkg.source.name !== pkg.name || pkg.source.version !== pkg.version)
          ? pkg.source
          : undefined,
    },
    layer: pkg.layer,
    state: verdict.state,
    fixedVersions: verdict.fixed,
    severity: normalizedSeverity(advisory.vendorSeverity, cvss),
    vendorSeverity: advisory.vendorSeverity,
    cvss,
    published: advisory.published,
    modified: advisory.modified,
    summary: advisory.summary,
    description: advisory.details,
    links: [...new Set(advisory.references.map((r) => r.url))],
    sources: [advisory.source],
  });
}
