/** Helpers over yauzl shared by the readers of zip files (Java archives, feed archives). */
import type yauzl from "yauzl";

/**
 * The central-directory entries of a zip opened with `lazyEntries: true`, one at a time; an error
 * yauzl reports (a corrupt central directory) ends the iteration by throwing.
 */
export async function* zipDirectoryEntries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  let settle: { resolve: (e: yauzl.Entry | undefined) => void; reject: (err: Error) => void } | undefined;
  let failure: Error | undefined;
  zip.on("entry", (e: yauzl.Entry) => settle?.resolve(e));
  zip.on("end", () => settle?.resolve(undefined));
  zip.on("error", (err: Error) => {
    failure = err;
    settle?.reject(err);
  });
  for (;;) {
    if (failure !== undefined) throw failure;
    const next = new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      settle = { resolve, reject };
    });
    zip.readEntry();
    const entry = await next;
    if (entry === undefined) return;
    yield entry;
  }
}
