/**
 * The console under load, as a user runs it (`shipshape console`, bundled, HTTPS, its own SQLite store):
 *
 * 1. Registry-wide scan throughput. The seeded docker-registry sits behind the fault proxy (no faults:
 *    it records every request); one Docker Registry v2 specification covers the repositories matching
 *    `--repositories` (default `team-*`: 60 repositories, 180 images on two shared bases), cap 0 (every
 *    tag), `--scanners` Defenders. A regular scan (POST /registry/scan, polled through
 *    /statuses/registry) runs cold (fresh data dir: empty layer cache) and again warm (same data dir,
 *    no new digests): images, wall time, images/min, blob bytes pulled against the unique config and
 *    layer bytes (ideal ratio 1.0), requests per image by kind. Against the machine's limit (curl |
 *    gunzip of the same unique layers, bench/lib/testbed-images.ts) and Trivy over the same images one
 *    after another with one cache dir (inventory only, bench/lib/trivy.ts), for at most `--trivy-budget`
 *    seconds; when the budget ends first, the time is extrapolated from the images done, and the report
 *    says so. Bytes pulled are counted from the proxy's record: a blob answered 200 is its size from the
 *    manifest (the client reads and verifies every blob in full; no faults cut one short), a 206 the
 *    rest of the blob after the Range start.
 * 2. API latency over `--results` (default 10,000) stored results: the scan's real result documents
 *    copied under other repositories, tags and digests, written through the store API
 *    (`openConsoleStore` on the stopped console's data dir, `upsertResult` as the orchestrator does),
 *    then the console started again on that data dir and measured with undici: `--clients` (default 200)
 *    concurrent GET /registry/progress (a fresh connection pool, so TLS handshakes included, then again
 *    on open connections; during a regular scan and idle), paging GET /registry?limit=50 over every
 *    result one page after another as the Python SDK does (and with compact=true), checking Total-Count
 *    and that every id comes once, and one GET /registry/download of everything (time, bytes, the
 *    console's RSS sampled every 50 ms and its VmHWM from /proc/<pid>/status).
 *
 * Requests carry the Bearer token of POST /authenticate (what the SDK sends); Basic would hash the
 * password on every request, which measures the password hash, not the API.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, type Dispatcher, request } from "undici";
import { databaseFile } from "../src/cli/database-file.js";
import { RegistryClient } from "../src/registry/client.js";
import { compileExclusions, compilePattern } from "../src/scan/patterns.js";
import { openConsoleStore } from "../src/store/console.js";
import type { ImageResultRecord } from "../src/store/console-store.js";
import { type RunningConsole, startConsole } from "../test/harness/console.js";
import { type FaultProxy, type Hit, startFaultProxy } from "../test/harness/fault-proxy.js";
import { type RunningRegistry, startRegistry } from "../test/harness/registry.js";
import { ensureSeededStorage, seedContents } from "../test/harness/seed.js";
import { buildMirrorDatabase } from "../test/harness/shipshape-cli.js";
import type { BenchContext, BenchModule, BenchResult } from "./lib/bench.js";
import { runProcess } from "./lib/proc.js";
import { formatBytes, formatMs, mbPerSecond, median, round } from "./lib/stats.js";
import { renderTable } from "./lib/table.js";
import { type Blob, compressionOf, limitPull, sumBytes } from "./lib/testbed-images.js";
import { TRIVY, trivyImageArgs, trivyVersion } from "./lib/trivy.js";

export const description =
  "console: registry-wide scan throughput (cold/warm) vs raw pull and Trivy; API latency over 10,000 stored results";

export const options = {
  /** Repository pattern of the one registry specification (spec 6.6). */
  repositories: { type: "string", default: "*" },
  /** Its excludedRepositories, comma-separated (default: the bulk copies of alpine:3.10.3). */
  exclude: { type: "string", default: "bulk/*,many-tags/*" },
  /** Defenders of the specification (images scanned at once). */
  scanners: { type: "string", default: "4" },
  /** Stored results for the API measurements. */
  results: { type: "string", default: "10000" },
  /** Concurrent GET /registry/progress requests per burst. */
  clients: { type: "string", default: "200" },
  /** Seconds Trivy may spend on the images one after another before the rest is extrapolated. */
  "trivy-budget": { type: "string", default: "180" },
} as const;

const ADMIN_PASSWORD = "console-bench-pw";
const PAGE = 50;
const POLL_MS = 200;

// ---- the images the specification covers ------------------------------------------------------------

interface ScanTarget {
  repository: string;
  tag: string;
  digest: string;
  config: Blob;
  layers: Blob[];
}

/** Every seeded image the specification selects, resolved to its blobs (untimed, direct). */
async function resolveTargets(
  registry: RunningRegistry,
  pattern: string,
  exclude: string[],
): Promise<ScanTarget[]> {
  const matches = compilePattern(pattern);
  const excluded = compileExclusions(exclude);
  const seeds = (await seedContents()).images.filter((i) => matches(i.repository) && !excluded(i.repository));
  if (seeds.length === 0) throw new Error(`--repositories ${pattern} matches no seeded repository`);
  const client = new RegistryClient({ registry: registry.url, insecure: true, concurrency: 8 });
  try {
    const targets: ScanTarget[] = [];
    for (const seed of seeds) {
      const image = await client.resolveImage(seed.repository, seed.tag);
      const blob = (d: { digest: string; size: number; mediaType: string }, kind: Blob["kind"]): Blob => ({
        repository: seed.repository,
        digest: d.digest,
        size: d.size,
        kind,
        compression: kind === "config" ? "none" : compressionOf(d.mediaType),
        url: `${registry.url}/v2/${seed.repository}/blobs/${d.digest}`,
      });
      targets.push({
        repository: seed.repository,
        tag: seed.tag,
        digest: image.digest,
        config: blob(image.manifest.config, "config"),
        layers: image.manifest.layers.map((l) => blob(l, "layer")),
      });
    }
    return targets;
  } finally {
    await client.close();
  }
}

function uniqueBlobs(blobs: Blob[]): Blob[] {
  return [...new Map(blobs.map((b) => [b.digest, b])).values()];
}

// ---- talking to the console ----------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  ms: number;
}

class ConsoleApi {
  private token = "";

  constructor(
    readonly console: RunningConsole,
    readonly dispatcher: Dispatcher,
  ) {}

  /** The Authorization header of every request after login(). */
  authorization(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  async login(): Promise<void> {
    const res = await this.send("POST", "/api/v1/authenticate", {
      username: "admin",
      password: ADMIN_PASSWORD,
    });
    if (res.status !== 200) throw new Error(`POST /authenticate: ${res.status} ${res.text}`);
    this.token = (JSON.parse(res.text) as { token: string }).token;
  }

  /** One request, body read in full; `ms` from sending to the last byte. */
  async send(
    method: "GET" | "POST",
    url: string,
    body?: unknown,
    dispatcher = this.dispatcher,
  ): Promise<Answer> {
    const headers = this.authorization();
    if (body !== undefined) headers["content-type"] = "application/json";
    const started = performance.now();
    const res = await request(`${this.console.url}${url}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, ms: performance.now() - started };
  }

  async json<T>(method: "GET" | "POST", url: string, body?: unknown): Promise<T> {
    const res = await this.send(method, url, body);
    if (res.status !== 200) throw new Error(`${method} ${url}: ${res.status} ${res.text.slice(0, 300)}`);
    return (res.text ? JSON.parse(res.text) : undefined) as T;
  }
}

/** The console process's resident set now and its high-water mark, in bytes (Linux /proc). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

/** Samples the console's RSS every 50 ms while `work` runs; the peak seen and VmHWM after. */
async function withRssSampling<T>(pid: number, work: () => Promise<T>) {
  const before = memoryOf(pid);
  let peak = before.rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryOf(pid).rss);
  }, 50);
  try {
    const value = await work();
    const after = memoryOf(pid);
    return { value, rssBefore: before.rss, peakRss: Math.max(peak, after.rss), hwmAfter: after.hwm };
  } finally {
    clearInterval(timer);
  }
}

// ---- part 1: the scans ----------------------------------------------------------------------------------

interface RequestCounts {
  ping: number;
  catalog: number;
  tagLists: number;
  manifests: number;
  configBlobs: number;
  layerBlobs: number;
  other: number;
  total: number;
}

interface ScanFigures {
  images: number;
  failed: number;
  ms: number;
  imagesPerMinute: number;
  requests: RequestCounts;
  blobBytes: number;
  layerBytes: number;
  configBytes: number;
  /** Distinct layer blobs pulled. */
  distinctLayersPulled: number;
  /** Layer GETs beyond the first of each blob (the layer cache is keyed by blob digest). */
  repeatedLayerPulls: number;
  peakRss: number;
  errors: string[];
}

const BLOB_PATH = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})/;

/** Bytes a blob answer carried: its size for a 200, the rest after the Range start for a 206. */
function bytesOf(hit: Hit, size: number): number {
  if (hit.status === 200) return size;
  if (hit.status === 206) return size - Number(/bytes=(\d+)-/.exec(hit.rangeHeader ?? "")?.[1] ?? 0);
  return 0;
}

/** The proxy's record by request kind; layer pulls also by blob digest. */
function classify(hits: Hit[], sizes: Map<string, Blob>) {
  const counts: RequestCounts = {
    ping: 0,
    catalog: 0,
    tagLists: 0,
    manifests: 0,
    configBlobs: 0,
    layerBlobs: 0,
    other: 0,
    total: hits.length,
  };
  let layerBytes = 0;
  let configBytes = 0;
  const layerPulls = new Map<string, number>();
  for (const hit of hits) {
    const route = hit.path.split("?")[0] ?? "";
    const blob = BLOB_PATH.exec(route);
    if (blob) {
      const known = sizes.get(blob[2] as string);
      if (!known) {
        counts.other++;
        continue;
      }
      const bytes = hit.method === "GET" ? bytesOf(hit, known.size) : 0;
      if (known.kind === "config") {
        counts.configBlobs++;
        configBytes += bytes;
      } else {
        counts.layerBlobs++;
        layerBytes += bytes;
        if (hit.method === "GET") layerPulls.set(known.digest, (layerPulls.get(known.digest) ?? 0) + 1);
      }
    } else if (route === "/v2/" || route === "/v2") counts.ping++;
    else if (route === "/v2/_catalog") counts.catalog++;
    else if (route.endsWith("/tags/list")) counts.tagLists++;
    else if (route.includes("/manifests/")) counts.manifests++;
    else counts.other++;
  }
  const repeated = [...layerPulls.values()].reduce((n, c) => n + c - 1, 0);
  return {
    counts,
    layerBytes,
    configBytes,
    distinctLayersPulled: layerPulls.size,
    repeatedLayerPulls: repeated,
  };
}

interface ResultSummary {
  _id: string;
  scanTime: string;
  err?: string;
}

/** Every stored result, a page of 250 at a time, projected to what the checks need. */
async function listResults(api: ConsoleApi): Promise<ResultSummary[]> {
  const all: ResultSummary[] = [];
  for (let offset = 0; ; offset += 250) {
    const page = await api.json<ResultSummary[]>(
      "GET",
      `/api/v1/registry?limit=250&offset=${offset}&fields=scanTime,err`,
    );
    all.push(...page);
    if (page.length < 250) return all;
  }
}

/** One regular scan through the API, from POST /registry/scan until /statuses/registry says done. */
async function regularScan(
  api: ConsoleApi,
  proxy: FaultProxy,
  blobs: Map<string, Blob>,
  expected: number,
): Promise<ScanFigures> {
  proxy.reset();
  const pid = api.console.process.pid as number;
  const startedAt = Date.now();
  const { value: ms, peakRss } = await withRssSampling(pid, async () => {
    const started = performance.now();
    await api.json("POST", "/api/v1/registry/scan");
    for (;;) {
      const status = await api.json<{ scanning: boolean }>("GET", "/api/v1/statuses/registry");
      if (!status.scanning) return performance.now() - started;
      await sleep(POLL_MS);
    }
  });
  const hits = [...proxy.hits];
  const status = await api.json<{ errors: string[] }>("GET", "/api/v1/statuses/registry");
  // Results this run wrote: scanTime is second-exact at worst, so allow the second the run began in.
  const results = (await listResults(api)).filter((r) => Date.parse(r.scanTime) >= startedAt - 1000);
  const failed = results.filter((r) => r.err).length;
  if (results.length !== expected)
    throw new Error(
      `the regular scan wrote ${results.length} results, expected ${expected}: ${status.errors.join("; ")}`,
    );
  const { counts, layerBytes, configBytes, distinctLayersPulled, repeatedLayerPulls } = classify(hits, blobs);
  return {
    images: results.length,
    failed,
    ms,
    imagesPerMinute: results.length / (ms / 60_000),
    requests: counts,
    blobBytes: layerBytes + configBytes,
    layerBytes,
    configBytes,
    distinctLayersPulled,
    repeatedLayerPulls,
    peakRss,
    errors: status.errors,
  };
}

interface TrivyFigures {
  version: string;
  images: number;
  done: number;
  ms: number;
  /** Time for every image: measured when done === images, else extrapolated from the images done. */
  allImagesMs: number;
  extrapolated: boolean;
  imagesPerMinute: number;
}

/**
 * Trivy on the images one after another with one cache dir (its layer cache), within the budget. The
 * images go in an order shuffled by name hash, so the images done before the budget ends are a sample
 * of the whole population rather than its first repositories.
 */
async function trivySequential(
  registry: RunningRegistry,
  targets: ScanTarget[],
  budgetMs: number,
  scratch: string,
) {
  const cacheDir = await fs.mkdtemp(path.join(scratch, "trivy-cache-"));
  const output = path.join(scratch, "trivy.json");
  const started = performance.now();
  let done = 0;
  const nameHash = (t: ScanTarget) => createHash("sha256").update(`${t.repository}:${t.tag}`).digest("hex");
  const shuffled = [...targets].sort((a, b) => (nameHash(a) < nameHash(b) ? -1 : 1));
  for (const t of shuffled) {
    if (performance.now() - started > budgetMs) break;
    await runProcess(
      TRIVY,
      trivyImageArgs({ reference: `${registry.host}/${t.repository}:${t.tag}`, cacheDir, output }),
    );
    const doc = JSON.parse(await fs.readFile(output, "utf8")) as { components?: unknown[] };
    if (!doc.components?.length) throw new Error(`trivy listed no components for ${t.repository}:${t.tag}`);
    done++;
  }
  const ms = performance.now() - started;
  const allImagesMs = (ms / done) * targets.length;
  await fs.rm(cacheDir, { recursive: true, force: true });
  return {
    version: await trivyVersion(),
    images: targets.length,
    done,
    ms,
    allImagesMs,
    extrapolated: done < targets.length,
    imagesPerMinute: targets.length / (allImagesMs / 60_000),
  } satisfies TrivyFigures;
}

// ---- part 2: 10,000 stored results -----------------------------------------------------------------------

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** A copy of a real result under another repository, tag and manifest digest. */
function variant(template: ImageResultRecord, index: number): ImageResultRecord {
  const repository = `bench/repo-${pad(Math.floor(index / 50), 4)}`;
  const tag = `v${pad(index % 50, 2)}`;
  const registry = template.registry;
  const name = `${registry}/${repository}:${tag}`;
  const digest = `sha256:${pad(index, 8)}${template.digest.slice(15)}`;
  const ref = { registry, repo: repository, tag };
  const result = structuredClone(template.result) as Record<string, unknown>;
  result._id = name;
  result.repoTag = ref;
  result.tags = [ref];
  result.repoDigests = [`${registry}/${repository}@${digest}`];
  result.instances = ((result.instances as Record<string, unknown>[] | null) ?? []).map((i) => ({
    ...i,
    image: name,
    repo: repository,
    tag,
  }));
  return { ...template, id: name, digest, repository, tag, result };
}

/** Fills the stopped console's store up to `total` results; returns the time and the store file's size. */
async function seedResults(dataDir: string, total: number) {
  const sqliteFile = path.join(dataDir, "console.db");
  const { console: store } = await openConsoleStore({ sqliteFile });
  try {
    const { results: real } = await store.queryResults({});
    if (real.length === 0 || real.length > total)
      throw new Error(`${real.length} real results to copy, ${total} wanted`);
    const started = performance.now();
    for (let i = 0; i < total - real.length; i++)
      await store.upsertResult(variant(real[i % real.length] as ImageResultRecord, i));
    const ms = performance.now() - started;
    const { total: stored } = await store.queryResults({ limit: 0 });
    if (stored !== total)
      throw new Error(`the store holds ${stored} results after seeding, expected ${total}`);
    const docBytes = real.map((r) => JSON.stringify(r.result).length);
    return {
      written: total - real.length,
      real: real.length,
      ms,
      medianDocBytes: median(docBytes),
      maxDocBytes: Math.max(...docBytes),
    };
  } finally {
    await store.close();
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

interface Latencies {
  n: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
  wallMs: number;
}

function latencies(answers: { ms: number; ok: boolean }[], wallMs: number): Latencies {
  const ms = answers.map((a) => a.ms);
  return {
    n: answers.length,
    errors: answers.filter((a) => !a.ok).length,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: Math.max(...ms),
    wallMs,
  };
}

interface Burst extends Latencies {
  pool: "fresh" | "open";
  during: "scan" | "idle";
  /** Answers that showed a scan going on. */
  ongoing: number;
  /** CPU the console used during the burst (during a scan, the scan's included). */
  consoleCpuMs: number;
}

/** `clients` GET /registry/progress at once on `dispatcher`. */
async function progressBurst(api: ConsoleApi, clients: number, dispatcher: Dispatcher) {
  const pid = api.console.process.pid as number;
  const cpu = cpuMsOf(pid);
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: clients }, async () => {
      try {
        const res = await api.send("GET", "/api/v1/registry/progress", undefined, dispatcher);
        const ongoing =
          res.status === 200 &&
          (JSON.parse(res.text) as { isScanOngoing: boolean }[]).some((p) => p.isScanOngoing);
        return { ms: res.ms, ok: res.status === 200, ongoing };
      } catch {
        return { ms: performance.now() - started, ok: false, ongoing: false };
      }
    }),
  );
  return {
    ...latencies(answers, performance.now() - started),
    ongoing: answers.filter((a) => a.ongoing).length,
    consoleCpuMs: cpuMsOf(pid) - cpu,
  };
}

/** Bursts on a fresh pool (TLS handshakes) and on its open connections, during a scan and idle. */
async function progressBursts(api: ConsoleApi, clients: number, rounds: number): Promise<Burst[]> {
  const bursts: Burst[] = [];
  const phase = async (during: Burst["during"], keepGoing: () => Promise<boolean>) => {
    const agent = new Agent({ connect: { ca: api.console.cert }, connections: clients });
    try {
      bursts.push({ pool: "fresh", during, ...(await progressBurst(api, clients, agent)) });
      for (let r = 0; r < rounds && (await keepGoing()); r++)
        bursts.push({ pool: "open", during, ...(await progressBurst(api, clients, agent)) });
    } finally {
      await agent.close();
    }
  };
  const scanning = async () =>
    (await api.json<{ scanning: boolean }>("GET", "/api/v1/statuses/registry")).scanning;
  await api.json("POST", "/api/v1/registry/scan");
  await phase("scan", scanning);
  while (await scanning()) await sleep(POLL_MS);
  await phase("idle", async () => true);
  return bursts;
}

interface Paging extends Latencies {
  compact: boolean;
  pages: number;
  totalCountOk: boolean;
  distinctIds: number;
  bytes: number;
  /** Console CPU per page. */
  consoleCpuMsPerPage: number;
  /** Median of the first and of the last 10 pages: whether a deep OFFSET costs more. */
  firstPagesMedian: number;
  lastPagesMedian: number;
}

/** Every result, `limit=50` pages one after another, offset advanced by 50 as the SDK does. */
async function pageThrough(api: ConsoleApi, total: number, compact: boolean): Promise<Paging> {
  const answers: { ms: number; ok: boolean }[] = [];
  const ids = new Set<string>();
  let totalCountOk = true;
  let bytes = 0;
  const pid = api.console.process.pid as number;
  const cpu = cpuMsOf(pid);
  const started = performance.now();
  for (let offset = 0; offset < total; offset += PAGE) {
    const res = await api.send(
      "GET",
      `/api/v1/registry?limit=${PAGE}&offset=${offset}${compact ? "&compact=true" : ""}`,
    );
    answers.push({ ms: res.ms, ok: res.status === 200 });
    if (res.status !== 200) continue;
    if (res.headers["total-count"] !== String(total)) totalCountOk = false;
    bytes += Buffer.byteLength(res.text);
    for (const r of JSON.parse(res.text) as { _id: string }[]) ids.add(r._id);
  }
  const wallMs = performance.now() - started;
  return {
    compact,
    pages: answers.length,
    totalCountOk,
    distinctIds: ids.size,
    bytes,
    consoleCpuMsPerPage: (cpuMsOf(pid) - cpu) / answers.length,
    firstPagesMedian: median(answers.slice(0, 10).map((a) => a.ms)),
    lastPagesMedian: median(answers.slice(-10).map((a) => a.ms)),
    ...latencies(answers, wallMs),
  };
}

async function downloadCsv(api: ConsoleApi) {
  const pid = api.console.process.pid as number;
  const { value, rssBefore, peakRss, hwmAfter } = await withRssSampling(pid, async () => {
    const started = performance.now();
    const res = await request(`${api.console.url}/api/v1/registry/download`, {
      headers: api.authorization(),
      dispatcher: api.dispatcher,
    });
    let bytes = 0;
    let lines = 0;
    for await (const chunk of res.body) {
      bytes += (chunk as Buffer).length;
      for (const byte of chunk as Buffer) if (byte === 10) lines++;
    }
    return { status: res.statusCode, bytes, lines, ms: performance.now() - started };
  });
  if (value.status !== 200) throw new Error(`GET /registry/download: ${value.status}`);
  return { ...value, rssBefore, peakRss, hwmAfter };
}

/** CPU time (user + system) of a process so far, in ms (Linux /proc, 100 Hz ticks). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// ---- the run ------------------------------------------------------------------------------------------

function positiveInteger(value: unknown, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer`);
  return n;
}

interface Settings {
  pattern: string;
  exclude: string[];
  scanners: number;
  results: number;
  clients: number;
  trivyBudgetMs: number;
}

interface RoundFigures {
  cold: ScanFigures & { consoleCpuMs: number };
  warm: ScanFigures & { consoleCpuMs: number };
  limitSeqMs: number;
  limitParMs: number;
  limitParProxyMs: number;
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const settings: Settings = {
    pattern: String(ctx.options.repositories || "*"),
    exclude: String(ctx.options.exclude ?? "")
      .split(",")
      .map((e) => e.trim())
      .filter(Boolean),
    scanners: positiveInteger(ctx.options.scanners ?? 4, "scanners"),
    results: positiveInteger(ctx.options.results ?? 10_000, "results"),
    clients: positiveInteger(ctx.options.clients ?? 200, "clients"),
    trivyBudgetMs: positiveInteger(ctx.options["trivy-budget"] ?? 180, "trivy-budget") * 1000,
  };
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-bench-console-"));
  try {
    ctx.progress("seeded storage and the vulnerability database (db update --mirror)…");
    const vulndbDir = path.join(scratch, "vulndb");
    const [storageDir] = await Promise.all([ensureSeededStorage(), buildMirrorDatabase(vulndbDir)]);
    const registry = await startRegistry({ storageDir, readOnly: true });
    const proxy = await startFaultProxy(registry.url);
    try {
      return await measure(ctx, settings, registry, proxy, databaseFile(vulndbDir), scratch);
    } finally {
      await proxy.stop();
      await registry.stop();
    }
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function startApi(dataDir: string, prebuiltDatabase: string): Promise<ConsoleApi> {
  // warn: at info every request writes a log line, which would be measured along with the API.
  const running = await startConsole({
    dataDir,
    prebuiltDatabase,
    adminPassword: ADMIN_PASSWORD,
    env: { SHIPSHAPE_LOG_LEVEL: "warn" },
  });
  const api = new ConsoleApi(running, running.dispatcher);
  await api.login();
  return api;
}

async function measure(
  ctx: BenchContext,
  settings: Settings,
  registry: RunningRegistry,
  proxy: FaultProxy,
  prebuiltDatabase: string,
  scratch: string,
): Promise<BenchResult> {
  const targets = await resolveTargets(registry, settings.pattern, settings.exclude);
  const repositories = new Set(targets.map((t) => t.repository)).size;
  const allBlobs = targets.flatMap((t) => [t.config, ...t.layers]);
  const blobs = new Map(uniqueBlobs(allBlobs).map((b) => [b.digest, b]));
  const layers = [...blobs.values()].filter((b) => b.kind === "layer");
  const configs = [...blobs.values()].filter((b) => b.kind === "config");
  const viaProxy = layers.map((l) => ({ ...l, url: l.url.replace(registry.url, proxy.url) }));
  ctx.progress(
    `${targets.length} images in ${repositories} repositories: ${layers.length} unique layers (${formatBytes(sumBytes(layers))}), ${configs.length} configs`,
  );
  const spec = {
    version: "2",
    registry: `http://${proxy.host}`,
    repository: settings.pattern,
    excludedRepositories: settings.exclude,
    tag: "",
    cap: 0,
    scanners: settings.scanners,
    os: "linux",
    credentialID: "",
  };

  const rounds: RoundFigures[] = [];
  let dataDir = "";
  for (let r = 0; r < ctx.rounds; r++) {
    dataDir = path.join(scratch, `console-${r}`);
    const limits = async () => ({
      limitSeqMs: await limitPull(layers, { parallel: 1 }),
      limitParMs: await limitPull(layers, { parallel: settings.scanners }),
      limitParProxyMs: await limitPull(viaProxy, { parallel: settings.scanners }),
    });
    const limitFirst = r % 2 === 1 ? await limits() : undefined;
    const api = await startApi(dataDir, prebuiltDatabase);
    let scans: Pick<RoundFigures, "cold" | "warm">;
    try {
      await api.json("POST", "/api/v1/settings/registry?scanLater=true", spec);
      const pid = api.console.process.pid as number;
      const timed = async () => {
        const cpu = cpuMsOf(pid);
        const figures = await regularScan(api, proxy, blobs, targets.length);
        return { ...figures, consoleCpuMs: cpuMsOf(pid) - cpu };
      };
      const cold = await timed();
      ctx.progress(
        `round ${r + 1}: cold scan ${formatMs(cold.ms)} (${cold.imagesPerMinute.toFixed(0)} images/min)`,
      );
      const warm = await timed();
      ctx.progress(
        `round ${r + 1}: warm scan ${formatMs(warm.ms)} (${warm.imagesPerMinute.toFixed(0)} images/min)`,
      );
      scans = { cold, warm };
    } finally {
      await api.console.stop();
    }
    const limit = limitFirst ?? (await limits());
    ctx.progress(
      `round ${r + 1}: curl | gunzip ${formatMs(limit.limitSeqMs)} / ${formatMs(limit.limitParMs)}`,
    );
    rounds.push({ ...scans, ...limit });
    if (r < ctx.rounds - 1) await fs.rm(dataDir, { recursive: true, force: true });
  }

  ctx.progress(
    `Trivy over the ${targets.length} images, one after another (budget ${settings.trivyBudgetMs / 1000} s)…`,
  );
  const trivy = await trivySequential(registry, targets, settings.trivyBudgetMs, scratch);

  ctx.progress(`seeding ${settings.results} results through the store API…`);
  const seeded = await seedResults(dataDir, settings.results);
  const api = await startApi(dataDir, prebuiltDatabase);
  let api2: Awaited<ReturnType<typeof measureApi>>;
  try {
    api2 = await measureApi(ctx, api, settings);
  } finally {
    await api.console.stop();
  }
  return report(settings, targets, repositories, layers, configs, rounds, trivy, seeded, api2);
}

async function measureApi(ctx: BenchContext, api: ConsoleApi, settings: Settings) {
  const pid = api.console.process.pid as number;
  const startRss = memoryOf(pid).rss;
  ctx.progress(`${settings.clients} concurrent GET /registry/progress, during a regular scan and idle…`);
  const bursts = await progressBursts(api, settings.clients, ctx.rounds);
  const pagings: Paging[] = [];
  for (let r = 0; r < ctx.rounds; r++) {
    for (const compact of r % 2 === 0 ? [false, true] : [true, false]) {
      const paging = await pageThrough(api, settings.results, compact);
      ctx.progress(`paging (compact ${compact}): ${formatMs(paging.wallMs)}, p99 ${formatMs(paging.p99)}`);
      pagings.push(paging);
    }
  }
  ctx.progress("GET /registry/download of every result…");
  const csv = await downloadCsv(api);
  return { startRss, bursts, pagings, csv };
}

// ---- the report ---------------------------------------------------------------------------------------

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function report(
  settings: Settings,
  targets: ScanTarget[],
  repositories: number,
  layers: Blob[],
  configs: Blob[],
  rounds: RoundFigures[],
  trivy: TrivyFigures,
  seeded: Awaited<ReturnType<typeof seedResults>>,
  api: Awaited<ReturnType<typeof measureApi>>,
): BenchResult {
  const uniqueLayerBytes = sumBytes(layers);
  const uniqueConfigBytes = sumBytes(configs);
  const uniqueBytes = uniqueLayerBytes + uniqueConfigBytes;
  const med = (f: (r: RoundFigures) => number) => median(rounds.map(f));
  const scanRow = (kind: "cold" | "warm") => {
    const pick = (f: (s: ScanFigures & { consoleCpuMs: number }) => number) => med((r) => f(r[kind]));
    const last = rounds.at(-1)?.[kind] as ScanFigures;
    return {
      kind,
      images: last.images,
      failed: last.failed,
      ms: pick((s) => s.ms),
      runsMs: rounds.map((r) => round(r[kind].ms)),
      imagesPerMinute: pick((s) => s.imagesPerMinute),
      consoleCpuMs: pick((s) => s.consoleCpuMs),
      peakRss: pick((s) => s.peakRss),
      blobBytes: last.blobBytes,
      layerBytes: last.layerBytes,
      configBytes: last.configBytes,
      bytesRatio: last.blobBytes / uniqueBytes,
      layerBytesRatio: last.layerBytes / uniqueLayerBytes,
      distinctLayersPulled: last.distinctLayersPulled,
      repeatedLayerPulls: last.repeatedLayerPulls,
      requests: last.requests,
      requestsPerImage: last.requests.total / last.images,
      errors: last.errors,
    };
  };
  const cold = scanRow("cold");
  const warm = scanRow("warm");
  const limitSeq = med((r) => r.limitSeqMs);
  const limitPar = med((r) => r.limitParMs);
  const limitParProxy = med((r) => r.limitParProxyMs);

  const scanTable = renderTable(
    [
      "run",
      "images",
      "failed",
      "wall (median)",
      "images/min",
      "console CPU",
      "peak RSS",
      "blob bytes",
      "÷ unique blobs",
      "layer bytes ÷ unique digests",
      "layer GETs",
      "layers pulled",
      "repeat layer GETs",
      "requests/image",
      "runs (ms)",
    ],
    [cold, warm].map((s) => [
      s.kind,
      String(s.images),
      String(s.failed),
      formatMs(s.ms),
      s.imagesPerMinute.toFixed(0),
      formatMs(s.consoleCpuMs),
      mb(s.peakRss),
      formatBytes(s.blobBytes),
      s.bytesRatio.toFixed(3),
      s.layerBytesRatio.toFixed(3),
      String(s.requests.layerBlobs),
      `${s.distinctLayersPulled}/${layers.length}`,
      String(s.repeatedLayerPulls),
      s.requestsPerImage.toFixed(2),
      s.runsMs.join(" "),
    ]),
  );
  const requestTable = renderTable(
    ["run", "ping", "catalog", "tags/list", "manifests", "config blobs", "layer blobs", "other", "total"],
    [cold, warm].map((s) => [
      s.kind,
      ...[
        s.requests.ping,
        s.requests.catalog,
        s.requests.tagLists,
        s.requests.manifests,
        s.requests.configBlobs,
        s.requests.layerBlobs,
        s.requests.other,
        s.requests.total,
      ].map(String),
    ]),
  );
  const compareTable = renderTable(
    ["what", "wall", "images/min", "MB/s (unique layers)", "console cold ÷ this"],
    [
      ["console regular scan, cold", cold.ms, cold.imagesPerMinute],
      ["console regular scan, warm", warm.ms, warm.imagesPerMinute],
      ["curl | gunzip, unique layers, one after another", limitSeq, Number.NaN],
      [`curl | gunzip, unique layers, xargs -P${settings.scanners}`, limitPar, Number.NaN],
      [`the same through the proxy, -P${settings.scanners}`, limitParProxy, Number.NaN],
      [
        `Trivy, one image after another${trivy.extrapolated ? ` (extrapolated from ${trivy.done})` : ""}`,
        trivy.allImagesMs,
        trivy.imagesPerMinute,
      ],
    ].map(([what, ms, perMinute]) => [
      what as string,
      formatMs(ms as number),
      Number.isNaN(perMinute) ? "" : (perMinute as number).toFixed(0),
      mbPerSecond(uniqueLayerBytes, ms as number).toFixed(1),
      (cold.ms / (ms as number)).toFixed(2),
    ]),
    ["left"],
  );
  const burstTable = renderTable(
    [
      "during",
      "pool",
      "requests",
      "errors",
      "showing a scan",
      "p50",
      "p99",
      "max",
      "burst wall",
      "console CPU/request",
    ],
    api.bursts.map((b) => [
      b.during,
      b.pool,
      String(b.n),
      String(b.errors),
      String(b.ongoing),
      formatMs(b.p50),
      formatMs(b.p99),
      formatMs(b.max),
      formatMs(b.wallMs),
      formatMs(b.consoleCpuMs / b.n),
    ]),
    ["left", "left"],
  );
  const pagingTable = renderTable(
    [
      "compact",
      "pages",
      "errors",
      "Total-Count ok",
      "distinct ids",
      "bytes",
      "p50/page",
      "p99/page",
      "max/page",
      "first/last 10 pages",
      "total",
      "console CPU/page",
    ],
    api.pagings.map((p) => [
      String(p.compact),
      String(p.pages),
      String(p.errors),
      p.totalCountOk ? "yes" : "NO",
      String(p.distinctIds),
      mb(p.bytes),
      formatMs(p.p50),
      formatMs(p.p99),
      formatMs(p.max),
      `${formatMs(p.firstPagesMedian)} / ${formatMs(p.lastPagesMedian)}`,
      formatMs(p.wallMs),
      formatMs(p.consoleCpuMsPerPage),
    ]),
    ["left"],
  );

  const missed: string[] = [];
  // Configs are fetched at discovery (to date the tags) and again for the scan: by design, and tiny.
  if (cold.distinctLayersPulled !== layers.length || cold.repeatedLayerPulls > 0)
    missed.push(
      `cold scan pulled ${cold.distinctLayersPulled} of ${layers.length} layers, ${cold.repeatedLayerPulls} more than once (ideal: each once)`,
    );
  if (warm.requests.layerBlobs > 0)
    missed.push(`warm scan (no new digests) still pulled ${warm.requests.layerBlobs} layers`);
  for (const b of api.bursts)
    if (b.errors > 0)
      missed.push(`${b.errors} of ${b.n} GET /registry/progress failed (${b.during}, ${b.pool} pool)`);
  for (const p of api.pagings) {
    if (p.errors > 0 || !p.totalCountOk || p.distinctIds !== settings.results)
      missed.push(
        `paging (compact ${p.compact}): ${p.errors} errors, Total-Count ${p.totalCountOk ? "ok" : "wrong"}, ${p.distinctIds} of ${settings.results} ids`,
      );
  }

  const text = [
    `Population: ${targets.length} images in ${repositories} repositories matching "${settings.pattern}" but not "${settings.exclude.join(",")}" (cap 0, ${settings.scanners} scanners),`,
    `${layers.length} unique layer digests (${formatBytes(uniqueLayerBytes)}) and ${configs.length} configs (${formatBytes(uniqueConfigBytes)});`,
    "the console (bundled, HTTPS, SQLite)",
    `scans them through the fault proxy (no faults). Median of ${rounds.length} round(s); cold = fresh data dir, warm = the same again.`,
    scanTable,
    "",
    "Registry requests by kind (last round):",
    requestTable,
    "",
    "Against the machine's limit and Trivy (inventory only, no vulnerability matching):",
    compareTable,
    "",
    `${settings.results} stored results (${seeded.real} real, ${seeded.written} copies written through upsertResult in ${formatMs(seeded.ms)},`,
    `${(seeded.written / (seeded.ms / 1000)).toFixed(0)}/s; result documents median ${formatBytes(seeded.medianDocBytes)}, max ${formatBytes(seeded.maxDocBytes)}).`,
    `${settings.clients} concurrent GET /registry/progress (Bearer), each burst on a fresh connection pool first, then on its open connections:`,
    burstTable,
    "",
    `GET /registry?limit=${PAGE}, every page one after another (offset += ${PAGE}):`,
    pagingTable,
    "",
    `GET /registry/download (every result): ${formatMs(api.csv.ms)}, ${mb(api.csv.bytes)}, ${api.csv.lines} lines; console RSS ${mb(api.csv.rssBefore)} before,`,
    `peak ${mb(api.csv.peakRss)} during (sampled every 50 ms), VmHWM ${mb(api.csv.hwmAfter)} after; RSS at the start of the API part ${mb(api.startRss)}.`,
  ].join("\n");

  const json = {
    settings: { ...settings, page: PAGE },
    population: {
      images: targets.length,
      repositories,
      uniqueLayers: layers.length,
      uniqueLayerBytes,
      configs: configs.length,
      uniqueConfigBytes,
    },
    scans: { cold, warm },
    limit: { seqMs: round(limitSeq), parMs: round(limitPar), parViaProxyMs: round(limitParProxy) },
    trivy,
    seeded,
    api,
    loadAverageAfter: os.loadavg().map((l) => round(l, 2)),
  };
  return { text, json, missed };
}

// The runner imports these exports by name; this checks them against its interface.
({ description, options, run }) satisfies BenchModule;
