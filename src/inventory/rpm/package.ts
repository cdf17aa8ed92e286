/**
 * From a parsed RPM header to an inventory {@link Package}, and the Package URL of an rpm package.
 *
 * Specifications: the header tags of rpm 4.18 (`include/rpm/rpmtag.h`), rpm's file naming
 * `name-version-release.arch.rpm` for SOURCERPM, and the purl-spec `rpm` type
 * (https://github.com/package-url/purl-spec/blob/main/PURL-TYPES.rst#rpm):
 * `pkg:rpm/<vendor>/<name>@<version>-<release>?arch=<arch>&epoch=<epoch>&distro=<distro>`.
 */
import { PackageURL } from "packageurl-js";
import type { OsRelease, Package } from "../types.js";
import { type RpmHeader, Tag } from "./header.js";

/** rpm writes "(none)" where a string tag was empty when the package was built. */
function clean(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  return t === "" || t === "(none)" ? undefined : t;
}

export interface SourceRpm {
  name: string;
  /** `version-release` of the source package (the source epoch is not recorded by rpm). */
  version: string;
}

/** Splits `name-version-release.src.rpm` (or `.nosrc.rpm`); undefined when it does not have that shape. */
export function parseSourceRpm(file: string): SourceRpm | undefined {
  let s = file.trim();
  if (!s.endsWith(".rpm")) return undefined;
  s = s.slice(0, -4);
  const dot = s.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const arch = s.slice(dot + 1);
  if (arch !== "src" && arch !== "nosrc") return undefined;
  s = s.slice(0, dot);
  const rel = s.lastIndexOf("-");
  if (rel <= 0) return undefined;
  const ver = s.lastIndexOf("-", rel - 1);
  if (ver <= 0 || ver === rel - 1 || rel === s.length - 1) return undefined;
  return { name: s.slice(0, ver), version: s.slice(ver + 1) };
}

/**
 * A provisional purl namespace guessed from the VENDOR tag, used until the analyzer knows the OS
 * ({@link finalizeRpmPackage} replaces it). Unknown vendors give no namespace.
 */
export function vendorNamespace(vendor: string | undefined): string | undefined {
  if (vendor === undefined) return undefined;
  const v = vendor.toLowerCase();
  const table: [RegExp, string][] = [
    [/red ?hat/, "redhat"],
    [/centos/, "centos"],
    [/fedora/, "fedora"],
    [/opensuse/, "opensuse"],
    [/suse/, "suse"],
    [/rocky/, "rocky"],
    [/almalinux/, "almalinux"],
    [/oracle/, "oracle"],
    [/amazon/, "amazon"],
    [/microsoft/, "microsoft"],
    [/vmware/, "vmware"],
  ];
  for (const [re, ns] of table) if (re.test(v)) return ns;
  return undefined;
}

/**
 * The purl namespace for packages of an OS: the vendor-style names of purl-spec and Trivy for the
 * distributions whose os-release ID differs from their vendor, otherwise the os-release ID itself.
 *
 * | os-release ID | namespace |
 * | --- | --- |
 * | rhel | redhat |
 * | ol | oracle |
 * | amzn | amazon |
 * | sles, sled, sles_sap, sle-micro, sle_hpc, suse | suse |
 * | opensuse, opensuse-leap, opensuse-tumbleweed, opensuse-microos … | opensuse |
 * | anything else (centos, fedora, rocky, almalinux, mariner, azurelinux, photon …) | the ID, lowercased |
 */
export function rpmPurlNamespace(os: Pick<OsRelease, "id">): string {
  const id = os.id.trim().toLowerCase();
  if (id === "rhel") return "redhat";
  if (id === "ol") return "oracle";
  if (id === "amzn") return "amazon";
  if (
    id === "suse" ||
    id.startsWith("sles") ||
    id.startsWith("sle-") ||
    id.startsWith("sle_") ||
    id === "sled"
  ) {
    return "suse";
  }
  if (id.startsWith("opensuse")) return "opensuse";
  return id;
}

/** The purl `distro` qualifier: `<os-release ID>-<VERSION_ID>` ("rhel-8.8", "sles-15.3"), or the ID alone. */
export function rpmDistroQualifier(os: Pick<OsRelease, "id" | "versionId">): string {
  const id = os.id.trim().toLowerCase();
  const v = os.versionId?.trim();
  return v ? `${id}-${v}` : id;
}

export interface RpmPurlParts {
  namespace?: string | undefined;
  name: string;
  version: string;
  release: string;
  arch?: string | undefined;
  epoch?: number | undefined;
  distro?: string | undefined;
}

/** Builds `pkg:rpm/...`; a zero epoch is left out (rpm compares a missing epoch as 0). */
export function rpmPurl(p: RpmPurlParts): string {
  const q: Record<string, string> = {};
  if (p.arch) q.arch = p.arch;
  if (p.epoch) q.epoch = String(p.epoch);
  if (p.distro) q.distro = p.distro;
  return new PackageURL(
    "rpm",
    p.namespace || undefined,
    p.name,
    `${p.version}-${p.release}`,
    Object.keys(q).length ? q : undefined,
    undefined,
  ).toString();
}

/**
 * Sets the purl namespace and `distro` qualifier of an rpm package from the image's OS (see
 * {@link rpmPurlNamespace} and {@link rpmDistroQualifier}); other packages are returned unchanged.
 * Without an OS the provisional vendor namespace stays. Returns a new object; the input is not modified.
 */
export function finalizeRpmPackage<T extends Package>(pkg: T, os: OsRelease | undefined): T {
  if (pkg.ecosystem !== "rpm" || os === undefined || !os.id) return pkg;
  const evr = pkg.version.replace(/^\d+:/, "");
  const release = pkg.release ?? "";
  const version = release && evr.endsWith(`-${release}`) ? evr.slice(0, -(release.length + 1)) : evr;
  const purl = rpmPurl({
    namespace: rpmPurlNamespace(os),
    name: pkg.name,
    version,
    release,
    arch: pkg.arch,
    epoch: pkg.epoch,
    distro: rpmDistroQualifier(os),
  });
  return { ...pkg, purl };
}

/** Release packages that name the distribution: package name → os-release ID. */
const RELEASE_PACKAGES: [RegExp, string][] = [
  [/^redhat-release(-server|-workstation|-client|-computenode)?$/, "rhel"],
  [/^(centos-release|centos-linux-release|centos-stream-release)$/, "centos"],
  [/^rocky-release$/, "rocky"],
  [/^almalinux-release$/, "almalinux"],
  [/^oraclelinux-release$/, "ol"],
  [/^fedora-release(-common)?$/, "fedora"],
  [/^(system-release|amazon-linux-release)$/, "amzn"],
  [/^sles-release$/, "sles"],
  [/^SLES_SAP-release$/, "sles_sap"],
  [/^openSUSE-release$/, "opensuse-leap"],
  [/^mariner-release$/, "mariner"],
  [/^azurelinux-release$/, "azurelinux"],
  [/^photon-release$/, "photon"],
];

/**
 * The OS implied by rpm packages, for images without an os-release file: the distribution's release
 * package (`redhat-release` 8.8 → rhel 8.8, `sles-release` 15.3 → sles 15.3, `mariner-release` 2.0 →
 * mariner 2.0, …). `system-release` counts as Amazon Linux only with an `amzn` release, and an
 * `openSUSE-release` with a date as version is Tumbleweed. Undefined when no release package is installed.
 */
export function osFromRpmPackages(packages: Package[]): OsRelease | undefined {
  for (const [re, id] of RELEASE_PACKAGES) {
    const p = packages.find((x) => x.ecosystem === "rpm" && re.test(x.name));
    if (p === undefined) continue;
    const release = p.release ?? "";
    if (id === "amzn" && !/amzn/.test(release)) continue;
    const evr = p.version.replace(/^\d+:/, "");
    const version = release && evr.endsWith(`-${release}`) ? evr.slice(0, -(release.length + 1)) : evr;
    const num = /^\d+(?:\.\d+)?/.exec(version)?.[0];
    if (id === "opensuse-leap" && num && /^\d{8}$/.test(num)) {
      return { id: "opensuse-tumbleweed", versionId: num, location: p.location };
    }
    const os: OsRelease = { id, location: p.location };
    if (num) os.versionId = num;
    return os;
  }
  return undefined;
}

export interface HeaderToPackageResult {
  package?: Package | undefined;
  /** Set when the header is a gpg-pubkey pseudo-package (skipped on purpose, no warning). */
  skipped?: string | undefined;
  warnings: string[];
}

/** Turns one header into a package. `location` is the database path, `id` the header number (for messages). */
export function headerToPackage(h: RpmHeader, location: string, id: number): HeaderToPackageResult {
  const warnings: string[] = [];
  const name = clean(h.getString(Tag.NAME));
  const version = clean(h.getString(Tag.VERSION));
  const release = clean(h.getString(Tag.RELEASE));
  if (name === undefined || version === undefined || release === undefined) {
    warnings.push(`${location}: header #${id} has no NAME, VERSION or RELEASE; skipped`);
    return { warnings };
  }
  // Imported public keys are stored as packages named gpg-pubkey (Trivy, Syft and rpm -qa --qf agree).
  if (name === "gpg-pubkey") return { skipped: `${name}-${version}-${release}`, warnings };

  const epoch = h.getNumber(Tag.EPOCH);
  const arch = clean(h.getString(Tag.ARCH));
  const vendor = clean(h.getString(Tag.VENDOR));
  const license = clean(h.getString(Tag.LICENSE));
  const modularityLabel = clean(h.getString(Tag.MODULARITYLABEL));
  const sourceRpm = clean(h.getString(Tag.SOURCERPM));
  const size = h.getNumber(Tag.LONGSIZE) ?? h.getNumber(Tag.SIZE);

  let source: Package["source"];
  if (sourceRpm !== undefined) {
    const s = parseSourceRpm(sourceRpm);
    if (s) source = s;
    else warnings.push(`${location}: ${name}: SOURCERPM "${sourceRpm}" is not name-version-release.src.rpm`);
  }

  const files = fileList(h, location, name, warnings);
  const properties: Record<string, string> = {};
  if (size !== undefined) properties.size = String(size);
  if (sourceRpm !== undefined) properties.sourceRpm = sourceRpm;

  const pkg: Package = {
    ecosystem: "rpm",
    name,
    version: `${epoch ? `${epoch}:` : ""}${version}-${release}`,
    purl: rpmPurl({ namespace: vendorNamespace(vendor), name, version, release, arch, epoch }),
    location,
  };
  if (source) pkg.source = source;
  if (arch !== undefined) pkg.arch = arch;
  if (epoch !== undefined) pkg.epoch = epoch;
  pkg.release = release;
  if (vendor !== undefined) pkg.vendor = vendor;
  if (modularityLabel !== undefined) pkg.modularityLabel = modularityLabel;
  if (license !== undefined) pkg.licenses = [license];
  if (files.length) pkg.files = files;
  if (Object.keys(properties).length) pkg.properties = properties;
  return { package: pkg, warnings };
}

/** DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or the legacy OLDFILENAMES; without the leading slash. */
function fileList(h: RpmHeader, location: string, name: string, warnings: string[]): string[] {
  const basenames = h.getStrings(Tag.BASENAMES);
  let paths: string[] = [];
  if (basenames !== undefined) {
    const dirnames = h.getStrings(Tag.DIRNAMES) ?? [];
    const dirindexes = h.getNumbers(Tag.DIRINDEXES) ?? [];
    if (dirindexes.length !== basenames.length) {
      warnings.push(
        `${location}: ${name}: ${basenames.length} BASENAMES but ${dirindexes.length} DIRINDEXES; file list dropped`,
      );
      return [];
    }
    paths = new Array(basenames.length);
    for (let i = 0; i < basenames.length; i++) {
      const dir = dirnames[dirindexes[i] as number];
      if (dir === undefined) {
        warnings.push(
          `${location}: ${name}: DIRINDEXES[${i}] = ${dirindexes[i]} is past ${dirnames.length} DIRNAMES`,
        );
        return [];
      }
      paths[i] = dir + basenames[i];
    }
  } else {
    paths = h.getStrings(Tag.OLDFILENAMES) ?? [];
  }
  const out: string[] = [];
  for (const p of paths) {
    const rel = p.replace(/^\/+/, "");
    if (rel !== "") out.push(rel);
  }
  return out;
}
