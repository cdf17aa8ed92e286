/**
 * Alpine packages installed by apk.
 *
 * Implements apk-tools' installed database (`lib/apk/db/installed`, or `usr/lib/apk/db/installed`
 * where /lib is merged into /usr, as Wolfi does and apk-tools 3 defaults to), documented in the Alpine
 * wiki "Apk spec" (https://wiki.alpinelinux.org/wiki/Apk_spec) and apk-tools' `database.c`: one record
 * per package, records separated by blank lines, each line `<letter>:<value>`. Read here: `P` name,
 * `V` version, `A` architecture, `o` origin (the source package), `L` licence, `F` a directory (relative
 * to /) and `R` a file in the last `F` directory. Known and ignored: `C` checksum, `S`/`I` sizes, `T`
 * description, `U` URL, `m` maintainer, `t` build time, `c` commit, `D` dependencies, `p` provides,
 * `i` install-if, `r` replaces, `k` provider priority, `q` replaces priority, `M`/`a` directory and file
 * ACLs, `Z` file checksum, `s` tags, `f` broken-files flag, `g` apk v3 metadata.
 *
 * purls are `pkg:apk/alpine/<name>@<version>?arch=<arch>` (purl-spec, PURL-TYPES apk) without `distro`;
 * the analyzer finalises them with the image OS through {@link finalizeApkPurl}.
 */
import { PackageURL } from "packageurl-js";
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo, FileResult } from "../extractor.js";
import type { OsRelease, Package } from "../types.js";
import { finalizeOsPurl } from "./os-release.js";

export const APK_EXTRACTOR_NAME = "apk";

/** The database paths, preferred first: apk-tools 3 uses /lib/apk/db when that directory exists. */
const DB_PATHS = ["lib/apk/db/installed", "usr/lib/apk/db/installed"] as const;

/** Record keys this parser knows (read or deliberately ignored); others are counted as unknown. */
const KNOWN_KEYS = new Set("CPVASITULomtcDpirkqFRMaZsfg".split(""));

/** `pkg:apk/alpine/<name>@<version>?arch=<arch>`: the extractor's purl, before the OS is known. */
export function apkPurl(name: string, version: string, arch: string | undefined): string {
  return new PackageURL(
    "apk",
    "alpine",
    name.toLowerCase(),
    version,
    arch ? { arch } : undefined,
    undefined,
  ).toString();
}

/**
 * An apk package's purl for the image's OS: namespace from the OS ID (`alpine`, `wolfi`, …) and
 * `distro=<id>-<branch>` (`distro=alpine-3.20`). The analyzer calls this (or `finalizeOsPurl` from
 * os-release.ts, which it wraps) for every apk package once the image OS is resolved; without an
 * Alpine-family OS the purl is returned unchanged.
 */
export function finalizeApkPurl(pkg: Package, os: OsRelease | undefined): string {
  return pkg.ecosystem === "apk" ? finalizeOsPurl(pkg, os) : pkg.purl;
}

/** Version numbers that belong to the previous word of an old-style licence: "MPL 2.0" → "MPL-2.0". */
const BARE_VERSION = /^v?\d+(?:\.\d+)*\+?$/i;
const OPERATORS = new Set(["and", "or"]);

/**
 * Licence names of an apk `L:` value. Current Alpine writes SPDX expressions (`MIT AND BSD-2-Clause`,
 * `(MIT OR Apache-2.0) AND Zlib`, `GPL-2.0-or-later WITH Linux-syscall-note`); older releases wrote
 * space-separated names (`MIT BSD GPL2+`, `MPL-2.0 GPL-2.0-or-later`). Both are split into names:
 * operators and parentheses are dropped, a `WITH` exception stays attached to its licence, a bare
 * version number joins the name before it (`MPL 2.0` → `MPL-2.0`), "Public Domain" stays one name.
 * Duplicates are removed; names are kept as written.
 */
export function splitApkLicense(value: string): string[] {
  const tokens = value
    .replace(/[()]/g, " ")
    .split(/[\s,;]+/)
    .filter((t) => t !== "");
  const names: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const lower = t.toLowerCase();
    if (OPERATORS.has(lower) || t === "&" || t === "|" || t === "/") continue;
    const last = names.length - 1;
    if (lower === "with" && i + 1 < tokens.length && last >= 0) {
      names[last] = `${names[last]} WITH ${tokens[++i]}`;
      continue;
    }
    if (last >= 0 && BARE_VERSION.test(t) && !BARE_VERSION.test(tokens[i - 1] as string)) {
      const prev = tokens[i - 1] as string;
      if (!OPERATORS.has(prev.toLowerCase()) && names[last]?.endsWith(prev)) {
        names[last] = `${names[last]}-${t}`;
        continue;
      }
    }
    if (lower === "domain" && last >= 0 && names[last]?.toLowerCase() === "public") {
      names[last] = `${names[last]} ${t}`;
      continue;
    }
    names.push(t);
  }
  return [...new Set(names)];
}

interface Draft {
  line: number;
  name?: string;
  version?: string;
  arch?: string;
  origin?: string;
  license?: string;
  files: string[];
  dir?: string;
}

/** Packages of an apk installed database; never throws for content. */
export function parseApkInstalled(
  text: string,
  location: string,
): { packages: Package[]; warnings: string[] } {
  let src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const packages: Package[] = [];
  const issues: string[] = [];
  // apk ends every record with a blank line: anything else is a cut file. A cut last line may hold a
  // cut value ("V:1.2" of 1.2.3-r4), so it is dropped.
  const end = src.replace(/[ \t\r]+$/, "");
  if (end !== "" && !src.endsWith("\n")) {
    src = src.slice(0, src.lastIndexOf("\n") + 1);
    issues.push("file ends mid-line (truncated?), last line ignored");
  } else if (end !== "" && !/\n[ \t]*\r?\n$/.test(src)) {
    issues.push("last record not terminated by a blank line (truncated?)");
  }
  const lines = src.split("\n");
  let malformed = 0;
  let firstMalformed = 0;
  const unknown = new Set<string>();
  let draft: Draft | undefined;

  const finish = () => {
    const d = draft;
    draft = undefined;
    if (!d) return;
    if (!d.name) {
      issues.push(`record at line ${d.line}: no P: (name), skipped`);
      return;
    }
    if (!/^[A-Za-z0-9_][\w.+-]*$/.test(d.name)) {
      issues.push(`record at line ${d.line}: invalid name ${JSON.stringify(d.name.slice(0, 60))}, skipped`);
      return;
    }
    if (!d.version || !/^[!-~]+$/.test(d.version)) {
      issues.push(`${d.name}: ${d.version ? "invalid" : "no"} V: (version), skipped`);
      return;
    }
    const arch = d.arch && /^[A-Za-z0-9_-]+$/.test(d.arch) ? d.arch : undefined;
    const origin = d.origin && /^[A-Za-z0-9_][\w.+-]*$/.test(d.origin) ? d.origin : d.name;
    const pkg: Package = {
      ecosystem: "apk",
      name: d.name,
      version: d.version,
      purl: apkPurl(d.name, d.version, arch),
      source: { name: origin, version: d.version },
      location,
    };
    if (arch) pkg.arch = arch;
    const licenses = d.license ? splitApkLicense(d.license) : [];
    if (licenses.length > 0) pkg.licenses = licenses;
    if (d.files.length > 0) pkg.files = [...new Set(d.files)];
    packages.push(pkg);
  };

  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") {
      finish();
      continue;
    }
    if (line.length < 2 || line[1] !== ":") {
      malformed++;
      firstMalformed ||= i + 1;
      continue;
    }
    const key = line[0] as string;
    const value = line.slice(2);
    if (!KNOWN_KEYS.has(key)) {
      if (unknown.size < 20) unknown.add(key);
      continue;
    }
    if (key === "P" && draft?.name !== undefined) {
      // A record that never ended: apk itself would refuse the database; keep both packages.
      issues.push(`${draft.name}: record not terminated by a blank line before line ${i + 1}`);
      finish();
    }
    draft ??= { line: i + 1, files: [] };
    const d = draft;
    switch (key) {
      case "P":
        d.name = value.trim();
        break;
      case "V":
        d.version = value.trim();
        break;
      case "A":
        d.arch = value.trim();
        break;
      case "o":
        d.origin = value.trim();
        break;
      case "L":
        d.license = value.trim();
        break;
      case "F":
        d.dir = value.replace(/^\/+|\/+$/g, "");
        break;
      case "R": {
        const file = value.replace(/^\/+/, "");
        if (file === "") break;
        // An R: before any F: is a file at the root (apko wrote such databases for a while).
        d.files.push(d.dir ? `${d.dir}/${file}` : file);
        break;
      }
    }
  }
  finish();
  if (malformed > 0)
    issues.unshift(`${malformed} malformed line(s) skipped (first at line ${firstMalformed})`);
  if (unknown.size > 0) issues.push(`unknown field(s) ${[...unknown].join(", ")} ignored`);
  const warnings =
    issues.length <= 10
      ? issues.map((w) => `${location}: ${w}`)
      : [
          ...issues.slice(0, 10).map((w) => `${location}: ${w}`),
          `${location}: … and ${issues.length - 10} more`,
        ];
  return { packages, warnings };
}

/**
 * The apk extractor. Besides `reconcile` it offers the analyzer's `finalize` hook (typed here so that
 * it does not depend on it being declared on {@link Extractor}): purl through {@link finalizeApkPurl}.
 */
export const apkExtractor: Extractor & { finalize(pkg: Package, os: OsRelease | undefined): Package } = {
  name: APK_EXTRACTOR_NAME,
  version: 1,
  spec: "apk-tools installed database (lib/apk/db/installed), https://wiki.alpinelinux.org/wiki/Apk_spec",
  maxFileBytes: 64 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    return (DB_PATHS as readonly string[]).includes(file.path);
  },
  extract(file: ExtractorFile): ExtractorResult {
    const { packages, warnings } = parseApkInstalled(file.content.toString("utf8"), file.path);
    return warnings.length > 0 ? { packages, warnings } : { packages };
  },
  /**
   * One database per image: when both `lib/apk/db/installed` and `usr/lib/apk/db/installed` are
   * regular files (/lib not merged), apk uses the former; the other's packages are dropped with a warning.
   */
  reconcile(results: FileResult[]): FileResult[] {
    const withPackages = results.filter((r) => (r.packages ?? []).length > 0);
    if (withPackages.length <= 1) return results;
    const winner = DB_PATHS.map((p) => withPackages.find((r) => r.path === p)).find((r) => r !== undefined);
    return results.map((r) => {
      if (r === winner || !(r.packages ?? []).length) return r;
      const { packages: _shadowed, ...rest } = r;
      return {
        ...rest,
        warnings: [...(r.warnings ?? []), `${r.path}: ignored, apk reads ${winner?.path}`],
      };
    });
  },
  finalize(pkg: Package, os: OsRelease | undefined): Package {
    const purl = finalizeApkPurl(pkg, os);
    return purl === pkg.purl ? pkg : { ...pkg, purl };
  },
};
