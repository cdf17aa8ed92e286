/**
 * What an image contains: the operating system and every installed package, each attributed to the
 * layer that introduced it. Package identity follows the Package URL specification (purl-spec).
 */

/** Package ecosystems, named like their purl types; "node" is the Node.js runtime installed outside a package manager. */
export type Ecosystem =
  | "apk"
  | "deb"
  | "rpm"
  | "npm"
  | "pypi"
  | "golang"
  | "maven"
  | "gem"
  | "cargo"
  | "composer"
  | "nuget"
  | "node";

export interface Package {
  ecosystem: Ecosystem;
  name: string;
  /**
   * The version as the ecosystem writes it: dpkg `[epoch:]upstream[-revision]`, apk `1.2.3-r4`,
   * rpm `[epoch:]version-release`, npm/cargo/Go SemVer, PEP 440, Maven, …
   */
  version: string;
  purl: string;
  /** The source package: dpkg `Source:`, apk origin, rpm source RPM (name and version-release). */
  source?: { name: string; version?: string | undefined } | undefined;
  arch?: string | undefined;
  /** rpm only: the epoch, release and vendor kept apart for distro matching. */
  epoch?: number | undefined;
  release?: string | undefined;
  vendor?: string | undefined;
  modularityLabel?: string | undefined;
  licenses?: string[] | undefined;
  /** The file the package was read from (status database, lock file, manifest, binary, archive). */
  location: string;
  /** Files the package owns (OS packages), without leading slash. */
  files?: string[] | undefined;
  /** Extra facts worth keeping: Go main module, dev dependency, Java archive path inside an archive, … */
  properties?: Record<string, string> | undefined;
}

export interface OsRelease {
  /** os-release ID: "debian", "alpine", "rhel", "ubuntu", … */
  id: string;
  versionId?: string | undefined;
  versionCodename?: string | undefined;
  prettyName?: string | undefined;
  idLike?: string[] | undefined;
  /** The file it came from. */
  location: string;
}

export interface LayerRef {
  digest: string;
  /** Position in the image, 0 = base layer. */
  index: number;
  /** The history `created_by` line of this layer, when the config has one. */
  createdBy?: string | undefined;
}

export interface InventoriedPackage extends Package {
  layer: LayerRef;
}

export interface ImageInventory {
  os?: OsRelease | undefined;
  packages: InventoriedPackage[];
  /** Non-fatal problems met while reading the image (a corrupt database, a skipped oversized file). */
  warnings: string[];
}

/** Which image an inventory describes. */
export interface ImageIdentity {
  /** The reference as the user gave it: "127.0.0.1:5000/alpine:3.10.3", "oci:./layout:alpine", "docker-archive:img.tar". */
  name: string;
  registry?: string | undefined;
  repository?: string | undefined;
  tag?: string | undefined;
  /** Manifest digest of the image (the platform's manifest when the reference named an index). */
  digest: string;
  indexDigest?: string | undefined;
  /** Digest of the config blob: the image id ("sha256:…") as Docker and the Prisma API name it. */
  configDigest: string;
  os: string;
  architecture: string;
  variant?: string | undefined;
  /** Image config `created`, when plausible. */
  created?: string | undefined;
  layers: {
    digest: string;
    diffId: string;
    size: number;
    mediaType: string;
    createdBy?: string | undefined;
  }[];
}
