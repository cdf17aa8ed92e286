/**
 * Python (PyPI) extractor: installed distributions and the lock files of Poetry and Pipenv.
 *
 * Formats implemented:
 * - Core metadata (`*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, `EGG-INFO/PKG-INFO` of an unpacked
 *   egg, and a distutils `*.egg-info` single file), RFC 822 style headers:
 *   https://packaging.python.org/en/latest/specifications/core-metadata/ ; licenses from
 *   `License-Expression` (PEP 639), else a one-line `License`, else every `Classifier: License :: …`.
 * - Names in the purl normalised per PEP 503 (https://peps.python.org/pep-0503/#normalized-names):
 *   lower case, every run of `-`, `_`, `.` becomes one `-`.
 * - poetry.lock v1 (`category`) and v2 (`groups`), TOML `[[package]]` tables:
 *   https://python-poetry.org/docs/basic-usage/#installing-with-poetrylock
 * - Pipfile.lock JSON (`default` and `develop`): https://pipenv.pypa.io/en/latest/pipfile.html
 *
 * Decisions:
 * - A legacy `License` that spans several lines is the licence text, not its name: classifiers are
 *   used then; `UNKNOWN` counts as no licence.
 * - Local directory packages (poetry `source.type = "directory"`, Pipfile `path`/`editable` entries
 *   without a version) are the project itself and are skipped; git/url/file sources are kept with
 *   property `source`. Dev-only packages carry property `dev = "true"`.
 * - Lock files inside site-packages/dist-packages (shipped in some distributions) are ignored.
 * - reconcile: installed distributions are the truth; a lock entry whose normalised name is installed
 *   anywhere in the image is dropped (virtualenvs live anywhere, so a lock file cannot be tied to
 *   one site-packages folder); lock entries for names not installed are kept.
 */
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo, FileResult } from "../extractor.js";
import {
  basename,
  dropInstalledFromLocks,
  extractByKind,
  hasSegment,
  isRecord,
  PackageSink,
  parseJson,
  str,
  uniqueLicenses,
} from "./language-common.js";
import { tomlLockPackages } from "./toml-lock.js";

type Kind = "metadata" | "poetry" | "pipfile";

export function classifyPythonPath(path: string): Kind | undefined {
  if (
    path.endsWith(".dist-info/METADATA") ||
    path.endsWith(".egg-info/PKG-INFO") ||
    path.endsWith("/EGG-INFO/PKG-INFO") ||
    path.endsWith(".egg-info")
  ) {
    return "metadata";
  }
  const base = basename(path);
  if (base !== "poetry.lock" && base !== "Pipfile.lock") return undefined;
  if (hasSegment(path, "site-packages") || hasSegment(path, "dist-packages")) return undefined;
  return base === "poetry.lock" ? "poetry" : "pipfile";
}

/** PEP 503 normalised name: lower case, runs of "-", "_", "." collapsed to one "-". */
export function normalizePythonName(name: string): string {
  let out = "";
  let sep = false;
  for (const ch of name.toLowerCase()) {
    if (ch === "-" || ch === "_" || ch === ".") {
      sep = true;
      continue;
    }
    if (sep && out !== "") out += "-";
    sep = false;
    out += ch;
  }
  return out;
}

/**
 * RFC 822 style headers up to the first empty line: names lower-cased, continuation lines (leading
 * space or tab) appended with a newline. Lines without a colon are ignored.
 */
export function parseMetadataHeaders(text: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let last: { key: string; index: number } | undefined;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line === "") break; // the body (long description) follows
    if (line[0] === " " || line[0] === "\t") {
      if (last) {
        const values = headers.get(last.key) as string[];
        values[last.index] = `${values[last.index]}\n${line.trim()}`;
      }
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) {
      last = undefined;
      continue;
    }
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const values = headers.get(key) ?? [];
    values.push(value);
    headers.set(key, values);
    last = { key, index: values.length - 1 };
  }
  return headers;
}

export function metadataLicenses(headers: Map<string, string[]>): string[] {
  const expression = headers.get("license-expression")?.[0]?.trim();
  if (expression) return [expression];
  const license = headers.get("license")?.[0]?.trim();
  if (license && !license.includes("\n") && license.length <= 200 && license.toUpperCase() !== "UNKNOWN") {
    return [license];
  }
  const fromClassifiers = (headers.get("classifier") ?? [])
    .filter((c) => c.startsWith("License ::"))
    .map((c) => c.slice(c.lastIndexOf("::") + 2).trim())
    .filter((c) => c !== "OSI Approved");
  return uniqueLicenses(fromClassifiers);
}

function extractMetadata(file: ExtractorFile): ExtractorResult {
  const sink = new PackageSink("pypi", file.path);
  const headers = parseMetadataHeaders(file.content.toString("utf8"));
  const name = headers.get("name")?.[0]?.trim();
  const version = headers.get("version")?.[0]?.trim();
  if (!name || !version) {
    sink.warn("core metadata without Name or Version");
    return sink.result();
  }
  addPython(sink, name, version, { licenses: metadataLicenses(headers) });
  return sink.result();
}

function addPython(
  sink: PackageSink,
  name: string,
  version: string,
  opts: { licenses?: string[]; properties?: Record<string, string> } = {},
): void {
  const normalized = normalizePythonName(name);
  if (normalized === "") {
    sink.warn(`invalid distribution name ${JSON.stringify(name)}`);
    return;
  }
  // The purl carries the PEP 503 name; Package.name keeps the project's own spelling.
  sink.add({
    name: normalized,
    displayName: name,
    version,
    licenses: opts.licenses,
    properties: opts.properties,
  });
}

function extractPoetry(file: ExtractorFile): ExtractorResult {
  const sink = new PackageSink("pypi", file.path);
  for (const { name, version, entry } of tomlLockPackages(file, sink)) {
    const source = isRecord(entry.source) ? str(entry.source.type) : undefined;
    if (source === "directory") continue;
    const properties: Record<string, string> = {};
    if (source && source !== "legacy") properties.source = source;
    const groups = Array.isArray(entry.groups)
      ? entry.groups.filter((g) => typeof g === "string")
      : undefined;
    const dev = groups ? groups.length > 0 && !groups.includes("main") : entry.category === "dev";
    if (dev) properties.dev = "true";
    if (entry.optional === true) properties.optional = "true";
    addPython(sink, name, version, { properties });
  }
  return sink.result();
}

function extractPipfileLock(file: ExtractorFile): ExtractorResult {
  const sink = new PackageSink("pypi", file.path);
  const parsed = parseJson(file.content, file.path);
  if ("warning" in parsed) return { packages: [], warnings: [parsed.warning] };
  const doc = parsed.value;
  if (!isRecord(doc)) {
    sink.warn("Pipfile.lock is not an object");
    return sink.result();
  }
  const seen = new Map<string, boolean>(); // normalised name@version → dev
  const order: [string, string, Record<string, unknown>][] = [];
  for (const section of ["default", "develop"] as const) {
    const deps = doc[section];
    if (deps === undefined) continue;
    if (!isRecord(deps)) {
      sink.warn(`\`${section}\` is not an object`);
      continue;
    }
    for (const [name, entry] of Object.entries(deps)) {
      if (!isRecord(entry)) continue;
      const raw = str(entry.version);
      if (!raw) continue; // git, path or editable entries pin no version
      const version = raw.replace(/^={2,3}/, "").trim();
      if (version === "") continue;
      const key = `${normalizePythonName(name)}@${version}`;
      const dev = section === "develop";
      if (seen.has(key)) {
        if (!dev) seen.set(key, false);
        continue;
      }
      seen.set(key, dev);
      order.push([name, version, entry]);
    }
  }
  for (const [name, version, entry] of order) {
    if (!sink.open) break;
    const properties: Record<string, string> = {};
    if (seen.get(`${normalizePythonName(name)}@${version}`)) properties.dev = "true";
    if (str(entry.git)) properties.source = "git";
    else if (str(entry.file)) properties.source = "url";
    addPython(sink, name, version, { properties });
  }
  return sink.result();
}

function reconcilePython(results: FileResult[]): FileResult[] {
  return dropInstalledFromLocks(
    results,
    (path) => classifyPythonPath(path) === "metadata",
    (path) => {
      const kind = classifyPythonPath(path);
      return kind === "poetry" || kind === "pipfile";
    },
    (p) => normalizePythonName(p.name),
  );
}

export const pythonExtractor: Extractor = {
  name: "python",
  version: 1,
  spec: "PyPA core metadata (packaging.python.org/en/latest/specifications/core-metadata), PEP 503 names, PEP 639 License-Expression, poetry.lock v1/v2, Pipfile.lock",
  // METADATA carries the long description (a README) and lock files carry every hash: a few MiB at most.
  maxFileBytes: 16 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    return classifyPythonPath(file.path) !== undefined;
  },
  extract: extractByKind(classifyPythonPath, {
    metadata: extractMetadata,
    poetry: extractPoetry,
    pipfile: extractPipfileLock,
  }),
  reconcile: reconcilePython,
};
