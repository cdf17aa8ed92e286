/**
 * The package managers themselves as test oracles, for the dpkg and rpm versioning tests and for
 * generate-oracles.ts: `dpkg --compare-versions` (one process per comparison, run from a few
 * parallel shells) and rpm's Lua `rpm.vercmp` (rpmverCmp over two EVRs, one rpm process for all
 * pairs). Both are optional: the tests fall back on the committed tables when a tool is missing.
 * apk has no oracle here (apk-tools is not packaged for Debian).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export type Order = -1 | 0 | 1;
/** What dpkg makes of a version: accepted, accepted with a warning, refused. */
export type DpkgValidity = "ok" | "warn" | "error";

export function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}

/** The first line of `cmd --version`, e.g. "Debian 'dpkg' package management program version 1.21.23 (amd64)." */
export function toolVersion(cmd: string): string {
  const out = spawnSync(cmd, ["--version"], { encoding: "utf8" });
  return (out.stdout ?? "").split("\n")[0]?.trim() ?? "";
}

/** Runs `script` in `sh` over chunks of `lines` in parallel; returns its output lines in order. */
async function shellMap(script: string, lines: string[]): Promise<string[]> {
  if (lines.length === 0) return [];
  const workers = Math.max(1, Math.min(os.availableParallelism(), 8));
  const size = Math.ceil(lines.length / workers);
  const chunks: string[][] = [];
  for (let i = 0; i < lines.length; i += size) chunks.push(lines.slice(i, i + size));
  const outputs = await Promise.all(
    chunks.map(
      (chunk) =>
        new Promise<string[]>((resolve, reject) => {
          const child = spawn("sh", ["-c", script], { stdio: ["pipe", "pipe", "inherit"] });
          let out = "";
          child.stdout.setEncoding("utf8");
          child.stdout.on("data", (d: string) => {
            out += d;
          });
          child.on("error", reject);
          child.on("close", (code) => {
            const got = out.split("\n").slice(0, -1);
            if (code !== 0 || got.length !== chunk.length) {
              reject(new Error(`oracle shell exited ${code} with ${got.length}/${chunk.length} answers`));
            } else resolve(got);
          });
          child.stdin.end(`${chunk.join("\n")}\n`);
        }),
    ),
  );
  return outputs.flat();
}

function checkField(v: string): void {
  if (v === "" || /[\t\n\\]/.test(v)) throw new Error(`cannot pass ${JSON.stringify(v)} to the dpkg oracle`);
}

/** `dpkg --compare-versions` for each pair: -1, 0, 1, or "error" when dpkg refuses either side. */
export async function dpkgCompare(
  pairs: readonly (readonly [string, string])[],
): Promise<(Order | "error")[]> {
  for (const [a, b] of pairs) {
    checkField(a);
    checkField(b);
  }
  const script = `while IFS='\t' read -r a b; do
  dpkg --compare-versions "$a" lt "$b" 2>/dev/null; rc=$?
  if [ $rc -eq 0 ]; then echo -1
  elif [ $rc -eq 1 ]; then
    if dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo 0; else echo 1; fi
  else echo error; fi
done`;
  const out = await shellMap(
    script,
    pairs.map(([a, b]) => `${a}\t${b}`),
  );
  return out.map((line) => (line === "error" ? "error" : (Number(line) as Order)));
}

/** dpkg's verdict on each version (compared with itself): ok, warn (accepted with a warning), error. */
export async function dpkgValidity(versions: readonly string[]): Promise<DpkgValidity[]> {
  for (const v of versions) checkField(v);
  const script = `while IFS= read -r v; do
  err=$(dpkg --compare-versions "$v" eq "$v" 2>&1 >/dev/null); rc=$?
  if [ $rc -ge 2 ]; then echo error; elif [ -n "$err" ]; then echo warn; else echo ok; fi
done`;
  return (await shellMap(script, [...versions])) as DpkgValidity[];
}

/**
 * rpm's `rpm.vercmp(a, b)` (rpmverCmp over rpmverParse'd EVRs) for each pair, in one rpm process:
 * -1, 0, 1, or "error" when rpm refuses either side.
 */
export function rpmCompare(pairs: readonly (readonly [string, string])[]): (Order | "error")[] {
  for (const [a, b] of pairs) {
    if (/[\t\n]/.test(a) || /[\t\n]/.test(b)) throw new Error("tab or newline in an rpm oracle input");
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "shipshape-rpm-oracle-"));
  try {
    const input = path.join(dir, "pairs.tsv");
    const output = path.join(dir, "out.txt");
    const script = path.join(dir, "cmp.lua");
    writeFileSync(input, pairs.map(([a, b]) => `${a}\t${b}\n`).join(""));
    writeFileSync(
      script,
      `local out = io.open(${JSON.stringify(output)}, "w")
for line in io.lines(${JSON.stringify(input)}) do
  local a, b = line:match("^(.-)\\t(.*)$")
  local ok, r = pcall(rpm.vercmp, a, b)
  out:write(ok and tostring(r) or "error", "\\n")
end
out:close()
`,
    );
    const run = spawnSync("rpm", ["--eval", `%{lua: dofile(${JSON.stringify(script)})}`], {
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`rpm --eval failed: ${run.stderr}`);
    const lines = readFileSync(output, "utf8").split("\n").slice(0, -1);
    if (lines.length !== pairs.length) throw new Error(`rpm answered ${lines.length}/${pairs.length}`);
    return lines.map((l) => (l === "error" ? "error" : (Number(l) as Order)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads a tab-separated table, skipping blank lines and `#` comments. */
export function readTable(file: string): string[][] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split("\t"));
}

export function writeTable(file: string, header: string[], rows: readonly (readonly string[])[]): void {
  const head = header.map((h) => `# ${h}\n`).join("");
  writeFileSync(file, head + rows.map((r) => `${r.join("\t")}\n`).join(""));
}

/** A small deterministic PRNG (mulberry32) for generated cases. */
export function prng(seed: number): (n: number) => number {
  let s = seed | 0;
  return (n: number) => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}
