/**
 * Go build information in ELF executables, read the way the Go standard library's
 * `debug/buildinfo.Read` does, and the module information text that `runtime/debug.ParseBuildInfo`
 * parses (`path`, `mod`, `dep`, `=>` replacement and `build` setting lines).
 *
 * Where the blob is: the `.go.buildinfo` section; without one (section headers stripped, or an
 * older linker) the first writable, non-executable PT_LOAD segment, where the linker puts it first;
 * as a last resort, when no section names are readable at all, the whole file. The blob is a
 * 32-byte header at a 16-byte aligned address: the 14-byte magic `\xff Go buildinf:`, the pointer
 * size and a flags byte. With flag bit 2 set (Go >= 1.18) two varint-length-prefixed strings follow
 * the header, the toolchain version and the module info; otherwise (Go 1.13 - 1.17) the header
 * holds two pointers of that size and byte order (flags 1 = big-endian) to Go string headers
 * {data pointer, length}, resolved through the PT_LOAD segments. The module info is framed by 16
 * sentinel bytes on each side.
 *
 * Packages, following Trivy's Go binary parser (pkg/dependency/parser/golang/binary):
 * - every `dep`, the `=>` replacement winning; the original is kept in `properties.goReplaces`.
 *   Beyond Trivy: a replacement by a local directory (no version) keeps the original module path
 *   with an empty version (`goReplacedBy`, `goRequiredVersion`), since the code is not the
 *   published module and "./dir" is not a module path;
 * - the main module (`properties.goMainModule`); `(devel)` becomes an empty version unless
 *   `-ldflags -X …version=` stamps a semantic version (Trivy's rules: `<module>/cmd/…` keys first,
 *   then keys whose package is main/common/version/cmd, then others; several candidates in the
 *   first non-empty category leave it empty);
 * - `stdlib` at the toolchain version. Go versions keep Go's `v` prefix like module versions
 *   (as Trivy does), normalised to SemVer the way golang.org/x/vuln does: `go1.21.4` → `v1.21.4`,
 *   `go1.16` → `v1.16.0`, `go1.21rc2` → `v1.21.0-rc.2`; the raw string is `properties.goToolchain`.
 *   purl `pkg:golang/stdlib@v1.21.4`. (OSV's Go entries write versions without the `v`; the matcher
 *   strips it for every Go package alike.)
 * purls: `pkg:golang/<module path>@<version>` (no version part when the version is empty).
 */
import {
  type ElfFile,
  PF_W,
  PF_X,
  PT_LOAD,
  parseElf,
  readAtVaddr,
  readPointer,
  SHT_NOBITS,
} from "../binary/elf.js";
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo } from "../extractor.js";
import type { Package } from "../types.js";
import { purlOf } from "./purl-fallback.js";

const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const HEADER_SIZE = 32;
const ALIGN = 16;
/** Build info strings are a few hundred KB at most for the largest binaries (kubelet ~ 20 KB). */
const MAX_STRING = 16 << 20;
/** The smallest Go executables (stripped hello world) are about a megabyte. */
const MIN_SIZE = 256 << 10;

export interface GoModule {
  path: string;
  version: string;
  sum?: string | undefined;
  replace?: GoModule | undefined;
}

export interface GoBuildInfo {
  /** Raw toolchain version: "go1.21.4", "go1.22.3 X:boringcrypto", "devel go1.23-…". */
  goVersion: string;
  /** The main package path (`path` line). */
  path: string;
  main?: GoModule | undefined;
  deps: GoModule[];
  settings: { key: string; value: string }[];
}

type Located =
  | { kind: "found"; goVersion: string; modinfo: string }
  | { kind: "absent" }
  | { kind: "broken"; reason: string };

/** Finds and decodes the build info blob of an ELF file (see the header comment). */
export function readGoBuildInfoBlob(elf: ElfFile): Located {
  const regions: { start: number; end: number; vaddr: number | undefined }[] = [];
  const section = elf.sections.find((s) => s.name === ".go.buildinfo");
  if (section !== undefined && section.type !== SHT_NOBITS) {
    regions.push({ start: section.offset, end: section.offset + section.size, vaddr: section.addr });
  }
  const data = elf.segments.find((p) => p.type === PT_LOAD && (p.flags & (PF_X | PF_W)) === PF_W);
  if (data !== undefined)
    regions.push({ start: data.offset, end: data.offset + data.filesz, vaddr: data.vaddr });
  // With no section names to go by (section headers zeroed or corrupt), search the whole file; a
  // readable section table without .go.buildinfo is not worth a full scan.
  if (elf.sections.every((s) => s.name === "")) {
    regions.push({ start: 0, end: elf.buffer.length, vaddr: undefined });
  }

  let broken: string | undefined;
  for (const region of regions) {
    const buf = elf.buffer;
    const start = Math.max(0, Math.min(region.start, buf.length));
    const end = Math.max(start, Math.min(region.end, buf.length));
    const view = buf.subarray(start, end);
    let from = start;
    while (from < end) {
      const rel = view.indexOf(MAGIC, from - start);
      if (rel < 0) break;
      const i = start + rel;
      if (i + HEADER_SIZE > end) break;
      const aligned =
        region.vaddr === undefined ? i % ALIGN === 0 : (region.vaddr + (i - start)) % ALIGN === 0;
      if (!aligned) {
        from = i + 1;
        continue;
      }
      const decoded = decodeBlob(elf, i, end);
      if (typeof decoded !== "string") return { kind: "found", ...decoded };
      broken ??= decoded;
      from = i + ALIGN;
    }
  }
  return broken === undefined ? { kind: "absent" } : { kind: "broken", reason: broken };
}

function decodeBlob(elf: ElfFile, at: number, end: number): { goVersion: string; modinfo: string } | string {
  const buf = elf.buffer;
  const ptrSize = buf[at + 14];
  const flags = buf[at + 15] ?? 0;
  let version: Buffer | undefined;
  let mod: Buffer | undefined;
  if ((flags & 2) !== 0) {
    const v = decodeVarintString(buf, at + HEADER_SIZE, end);
    if (v === undefined) return "build info: bad Go version string";
    version = v.value;
    const m = decodeVarintString(buf, v.next, end);
    if (m === undefined) return "build info: bad module info string";
    mod = m.value;
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) return `build info: pointer size ${ptrSize}`;
    const le = flags === 0;
    const versionPtr = readPointer(buf, at + 16, ptrSize, le);
    const modPtr = readPointer(buf, at + 16 + ptrSize, ptrSize, le);
    if (versionPtr === undefined || modPtr === undefined) return "build info: truncated header";
    version = readGoString(elf, versionPtr, ptrSize, le);
    mod = readGoString(elf, modPtr, ptrSize, le);
    if (version === undefined) return "build info: Go version string outside the loaded segments";
    if (mod === undefined) return "build info: module info string outside the loaded segments";
  }
  const goVersion = version.toString("utf8");
  if (goVersion === "") return "build info: empty Go version";
  if (!/^(go\d|devel )/.test(goVersion))
    return `build info: unexpected Go version ${JSON.stringify(goVersion.slice(0, 40))}`;
  // Strip the sentinels that frame the module info (cmd/go/internal/modload infoStart / infoEnd).
  const modinfo =
    mod.length >= 33 && mod[mod.length - 17] === 0x0a
      ? mod.subarray(16, mod.length - 16).toString("utf8")
      : "";
  return { goVersion, modinfo };
}

function decodeVarintString(
  buf: Buffer,
  at: number,
  end: number,
): { value: Buffer; next: number } | undefined {
  let length = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    if (i >= end || shift > 35) return undefined;
    const b = buf[i++] as number;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  if (length > MAX_STRING || i + length > end) return undefined;
  return { value: buf.subarray(i, i + length), next: i + length };
}

function readGoString(elf: ElfFile, addr: number, ptrSize: 4 | 8, le: boolean): Buffer | undefined {
  const hdr = readAtVaddr(elf, addr, 2 * ptrSize);
  if (hdr === undefined) return undefined;
  const dataAddr = readPointer(hdr, 0, ptrSize, le);
  const length = readPointer(hdr, ptrSize, ptrSize, le);
  if (dataAddr === undefined || length === undefined || length > MAX_STRING) return undefined;
  if (length === 0) return Buffer.alloc(0);
  return readAtVaddr(elf, dataAddr, length);
}

/**
 * Parses module info text (runtime/debug.ParseBuildInfo's format). Unlike the standard library it
 * keeps going past a bad line, reporting it, so one odd line does not lose the whole inventory.
 */
export function parseModinfo(goVersion: string, text: string): { info: GoBuildInfo; problems: string[] } {
  const info: GoBuildInfo = { goVersion, path: "", deps: [], settings: [] };
  const problems: string[] = [];
  let last: GoModule | undefined;
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/\r$/, "");
    if (line === "") continue;
    const tab = line.indexOf("\t");
    const word = tab < 0 ? line : line.slice(0, tab);
    const rest = tab < 0 ? "" : line.slice(tab + 1);
    switch (word) {
      case "go":
        break;
      case "path":
        info.path = rest;
        last = undefined;
        break;
      case "mod":
      case "dep": {
        const mod = moduleLine(rest);
        if (mod === undefined) {
          problems.push(`line ${n + 1}: malformed ${word} line`);
          last = undefined;
          break;
        }
        if (word === "mod") info.main = mod;
        else info.deps.push(mod);
        last = mod;
        break;
      }
      case "=>": {
        const mod = moduleLine(rest);
        if (mod === undefined || last === undefined || last.replace !== undefined) {
          problems.push(`line ${n + 1}: replacement without a module before it`);
          break;
        }
        last.replace = mod;
        last = undefined;
        break;
      }
      case "build": {
        const setting = buildSetting(rest);
        if (setting === undefined) problems.push(`line ${n + 1}: malformed build line`);
        else info.settings.push(setting);
        last = undefined;
        break;
      }
      default:
        problems.push(`line ${n + 1}: unknown line ${JSON.stringify(word.slice(0, 20))}`);
    }
  }
  return { info, problems };
}

function moduleLine(rest: string): GoModule | undefined {
  const cols = rest.split("\t");
  const path = cols[0] ?? "";
  if (cols.length < 2 || path === "" || /\s/.test(path)) return undefined;
  const sum = cols[2];
  return { path, version: cols[1] ?? "", sum: sum === undefined || sum === "" ? undefined : sum };
}

function buildSetting(kv: string): { key: string; value: string } | undefined {
  let key: string;
  let raw: string;
  if (kv.startsWith('"') || kv.startsWith("`")) {
    const q = quotedPrefix(kv);
    if (q === undefined || kv[q.length] !== "=") return undefined;
    key = q.value;
    raw = kv.slice(q.length + 1);
  } else {
    const eq = kv.indexOf("=");
    if (eq <= 0) return undefined;
    key = kv.slice(0, eq);
    raw = kv.slice(eq + 1);
  }
  let value = raw;
  if (raw.startsWith('"') || raw.startsWith("`")) {
    const q = quotedPrefix(raw);
    if (q === undefined || q.length !== raw.length) return undefined;
    value = q.value;
  }
  return { key, value };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
};

/** A Go quoted string (strconv.QuotedPrefix + Unquote) at the start of `s`: its value and length. */
export function quotedPrefix(s: string): { value: string; length: number } | undefined {
  const quote = s[0];
  if (quote === "`") {
    const close = s.indexOf("`", 1);
    return close < 0 ? undefined : { value: s.slice(1, close), length: close + 1 };
  }
  if (quote !== '"') return undefined;
  const bytes: number[] = [];
  const pushString = (t: string) => {
    for (const b of Buffer.from(t, "utf8")) bytes.push(b);
  };
  let i = 1;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === '"') return { value: Buffer.from(bytes).toString("utf8"), length: i + 1 };
    if (c === "\n") return undefined;
    if (c !== "\\") {
      const cp = s.codePointAt(i) as number;
      pushString(String.fromCodePoint(cp));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = s[i + 1];
    if (e === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      pushString(simple);
      i += 2;
    } else if (e === "x" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (/^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      const v = Number.parseInt(s.slice(i + 1, i + 4), 8);
      if (v > 255) return undefined;
      bytes.push(v);
      i += 4;
    } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
      pushString(String.fromCodePoint(Number.parseInt(s.slice(i + 2, i + 6), 16)));
      i += 6;
    } else if (e === "U" && /^[0-9a-fA-F]{8}$/.test(s.slice(i + 2, i + 10))) {
      const cp = Number.parseInt(s.slice(i + 2, i + 10), 16);
      if (cp > 0x10ffff) return undefined;
      pushString(String.fromCodePoint(cp));
      i += 10;
    } else {
      return undefined;
    }
  }
  return undefined;
}

const SEMVER =
  /^v(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?$/;

/** golang.org/x/mod/semver.IsValid: `v` + MAJOR[.MINOR[.PATCH[-pre][+build]]]. */
export function isGoSemver(v: string): boolean {
  return SEMVER.test(v);
}

/**
 * The toolchain version as SemVer with a `v` (golang.org/x/vuln's GoTagToSemver): "go1.21.4" →
 * "v1.21.4", "go1.20" → "v1.20.0", "go1.21rc2" → "v1.21.0-rc.2". Anything else ("devel …") → "".
 */
export function goToolchainSemver(goVersion: string): string {
  const tag = goVersion.trim().split(/\s+/)[0] ?? "";
  const m = /^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(alpha|beta|rc)(\d+))?(?:[-+].*)?$/.exec(tag);
  if (m === null) return "";
  const [, major, minor = "0", patch = "0", pre, preNum] = m;
  const strip = (n: string) => String(Number.parseInt(n, 10));
  let v = `v${strip(major as string)}.${strip(minor)}.${strip(patch)}`;
  if (pre !== undefined) v += `-${pre}.${strip(preNum as string)}`;
  return v;
}

/** Splits a command line the way github.com/mattn/go-shellwords does for -ldflags (quotes and backslashes). */
export function shellWords(s: string): string[] | undefined {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote !== undefined) return undefined;
  if (inWord) words.push(cur);
  return words;
}

/** The main module's version stamped with `-ldflags -X key=value` (Trivy's ParseLDFlags rules). */
export function versionFromLdflags(mainPath: string, ldflags: string): string {
  const words = shellWords(ldflags);
  if (words === undefined) return "";
  const assignments: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === "-X" || w === "--X") {
      const next = words[i + 1];
      if (next !== undefined) assignments.push(next);
      i++;
    } else if (w.startsWith("-X=") || w.startsWith("--X=")) {
      assignments.push(w.slice(w.indexOf("=") + 1));
    } else if (w.startsWith("-X") && !w.startsWith("--")) {
      assignments.push(w.slice(2));
    }
  }
  const categories: Set<string>[] = [new Set(), new Set(), new Set()];
  for (const a of assignments) {
    for (const part of a.split(",")) {
      const eq = part.indexOf("=");
      if (eq <= 0) continue;
      const key = part.slice(0, eq).replace(/^'+/, "");
      const val = part.slice(eq + 1).replace(/'+$/, "");
      const lower = key.toLowerCase();
      if (!lower.endsWith(".version") && !lower.endsWith(".ver")) continue;
      if (!isGoSemver(val) && !isGoSemver(`v${val}`)) continue;
      const prefix = (key.slice(key.lastIndexOf("/") + 1).split(".")[0] ?? "").toLowerCase();
      if (mainPath !== "" && key.startsWith(`${mainPath}/cmd/`)) (categories[0] as Set<string>).add(val);
      else if (["main", "common", "version", "cmd"].includes(prefix)) (categories[1] as Set<string>).add(val);
      else (categories[2] as Set<string>).add(val);
    }
  }
  for (const found of categories) {
    if (found.size === 0) continue;
    if (found.size > 1) return "";
    // Canonical SemVer with Go's "v" (x/mod semver.Canonical for the shorthands "v1", "v1.2").
    const v = [...found][0] as string;
    const withV = v.startsWith("v") ? v : `v${v}`;
    if (/^v\d+$/.test(withV)) return `${withV}.0.0`;
    if (/^v\d+\.\d+$/.test(withV)) return `${withV}.0`;
    return withV;
  }
  return "";
}

function goPurl(path: string, version: string): string {
  const slash = path.lastIndexOf("/");
  const namespace = slash < 0 ? undefined : path.slice(0, slash);
  const name = slash < 0 ? path : path.slice(slash + 1);
  return purlOf("golang", namespace, name, version === "" ? undefined : version);
}

function isLocalPath(p: string): boolean {
  return (
    p.startsWith("./") ||
    p.startsWith("../") ||
    p.startsWith("/") ||
    p === "." ||
    p === ".." ||
    /^[A-Za-z]:[\\/]/.test(p)
  );
}

/** Packages of one binary's build info (see the header comment for the rules). */
export function goPackages(info: GoBuildInfo, location: string): Package[] {
  const out: Package[] = [];
  const seen = new Set<string>();
  const add = (name: string, version: string, properties?: Record<string, string>) => {
    const key = `${name}@${version}`;
    if (seen.has(key)) return;
    seen.add(key);
    const pkg: Package = { ecosystem: "golang", name, version, purl: goPurl(name, version), location };
    if (properties !== undefined && Object.keys(properties).length > 0) pkg.properties = properties;
    out.push(pkg);
  };
  const settings = new Map(info.settings.map((s) => [s.key, s.value]));

  if (info.main !== undefined && info.main.path !== "") {
    const raw = info.main.version;
    let version = raw === "(devel)" ? "" : raw;
    const props: Record<string, string> = { goMainModule: "true" };
    if (info.path !== "") props.goPackagePath = info.path;
    const ldflags = settings.get("-ldflags");
    const stamped = ldflags === undefined ? "" : versionFromLdflags(info.main.path, ldflags);
    if (version === "" || (version.startsWith("v0.0.0") && stamped !== "")) {
      if (stamped !== "") props.goVersionSource = "ldflags";
      version = stamped;
    }
    if (version !== raw) props.goModVersion = raw;
    for (const k of ["vcs.revision", "vcs.time", "vcs.modified"]) {
      const v = settings.get(k);
      if (v !== undefined) props[k] = v;
    }
    add(info.main.path, version, props);
  }

  for (const dep of info.deps) {
    if (dep.path === "") continue;
    const r = dep.replace;
    if (r === undefined) {
      add(dep.path, dep.version === "(devel)" ? "" : dep.version);
    } else if (isLocalPath(r.path)) {
      add(dep.path, "", { goReplacedBy: r.path, goRequiredVersion: dep.version });
    } else {
      add(r.path, r.version === "(devel)" ? "" : r.version, { goReplaces: `${dep.path}@${dep.version}` });
    }
  }

  const stdProps: Record<string, string> = { goToolchain: info.goVersion };
  add("stdlib", goToolchainSemver(info.goVersion), stdProps);
  return out;
}

function isExecutable(file: FileInfo): boolean {
  return (file.mode & 0o111) !== 0 && file.size >= MIN_SIZE;
}

export const goBinaryExtractor: Extractor = {
  name: "gobinary",
  version: 1,
  spec: "Go debug/buildinfo (.go.buildinfo blob, Go 1.13+ pointer and 1.18+ inline formats) and runtime/debug.ParseBuildInfo module info",
  // Go binaries of 100-700 MB exist (terraform providers); only headers and the build info are read.
  maxFileBytes: 1 << 30,
  wants: isExecutable,
  extract(file: ExtractorFile): ExtractorResult {
    const elf = parseElf(file.content);
    if (typeof elf === "string") return {};
    const blob = readGoBuildInfoBlob(elf);
    if (blob.kind === "absent") return {};
    if (blob.kind === "broken") return { warnings: [`${file.path}: Go ${blob.reason}`] };
    const { info, problems } = parseModinfo(blob.goVersion, blob.modinfo);
    const warnings = problems.slice(0, 10).map((p) => `${file.path}: Go module info ${p}`);
    if (problems.length > 10)
      warnings.push(`${file.path}: Go module info: ${problems.length - 10} more problems`);
    const packages = goPackages(info, file.path);
    return warnings.length > 0 ? { packages, warnings } : { packages };
  },
};
