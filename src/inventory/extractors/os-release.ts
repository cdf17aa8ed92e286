/**
 * Operating-system identification.
 *
 * Implements os-release(5) of the freedesktop.org / systemd project
 * (https://www.freedesktop.org/software/systemd/man/latest/os-release.html): newline-separated
 * `KEY=value` assignments in a shell-compatible subset (single and double quotes, backslash escapes,
 * `#` comments, no expansion), read from `etc/os-release` and `usr/lib/os-release`. As fallbacks it
 * reads the older distribution release files: `etc/alpine-release` (one version line),
 * `etc/debian_version` (`12.15` or `trixie/sid`), the Red Hat family's one-line
 * `<Name> release <version> (<codename>)` files (`etc/redhat-release`, `centos-release`,
 * `rocky-release`, `almalinux-release`, `fedora-release`, `oracle-release`, `system-release`) and the
 * LSB `etc/lsb-release` (`DISTRIB_ID=…`).
 *
 * Precedence (the `reconcile` step, over the image's surviving files): `etc/os-release`, else
 * `usr/lib/os-release` (os-release(5): "/etc/os-release takes precedence"; it usually is a symlink to
 * the other, and the analyzer never sees symlinks, but old distroless images ship two different
 * regular files), else the release files. A release file of the same distribution may refine the
 * version: Debian's `debian_version` 12.15 refines os-release `VERSION_ID="12"`, CentOS's
 * `centos-release` 7.9.2009 refines `VERSION_ID="7"`.
 *
 * Package URLs: the purl `distro` qualifier (https://github.com/package-url/purl-spec, PURL-TYPES
 * deb/apk) is not formally specified; the common convention is `<id>-<release>`. {@link distroQualifier}
 * builds it from an {@link OsRelease}; {@link finalizeOsPurl} rewrites an OS package's purl with the
 * image's OS once it is known.
 */
import { PackageURL } from "packageurl-js";
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo, FileResult } from "../extractor.js";
import type { OsRelease, Package } from "../types.js";

export const OS_RELEASE_EXTRACTOR_NAME = "os-release";

/** The os-release files, most authoritative first. */
const OS_RELEASE_PATHS = ["etc/os-release", "usr/lib/os-release"] as const;

/**
 * Release files, in the order they are consulted when no os-release file names the OS: the
 * vendor-specific ones before the generic `redhat-release`/`system-release` (a Rocky image has all
 * three), LSB before `debian_version` (Ubuntu has both, and its `debian_version` names Debian).
 */
const RELEASE_FILE_PATHS = [
  "etc/alpine-release",
  "etc/rocky-release",
  "etc/almalinux-release",
  "etc/centos-release",
  "etc/fedora-release",
  "etc/oracle-release",
  "etc/redhat-release",
  "etc/system-release",
  "etc/lsb-release",
  "etc/debian_version",
] as const;

const WANTED = new Set<string>([...OS_RELEASE_PATHS, ...RELEASE_FILE_PATHS]);

/** Debian release codenames by major version, for files that omit VERSION_CODENAME (distroless). */
export const DEBIAN_CODENAMES: Readonly<Record<string, string>> = {
  "7": "wheezy",
  "8": "jessie",
  "9": "stretch",
  "10": "buster",
  "11": "bullseye",
  "12": "bookworm",
  "13": "trixie",
  "14": "forky",
  "15": "duke",
};

/** `<Name> release <version>` prefixes of Red Hat family release files → os-release ID. */
const RPM_RELEASE_NAMES: [RegExp, string][] = [
  [/^red hat enterprise linux/i, "rhel"],
  [/^centos/i, "centos"],
  [/^rocky/i, "rocky"],
  [/^almalinux/i, "almalinux"],
  [/^fedora/i, "fedora"],
  [/^oracle linux/i, "ol"],
  [/^(?:enterprise linux|eurolinux)/i, "eurolinux"],
  [/^amazon linux/i, "amzn"],
  [/^scientific linux/i, "scientific"],
  [/^cloudlinux/i, "cloudlinux"],
  [/^(?:cbl-)?mariner/i, "mariner"],
  [/^azure linux/i, "azurelinux"],
];

/**
 * Parses os-release(5) text into its assignments. Tolerant like systemd's own parser: blank lines and
 * `#` comments are skipped, values may be unquoted, single-quoted (literal) or double-quoted (with
 * `\"`, `\\`, `\$`, `` \` `` escapes and backslash-newline continuation), quoted parts may be
 * concatenated, and a quoted value may span lines. Lines that are not assignments are reported in
 * `invalid` (1-based line numbers) and otherwise ignored. Later assignments override earlier ones.
 */
export function parseOsReleaseText(text: string): { fields: Map<string, string>; invalid: number[] } {
  const fields = new Map<string, string>();
  const invalid: number[] = [];
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let i = 0;
  let line = 1;
  const n = src.length;
  const isBlank = (c: string | undefined) => c === " " || c === "\t" || c === "\r";
  while (i < n) {
    // Start of a line.
    while (i < n && isBlank(src[i])) i++;
    if (i >= n) break;
    const startLine = line;
    if (src[i] === "\n") {
      i++;
      line++;
      continue;
    }
    if (src[i] === "#") {
      while (i < n && src[i] !== "\n") i++;
      continue;
    }
    const keyMatch = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 256));
    let j = i + (keyMatch ? keyMatch[0].length : 0);
    while (j < n && (src[j] === " " || src[j] === "\t")) j++;
    if (!keyMatch || src[j] !== "=") {
      invalid.push(startLine);
      while (i < n && src[i] !== "\n") i++;
      continue;
    }
    const key = keyMatch[0];
    i = j + 1;
    while (i < n && (src[i] === " " || src[i] === "\t")) i++;
    let value = "";
    let quote: '"' | "'" | undefined;
    let done = false;
    while (i < n && !done) {
      const c = src[i] as string;
      if (quote === "'") {
        if (c === "'") quote = undefined;
        else {
          if (c === "\n") line++;
          value += c;
        }
        i++;
      } else if (quote === '"') {
        if (c === '"') {
          quote = undefined;
          i++;
        } else if (c === "\\" && i + 1 < n) {
          const d = src[i + 1] as string;
          if (d === "\n") {
            line++;
          } else if (d === '"' || d === "\\" || d === "$" || d === "`") {
            value += d;
          } else {
            value += `\\${d}`;
          }
          i += 2;
        } else {
          if (c === "\n") line++;
          if (c !== "\r" || src[i + 1] !== "\n") value += c;
          i++;
        }
      } else if (c === '"' || c === "'") {
        quote = c;
        i++;
      } else if (c === "\\" && i + 1 < n) {
        const d = src[i + 1] as string;
        if (d === "\n") line++;
        else if (d !== "\r") value += d;
        i += 2;
      } else if (c === "\n" || isBlank(c)) {
        // Unquoted whitespace ends the value; whatever follows on the line (a comment) is ignored.
        done = true;
      } else {
        value += c;
        i++;
      }
    }
    fields.set(key, value);
    while (i < n && src[i] !== "\n") i++;
  }
  return { fields, invalid };
}

/** The object without its undefined-valued keys (results go through JSON and strict comparisons). */
const compact = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const nonEmpty = (s: string | undefined) => {
  const t = s?.trim();
  return t ? t : undefined;
};

function debianCodename(versionId: string | undefined, version: string | undefined): string | undefined {
  // VERSION="11 (bullseye)" or, in distroless, VERSION="Debian GNU/Linux 11 (bullseye)".
  const fromVersion = version ? /\(([a-z]+)\)\s*$/.exec(version)?.[1] : undefined;
  if (fromVersion) return fromVersion;
  const major = versionId?.split(".")[0];
  return major ? DEBIAN_CODENAMES[major] : undefined;
}

/**
 * An {@link OsRelease} from os-release(5) assignments. `ID` defaults to "linux" as the specification
 * says; `VERSION_CODENAME` falls back to `UBUNTU_CODENAME`, and for Debian to the codename in
 * `VERSION` or the one of the major release (distroless writes neither).
 */
export function osReleaseFromFields(fields: Map<string, string>, location: string): OsRelease {
  const id = nonEmpty(fields.get("ID"))?.toLowerCase() ?? "linux";
  const versionId = nonEmpty(fields.get("VERSION_ID"));
  let versionCodename = nonEmpty(fields.get("VERSION_CODENAME")) ?? nonEmpty(fields.get("UBUNTU_CODENAME"));
  if (!versionCodename && id === "debian") versionCodename = debianCodename(versionId, fields.get("VERSION"));
  const idLike = nonEmpty(fields.get("ID_LIKE"))?.toLowerCase().split(/\s+/);
  return compact({
    id,
    versionId,
    versionCodename,
    prettyName: nonEmpty(fields.get("PRETTY_NAME")) ?? nonEmpty(fields.get("NAME")),
    idLike,
    location,
  });
}

/** A Red Hat family one-liner: "Rocky Linux release 9.3 (Blue Onyx)". */
export function parseRpmReleaseLine(line: string, location: string): OsRelease | undefined {
  const m = /^\s*(.+?)\s+release\s+(\d[\w.]*)/i.exec(line);
  if (!m) return undefined;
  const name = (m[1] as string).trim();
  let id = RPM_RELEASE_NAMES.find(([re]) => re.test(name))?.[1];
  if (!id) id = (name.split(/\s+/)[0] as string).toLowerCase().replace(/[^a-z0-9._-]/g, "");
  if (!id) return undefined;
  return { id, versionId: m[2], prettyName: line.trim(), location };
}

const emptyText = (text: string) => text.replace(/^\uFEFF/, "").trim() === "";

function releaseFile(path: string, text: string): { os?: OsRelease; warning?: string } {
  const firstLine = (
    text
      .replace(/^\uFEFF/, "")
      .split(/\r?\n/)
      .find((l) => l.trim() !== "") ?? ""
  ).trim();
  if (path === "etc/alpine-release") {
    if (!/^\d+\.\d+[\w.]*$/.test(firstLine)) return { warning: `${path}: not a version: ${clip(firstLine)}` };
    return { os: { id: "alpine", versionId: firstLine, location: path } };
  }
  if (path === "etc/debian_version") {
    if (/^\d+(\.\d+)*$/.test(firstLine)) {
      const major = firstLine.split(".")[0] as string;
      return {
        os: compact({
          id: "debian",
          versionId: firstLine,
          versionCodename: DEBIAN_CODENAMES[major],
          location: path,
        }),
      };
    }
    // Testing and unstable: "trixie/sid".
    const codename = /^([a-z]+)\/sid$/.exec(firstLine)?.[1];
    if (codename) return { os: { id: "debian", versionCodename: codename, location: path } };
    return { warning: `${path}: not a Debian version: ${clip(firstLine)}` };
  }
  if (path === "etc/lsb-release") {
    const { fields } = parseOsReleaseText(text);
    const id = nonEmpty(fields.get("DISTRIB_ID"))?.toLowerCase();
    if (!id) return { warning: `${path}: no DISTRIB_ID` };
    return {
      os: compact({
        id,
        versionId: nonEmpty(fields.get("DISTRIB_RELEASE")),
        versionCodename: nonEmpty(fields.get("DISTRIB_CODENAME")),
        prettyName: nonEmpty(fields.get("DISTRIB_DESCRIPTION")),
        location: path,
      }),
    };
  }
  const os = parseRpmReleaseLine(firstLine, path);
  return os ? { os } : { warning: `${path}: not a "<name> release <version>" line: ${clip(firstLine)}` };
}

const clip = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

/** Whether a release file's version extends the os-release one: "12.15" refines "12", "7.9.2009" refines "7". */
const refines = (detail: string | undefined, base: string | undefined) =>
  detail !== undefined && base !== undefined && detail !== base && detail.startsWith(`${base}.`);

/**
 * Picks the image's OS from the surviving os-release results (see the module comment for the
 * precedence) and refines its version from a release file of the same distribution.
 */
export function resolveOsRelease(results: FileResult[]): { os?: OsRelease; from?: FileResult } {
  const byPath = new Map(results.filter((r) => r.os).map((r) => [r.path, r]));
  const osReleases = OS_RELEASE_PATHS.map((p) => byPath.get(p)).filter((r) => r !== undefined);
  // An os-release without ID (an emptied or foreign file) says "linux": a release file says more.
  const base =
    osReleases.find((r) => r.os?.id !== "linux") ??
    RELEASE_FILE_PATHS.map((p) => byPath.get(p)).find((r) => r !== undefined) ??
    osReleases[0];
  if (!base?.os) return {};
  const os: OsRelease = { ...base.os };
  for (const p of RELEASE_FILE_PATHS) {
    const r = byPath.get(p);
    if (!r?.os || r === base || r.os.id !== os.id) continue;
    if (refines(r.os.versionId, os.versionId)) os.versionId = r.os.versionId;
    else if (!os.versionId && r.os.versionId) os.versionId = r.os.versionId;
    if (!os.versionCodename && r.os.versionCodename) os.versionCodename = r.os.versionCodename;
  }
  return { os, from: base };
}

/**
 * The os-release extractor. Each file yields its own `os`; `reconcile` keeps exactly one result
 * carrying `os` (the winner, refined), strips `os` from the others and keeps every warning.
 */
export const osReleaseExtractor: Extractor = {
  name: OS_RELEASE_EXTRACTOR_NAME,
  version: 1,
  spec: "os-release(5) https://www.freedesktop.org/software/systemd/man/latest/os-release.html; alpine-release, debian_version, <name> release <version> files of the Red Hat family, LSB lsb-release",
  maxFileBytes: 64 * 1024,
  wants(file: FileInfo): boolean {
    return WANTED.has(file.path);
  },
  extract(file: ExtractorFile): ExtractorResult {
    const text = file.content.toString("utf8");
    if (file.content.includes(0)) return { warnings: [`${file.path}: binary content, not a release file`] };
    if (emptyText(text)) return { warnings: [`${file.path}: empty`] };
    if ((OS_RELEASE_PATHS as readonly string[]).includes(file.path)) {
      const { fields, invalid } = parseOsReleaseText(text);
      const warnings =
        invalid.length > 0
          ? [
              `${file.path}: ${invalid.length} line(s) not KEY=value (line ${invalid.slice(0, 5).join(", ")}${invalid.length > 5 ? ", …" : ""})`,
            ]
          : [];
      if (fields.size === 0) return { warnings: [...warnings, `${file.path}: no assignments`] };
      if (!nonEmpty(fields.get("ID"))) warnings.push(`${file.path}: no ID (defaulting to "linux")`);
      const os = osReleaseFromFields(fields, file.path);
      return warnings.length > 0 ? { os, warnings } : { os };
    }
    const { os, warning } = releaseFile(file.path, text);
    return os ? { os } : { warnings: [warning as string] };
  },
  reconcile(results: FileResult[]): FileResult[] {
    const { os, from } = resolveOsRelease(results);
    return results.map((r) => {
      if (r === from) return { ...r, os };
      const { os: _superseded, ...rest } = r;
      return rest;
    });
  },
};

// ---------------------------------------------------------------------------------------------------
// Package URLs

const DEB_FAMILY = new Set(["debian", "ubuntu"]);
const APK_FAMILY = new Set(["alpine", "wolfi", "chainguard"]);

const inFamily = (os: OsRelease, family: Set<string>) =>
  family.has(os.id) || (os.idLike ?? []).some((like) => family.has(like));

/**
 * The distribution release an OS package belongs to, as the purl `distro` qualifier:
 * `<id>-<release>`, where the release names the package repository rather than the point release —
 * Debian's major version (`debian-12`, as os-release's VERSION_ID says; 12.15 shares the archive of
 * 12), Alpine's branch (`alpine-3.18` for 3.18.9; `alpine-edge` for edge snapshots), and otherwise
 * VERSION_ID as is (`ubuntu-22.04`, `rhel-8.8`). Without a version the codename is used
 * (`debian-trixie` for testing); without either, undefined.
 */
export function distroQualifier(os: OsRelease | undefined): string | undefined {
  if (!os) return undefined;
  const v = os.versionId;
  let release: string | undefined;
  if (os.id === "debian" && v) release = /^\d+/.exec(v)?.[0] ?? v;
  else if (os.id === "alpine" && v) {
    if (/_alpha|_beta|_rc/.test(v) || /\bedge\b/i.test(os.prettyName ?? "")) release = "edge";
    else release = /^\d+\.\d+/.exec(v)?.[0] ?? v;
  } else release = v ?? os.versionCodename;
  return release ? `${os.id}-${release}` : undefined;
}

/**
 * Rewrites an OS package's purl for the image's OS. Extractors cannot know the OS (it is an image
 * fact, found in another file and possibly another layer), so dpkg and apk build their purls with the
 * default vendor namespace (`debian`, `alpine`) and no `distro` qualifier; once the analyzer knows
 * the image's {@link OsRelease} it calls this for every package and stores the result as `purl`.
 *
 * - `deb` packages on a Debian-family OS (ID or ID_LIKE debian/ubuntu) get the OS ID as namespace
 *   (`pkg:deb/ubuntu/…`, `pkg:deb/debian/…`) and `distro=` {@link distroQualifier};
 * - `apk` packages on an Alpine-family OS (alpine, wolfi, chainguard, ID_LIKE alpine) likewise
 *   (`pkg:apk/alpine/…?arch=x86_64&distro=alpine-3.20`);
 * - anything else (other ecosystems, a deb package in a non-Debian image, no OS) is returned as is.
 *
 * Idempotent; qualifiers already present are kept, `distro` is replaced.
 */
export function finalizeOsPurl(pkg: Package, os: OsRelease | undefined): string {
  if (!os || (pkg.ecosystem !== "deb" && pkg.ecosystem !== "apk")) return pkg.purl;
  if (!inFamily(os, pkg.ecosystem === "deb" ? DEB_FAMILY : APK_FAMILY)) return pkg.purl;
  let parsed: PackageURL;
  try {
    parsed = PackageURL.fromString(pkg.purl);
  } catch {
    return pkg.purl;
  }
  const qualifiers: Record<string, string> = { ...(parsed.qualifiers ?? {}) };
  const distro = distroQualifier(os);
  if (distro) qualifiers.distro = distro;
  else delete qualifiers.distro;
  return new PackageURL(
    parsed.type,
    os.id,
    parsed.name,
    parsed.version,
    Object.keys(qualifiers).length > 0 ? qualifiers : undefined,
    parsed.subpath,
  ).toString();
}
