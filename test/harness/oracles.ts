/**
 * What the testbed images hold, read from the sources they were built from with other tools than
 * shipshape's extractors, so inventory tests compare against an independent oracle:
 * - apk: `lib/apk/db/installed` taken out of the minirootfs tarball with GNU tar, parsed as the
 *   apk-tools database format (one `K:value` per line, a blank line between packages);
 * - dpkg: `dpkg-query --admindir` run on the debootstrap tree;
 * - npm: every `node_modules/<name>/package.json` (and `@scope/<name>`) of the app tree, read as JSON;
 * - Go: `go version -m` (Debian's golang-go) on the esbuild executable;
 * - os-release: the tree's or tarball's `os-release` as KEY=value lines.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { cacheDir, sharedDir } from "./paths.js";
import { ensureTestbedLayout } from "./testbed.js";
import { ensureCommand } from "./tools.js";

const run = promisify(execFile);

/** The testbed's build tree (debootstrap root, app, node root). */
export const testbedSrc = path.join(cacheDir, "testbed", "src");
export const rootfsFixtures = path.join(sharedDir, "fixtures", "rootfs");
export const pkgdbFixtures = path.join(sharedDir, "fixtures", "pkgdb");

export interface OraclePackage {
  name: string;
  version: string;
  arch?: string;
  source?: { name: string; version: string };
}

/** One file of a .tar.gz, read by GNU tar (members may be stored as "./path"). */
export async function fileFromTarball(tarball: string, member: string): Promise<string> {
  const { stdout: list } = await run("tar", ["-tzf", tarball], { maxBuffer: 64 << 20 });
  const name = list.split("\n").find((n) => n === member || n === `./${member}`);
  if (name === undefined) throw new Error(`${tarball} has no ${member}`);
  const { stdout } = await run("tar", ["-xzOf", tarball, name], { maxBuffer: 64 << 20 });
  return stdout;
}

/** apk-tools' installed database: P name, V version, A arch, o origin (the source package). */
export function parseApkInstalled(text: string): OraclePackage[] {
  const out: OraclePackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    for (const line of stanza.split("\n")) {
      const m = /^([A-Za-z]):(.*)$/.exec(line);
      if (m && !fields.has(m[1] as string)) fields.set(m[1] as string, m[2] as string);
    }
    const name = fields.get("P");
    const version = fields.get("V");
    if (!name || !version) continue;
    const origin = fields.get("o") ?? name;
    out.push({ name, version, arch: fields.get("A") as string, source: { name: origin, version } });
  }
  return out;
}

export async function apkPackagesOfTarball(tarball: string): Promise<OraclePackage[]> {
  return parseApkInstalled(await fileFromTarball(tarball, "lib/apk/db/installed"));
}

/** KEY=value lines of an os-release file, quotes removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1] as string] = (m[2] as string).replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

/** Installed packages of a Debian tree according to dpkg itself (status "install ok installed"). */
export async function dpkgPackagesOfTree(root: string): Promise<OraclePackage[]> {
  await ensureCommand("dpkg-query", "dpkg");
  // dpkg-query's own ${field} syntax, not a template string.
  const fields = [
    "db:Status-Abbrev",
    "Package",
    "Version",
    "Architecture",
    "source:Package",
    "source:Version",
  ];
  const format = `${fields.map((f) => `\${${f}}`).join("\t")}\n`;
  const { stdout } = await run(
    "dpkg-query",
    [`--admindir=${path.join(root, "var/lib/dpkg")}`, "-W", "-f", format],
    { maxBuffer: 16 << 20 },
  );
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("ii"))
    .map((line) => {
      const [, name, version, arch, sourceName, sourceVersion] = line.split("\t") as string[];
      return {
        name: name as string,
        version: version as string,
        arch: arch as string,
        source: { name: sourceName as string, version: sourceVersion as string },
      };
    });
}

/** name@version of each package directly under a node_modules directory (scoped ones included). */
export async function npmInstalledPackages(nodeModules: string): Promise<OraclePackage[]> {
  const out: OraclePackage[] = [];
  const read = async (dir: string) => {
    const manifest = JSON.parse(await fs.readFile(path.join(dir, "package.json"), "utf8")) as {
      name: string;
      version: string;
    };
    out.push({ name: manifest.name, version: manifest.version });
  };
  for (const entry of await fs.readdir(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const dir = path.join(nodeModules, entry.name);
    if (entry.name.startsWith("@")) {
      for (const scoped of await fs.readdir(dir)) await read(path.join(dir, scoped));
    } else await read(dir);
  }
  return out;
}

export interface GoBuildInfo {
  goVersion: string;
  path: string;
  main: { path: string; version: string };
  deps: { path: string; version: string }[];
}

/** `go version -m BINARY`, parsed (mod and dep lines; `=>` replacements taken as the replacement). */
export async function goVersionM(binary: string): Promise<GoBuildInfo> {
  await ensureCommand("go", "golang-go");
  const { stdout } = await run("go", ["version", "-m", binary]);
  const lines = stdout.split("\n");
  const goVersion = /: (go\S+)/.exec(lines[0] ?? "")?.[1] ?? "";
  const info: GoBuildInfo = { goVersion, path: "", main: { path: "", version: "" }, deps: [] };
  for (const line of lines.slice(1)) {
    const [kind, a, b] = line.trim().split("\t");
    if (kind === "path") info.path = a ?? "";
    else if (kind === "mod") info.main = { path: a ?? "", version: b ?? "" };
    else if (kind === "dep") info.deps.push({ path: a ?? "", version: b ?? "" });
    else if (kind === "=>") {
      const last = info.deps.at(-1);
      if (last) Object.assign(last, { path: a ?? "", version: b ?? "" });
    }
  }
  return info;
}

/** The testbed built (so its src tree exists) and the path of `rel` in it. */
export async function testbedSrcPath(rel: string): Promise<string> {
  await ensureTestbedLayout();
  return path.join(testbedSrc, rel);
}
