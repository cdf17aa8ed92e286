/**
 * Real rustc-linked executables carrying cargo-auditable audit data, for the cargo-auditable
 * extractor tests. `cargo install cargo-auditable` needs crates.io, which this machine cannot
 * reach, so the binaries embed the data the way cargo-auditable's linker step does: a zlib-
 * compressed JSON blob in a `.dep-v0` section (here through `#[used] #[link_section]`), linked by
 * rustc and the system linker into an ordinary PIE executable. The JSON documents are written to
 * the published schema. Built once into ~/.cache/shipshape/testdata-rust/<key>.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { deflateSync } from "node:zlib";
import { withLock } from "./lock.js";
import { cacheDir } from "./paths.js";
import { ensureCommand } from "./tools.js";

const run = promisify(execFile);

/** A workspace binary: crates.io, git, local and build-time dependencies, the root crate local. */
export const APP_AUDIT = {
  format: 1,
  packages: [
    { name: "app", version: "0.3.1", source: "local", dependencies: [1, 2, 4, 7, 8], root: true },
    { name: "serde", version: "1.0.130", source: "crates.io", dependencies: [3] },
    { name: "serde_json", version: "1.0.68", source: "crates.io", dependencies: [1, 9] },
    { name: "serde_derive", version: "1.0.130", source: "crates.io", kind: "build", dependencies: [5, 6] },
    { name: "app-core", version: "0.3.1", source: "local" },
    { name: "proc-macro2", version: "1.0.29", source: "crates.io", kind: "build" },
    { name: "quote", version: "1.0.10", source: "crates.io", kind: "build", dependencies: [5] },
    { name: "smallvec", version: "1.6.1", source: "git" },
    { name: "internal-metrics", version: "2.0.0", source: "registry" },
    { name: "itoa", version: "0.4.8", source: "crates.io" },
  ],
};

/** `cargo install ripgrep`-like: the root crate comes from crates.io. */
export const INSTALLED_AUDIT = {
  packages: [
    { name: "aho-corasick", version: "0.7.18", source: "crates.io", dependencies: [1] },
    { name: "memchr", version: "2.4.1", source: "crates.io" },
    { name: "ripgrep", version: "13.0.0", source: "crates.io", dependencies: [0, 1], root: true },
  ],
};

export interface RustFixtures {
  app: string;
  installed: string;
}

let pending: Promise<RustFixtures | string> | undefined;

/** Builds (or finds) the binaries; resolves to a reason string when no Rust compiler can be had. */
export function rustFixtures(): Promise<RustFixtures | string> {
  pending ??= build();
  return pending;
}

async function build(): Promise<RustFixtures | string> {
  try {
    await ensureCommand("rustc", "rustc");
  } catch (err) {
    return `no Rust compiler (apt-get install rustc failed: ${(err as Error).message.split("\n")[0]})`;
  }
  const { stdout } = await run("rustc", ["--version"]);
  const key = createHash("sha256")
    .update(JSON.stringify({ APP_AUDIT, INSTALLED_AUDIT, rustc: stdout.trim(), rev: 1 }))
    .digest("hex")
    .slice(0, 16);
  const dir = path.join(cacheDir, "testdata-rust", key);
  const fixtures = { app: path.join(dir, "app"), installed: path.join(dir, "rg") };
  if (existsSync(path.join(dir, "done"))) return fixtures;
  await withLock(`${dir}.lock`, async () => {
    if (existsSync(path.join(dir, "done"))) return;
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
    await compile(dir, APP_AUDIT, fixtures.app);
    await compile(dir, INSTALLED_AUDIT, fixtures.installed);
    await fs.writeFile(path.join(dir, "done"), `${stdout.trim()}\n`);
  });
  return fixtures;
}

async function compile(dir: string, audit: unknown, out: string): Promise<void> {
  const name = path.basename(out);
  const blob = path.join(dir, `${name}.dep-v0.zlib`);
  await fs.writeFile(blob, deflateSync(Buffer.from(JSON.stringify(audit)), { level: 9 }));
  const src = path.join(dir, `${name}.rs`);
  await fs.writeFile(
    src,
    `#[used]
#[link_section = ".dep-v0"]
static AUDITABLE_VERSION_INFO: [u8; include_bytes!(${JSON.stringify(blob)}).len()] = *include_bytes!(${JSON.stringify(blob)});

fn main() {
    println!("${name}");
}
`,
  );
  await run("rustc", ["-O", "-C", "strip=symbols", src, "-o", out], { cwd: dir });
}
