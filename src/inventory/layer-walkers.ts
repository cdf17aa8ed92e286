/**
 * Layer walker threads (node:worker_threads): a large layer's tar walk and extractors run on a
 * thread of their own while the main thread pulls and verifies blobs and walks other layers. On
 * one thread an image's analysis takes the sum of its layers' walks; on several, about the largest.
 *
 * The main thread reads the blob (HTTP, digest check), copies it into 1 MiB chunks and transfers
 * them (no second copy) at most two ahead of what the walker has consumed: memory stays bounded and the
 * registry stream keeps its backpressure. The walker sees the end of the blob only once the main
 * thread has verified its digest. Errors keep their kind: a LayerError from the walk is rebuilt
 * with the same message; an error of the blob (digest mismatch, network, abort) is the main
 * thread's own. Threads start on first use, are shared by every Analyzer of the process, and keep
 * no process alive while idle.
 */
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { DECOMPRESSION_CHUNK_BYTES } from "../image/decompress.js";
import { LayerError, type LayerLimits, type LayerWalk } from "../image/layer.js";
import type { Extractor, FileResult } from "./extractor.js";
import { allExtractors } from "./extractors/index.js";
import type { LayerReading } from "./read-layer.js";

export type ToWalker =
  | { type: "start"; id: number; digest: string; extractors: string[]; limits: LayerLimits | undefined }
  | { type: "chunk"; id: number; data: Uint8Array }
  | { type: "end"; id: number }
  | { type: "abort"; id: number };

export type FromWalker =
  | { type: "pull"; id: number }
  | { type: "done"; id: number; walk: LayerWalk; found: [string, FileResult[]][] }
  | { type: "failed"; id: number; message: string; layerDetail?: string };

/** Chunks sent beyond what the walker has asked for: hides the message round trip. */
const CHUNKS_AHEAD = 2;

/**
 * Walker threads worth starting besides the main thread: SHIPSHAPE_WALKER_THREADS, or two fewer
 * than the cores. The main thread, zlib's pool and the blob streams keep about one and a half cores
 * busy on their own (measured on two cores, where a walker thread made the analysis no faster, cost
 * 0.3 s of CPU for its start and 50 MB of memory). The pool starts a thread only when a large layer
 * finds none idle, so no more start than layers are read at once.
 */
export function defaultWalkerThreads(
  env: NodeJS.ProcessEnv = process.env,
  cores = os.availableParallelism(),
): number {
  const given = env.SHIPSHAPE_WALKER_THREADS;
  if (given === undefined) return Math.max(0, cores - 2);
  if (!/^\d+$/.test(given))
    throw new Error(`SHIPSHAPE_WALKER_THREADS must be a whole number, not ${JSON.stringify(given)}`);
  return Number(given);
}

/** A walker thread, from its file beside this one: .ts under tsx, .js in tsc's output, .mjs in the bundle. */
function startWalker(): Worker {
  const extension = path.extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./layer-walker${extension}`, import.meta.url);
  if (extension !== ".ts") return new Worker(entry);
  // Node.js 20 applies no --import loader to a worker: under tsx (the sources, the tests) the thread
  // registers tsx itself before it loads the TypeScript entry.
  return new Worker(
    `import { register } from "tsx/esm/api"; register(); await import(${JSON.stringify(entry.href)});`,
    { eval: true },
  );
}

/**
 * The blob in chunks of `size` bytes, each copied once into a buffer of its own: transferred to the
 * walker, a chunk detaches no memory that the stream's producer might still hold.
 */
async function* ownedChunks(blob: AsyncIterable<Buffer>, size: number): AsyncGenerator<Uint8Array> {
  let chunk = Buffer.allocUnsafeSlow(size);
  let filled = 0;
  for await (const piece of blob) {
    for (let at = 0; at < piece.length; ) {
      const n = Math.min(size - filled, piece.length - at);
      piece.copy(chunk, filled, at, at + n);
      filled += n;
      at += n;
      if (filled === size) {
        yield chunk;
        chunk = Buffer.allocUnsafeSlow(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield chunk.subarray(0, filled);
}

/** One layer on its way to a walker: what the walker may still be sent, and how the read ends. */
class WalkJob {
  readonly result: Promise<LayerReading>;
  private settle!: (error: Error | undefined, reading?: LayerReading) => void;
  private settled = false;
  /** Chunks the walker may be sent now. */
  private credit = CHUNKS_AHEAD;
  private wake: (() => void) | undefined;

  constructor(
    readonly id: number,
    private readonly digest: string,
  ) {
    this.result = new Promise<LayerReading>((resolve, reject) => {
      this.settle = (error, reading) => {
        if (this.settled) return;
        this.settled = true;
        this.wake?.();
        if (error) reject(error);
        else resolve(reading as LayerReading);
      };
    });
  }

  onMessage(message: FromWalker): void {
    if (message.type === "pull") {
      this.credit++;
      this.wake?.();
    } else if (message.type === "done") {
      this.settle(undefined, { walk: message.walk, found: new Map(message.found) });
    } else {
      this.settle(
        message.layerDetail !== undefined
          ? new LayerError(this.digest, message.layerDetail)
          : new Error(message.message),
      );
    }
  }

  fail(error: Error): void {
    this.settle(error);
  }

  /** Sends the blob as the walker asks for it; rejects with the blob's own error. */
  async feed(blob: Readable, post: (message: ToWalker, transfer?: ArrayBuffer[]) => void): Promise<void> {
    const { id } = this;
    await pipeline(blob, async (pieces: AsyncIterable<Buffer>) => {
      for await (const data of ownedChunks(pieces, DECOMPRESSION_CHUNK_BYTES)) {
        while (this.credit === 0 && !this.settled) await new Promise<void>((r) => (this.wake = r));
        if (this.settled) return;
        this.credit--;
        post({ type: "chunk", id, data }, [data.buffer as ArrayBuffer]);
      }
      post({ type: "end", id });
    });
    // The walk ended (or failed) before the blob did: nothing more is read of it.
    if (this.settled) blob.destroy();
  }
}

class WalkerThread {
  private readonly worker: Worker;
  private job: WalkJob | undefined;
  private nextId = 0;

  constructor(private readonly onGone: (thread: WalkerThread) => void) {
    this.worker = startWalker();
    this.worker.unref();
    this.worker.on("message", (message: FromWalker) => {
      const job = this.job;
      if (message.id !== job?.id) return;
      if (message.type !== "pull") {
        this.job = undefined;
        this.worker.unref();
      }
      job.onMessage(message);
    });
    const gone = (error: Error) => {
      this.onGone(this);
      this.job?.fail(error);
      this.job = undefined;
    };
    this.worker.on("error", (err) => gone(new Error(`layer walker thread failed: ${err.message}`)));
    this.worker.on("exit", (code) => gone(new Error(`layer walker thread exited (code ${code})`)));
  }

  get busy(): boolean {
    return this.job !== undefined;
  }

  read(blob: Readable, digest: string, extractors: string[], limits?: LayerLimits): Promise<LayerReading> {
    const job = new WalkJob(++this.nextId, digest);
    const post = (message: ToWalker, transfer?: ArrayBuffer[]) => this.worker.postMessage(message, transfer);
    this.job = job;
    this.worker.ref();
    post({ type: "start", id: job.id, digest, extractors, limits });
    job.feed(blob, post).catch((error: Error) => {
      // Still busy until the walker reports the abandoned walk: no new layer before that.
      post({ type: "abort", id: job.id });
      job.fail(error);
    });
    return job.result;
  }
}

/** A process's walker threads, started on demand up to the largest size asked for. */
export class LayerWalkers {
  private readonly threads: WalkerThread[] = [];

  constructor(private size: number) {}

  grow(size: number): void {
    this.size = Math.max(this.size, size);
  }

  /** Whether these extractors exist in a walker thread (only registered ones do, by name). */
  static canRun(extractors: readonly Extractor[]): boolean {
    return extractors.every((e) => allExtractors.includes(e));
  }

  /** An idle thread, started if none is and the pool has room; undefined when all are busy. */
  idleThread(): WalkerThread | undefined {
    const idle = this.threads.find((t) => !t.busy);
    if (idle || this.threads.length >= this.size) return idle;
    const thread = new WalkerThread((gone) => {
      const at = this.threads.indexOf(gone);
      if (at >= 0) this.threads.splice(at, 1);
    });
    this.threads.push(thread);
    return thread;
  }
}

let shared: LayerWalkers | undefined;

/** The process's walker threads, at least `size` of them. */
export function sharedLayerWalkers(size: number): LayerWalkers {
  if (shared) shared.grow(size);
  else shared = new LayerWalkers(size);
  return shared;
}
