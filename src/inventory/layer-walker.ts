/**
 * Entry point of a layer walker thread (layer-walkers.ts starts it): reads the layers the main
 * thread streams to it, one at a time, with the registered extractors named in each request.
 */
import { Readable } from "node:stream";
import { parentPort } from "node:worker_threads";
import { LayerError, type LayerLimits } from "../image/layer.js";
import type { Extractor } from "./extractor.js";
import { allExtractors } from "./extractors/index.js";
import type { FromWalker, ToWalker } from "./layer-walkers.js";
import { readLayer } from "./read-layer.js";

const port = parentPort;
if (!port) throw new Error("layer-walker.ts runs as a worker thread (layer-walkers.ts starts it)");
const byName = new Map(allExtractors.map((e) => [e.name, e]));
const blobs = new Map<number, Readable>();
const send = (message: FromWalker) => port.postMessage(message);

function start(id: number, digest: string, names: string[], limits: LayerLimits | undefined) {
  const extractors = names.map((name) => byName.get(name));
  if (extractors.some((e) => e === undefined)) {
    send({ type: "failed", id, message: `no registered extractor among ${names.join(", ")}` });
    return;
  }
  // Each read() asks for one more chunk: the main thread sends no more than the walk consumes.
  const blob = new Readable({ read: () => send({ type: "pull", id }) });
  blobs.set(id, blob);
  readLayer(blob, digest, extractors as Extractor[], limits)
    .then(
      ({ walk, found }) => send({ type: "done", id, walk, found: [...found] }),
      (err: unknown) =>
        send({
          type: "failed",
          id,
          message: err instanceof Error ? err.message : String(err),
          ...(err instanceof LayerError ? { layerDetail: err.detail } : {}),
        }),
    )
    .finally(() => blobs.delete(id));
}

port.on("message", (message: ToWalker) => {
  switch (message.type) {
    case "start":
      start(message.id, message.digest, message.extractors, message.limits);
      break;
    case "chunk":
      blobs
        .get(message.id)
        ?.push(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
      break;
    case "end":
      blobs.get(message.id)?.push(null);
      break;
    case "abort":
      blobs.get(message.id)?.destroy(new Error("abandoned by the main thread"));
      break;
  }
});
