/**
 * Rust (Cargo) extractor: Cargo.lock, every lock format version (v1 with a `[metadata]` checksum
 * table, v2 and v3 with inline `checksum`, v4 with `version = 4`): TOML `[[package]]` tables with
 * `name`, `version`, `source` — https://doc.rust-lang.org/cargo/guide/cargo-toml-vs-cargo-lock.html and
 * https://doc.rust-lang.org/cargo/reference/resolver.html (lock file); purl `pkg:cargo/<name>@<version>`.
 *
 * Decisions:
 * - Packages without `source` are the workspace's own crates and `path` dependencies: local code,
 *   like the root of other ecosystems, and not reported (Trivy reports them; their names can collide
 *   with unrelated crates.io crates). `git+…` sources are kept with property `source = "git"`;
 *   registries other than crates.io keep the registry URL as property `registry`.
 * - Cargo.lock files inside Cargo's own caches (`registry/src/…`, `git/checkouts/…` under
 *   CARGO_HOME: the sources of downloaded crates) describe those crates' builds, not the image, and
 *   are ignored.
 */
import type { Extractor, ExtractorFile, ExtractorResult, FileInfo } from "../extractor.js";
import { basename, guardedExtract, hasSegment, PackageSink, str } from "./language-common.js";
import { tomlLockPackages } from "./toml-lock.js";

const CRATES_IO = [
  "registry+https://github.com/rust-lang/crates.io-index",
  "sparse+https://index.crates.io/",
];

export function cargoWants(path: string): boolean {
  return (
    basename(path) === "Cargo.lock" && !hasSegment(path, "registry/src") && !hasSegment(path, "git/checkouts")
  );
}

function extractCargoLock(file: ExtractorFile): ExtractorResult {
  const sink = new PackageSink("cargo", file.path);
  const seen = new Set<string>();
  for (const { name, version, entry } of tomlLockPackages(file, sink)) {
    const source = str(entry.source);
    if (!source) continue; // workspace member or path dependency
    const key = `${name}\0${version}\0${source}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const properties: Record<string, string> = {};
    if (source.startsWith("git+")) properties.source = "git";
    else if (!CRATES_IO.includes(source)) properties.registry = source;
    sink.add({ name, version, properties });
  }
  return sink.result();
}

export const cargoExtractor: Extractor = {
  name: "cargo",
  version: 1,
  spec: "Cargo.lock v1-v4 (doc.rust-lang.org/cargo/guide/cargo-toml-vs-cargo-lock.html)",
  maxFileBytes: 16 * 1024 * 1024,
  wants(file: FileInfo): boolean {
    return cargoWants(file.path);
  },
  extract(file: ExtractorFile): ExtractorResult {
    return guardedExtract(file, extractCargoLock);
  },
};
