/**
 * The read loop shared by the feeds that are a Git repository of one YAML file per advisory
 * (FriendsOfPHP, rubysec), fetched as a GitHub archive.
 */
import { parse } from "yaml";
import type { FeedContext, FeedInput } from "../source.js";
import type { Advisory } from "../types.js";
import { archiveEntries } from "./archive.js";

/**
 * The advisories of the archives' YAML records: each entry whose name `record` matches (its first
 * group the record's path, below any top folder a GitHub archive adds) is parsed with the failsafe
 * schema (every scalar stays a string: `- 1.10` stays "1.10", not 1.1), must be a mapping, and is
 * turned into an advisory by `advisory`. A record that fails is reported with ctx.warn and skipped.
 */
export async function* yamlArchiveAdvisories<R>(
  inputs: FeedInput[],
  ctx: FeedContext,
  record: RegExp,
  advisory: (path: string, record: R, warn: FeedContext["warn"]) => Advisory,
): AsyncIterable<Advisory> {
  let count = 0;
  for (const input of inputs) {
    const filter = (name: string) => record.test(name);
    for await (const entry of archiveEntries(input.path, { filter, warn: ctx.warn })) {
      const path = record.exec(entry.name)?.[1] as string;
      let result: Advisory;
      try {
        const parsed = parse(entry.content.toString("utf8"), { schema: "failsafe" }) as unknown;
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
          throw new Error("not a YAML mapping");
        result = advisory(path, parsed as R, ctx.warn);
      } catch (err) {
        // YAML errors span lines (a code frame): the first says what is wrong.
        ctx.warn(`${input.origin}: ${path}: ${(err as Error).message.split("\n")[0]}; skipped`);
        continue;
      }
      yield result;
      if (++count % 200 === 0) ctx.progress?.(count);
    }
  }
}
