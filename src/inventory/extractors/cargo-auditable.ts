/**
 * Rust executables built with cargo-auditable (rust-secure-code/cargo-auditable, format of the
 * `auditable-serde` crate, JSON schema https://rustsec.org/schemas/cargo-auditable.json): the ELF
 * section `.dep-v0` holds zlib-compressed (RFC 1950) JSON `{"format"?: n, "packages": [{name,
 * version, source, kind?, dependencies?, root?}]}`, `kind` "build" or "runtime" (the default),
 * `source` "crates.io", "git", "local", "registry" or another string.
 *
 * Packages follow Trivy's Rust binary parser (pkg/dependency/parser/rust/binary): build-time
 * dependencies (build scripts, proc macros, their dependencies) are skipped since their code is
 * not in the binary. The root crate is the binary itself: it is reported (`cargoRoot`) only when it
 * comes from a registry (`cargo install <crate>`); a root built from a local checkout is the
 * image's own program, and a crates.io purl for it would match advisories of an unrelated crate of
 * the same name. Every other crate is reported, with `cargoSource` when it is not from crates.io.
 * purl `pkg:cargo/<name>@<version>`. Only ELF is read (no PE, Mach-O or WebAssembly).
 */
import { inflateSync } from "node:zlib";
import { findSection, parseElf, sectionData } from "../binary/elf.js";
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo } from "../extractor.js";
import type { Package } from "../types.js";
import { purlOf } from "./purl-fallback.js";

/** The decompressed JSON is ~100 bytes per crate; 16 MiB is far past any real dependency tree. */
const MAX_JSON_BYTES = 16 << 20;
const MAX_PACKAGES = 100_000;

interface AuditablePackage {
  name: string;
  version: string;
  source: string;
  kind: "build" | "runtime";
  root: boolean;
}

/** Decodes the JSON of a `.dep-v0` section; a reason string when it is not valid audit data. */
export function parseAuditData(json: string): AuditablePackage[] | string {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    return `invalid JSON: ${(err as Error).message}`;
  }
  if (
    typeof value !== "object" ||
    value === null ||
    !Array.isArray((value as { packages?: unknown }).packages)
  ) {
    return "no packages array";
  }
  const raw = (value as { packages: unknown[] }).packages;
  if (raw.length > MAX_PACKAGES) return `${raw.length} packages, more than ${MAX_PACKAGES}`;
  const out: AuditablePackage[] = [];
  for (const p of raw) {
    if (typeof p !== "object" || p === null) return "a package is not an object";
    const { name, version, source, kind, root } = p as Record<string, unknown>;
    if (typeof name !== "string" || name === "" || typeof version !== "string" || version === "") {
      return "a package without name or version";
    }
    out.push({
      name,
      version,
      source: sourceName(source),
      kind: kind === "build" ? "build" : "runtime",
      root: root === true,
    });
  }
  return out;
}

/** "crates.io" / "CratesIo" / {"Other": "x"} → a lower-case name. */
function sourceName(source: unknown): string {
  if (typeof source === "string") {
    const s = source.toLowerCase();
    return s === "cratesio" ? "crates.io" : s;
  }
  if (typeof source === "object" && source !== null) {
    const other =
      (source as { Other?: unknown; other?: unknown }).Other ?? (source as { other?: unknown }).other;
    if (typeof other === "string") return other.toLowerCase();
  }
  return "unknown";
}

export function cargoPackages(crates: AuditablePackage[], location: string): Package[] {
  const out: Package[] = [];
  const seen = new Set<string>();
  for (const c of crates) {
    if (c.kind === "build") continue;
    if (c.root && c.source === "local") continue;
    const key = `${c.name}@${c.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const properties: Record<string, string> = {};
    if (c.root) properties.cargoRoot = "true";
    if (c.source !== "crates.io") properties.cargoSource = c.source;
    const pkg: Package = {
      ecosystem: "cargo",
      name: c.name,
      version: c.version,
      purl: purlOf("cargo", undefined, c.name, c.version),
      location,
    };
    if (Object.keys(properties).length > 0) pkg.properties = properties;
    out.push(pkg);
  }
  return out;
}

export const cargoAuditableExtractor: Extractor = {
  name: "cargo-auditable",
  version: 1,
  spec: "cargo-auditable .dep-v0 ELF section (zlib-compressed auditable-serde JSON, rustsec.org/schemas/cargo-auditable.json)",
  maxFileBytes: 1 << 30,
  wants(file: FileInfo): boolean {
    // Rust executables with std are a few hundred KB; no_std ones can be tiny.
    return (file.mode & 0o111) !== 0 && file.size >= 4096;
  },
  extract(file: ExtractorFile): ExtractorResult {
    const elf = parseElf(file.content);
    if (typeof elf === "string") return {};
    const section = findSection(elf, ".dep-v0");
    if (section === undefined) return {};
    const warn = (reason: string): ExtractorResult => ({
      warnings: [`${file.path}: cargo-auditable .dep-v0: ${reason}`],
    });
    const data = sectionData(elf, section);
    if (data === undefined) return warn("section outside the file");
    let json: Buffer;
    try {
      json = inflateSync(data, { maxOutputLength: MAX_JSON_BYTES });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return warn(
        e.code === "ERR_BUFFER_TOO_LARGE"
          ? `decompresses past ${MAX_JSON_BYTES} bytes`
          : `zlib: ${e.message}`,
      );
    }
    const crates = parseAuditData(json.toString("utf8"));
    if (typeof crates === "string") return warn(crates);
    return { packages: cargoPackages(crates, file.path) };
  },
};
