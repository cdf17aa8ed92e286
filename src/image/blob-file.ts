/** A byte range of a local file as a verified stream; read errors reach the consumer. */
import fs from "node:fs";
import { pipeline, type Readable } from "node:stream";
import { verifyingStream } from "./verify.js";

export function verifiedFileStream(
  file: string,
  expected: { digest: string; size: number },
  range?: { start: number; length: number },
): Readable {
  const source = fs.createReadStream(
    file,
    range
      ? { start: range.start, end: range.start + range.length - 1, highWaterMark: 256 * 1024 }
      : { highWaterMark: 256 * 1024 },
  );
  return pipeline(source, verifyingStream(file, expected.digest, expected.size), () => undefined);
}
