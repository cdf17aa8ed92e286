/** A pass-through that checks size and digest of local blobs (OCI layouts, archives) as they stream. */
import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { DigestMismatchError } from "../registry/errors.js";

export function verifyingStream(source: string, digest: string, size: number): Transform {
  const [algorithm, expectedHex] = digest.split(":");
  const hash = createHash(algorithm === "sha512" ? "sha512" : "sha256");
  let received = 0;
  const ctx = { registry: source, reference: digest };
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      if (size >= 0 && received > size) {
        return done(
          new DigestMismatchError(ctx, digest, "(unknown)", `blob is larger than its ${size} bytes`),
        );
      }
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = `${algorithm}:${hash.digest("hex")}`;
      if (size >= 0 && received !== size) {
        return done(
          new DigestMismatchError(ctx, digest, actual, `blob has ${received} bytes, expected ${size}`),
        );
      }
      if (actual !== `${algorithm}:${expectedHex}`) return done(new DigestMismatchError(ctx, digest, actual));
      done();
    },
  });
}
