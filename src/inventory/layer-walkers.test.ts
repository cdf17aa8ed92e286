import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import { sharedDir } from "../../test/harness/paths.js";
import { parseImageConfig } from "../image/config.js";
import { LayerError } from "../image/layer.js";
import type { ImageSource } from "../image/source.js";
import { Analyzer } from "./analyzer.js";
import type { Extractor } from "./extractor.js";
import { allExtractors } from "./extractors/index.js";
import { defaultWalkerThreads, LayerWalkers } from "./layer-walkers.js";
import { readLayer } from "./read-layer.js";

// A real layer: Alpine's minirootfs tarball is what the alpine image's only layer holds.
const MINIROOTFS = path.join(sharedDir, "fixtures", "rootfs", "alpine-minirootfs-3.10.3-x86_64.tar.gz");
const DIGEST = `sha256:${"ab".repeat(32)}`;
const GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const names = allExtractors.map((e) => e.name);
const open = () => fs.createReadStream(MINIROOTFS);

test("a walker thread reads a layer exactly as the main thread does", async () => {
  const thread = new LayerWalkers(1).idleThread();
  assert.ok(thread);
  const onThread = await thread.read(open(), DIGEST, names);
  const onMain = await readLayer(open(), DIGEST, [...allExtractors]);
  assert.deepEqual(onThread, onMain);
  assert.equal(onThread.found.get("apk")?.[0]?.packages?.length, 14);
  assert.equal(thread.busy, false);
});

test("the pool starts threads up to its size, then has none idle while all are busy", async () => {
  const walkers = new LayerWalkers(2);
  const a = walkers.idleThread();
  const reading = a?.read(open(), DIGEST, names);
  const b = walkers.idleThread();
  assert.ok(a && b && a !== b);
  const second = b.read(open(), DIGEST, names);
  assert.equal(walkers.idleThread(), undefined);
  await Promise.all([reading, second]);
  assert.equal(walkers.idleThread(), a);
});

test("a blob failing midway rejects with its own error, and the thread serves the next layer", async () => {
  const thread = new LayerWalkers(1).idleThread();
  assert.ok(thread);
  const bytes = fs.readFileSync(MINIROOTFS);
  const broken = new Error("the registry went away");
  const failing = new Readable({
    read() {
      this.push(bytes.subarray(0, 1 << 20));
      this.destroy(broken);
    },
  });
  await assert.rejects(thread.read(failing, DIGEST, names), (err) => err === broken);
  const next = await thread.read(open(), DIGEST, names);
  assert.equal(next.found.get("apk")?.[0]?.packages?.length, 14);
});

test("a corrupt layer is the same LayerError as on the main thread", async () => {
  const thread = new LayerWalkers(1).idleThread();
  assert.ok(thread);
  const original = fs.readFileSync(MINIROOTFS);
  const bytes = Buffer.from(original);
  const middle = Math.floor(bytes.length / 2);
  const flipped = (original[middle] as number) ^ 0xff;
  bytes[middle] = flipped;
  const onThread = await thread.read(Readable.from([bytes]), DIGEST, names).catch((e: unknown) => e);
  const onMain = await readLayer(Readable.from([bytes]), DIGEST, [...allExtractors]).catch((e: unknown) => e);
  assert.equal(bytes[middle], flipped, "the caller's bytes are untouched");
  assert.ok(onThread instanceof LayerError, String(onThread));
  assert.ok(onMain instanceof LayerError);
  assert.equal(onThread.message, onMain.message);
  assert.equal(onThread.digest, DIGEST);
});

test("an extractor the thread does not know is refused by name", async () => {
  const thread = new LayerWalkers(1).idleThread();
  await assert.rejects(thread?.read(open(), DIGEST, ["apk", "made-up"]) as Promise<unknown>, {
    message: "no registered extractor among apk, made-up",
  });
});

test("an analyzer with an unregistered extractor walks every layer on the main thread", async () => {
  const custom: Extractor = {
    name: "custom",
    version: 1,
    spec: "test",
    maxFileBytes: 1024,
    wants: () => false,
    extract: () => ({}),
  };
  assert.equal(LayerWalkers.canRun([...allExtractors, custom]), false);
  assert.equal(LayerWalkers.canRun(allExtractors), true);
  const layer = { digest: DIGEST, size: fs.statSync(MINIROOTFS).size, mediaType: GZIP_LAYER };
  const source: ImageSource = {
    identity: {
      name: "minirootfs",
      digest: DIGEST,
      configDigest: DIGEST,
      os: "linux",
      architecture: "amd64",
      layers: [{ ...layer, diffId: DIGEST }],
    },
    config: parseImageConfig(
      Buffer.from(
        JSON.stringify({
          os: "linux",
          architecture: "amd64",
          rootfs: { type: "layers", diff_ids: [DIGEST] },
        }),
      ),
    ),
    layers: [layer],
    openLayer: open,
    close: async () => undefined,
  };
  const mainOnly = new Analyzer({ extractors: [custom], walkerThreads: 2, walkerMinLayerBytes: 0 });
  const { stats } = await mainOnly.analyze(source);
  assert.deepEqual([stats.layersPulled, stats.layersOnWalkerThreads], [1, 0]);
  const threaded = new Analyzer({ extractors: [...allExtractors], walkerThreads: 2, walkerMinLayerBytes: 0 });
  const walked = await threaded.analyze(source);
  assert.deepEqual([walked.stats.layersPulled, walked.stats.layersOnWalkerThreads], [1, 1]);
  const big = new Analyzer({ extractors: [...allExtractors], walkerThreads: 2 });
  assert.equal(
    (await big.analyze(source)).stats.layersOnWalkerThreads,
    0,
    "2.7 MB is below the default size",
  );
});

test("walker threads: SHIPSHAPE_WALKER_THREADS, else two fewer than the cores", () => {
  const cases: [NodeJS.ProcessEnv, number, number][] = [
    [{}, 1, 0],
    [{}, 2, 0],
    [{}, 4, 2],
    [{}, 64, 62],
    [{ SHIPSHAPE_WALKER_THREADS: "0" }, 8, 0],
    [{ SHIPSHAPE_WALKER_THREADS: "5" }, 2, 5],
  ];
  for (const [env, cores, expected] of cases)
    assert.equal(defaultWalkerThreads(env, cores), expected, `${JSON.stringify(env)} on ${cores} cores`);
  assert.throws(() => defaultWalkerThreads({ SHIPSHAPE_WALKER_THREADS: "many" }, 2), {
    message: 'SHIPSHAPE_WALKER_THREADS must be a whole number, not "many"',
  });
});
