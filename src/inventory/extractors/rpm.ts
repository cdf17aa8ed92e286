/**
 * The rpm extractor: installed packages from an rpm database, in any of rpm's three on-disk formats.
 *
 * | path (under var/lib/rpm/ or usr/lib/sysimage/rpm/) | backend | reader |
 * | --- | --- | --- |
 * | `Packages` | Berkeley DB hash (RHEL/CentOS ≤ 8, Amazon Linux 2, SLES ≤ 15.2) | `../rpm/bdb.ts` |
 * | `Packages.db` | NDB (SLES / openSUSE Leap 15.3+) | `../rpm/ndb.ts` |
 * | `rpmdb.sqlite` | SQLite (RHEL 9, Fedora 33+, CBL-Mariner, Amazon Linux 2023, Tumbleweed) | `../rpm/sqlite.ts` |
 *
 * The format is recognised from the content, not the file name. Each stored blob is an RPM header
 * (`../rpm/header.ts`), turned into a {@link Package} by `../rpm/package.ts`; gpg-pubkey pseudo-packages are
 * skipped. Like rpm, a header whose stored digest (SHA256HEADER, else SHA1HEADER) does not match its immutable
 * region is skipped as corrupt. A damaged database or header never throws: what can be read is returned with
 * warnings.
 *
 * Package URLs: the extractor does not know the image's OS, so the purl namespace is provisional (a guess from
 * the VENDOR tag, or none). The analyzer finalises every rpm package once the OS is known through the
 * extractor's `finalize` hook, i.e. {@link finalizeRpmPackage}(pkg, os), which sets namespace =
 * {@link rpmPurlNamespace}(os) ("redhat" for rhel, "suse" for sles, …) and `distro=<id>-<version_id>`, e.g.
 * `pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&distro=rhel-8.8`. Without any OS (no os-release and
 * no release package for `inferOs`) the provisional purl stays.
 */
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo, FileResult } from "../extractor.js";
import { type RpmdbEntry, readBdb } from "../rpm/bdb.js";
import { HeaderError, parseHeader, Tag } from "../rpm/header.js";
import { readNdb } from "../rpm/ndb.js";
import { finalizeRpmPackage, headerToPackage, osFromRpmPackages } from "../rpm/package.js";
import { isSqlite, readSqlite } from "../rpm/sqlite.js";
import type { OsRelease, Package } from "../types.js";

export {
  finalizeRpmPackage,
  osFromRpmPackages,
  parseSourceRpm,
  rpmDistroQualifier,
  rpmPurl,
  rpmPurlNamespace,
} from "../rpm/package.js";

const DIRS = ["var/lib/rpm/", "usr/lib/sysimage/rpm/"];
const FILES = ["Packages", "Packages.db", "rpmdb.sqlite"];
/** The exact paths read. */
export const RPMDB_PATHS: readonly string[] = DIRS.flatMap((d) => FILES.map((f) => d + f));
const WANTED = new Set(RPMDB_PATHS);

export type RpmdbFormat = "bdb" | "ndb" | "sqlite";

/** Recognises the database format from the first bytes. */
export function detectRpmdbFormat(buf: Buffer): RpmdbFormat | undefined {
  if (isSqlite(buf)) return "sqlite";
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0x506d7052) return "ndb"; // "RpmP"
  if (buf.length >= 16) {
    const le = buf.readUInt32LE(12);
    const be = buf.readUInt32BE(12);
    if (le === 0x061561 || be === 0x061561 || le === 0x053162 || be === 0x053162) return "bdb";
  }
  return undefined;
}

/** Most warnings kept per database; the rest are counted. */
const MAX_WARNINGS = 50;

export interface ReadRpmdbResult {
  format?: RpmdbFormat | undefined;
  packages: Package[];
  warnings: string[];
  /** Headers seen, including skipped gpg-pubkey ones and damaged ones. */
  headers: number;
}

export interface ReadRpmdbOptions {
  /** Check each header's SHA256HEADER / SHA1HEADER digest and skip headers that fail (default true). */
  verifyDigests?: boolean | undefined;
}

/** Reads an rpm database of any format. Never throws. */
export function readRpmdb(
  content: Buffer,
  location: string,
  options: ReadRpmdbOptions = {},
): ReadRpmdbResult {
  const verifyDigests = options.verifyDigests ?? true;
  const warnings: string[] = [];
  let dropped = 0;
  const warn = (msg: string) => {
    if (warnings.length < MAX_WARNINGS)
      warnings.push(msg.startsWith(`${location}:`) ? msg : `${location}: ${msg}`);
    else dropped++;
  };
  const format = detectRpmdbFormat(content);
  const packages: Package[] = [];
  let entries: RpmdbEntry[] = [];
  try {
    if (format === "sqlite") entries = readSqlite(content, warn);
    else if (format === "ndb") entries = readNdb(content, warn);
    else if (format === "bdb") entries = readBdb(content, warn);
    else warn("not an rpm database (neither SQLite, NDB nor Berkeley DB)");
    for (const { id, blob } of entries) {
      let header: ReturnType<typeof parseHeader>;
      try {
        header = parseHeader(blob);
      } catch (e) {
        if (!(e instanceof HeaderError)) throw e;
        warn(`header #${id} is damaged (${e.message}); skipped`);
        continue;
      }
      // rpm verifies the header digest when it reads a header from the database and skips a bad one.
      const digest = verifyDigests ? header.checkDigest() : undefined;
      if (digest && !digest.ok) {
        const name = header.getString(Tag.NAME) ?? "?";
        warn(
          `header #${id} (${name}) fails its ${digest.algorithm.toUpperCase()}HEADER digest (corrupt data); skipped`,
        );
        continue;
      }
      const r = headerToPackage(header, location, id);
      for (const w of r.warnings) warn(w);
      if (r.package) packages.push(r.package);
    }
  } catch (e) {
    // Defence in depth: a bug in a reader must not take the whole image scan down.
    warn(`unexpected error while reading the rpm database: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (dropped) warnings.push(`${location}: ${dropped} more warnings not shown`);
  return { format, packages, warnings, headers: entries.length };
}

function formatRank(path: string): number {
  if (path.endsWith("rpmdb.sqlite")) return 3;
  if (path.endsWith("Packages.db")) return 2;
  return 1;
}

/**
 * The rpm extractor, with the analyzer's image-level hooks: `reconcile` (one live database per image),
 * `finalize` = {@link finalizeRpmPackage} (purl namespace and distro from the OS), `inferOs` =
 * {@link osFromRpmPackages} (the OS from the release package when no os-release file names it).
 */
export const rpmExtractor: Extractor & {
  reconcile(results: FileResult[]): FileResult[];
  finalize(pkg: Package, os: OsRelease | undefined): Package;
  inferOs(packages: Package[]): OsRelease | undefined;
} = {
  name: "rpm",
  version: 1,
  spec:
    "RPM header format (rpm.org file format, rpm 4.18 lib/header.c); rpmdb backends: Berkeley DB 5.x hash " +
    "(db_page.h), NDB (rpm lib/backend/ndb/rpmpkg.c), SQLite (rpm lib/backend/sqlite.c); purl-spec rpm type",
  // Real rpmdbs are 10–200 MB; allow headroom but refuse absurd files.
  maxFileBytes: 512 * 1024 * 1024,

  wants(file: FileInfo): boolean {
    return WANTED.has(file.path);
  },

  extract(file: ExtractorFile): ExtractorResult {
    const { packages, warnings } = readRpmdb(file.content, file.path);
    return { packages, warnings };
  },

  /**
   * An image normally has one live rpm database. When several survive (say a leftover `Packages` next to the
   * `rpmdb.sqlite` rpm migrated to, or copies in both var/lib/rpm and usr/lib/sysimage/rpm), keep the one rpm
   * would use — the newest format (sqlite > ndb > bdb), then usr/lib/sysimage/rpm — and empty the others
   * with a warning, so no package is reported twice.
   */
  reconcile(results: FileResult[]): FileResult[] {
    const withPackages = results.filter((r) => (r.packages?.length ?? 0) > 0);
    if (withPackages.length < 2) return results;
    const best = [...withPackages].sort(
      (a, b) =>
        formatRank(b.path) - formatRank(a.path) ||
        Number(b.path.startsWith("usr/")) - Number(a.path.startsWith("usr/")) ||
        a.path.localeCompare(b.path),
    )[0] as FileResult;
    return results.map((r) =>
      r === best || !(r.packages?.length ?? 0)
        ? r
        : {
            ...r,
            packages: [],
            warnings: [
              ...(r.warnings ?? []),
              `${r.path}: ignored (${r.packages?.length} packages); the image's rpm database is ${best.path}`,
            ],
          },
    );
  },

  finalize(pkg: Package, os: OsRelease | undefined): Package {
    return finalizeRpmPackage(pkg, os);
  },

  inferOs(packages: Package[]): OsRelease | undefined {
    return osFromRpmPackages(packages);
  },
};
