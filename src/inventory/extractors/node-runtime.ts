/**
 * The Node.js runtime installed outside a package manager: the official binary tarball unpacked
 * into /usr/local or /opt, nvm's ~/.nvm/versions/node/vX/, n, volta's image directories, a
 * `node` copied into a distroless image. Two kinds of evidence:
 *
 * - `include/node/node_version.h` (Node.js source src/node_version.h, shipped in the tarball):
 *   NODE_MAJOR_VERSION, NODE_MINOR_VERSION, NODE_PATCH_VERSION, and NODE_TAG or "-pre" when
 *   NODE_VERSION_IS_RELEASE is 0. Copies in node-gyp's header caches (~/.cache/node-gyp/<v>/,
 *   ~/.node-gyp/<v>/, ~/.electron-gyp/) and under node_modules are headers to build addons
 *   against, not a runtime, and are not read.
 * - the `node` (or `nodejs`) ELF executable, searched like Syft's `nodejs-binary` classifier:
 *   "node.js/vX.Y.Z" (the inspector's "Browser" string, Node >= 6.3), then the release source URL
 *   ".../download/release/vX.Y.Z/node-vX.Y.Z.tar.gz" (release builds), then the NUL-delimited
 *   "[node ]vX.Y.Z" that Node 0.x - 6 carry.
 *
 * Package: ecosystem "node", name "node", the version without "v", purl `pkg:generic/node@X.Y.Z`
 * (Syft's naming; no purl type exists for runtimes; matching uses the nodejs:node.js CPE or the
 * Node.js security releases). `reconcile` keeps one package per installation prefix when the
 * binary (`<prefix>/bin/node`) and the header (`<prefix>/include/node/node_version.h`) agree, the
 * binary's, noting the header. Node.js installed by dpkg/apk/rpm (Debian's `nodejs`) is not
 * reported twice: the analyzer drops language packages at paths owned by OS packages.
 */
import { isElf } from "../binary/elf.js";
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo, FileResult } from "../extractor.js";
import type { Package } from "../types.js";
import { purlOf } from "./purl-fallback.js";

const HEADER_SUFFIX = "include/node/node_version.h";
/** node 0.10 was ~10 MB, current releases ~100 MB; a shim or wrapper script named node is smaller. */
const MIN_BINARY = 1 << 20;
const VERSION = String.raw`(\d{1,3}\.\d{1,4}\.\d{1,4}(?:-[0-9A-Za-z.]{1,40})?)`;
const BINARY_PATTERNS: { marker: string; re: RegExp; evidence: string }[] = [
  { marker: "node.js/v", re: new RegExp(String.raw`^node\.js/v${VERSION}`), evidence: "node.js/v" },
  {
    marker: "/download/release/v",
    re: new RegExp(String.raw`^/download/release/v${VERSION}/node-v\1\.tar\.gz`),
    evidence: "release URL",
  },
];
/** The text between two NULs in Node 0.x - 6. */
const OLD_BINARY = /^(?:node )?v((?:0|4|5|6)\.\d{1,4}\.\d{1,4})$/;

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function isGypCache(path: string): boolean {
  return (
    /(^|\/)(\.node-gyp|\.electron-gyp|node-gyp|node_modules)\//.test(path) ||
    /(^|\/)\.cache\/node-gyp\//.test(path)
  );
}

function isHeader(path: string): boolean {
  return (path === HEADER_SUFFIX || path.endsWith(`/${HEADER_SUFFIX}`)) && !isGypCache(path);
}

/** The version a node_version.h describes, or undefined. */
export function versionFromHeader(text: string): string | undefined {
  const define = (name: string): string | undefined => {
    const m = new RegExp(String.raw`^[ \t]*#[ \t]*define[ \t]+${name}[ \t]+(\S+)`, "m").exec(text);
    return m?.[1];
  };
  const major = define("NODE_MAJOR_VERSION");
  const minor = define("NODE_MINOR_VERSION");
  const patch = define("NODE_PATCH_VERSION");
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  if (![major, minor, patch].every((n) => /^\d{1,4}$/.test(n))) return undefined;
  let version = `${Number(major)}.${Number(minor)}.${Number(patch)}`;
  // NODE_TAG is defined in the header only inside `#ifndef NODE_TAG`: "" for releases, "-pre" otherwise.
  if (define("NODE_VERSION_IS_RELEASE") === "0") version += "-pre";
  return version;
}

/** The version found in a node executable, and which marker gave it. */
export function versionFromBinary(content: Buffer): { version: string; evidence: string } | undefined {
  for (const { marker, re, evidence } of BINARY_PATTERNS) {
    const needle = Buffer.from(marker, "latin1");
    for (let at = content.indexOf(needle); at >= 0; at = content.indexOf(needle, at + 1)) {
      const m = re.exec(content.toString("latin1", at, Math.min(content.length, at + 160)));
      if (m?.[1] !== undefined) return { version: m[1], evidence };
    }
  }
  // Node 0.x - 6: "\0v0.12.18\0" or "\0node v0.10.48\0" (Syft's pattern). Needles that start with a
  // NUL are slow to search in binaries full of zeros, so look for "v0." etc. and check what precedes.
  const nodePrefix = Buffer.from("\x00node ", "latin1");
  for (const lead of ["v0.", "v4.", "v5.", "v6."]) {
    const needle = Buffer.from(lead, "latin1");
    for (let at = content.indexOf(needle); at > 0; at = content.indexOf(needle, at + 1)) {
      let start: number;
      if (content[at - 1] === 0) start = at;
      else if (at >= 6 && content.subarray(at - 6, at).equals(nodePrefix)) start = at - 5;
      else continue;
      const end = content.indexOf(0, at);
      if (end < 0 || end - start > 24) continue;
      const m = OLD_BINARY.exec(content.toString("latin1", start, end));
      if (m?.[1] !== undefined) return { version: m[1], evidence: "old version string" };
    }
  }
  return undefined;
}

function nodePackage(version: string, location: string, properties: Record<string, string>): Package {
  return {
    ecosystem: "node",
    name: "node",
    version,
    purl: purlOf("generic", undefined, "node", version),
    location,
    properties,
  };
}

/** The installation prefix a result's path belongs to ("usr/local"), if it has the known layout. */
function prefixOf(path: string): string | undefined {
  if (path.endsWith(HEADER_SUFFIX))
    return path.slice(0, path.length - HEADER_SUFFIX.length).replace(/\/$/, "");
  const m = /^(?:(.*)\/)?bin\/(?:node|nodejs)$/.exec(path);
  return m === null ? undefined : (m[1] ?? "");
}

export const nodeRuntimeExtractor: Extractor = {
  name: "node-runtime",
  version: 1,
  spec: "Node.js src/node_version.h macros; node executable version strings as Syft's nodejs-binary classifier",
  maxFileBytes: 512 << 20,
  wants(file: FileInfo): boolean {
    if (isHeader(file.path)) return file.size < 1 << 20;
    const name = basename(file.path);
    return (name === "node" || name === "nodejs") && (file.mode & 0o111) !== 0 && file.size >= MIN_BINARY;
  },
  extract(file: ExtractorFile): ExtractorResult {
    if (isHeader(file.path)) {
      const version = versionFromHeader(file.content.toString("latin1"));
      if (version === undefined)
        return { warnings: [`${file.path}: no NODE_MAJOR/MINOR/PATCH_VERSION defines`] };
      return { packages: [nodePackage(version, file.path, { nodeEvidence: "node_version.h" })] };
    }
    if (!isElf(file.content)) return {};
    const found = versionFromBinary(file.content);
    if (found === undefined) return {};
    return { packages: [nodePackage(found.version, file.path, { nodeEvidence: found.evidence })] };
  },
  reconcile(results: FileResult[]): FileResult[] {
    const binaries = new Map<string, { index: number; pkg: Package }>();
    results.forEach((r, index) => {
      const prefix = prefixOf(r.path);
      const pkg = r.packages?.[0];
      if (prefix !== undefined && pkg !== undefined && !r.path.endsWith(HEADER_SUFFIX))
        binaries.set(prefix, { index, pkg });
    });
    const out = [...results];
    results.forEach((r, index) => {
      const header = r.packages?.[0];
      if (!r.path.endsWith(HEADER_SUFFIX) || header === undefined) return;
      const binary = binaries.get(prefixOf(r.path) ?? "\0");
      if (binary === undefined) return;
      if (header.version !== binary.pkg.version) {
        const warning = `${r.path}: says Node.js ${header.version}, but ${binary.pkg.location} is ${binary.pkg.version}`;
        out[index] = { ...r, warnings: [...(r.warnings ?? []), warning] };
        return;
      }
      out[index] = { ...r, packages: [] };
      const b = out[binary.index] as FileResult;
      const [first, ...rest] = b.packages ?? [];
      if (first !== undefined) {
        out[binary.index] = {
          ...b,
          packages: [{ ...first, properties: { ...first.properties, nodeHeader: r.path } }, ...rest],
        };
      }
    });
    return out;
  },
};
