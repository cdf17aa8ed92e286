/**
 * RubyGems extractor: installed gem specifications and Bundler lock files.
 *
 * Formats implemented:
 * - Installed specifications (`…/specifications/<name>-<version>[-<platform>].gemspec`, also
 *   `specifications/default/` for default gems): the Ruby source RubyGems writes with
 *   `Gem::Specification#to_ruby` — https://guides.rubygems.org/specification-reference/ . Read
 *   line by line with plain string scanning (no Ruby evaluation, no backtracking regexes): `s.name`,
 *   `s.version`, `s.platform`, `s.license(s)`; string literals in `"…"`, `'…'`, `%q{…}` forms with
 *   an optional `.freeze`; the `# stub: name version platform paths` header is the fallback.
 * - Gemfile.lock / gems.locked: https://bundler.io/guides/gemfile_lock.html (sections at column 0,
 *   `remote:`/`specs:` at 2 spaces, gems at 4 spaces, their dependencies at 6).
 *
 * Decisions:
 * - Gemfile.lock reports the `GEM` (rubygems) and `GIT` sections (property `source = "git"`); `PATH`
 *   gems are local code (usually the project's own gemspec) and are not reported.
 * - A platform suffix (`nokogiri (1.13.6-x86_64-linux)`) is split off only when it starts with a
 *   known CPU or OS name, so versions containing "-" stay intact; the platform becomes `arch` and the
 *   purl's `platform` qualifier.
 * - Lock files inside installed gems (`…/gems/<gem>/Gemfile.lock`, shipped by some gems) are ignored.
 * - reconcile: installed specifications are the truth: a lock entry whose gem name is installed
 *   anywhere in the image is dropped (BUNDLE_PATH may be anywhere); the others are kept.
 */
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo, FileResult } from "../extractor.js";
import {
  basename,
  dirname,
  dropInstalledFromLocks,
  extractByKind,
  hasSegment,
  PackageSink,
  uniqueLicenses,
} from "./language-common.js";

type Kind = "gemspec" | "lock";

export function classifyRubyPath(path: string): Kind | undefined {
  if (path.endsWith(".gemspec")) {
    const dir = dirname(path);
    const parent = basename(dir);
    if (parent === "specifications") return "gemspec";
    if (parent === "default" && basename(dirname(dir)) === "specifications") return "gemspec";
    return undefined;
  }
  const base = basename(path);
  if ((base === "Gemfile.lock" || base === "gems.locked") && !hasSegment(path, "gems")) return "lock";
  return undefined;
}

const PLATFORM_PREFIXES = [
  "x86_64",
  "x86",
  "x64",
  "i386",
  "i486",
  "i586",
  "i686",
  "universal",
  "arm64",
  "arm",
  "aarch64",
  "armv7l",
  "armv6l",
  "java",
  "jruby",
  "dalvik",
  "mswin32",
  "mswin64",
  "mingw32",
  "mingw",
  "powerpc",
  "ppc64le",
  "ppc64",
  "s390x",
  "sparc",
  "darwin",
  "linux",
  "freebsd",
  "openbsd",
  "netbsd",
  "solaris",
  "riscv64",
  "loongarch64",
  "wasm32",
];

/** "1.13.6-x86_64-linux" → ["1.13.6", "x86_64-linux"]; "1.0.0-rc1" stays a version. */
export function splitGemPlatform(value: string): [string, string | undefined] {
  let i = value.indexOf("-");
  while (i > 0) {
    const rest = value.slice(i + 1);
    for (const p of PLATFORM_PREFIXES) {
      if (rest.startsWith(p) && (rest.length === p.length || rest[p.length] === "-")) {
        return [value.slice(0, i), rest];
      }
    }
    i = value.indexOf("-", i + 1);
  }
  return [value, undefined];
}

/** Ruby string literals in `text`, in order: "…", '…', %q{…}/%Q(…)/%q[…]/%q<…>; escapes kept simple. */
export function rubyStrings(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length && out.length < 50) {
    const c = text[i];
    if (c === "#") break; // a comment ends the statement
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = "";
      while (j < text.length && text[j] !== c) {
        if (text[j] === "\\" && j + 1 < text.length) j++;
        s += text[j];
        j++;
      }
      if (j >= text.length) break;
      out.push(s);
      i = j + 1;
      continue;
    }
    if (c === "%" && (text[i + 1] === "q" || text[i + 1] === "Q")) {
      const open = text[i + 2] ?? "";
      const close = { "{": "}", "(": ")", "[": "]", "<": ">" }[open] ?? open;
      const j = open === "" ? -1 : text.indexOf(close, i + 3);
      if (j < 0) break;
      out.push(text.slice(i + 3, j));
      i = j + 1;
      continue;
    }
    i++;
  }
  return out;
}

// "licenses" before "license": the first prefix that matches wins.
const ASSIGNED_ATTRS = ["name", "version", "platform", "licenses", "license"] as const;

/** The right-hand side of `<var>.<attr> = …` on a trimmed line, or undefined. */
function assignment(line: string, variable: string, attr: string): string | undefined {
  const prefix = `${variable}.${attr}`;
  if (!line.startsWith(prefix)) return undefined;
  const rest = line.slice(prefix.length).trimStart();
  if (!rest.startsWith("=") || rest.startsWith("==")) return undefined;
  return rest.slice(1);
}

function extractGemspec(file: ExtractorFile): ExtractorResult {
  const sink = new PackageSink("gem", file.path);
  const text = file.content.toString("utf8");
  let variable: string | undefined;
  let name: string | undefined;
  let version: string | undefined;
  let platform: string | undefined;
  let licenses: string[] = [];
  let stub: string[] | undefined;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line.startsWith("# stub: ")) {
      stub ??= line.slice(8).trim().split(" "); // later stub lines list extensions
      continue;
    }
    if (variable === undefined) {
      const at = line.indexOf("Gem::Specification.new");
      if (at < 0) continue;
      const bar = line.indexOf("|", at);
      const bar2 = bar < 0 ? -1 : line.indexOf("|", bar + 1);
      variable = bar2 > bar ? line.slice(bar + 1, bar2).trim() : "s";
      continue;
    }
    const assigned = ASSIGNED_ATTRS.map(
      (attr) => [attr, assignment(line, variable as string, attr)] as const,
    ).find(([, rhs]) => rhs !== undefined);
    if (!assigned) continue;
    const [attr, rhs] = assigned;
    const values = rubyStrings(rhs as string);
    if (attr === "name") name ??= values[0];
    else if (attr === "version") version ??= values[0];
    else if (attr === "platform") platform ??= values[0];
    else if (attr === "licenses") licenses = values;
    else licenses = values.slice(0, 1);
  }
  name ??= stub?.[0];
  version ??= stub?.[1];
  if (platform === undefined && stub && stub.length >= 4) platform = stub[2];
  if (!name || !version) {
    sink.warn("gemspec without name or version");
    return sink.result();
  }
  addGem(sink, name, version, platform, { licenses: uniqueLicenses(licenses) });
  return sink.result();
}

function addGem(
  sink: PackageSink,
  name: string,
  version: string,
  platform: string | undefined,
  opts: { licenses?: string[]; properties?: Record<string, string> } = {},
): void {
  const arch = platform && platform !== "ruby" ? platform : undefined;
  sink.add({
    name,
    version,
    arch,
    qualifiers: arch ? { platform: arch } : undefined,
    licenses: opts.licenses,
    properties: opts.properties,
  });
}

function countIndent(line: string): number {
  let n = 0;
  while (n < line.length && line[n] === " ") n++;
  return n;
}

function extractGemfileLock(file: ExtractorFile): ExtractorResult {
  const sink = new PackageSink("gem", file.path);
  const text = file.content.toString("utf8");
  let section = "";
  let inSpecs = false;
  let sawSection = false;
  const seen = new Set<string>();
  let start = 0;
  let lineNo = 0;
  while (start < text.length && sink.open) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") continue;
    const indent = countIndent(line);
    if (indent === 0) {
      section = line.trim();
      sawSection = true;
      inSpecs = false;
      continue;
    }
    if (section !== "GEM" && section !== "GIT") continue;
    if (indent === 2) {
      inSpecs = line.trim() === "specs:";
      continue;
    }
    if (indent !== 4 || !inSpecs) continue;
    const spec = line.trim();
    const open = spec.indexOf(" (");
    if (open <= 0 || !spec.endsWith(")")) {
      sink.warn(`line ${lineNo}: unexpected spec ${JSON.stringify(spec.slice(0, 80))}`);
      continue;
    }
    const name = spec.slice(0, open);
    const [version, platform] = splitGemPlatform(spec.slice(open + 2, -1));
    const key = `${name}\0${version}\0${platform ?? ""}`;
    if (seen.has(key) || version === "") continue;
    seen.add(key);
    addGem(sink, name, version, platform, { properties: section === "GIT" ? { source: "git" } : undefined });
  }
  if (!sawSection && text.trim() !== "") sink.warn("not a Gemfile.lock: no sections found");
  return sink.result();
}

function reconcileRuby(results: FileResult[]): FileResult[] {
  return dropInstalledFromLocks(
    results,
    (path) => classifyRubyPath(path) === "gemspec",
    (path) => classifyRubyPath(path) === "lock",
    (p) => p.name,
  );
}

export const rubyExtractor: Extractor = {
  name: "ruby",
  version: 1,
  spec: "RubyGems specification files (guides.rubygems.org/specification-reference) and Bundler Gemfile.lock (bundler.io/guides/gemfile_lock.html)",
  maxFileBytes: 8 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    return classifyRubyPath(file.path) !== undefined;
  },
  extract: extractByKind(classifyRubyPath, { gemspec: extractGemspec, lock: extractGemfileLock }),
  reconcile: reconcileRuby,
};
