/**
 * PHP (Composer) extractor: composer.lock and the installed-package list `vendor/composer/installed.json`.
 *
 * Formats implemented:
 * - composer.lock `packages` and `packages-dev`: https://getcomposer.org/doc/01-basic-usage.md#commit-your-composer-lock-file-to-version-control
 *   and the package schema https://getcomposer.org/doc/04-schema.md (`name` "vendor/name", `version`,
 *   `license` string or array).
 * - installed.json, Composer 1 (a JSON array of packages) and Composer 2 (`{packages: […], dev,
 *   dev-package-names: […]}`): https://getcomposer.org/doc/07-runtime.md#installed-versions
 * - purl `pkg:composer/<vendor>/<name>@<version>` (purl-spec composer type); versions as Composer
 *   writes them ("v5.4.3", "dev-main").
 *
 * Decisions:
 * - Packages installed from a `path` repository (dist type "path") are local code and are skipped;
 *   the root project never appears in either file. Dev packages carry property `dev = "true"`.
 * - composer.lock files inside a vendor directory (shipped by some packages) are ignored.
 * - reconcile: installed.json is the truth: a composer.lock is dropped when the same project (the
 *   folder holding the vendor directory of that installed.json) has one with packages.
 */
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo, FileResult } from "../extractor.js";
import {
  basename,
  dirname,
  extractByKind,
  hasSegment,
  isRecord,
  PackageSink,
  parseJson,
  str,
  uniqueLicenses,
  withoutPackages,
} from "./language-common.js";

type Kind = "lock" | "installed";

export function classifyPhpPath(path: string): Kind | undefined {
  const base = basename(path);
  if (base === "composer.lock") return hasSegment(path, "vendor") ? undefined : "lock";
  if (base === "installed.json" && basename(dirname(path)) === "composer" && dirname(dirname(path)) !== "") {
    return "installed";
  }
  return undefined;
}

/** The project folder of `<project>/<vendor-dir>/composer/installed.json`. */
function installedProject(path: string): string {
  return dirname(dirname(dirname(path)));
}

function licensesOf(value: unknown): string[] {
  if (typeof value === "string") return uniqueLicenses([value]);
  if (Array.isArray(value))
    return uniqueLicenses(value.slice(0, 20).map((v) => (typeof v === "string" ? v : undefined)));
  return [];
}

function addPackages(
  sink: PackageSink,
  list: unknown,
  section: string,
  dev: (name: string) => boolean,
): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) {
    sink.warn(`\`${section}\` is not an array`);
    return;
  }
  for (const entry of list) {
    if (!sink.open) return;
    if (!isRecord(entry)) continue;
    const full = str(entry.name);
    const version = str(entry.version);
    if (!full || !version) {
      sink.warn(`package without name or version in \`${section}\``);
      continue;
    }
    if (isRecord(entry.dist) && entry.dist.type === "path") continue;
    const slash = full.indexOf("/");
    if (slash <= 0 || slash === full.length - 1) {
      sink.warn(`invalid package name ${JSON.stringify(full)}`);
      continue;
    }
    sink.add({
      namespace: full.slice(0, slash),
      name: full.slice(slash + 1),
      version,
      licenses: licensesOf(entry.license),
      properties: dev(full) ? { dev: "true" } : undefined,
    });
  }
}

function extractComposer(file: ExtractorFile, kind: Kind): ExtractorResult {
  const parsed = parseJson(file.content, file.path);
  if ("warning" in parsed) return { packages: [], warnings: [parsed.warning] };
  const doc = parsed.value;
  const sink = new PackageSink("composer", file.path);
  if (kind === "installed" && Array.isArray(doc)) {
    addPackages(sink, doc, "packages", () => false); // Composer 1
    return sink.result();
  }
  if (!isRecord(doc)) {
    sink.warn("not a JSON object");
    return sink.result();
  }
  if (kind === "lock") {
    addPackages(sink, doc.packages, "packages", () => false);
    addPackages(sink, doc["packages-dev"], "packages-dev", () => true);
  } else {
    const devNames = new Set(
      Array.isArray(doc["dev-package-names"])
        ? doc["dev-package-names"].filter((n) => typeof n === "string")
        : [],
    );
    addPackages(sink, doc.packages, "packages", (name) => devNames.has(name));
  }
  return sink.result();
}

function reconcilePhp(results: FileResult[]): FileResult[] {
  const installed = new Set<string>();
  for (const r of results) {
    if (classifyPhpPath(r.path) === "installed" && (r.packages?.length ?? 0) > 0)
      installed.add(installedProject(r.path));
  }
  return results.map((r) =>
    classifyPhpPath(r.path) === "lock" && installed.has(dirname(r.path))
      ? withoutPackages(r, () => false)
      : r,
  );
}

export const phpExtractor: Extractor = {
  name: "php",
  version: 1,
  spec: "Composer composer.lock and vendor/composer/installed.json (getcomposer.org/doc/04-schema.md, getcomposer.org/doc/07-runtime.md)",
  maxFileBytes: 32 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    return classifyPhpPath(file.path) !== undefined;
  },
  extract: extractByKind(classifyPhpPath, { lock: extractComposer, installed: extractComposer }),
  reconcile: reconcilePhp,
};
