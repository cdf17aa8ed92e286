/**
 * `db update`: fetch every configured feed (official URL by default; `--source NAME=URL|PATH` or a
 * `--mirror DIR` laid out like ../shared/vulndata instead), parse it with its source, and build a
 * new database beside the old one, swapped in only when complete. A source that cannot be fetched
 * or read is recorded as unavailable and the build goes on; `db status` says so.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { Agent, type Dispatcher, interceptors, request } from "undici";
import { DatabaseBuilder, type SourceStatus } from "./database.js";
import type { FeedContext, FeedInput, FeedSource } from "./source.js";
import type { Severity } from "./types.js";

/** A source of CVSS scores keyed by CVE, used for advisories that carry none. */
export interface EnrichmentSource {
  readonly name: string;
  readonly version: number;
  readonly spec: string;
  readonly inputs: FeedSource["inputs"];
  read(inputs: FeedInput[], ctx: FeedContext): AsyncIterable<{ cve: string; severities: Severity[] }>;
}

export interface UpdateOptions {
  dbFile: string;
  sources: FeedSource[];
  enrichment: EnrichmentSource[];
  /** NAME → URL or local path, replacing that source's default input(s). */
  overrides?: Map<string, string[]>;
  /** A folder laid out as ../shared/vulndata; every source reads its mirrorPath there. */
  mirror?: string | undefined;
  onEvent?: (event: UpdateEvent) => void;
  signal?: AbortSignal;
}

export type UpdateEvent =
  | { kind: "fetch"; source: string; origin: string; bytes?: number; total?: number }
  | { kind: "records"; source: string; records: number }
  | { kind: "source-done"; status: SourceStatus }
  | { kind: "warning"; source: string; message: string };

const MAX_DOWNLOAD_BYTES = 2 * 1024 ** 3;

// Feed hosts redirect to CDNs and object stores; no credentials are ever sent, so following is safe.
let feedAgent: Dispatcher | undefined;

async function download(url: string, dir: string, source: string, options: UpdateOptions): Promise<string> {
  feedAgent ??= new Agent({ headersTimeout: 60_000, bodyTimeout: 120_000 }).compose(
    interceptors.redirect({ maxRedirections: 5 }),
  );
  const res = await request(url, { method: "GET", dispatcher: feedAgent, signal: options.signal });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`GET ${url}: HTTP ${res.statusCode}`);
  }
  const total = Number(res.headers["content-length"] ?? 0) || undefined;
  const file = path.join(dir, `${source}-${path.basename(new URL(url).pathname) || "feed"}`);
  let bytes = 0;
  let lastReport = 0;
  await pipeline(
    res.body,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        bytes += chunk.length;
        if (bytes > MAX_DOWNLOAD_BYTES) throw new Error(`GET ${url}: more than ${MAX_DOWNLOAD_BYTES} bytes`);
        if (bytes - lastReport > 1024 * 1024) {
          lastReport = bytes;
          options.onEvent?.({ kind: "fetch", source, origin: url, bytes, total });
        }
        yield chunk;
      }
    },
    fs.createWriteStream(file),
  );
  if (total !== undefined && bytes !== total) throw new Error(`GET ${url}: got ${bytes} of ${total} bytes`);
  return file;
}

/** Local path or downloaded copy of each input a source reads; undefined entries are missing optional inputs. */
async function fetchInputs(
  source: { name: string; inputs: FeedSource["inputs"] },
  options: UpdateOptions,
  dir: string,
  warn: (m: string) => void,
): Promise<FeedInput[]> {
  const override = options.overrides?.get(source.name);
  const wanted: { location: string; optional: boolean }[] = override
    ? override.map((location) => ({ location, optional: false }))
    : source.inputs.map((i) => ({
        location: options.mirror ? path.join(options.mirror, i.mirrorPath) : i.url,
        optional: (i as { optional?: boolean }).optional === true,
      }));
  const inputs: FeedInput[] = [];
  for (const { location, optional } of wanted) {
    if (/^https?:\/\//.test(location)) {
      options.onEvent?.({ kind: "fetch", source: source.name, origin: location });
      try {
        inputs.push({ path: await download(location, dir, source.name, options), origin: location });
      } catch (err) {
        if (!optional) throw err;
        warn(`${location}: ${(err as Error).message}; skipped`);
      }
    } else if (fs.existsSync(location)) {
      inputs.push({ path: location, origin: location });
    } else if (optional) {
      warn(`${location} not found; skipped`);
    } else {
      throw new Error(`${location} not found`);
    }
  }
  return inputs;
}

export async function updateDatabase(options: UpdateOptions): Promise<SourceStatus[]> {
  const builder = new DatabaseBuilder(options.dbFile);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shipshape-feeds-"));
  const statuses: SourceStatus[] = [];
  try {
    const all: { source: FeedSource | EnrichmentSource; enrichment: boolean }[] = [
      ...options.sources.map((source) => ({ source, enrichment: false })),
      ...options.enrichment.map((source) => ({ source, enrichment: true })),
    ];
    for (const { source, enrichment } of all) {
      options.signal?.throwIfAborted();
      let warnings = 0;
      const warn = (message: string) => {
        warnings++;
        options.onEvent?.({ kind: "warning", source: source.name, message });
      };
      const status: SourceStatus = {
        name: source.name,
        version: source.version,
        origin: "",
        records: 0,
        fetchedAt: new Date().toISOString(),
        warnings: 0,
        available: false,
      };
      try {
        const inputs = await fetchInputs(source, options, dir, warn);
        status.origin = inputs.map((i) => i.origin).join(", ");
        if (inputs.length === 0) throw new Error("no input available");
        const ctx: FeedContext = {
          warn,
          progress: (records) => options.onEvent?.({ kind: "records", source: source.name, records }),
        };
        if (enrichment) {
          for await (const { cve, severities } of (source as EnrichmentSource).read(inputs, ctx)) {
            builder.addCvss(cve, severities);
            if (++status.records % 1000 === 0) options.signal?.throwIfAborted();
          }
        } else {
          for await (const advisory of (source as FeedSource).read(inputs, ctx)) {
            builder.add(advisory);
            status.records++;
            const stamp = advisory.modified ?? advisory.published;
            if (stamp && (!status.newest || stamp > status.newest)) status.newest = stamp;
            if (status.records % 1000 === 0) {
              options.signal?.throwIfAborted();
              ctx.progress?.(status.records);
            }
          }
        }
        status.available = true;
      } catch (err) {
        if (options.signal?.aborted) throw err;
        status.origin ||= "(not fetched)";
        warn(`source unavailable: ${(err as Error).message}`);
      }
      status.warnings = warnings;
      builder.setSource(status);
      statuses.push(status);
      options.onEvent?.({ kind: "source-done", status });
    }
    if (!statuses.some((s) => s.available)) {
      throw new Error("no source could be read; the existing database is left as it was");
    }
    builder.finish();
    return statuses;
  } catch (err) {
    builder.abandon();
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
