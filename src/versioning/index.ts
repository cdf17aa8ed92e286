/**
 * The registry of versioning schemes: by scheme name (as stored in `AffectedRange.scheme`) and by
 * the OSV ecosystem an advisory's package lives in.
 */
import { apkVersioning } from "./apk.js";
import { composerVersioning } from "./composer.js";
import { dpkgVersioning } from "./dpkg.js";
import { goVersioning } from "./go.js";
import { mavenVersioning } from "./maven.js";
import { nugetVersioning } from "./nuget.js";
import { pep440Versioning } from "./pep440.js";
import { rpmVersioning } from "./rpm.js";
import { rubygemsVersioning } from "./rubygems.js";
import type { VersioningScheme } from "./scheme.js";
import { semverVersioning } from "./semver.js";

export { InvalidVersionError, type VersioningScheme } from "./scheme.js";

const SCHEMES: readonly VersioningScheme[] = [
  dpkgVersioning,
  apkVersioning,
  rpmVersioning,
  semverVersioning,
  goVersioning,
  pep440Versioning,
  mavenVersioning,
  rubygemsVersioning,
  composerVersioning,
  nugetVersioning,
];

const BY_NAME: ReadonlyMap<string, VersioningScheme> = new Map(SCHEMES.map((s) => [s.name, s]));

/** Every registered scheme. */
export function allSchemes(): readonly VersioningScheme[] {
  return SCHEMES;
}

/** The scheme of that name ("dpkg", "semver", …), or undefined. */
export function schemeFor(name: string): VersioningScheme | undefined {
  return BY_NAME.get(name);
}

/** Language ecosystems by their exact OSV name. */
const BY_ECOSYSTEM: ReadonlyMap<string, VersioningScheme> = new Map([
  ["npm", semverVersioning],
  ["crates.io", semverVersioning],
  ["Node.js", semverVersioning],
  ["Go", goVersioning],
  ["PyPI", pep440Versioning],
  ["Maven", mavenVersioning],
  ["RubyGems", rubygemsVersioning],
  ["Packagist", composerVersioning],
  ["NuGet", nugetVersioning],
]);

/** Distributions, keyed "Name" or "Name:release" ("Alpine:v3.19", "Debian:12", "Ubuntu:22.04:LTS"). */
const BY_DISTRO: ReadonlyMap<string, VersioningScheme> = new Map([
  ["Alpine", apkVersioning],
  ["Wolfi", apkVersioning],
  ["Chainguard", apkVersioning],
  ["Debian", dpkgVersioning],
  ["Ubuntu", dpkgVersioning],
  ["AlmaLinux", rpmVersioning],
  ["Rocky Linux", rpmVersioning],
  ["Red Hat", rpmVersioning],
  ["openSUSE", rpmVersioning],
  ["SUSE", rpmVersioning],
  ["Mageia", rpmVersioning],
  ["openEuler", rpmVersioning],
]);

/**
 * The scheme that orders versions in an advisory ecosystem (`AffectedPackage.ecosystem`, OSV
 * spelling, case-sensitive), or undefined for an ecosystem shipshape cannot order.
 */
export function schemeForEcosystem(ecosystem: string): VersioningScheme | undefined {
  const exact = BY_ECOSYSTEM.get(ecosystem);
  if (exact) return exact;
  const colon = ecosystem.indexOf(":");
  return BY_DISTRO.get(colon < 0 ? ecosystem : ecosystem.slice(0, colon));
}
