/**
 * Blob pull throughput: RegistryClient.openBlob (streamed, digest-verified, data discarded) against
 * curl on the same blobs from the same loopback registry, sequentially and with N in flight, plus the
 * machine's limit for a scanner: every layer pulled with curl and decompressed (gzip -dc / zstd -dc).
 *
 * Blobs: every distinct config and layer of the testbed images named in TESTBED_IMAGES (an index on each of
 * its platforms) and of one team image per distinct base layer, all found through seedContents().
 * Methods run interleaved, once per round (odd rounds in reverse order), after an untimed warm-up.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Agent, request } from "undici";
import { RegistryClient } from "../src/registry/client.js";
import { type RunningRegistry, startRegistry } from "../test/harness/registry.js";
import { ensureSeededStorage } from "../test/harness/seed.js";
import type { BenchContext, BenchModule, BenchResult } from "./lib/bench.js";
import { runProcess } from "./lib/proc.js";
import { formatBytes, formatMs, inPool, mbPerSecond, median, round } from "./lib/stats.js";
import { renderTable } from "./lib/table.js";
import {
  type Blob,
  type Compression,
  collectImages,
  distinctBlobs,
  limitPull,
  type PulledImage,
  sumBytes as sum,
  uncompressedSizes,
} from "./lib/testbed-images.js";

/** The target: shipshape's median wall time at most 10 % above curl's. */
const TARGET_RATIO = 1.1;

interface Sample {
  ms: number;
  /** CPU of this Node.js process during the run (user + system). */
  nodeCpuMs: number;
  /** CPU of the registry process during the run, when it could be found (10 ms resolution). */
  registryCpuMs: number | undefined;
}

interface Method {
  id: string;
  label: string;
  group: "shipshape" | "reference" | "curl" | "limit" | "limit-image";
  concurrency: number;
  bytes: number;
  /** One timed run; returns its wall time in ms and throws if anything was not pulled in full. */
  measure(): Promise<number>;
}

export const description =
  "blob pulls: RegistryClient.openBlob vs curl, and curl + gunzip/unzstd as the limit";

export const options = {
  concurrency: { type: "string", default: "4" },
} as const;

// ---- the methods ----------------------------------------------------------------------------------

async function shipshapePull(registryUrl: string, blobs: Blob[], workers: number, concurrency: number) {
  const client = new RegistryClient({ registry: registryUrl, insecure: true, concurrency });
  try {
    await client.ping(); // Decides scheme and auth once; curl does no such thing, so it stays off the clock.
    let received = 0;
    const started = performance.now();
    await inPool(blobs, workers, async (blob) => {
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          callback();
        },
      });
      await pipeline(client.openBlob(blob.repository, blob), sink);
    });
    const ms = performance.now() - started;
    if (received !== sum(blobs)) throw new Error(`shipshape received ${received} of ${sum(blobs)} bytes`);
    return ms;
  } finally {
    await client.close();
  }
}

/**
 * Reference, not a product path: bare undici request() on one Agent, with or without sha256 over the
 * body. It tells how much of shipshape's time is the client's own and how much is Node.js and hashing.
 */
async function undiciPull(blobs: Blob[], workers: number, hash: boolean): Promise<number> {
  const agent = new Agent({ connections: workers });
  try {
    let received = 0;
    const started = performance.now();
    await inPool(blobs, workers, async (blob) => {
      const res = await request(blob.url, { dispatcher: agent });
      if (res.statusCode !== 200) throw new Error(`undici: HTTP ${res.statusCode} for ${blob.url}`);
      const sha = hash ? createHash("sha256") : undefined;
      for await (const chunk of res.body) {
        received += (chunk as Buffer).length;
        sha?.update(chunk as Buffer);
      }
      if (sha && `sha256:${sha.digest("hex")}` !== blob.digest)
        throw new Error(`undici: digest mismatch ${blob.digest}`);
    });
    const ms = performance.now() - started;
    if (received !== sum(blobs)) throw new Error(`undici received ${received} of ${sum(blobs)} bytes`);
    return ms;
  } finally {
    await agent.close();
  }
}

// -q first: ignore any ~/.curlrc. -f: an HTTP error is a failure. -w: status and size per transfer, checked.
const CURL = ["-q", "-s", "--no-progress-meter", "-f", "-w", "%{http_code} %{size_download}\\n"];

function checkCurl(stdout: string, blobs: Blob[], what: string): void {
  const lines = stdout.trim().split("\n").filter(Boolean);
  const ok = lines.filter((l) => l.startsWith("200 "));
  const bytes = ok.reduce((n, l) => n + Number(l.split(" ")[1]), 0);
  if (ok.length !== blobs.length || bytes !== sum(blobs)) {
    throw new Error(`${what}: ${ok.length}/${blobs.length} transfers, ${bytes}/${sum(blobs)} bytes`);
  }
}

const toNull = (blobs: Blob[]) => blobs.flatMap((b) => ["-o", "/dev/null", b.url]);

async function curlPerBlob(blobs: Blob[]): Promise<number> {
  let out = "";
  const started = performance.now();
  for (const blob of blobs) out += (await runProcess("curl", [...CURL, "-o", "/dev/null", blob.url])).stdout;
  const ms = performance.now() - started;
  checkCurl(out, blobs, "curl per blob");
  return ms;
}

async function curlOneProcess(blobs: Blob[], parallel?: number): Promise<number> {
  const extra = parallel ? ["--parallel", "--parallel-max", String(parallel)] : [];
  const { stdout, ms } = await runProcess("curl", [...CURL, ...extra, ...toNull(blobs)]);
  checkCurl(stdout, blobs, "curl");
  return ms;
}

async function curlXargs(blobs: Blob[], parallel: number): Promise<number> {
  const args = ["-d", "\\n", "-P", String(parallel), "-n", "1", "curl", ...CURL, "-o", "/dev/null"];
  const { stdout, ms } = await runProcess("xargs", args, `${blobs.map((b) => b.url).join("\n")}\n`);
  checkCurl(stdout, blobs, "xargs curl");
  return ms;
}

/**
 * Reads the CPU time of the docker-registry child of this process from /proc (Linux only): with two
 * cores, whether the server gets a core of its own decides much of the wall time.
 */
async function registryCpuReader(): Promise<() => number | undefined> {
  const none = () => undefined;
  try {
    const { stdout } = await runProcess("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)]);
    const pid = stdout
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .find(([, comm]) => comm === "docker-registry")?.[0];
    if (pid === undefined) return none;
    return () => {
      try {
        // Fields after "(comm) ": state is [0], utime [11], stime [12], in clock ticks (100 Hz on Linux).
        const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
        return (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        return undefined;
      }
    };
  } catch {
    return none;
  }
}

// ---- the run ------------------------------------------------------------------------------------------

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const concurrency = Number(ctx.options.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 2)
    throw new Error("--concurrency must be an integer ≥ 2");
  ctx.progress("seeded storage (built once, minutes the first time)…");
  const storageDir = await ensureSeededStorage();
  const registry: RunningRegistry = await startRegistry({ storageDir, readOnly: true });
  try {
    return await measure(ctx, registry, concurrency);
  } finally {
    await registry.stop();
  }
}

async function measure(
  ctx: BenchContext,
  registry: RunningRegistry,
  concurrency: number,
): Promise<BenchResult> {
  const setup = new RegistryClient({ registry: registry.url, insecure: true });
  let images: PulledImage[];
  try {
    images = await collectImages(setup, registry.url);
  } finally {
    await setup.close();
  }
  const blobs = distinctBlobs(images);
  const layers = blobs.filter((b) => b.kind === "layer");
  const total = sum(blobs);
  const n = concurrency;

  /** The pull methods at one concurrency: shipshape, the undici references, two ways of running curl. */
  const pulls = (c: number): Method[] => {
    const mode = c === 1 ? "seq" : "par";
    const row = (id: string, label: string, group: Method["group"], measure: () => Promise<number>) => ({
      id: `${id}-${mode}`,
      label,
      group,
      concurrency: c,
      bytes: total,
      measure,
    });
    return [
      row("shipshape", "shipshape openBlob", "shipshape", () => shipshapePull(registry.url, blobs, c, n)),
      row("undici", "undici request(), no verification", "reference", () => undiciPull(blobs, c, false)),
      row("undici-sha", "undici request() + sha256", "reference", () => undiciPull(blobs, c, true)),
      c === 1
        ? row("curl-per-blob", "curl, one process per blob", "curl", () => curlPerBlob(blobs))
        : row("curl-xargs", `xargs -P${c} curl (process per blob)`, "curl", () => curlXargs(blobs, c)),
      row(
        "curl-one-process",
        c === 1 ? "curl, one process, all URLs" : `curl --parallel --parallel-max ${c}`,
        "curl",
        () => curlOneProcess(blobs, c === 1 ? undefined : c),
      ),
    ];
  };
  const methods: Method[] = [
    ...pulls(1),
    ...pulls(n),
    {
      id: "limit-seq",
      label: "all layers, one after another",
      group: "limit",
      concurrency: 1,
      bytes: sum(layers),
      measure: () => limitPull(layers, { parallel: 1 }),
    },
    {
      id: "limit-par",
      label: `all layers, xargs -P${n}`,
      group: "limit",
      concurrency: n,
      bytes: sum(layers),
      measure: () => limitPull(layers, { parallel: n }),
    },
    ...images.map(
      (image): Method => ({
        id: `limit-image ${image.name} ${image.platform}`,
        label: `${image.name} ${image.platform}`,
        group: "limit-image",
        concurrency: 1,
        bytes: sum(image.layers),
        measure: () => limitPull(image.layers, { parallel: 1 }),
      }),
    ),
  ];

  ctx.progress(`${blobs.length} blobs, ${formatBytes(total)}; warm-up (untimed)…`);
  const uncompressed = await uncompressedSizes(layers);
  await curlOneProcess(blobs);
  await shipshapePull(registry.url, blobs, 1, n);

  const times = new Map<string, Sample[]>(methods.map((m) => [m.id, []]));
  const registryCpu = await registryCpuReader();
  for (let r = 0; r < ctx.rounds; r++) {
    const order = r % 2 === 0 ? methods : [...methods].reverse();
    for (const method of order) {
      const cpu = process.cpuUsage();
      const server = registryCpu();
      const ms = await method.measure();
      const used = process.cpuUsage(cpu);
      const serverAfter = registryCpu();
      times.get(method.id)?.push({
        ms,
        nodeCpuMs: (used.user + used.system) / 1000,
        registryCpuMs: server === undefined || serverAfter === undefined ? undefined : serverAfter - server,
      });
    }
    const last = (id: string) => formatMs(times.get(id)?.at(-1)?.ms ?? Number.NaN);
    ctx.progress(
      `round ${r + 1}/${ctx.rounds}: shipshape ${last("shipshape-seq")} / ${last("shipshape-par")}, ` +
        `curl ${last("curl-one-process-seq")} / ${last("curl-one-process-par")} (sequential / ${n} in flight)`,
    );
  }
  const result = report(images, blobs, uncompressed, methods, times, n, ctx.rounds);
  result.json.loadAverageAfter = os.loadavg().map((l) => round(l, 2));
  return result;
}

// ---- the report ---------------------------------------------------------------------------------------

function report(
  images: PulledImage[],
  blobs: Blob[],
  uncompressed: Map<string, number>,
  methods: Method[],
  samples: Map<string, Sample[]>,
  n: number,
  rounds: number,
): BenchResult {
  const stats = methods.map((m) => {
    const list = samples.get(m.id) ?? [];
    const runs = list.map((x) => x.ms);
    const med = median(runs);
    const registry = list.map((x) => x.registryCpuMs).filter((x): x is number => x !== undefined);
    return {
      method: m,
      runs,
      median: med,
      best: Math.min(...runs),
      mbps: mbPerSecond(m.bytes, med),
      // Node's own CPU means something only for the in-process methods; curl runs in child processes.
      nodeCpuMs:
        m.group === "shipshape" || m.group === "reference" ? median(list.map((x) => x.nodeCpuMs)) : undefined,
      registryCpuMs: registry.length === list.length ? median(registry) : undefined,
    };
  });
  const byId = (id: string) => stats.find((s) => s.method.id === id) as (typeof stats)[number];
  const layersOf = (list: Blob[]) => list.reduce((s, b) => s + (uncompressed.get(b.digest) ?? 0), 0);
  const allLayers = blobs.filter((b) => b.kind === "layer");

  const ratios = (["seq", "par"] as const).map((mode) => {
    const ours = byId(`shipshape-${mode}`);
    const curls = stats.filter(
      (s) => s.method.group === "curl" && (mode === "seq") === (s.method.concurrency === 1),
    );
    const best = curls.reduce((a, b) => (b.median < a.median ? b : a));
    const ratio = ours.median / best.median;
    const bare = byId(`undici-${mode}`);
    const hashed = byId(`undici-sha-${mode}`);
    return {
      mode: mode === "seq" ? "sequential" : `parallel (${n})`,
      shipshapeMs: round(ours.median),
      curlMethod: best.method.label,
      curlMs: round(best.median),
      ratio: round(ratio, 3),
      versus: Object.fromEntries(curls.map((c) => [c.method.label, round(ours.median / c.median, 3)])),
      target: TARGET_RATIO,
      met: ratio <= TARGET_RATIO,
      /** Where the gap is: Node + undici alone, hashing, and the client's own share. */
      breakdown: {
        undiciOverCurl: round(bare.median / best.median, 3),
        undiciSha256OverCurl: round(hashed.median / best.median, 3),
        shipshapeOverUndiciSha256: round(ours.median / hashed.median, 3),
      },
    };
  });
  const missed = ratios
    .filter((r) => !r.met)
    .map(
      (r) =>
        `${r.mode}: shipshape/curl = ${r.ratio.toFixed(2)} > ${TARGET_RATIO.toFixed(2)} (${formatMs(r.shipshapeMs)} vs ${r.curlMethod} ${formatMs(r.curlMs)})`,
    );

  const configs = blobs.filter((b) => b.kind === "config");
  const count = (c: Compression) => allLayers.filter((l) => l.compression === c).length;
  const runsText = (runs: number[]) => runs.map((t) => t.toFixed(0)).join(" ");

  const imageTable = renderTable(
    ["image", "platform", "layers", "layer bytes", "uncompressed", "note"],
    images.map((i) => [
      i.name,
      i.platform,
      `${i.layers.length} ${[...new Set(i.layers.map((l) => l.compression))].join("/")}`,
      formatBytes(sum(i.layers)),
      formatBytes(layersOf(i.layers)),
      i.note ?? "",
    ]),
    ["left", "left", "left", "right", "right", "left"],
  );
  const methodTable = renderTable(
    ["method", "in flight", "bytes", "median", "MB/s", "best", "node CPU", "registry CPU", "runs (ms)"],
    stats
      .filter((s) => ["shipshape", "reference", "curl"].includes(s.method.group))
      .map((s) => [
        s.method.label,
        String(s.method.concurrency),
        formatBytes(s.method.bytes),
        formatMs(s.median),
        s.mbps.toFixed(0),
        formatMs(s.best),
        s.nodeCpuMs === undefined ? "" : formatMs(s.nodeCpuMs),
        s.registryCpuMs === undefined ? "" : formatMs(s.registryCpuMs),
        runsText(s.runs),
      ]),
  );
  const ratioTable = renderTable(
    [
      "mode",
      "shipshape",
      "best curl",
      "curl method",
      "ratio",
      `target ≤ ${TARGET_RATIO.toFixed(2)}`,
      "vs each curl",
      "undici/curl",
      "undici+sha/curl",
      "shipshape/(undici+sha)",
    ],
    ratios.map((r) => [
      r.mode,
      formatMs(r.shipshapeMs),
      formatMs(r.curlMs),
      r.curlMethod,
      r.ratio.toFixed(2),
      r.met ? "met" : "MISSED",
      Object.values(r.versus)
        .map((v) => v.toFixed(2))
        .join(" / "),
      r.breakdown.undiciOverCurl.toFixed(2),
      r.breakdown.undiciSha256OverCurl.toFixed(2),
      r.breakdown.shipshapeOverUndiciSha256.toFixed(2),
    ]),
    ["left", "right", "right", "left", "right", "left", "left", "right", "right", "right"],
  );
  const limitRows = stats.filter((s) => s.method.group === "limit" || s.method.group === "limit-image");
  const limitTable = renderTable(
    ["layers of", "in flight", "compressed", "uncompressed", "median", "MB/s in", "MB/s out", "runs (ms)"],
    limitRows.map((s) => {
      const list =
        s.method.group === "limit"
          ? allLayers
          : (images.find((i) => `${i.name} ${i.platform}` === s.method.label)?.layers ?? []);
      return [
        s.method.label,
        String(s.method.concurrency),
        formatBytes(s.method.bytes),
        formatBytes(layersOf(list)),
        formatMs(s.median),
        s.mbps.toFixed(0),
        mbPerSecond(layersOf(list), s.median).toFixed(0),
        runsText(s.runs),
      ];
    }),
  );

  const text = [
    `${blobs.length} distinct blobs (${configs.length} configs, ${allLayers.length} layers: ${count("gzip")} gzip, ${count("zstd")} zstd, ${count("none")} plain), ${formatBytes(sum(blobs))}, from ${images.length} images:`,
    imageTable,
    "",
    `Pull every blob, data discarded; median of ${rounds} rounds (MB = 10^6 bytes). shipshape streams through`,
    "RegistryClient.openBlob and verifies size and sha256; curl verifies nothing; the undici rows are a",
    "reference (bare undici request() on one Agent) that splits the gap into Node.js, hashing and the client.",
    methodTable,
    "",
    "shipshape / curl (median wall time; against the faster curl of the same concurrency):",
    ratioTable,
    "",
    "Machine limit: curl | gzip -dc (zstd -dc for zstd layers) > /dev/null, every layer:",
    limitTable,
  ].join("\n");

  const json = {
    concurrency: n,
    target: { ratio: TARGET_RATIO, description: "shipshape median wall time / best curl median wall time" },
    images: images.map((i) => ({
      name: i.name,
      platform: i.platform,
      digest: i.digest,
      note: i.note,
      config: { digest: i.config.digest, size: i.config.size },
      layers: i.layers.map((l) => ({
        digest: l.digest,
        size: l.size,
        compression: l.compression,
        uncompressedSize: uncompressed.get(l.digest),
      })),
    })),
    blobs: {
      count: blobs.length,
      bytes: sum(blobs),
      configs: configs.length,
      layers: allLayers.length,
      layerBytes: sum(allLayers),
      uncompressedLayerBytes: layersOf(allLayers),
    },
    methods: stats.map((s) => ({
      id: s.method.id,
      label: s.method.label,
      group: s.method.group,
      concurrency: s.method.concurrency,
      bytes: s.method.bytes,
      runsMs: s.runs.map((t) => round(t)),
      bestMs: round(s.best),
      nodeCpuMs: s.nodeCpuMs === undefined ? undefined : round(s.nodeCpuMs),
      registryCpuMs: s.registryCpuMs,
      medianMs: round(s.median),
      mbPerSecond: round(s.mbps),
    })),
    ratios,
    limit: Object.fromEntries(
      limitRows.map((s) => [s.method.id, { medianMs: round(s.median), bytes: s.method.bytes }]),
    ),
  };
  return { text, json, missed };
}

// The runner imports these exports by name; this checks them against its interface.
({ description, options, run }) satisfies BenchModule;
