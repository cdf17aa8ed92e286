/**
 * Compare throughput of the distribution versioning schemes (dpkg, apk, rpm): `compare` runs once
 * per (installed package, advisory bound) pair, so it has to be cheap. Inputs are the schemes' own
 * oracle tables (src/versioning/testdata: dpkg --compare-versions pairs, apk-tools' test vectors,
 * rpm.vercmp pairs), valid pairs only, plus each table's pairs with `a` compared to itself (the
 * equal-string fast path) reported apart. Each scheme runs for about `--versioning-ms` per round after a
 * warm-up; rounds are interleaved; the median is reported.
 */
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { apkVersioning } from "../src/versioning/apk.js";
import { dpkgVersioning } from "../src/versioning/dpkg.js";
import { rpmVersioning } from "../src/versioning/rpm.js";
import type { VersioningScheme } from "../src/versioning/scheme.js";
import { readTable } from "../src/versioning/testdata/oracles.js";
import type { BenchContext, BenchModule, BenchResult } from "./lib/bench.js";
import { median, round } from "./lib/stats.js";
import { renderTable } from "./lib/table.js";

/**
 * Each scheme should order at least this many pairs per second on one core: a 1,000-package image
 * against 50 advisory bounds per package is then at most 50 ms.
 */
const TARGET_OPS = 1_000_000;

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), "../src/versioning/testdata");

interface Workload {
  name: string;
  scheme: VersioningScheme;
  a: string[];
  b: string[];
}

function workload(name: string, scheme: VersioningScheme, table: string): Workload {
  const rows = readTable(path.join(testdata, table)).filter(
    ([a = "", b = ""]) => scheme.isValid(a) && scheme.isValid(b) && a !== b,
  );
  return { name, scheme, a: rows.map((r) => r[0] as string), b: rows.map((r) => r[1] as string) };
}

/** Runs compare over the workload for about `ms`; returns compares per second. */
function measure(w: Workload, ms: number): number {
  const { scheme, a, b } = w;
  const n = a.length;
  let ops = 0;
  let sink = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < n; i++) sink += scheme.compare(a[i] as string, b[i] as string);
    ops += n;
    now = performance.now();
  }
  if (sink === Number.MAX_SAFE_INTEGER) console.error(sink); // keep the loop observable
  return ops / ((now - start) / 1000);
}

export const description = "dpkg/apk/rpm versioning: compare() throughput over the oracle tables";

export const options = {
  "versioning-ms": { type: "string", default: "1000" },
} as const;

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const ms = Number(ctx.options["versioning-ms"] ?? 1000);
  const workloads = [
    workload("dpkg", dpkgVersioning, "dpkg-compare.tsv"),
    workload("apk", apkVersioning, "apk-vectors.tsv"),
    workload("rpm", rpmVersioning, "rpm-compare.tsv"),
  ];
  const equal = workloads.map((w) => ({ ...w, name: `${w.name} (a = b)`, b: w.a }));
  const all = [...workloads, ...equal];
  for (const w of all) measure(w, 200); // warm-up
  const samples = new Map<string, number[]>(all.map((w) => [w.name, []]));
  for (let round_ = 0; round_ < ctx.rounds; round_++) {
    ctx.progress(`round ${round_ + 1}/${ctx.rounds}`);
    const order = round_ % 2 === 0 ? all : [...all].reverse();
    for (const w of order) samples.get(w.name)?.push(measure(w, ms));
  }
  const rows = all.map((w) => {
    const ops = median(samples.get(w.name) ?? []);
    return {
      scheme: w.name,
      pairs: w.a.length,
      opsPerSecond: Math.round(ops),
      nsPerCompare: round(1e9 / ops, 1),
    };
  });
  const missed = rows
    .filter((r) => !r.scheme.includes("=") && r.opsPerSecond < TARGET_OPS)
    .map((r) => `${r.scheme}: ${r.opsPerSecond} compares/s < ${TARGET_OPS}`);
  const text = renderTable(
    ["scheme", "pairs", "compares/s", "ns/compare"],
    rows.map((r) => [
      r.scheme,
      String(r.pairs),
      r.opsPerSecond.toLocaleString("en-US"),
      String(r.nsPerCompare),
    ]),
  );
  return { text, json: { targetOpsPerSecond: TARGET_OPS, msPerRound: ms, rows }, missed };
}

// The runner imports these exports by name; this checks them against its interface.
({ description, options, run }) satisfies BenchModule;
