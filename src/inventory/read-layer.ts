/**
 * One layer read for a set of extractors: its walk (listing, whiteouts, warnings) and what each
 * extractor found in the files it asked for. The same code runs on the main thread and on a layer
 * walker thread (layer-walkers.ts).
 */
import type { Readable } from "node:stream";
import { type LayerLimits, type LayerWalk, walkLayer } from "../image/layer.js";
import type { Extractor, FileInfo, FileResult } from "./extractor.js";

export interface LayerReading {
  walk: LayerWalk;
  /** Extractor name → its results in this layer (every extractor asked has an entry). */
  found: Map<string, FileResult[]>;
}

export async function readLayer(
  blob: Readable,
  digest: string,
  extractors: Extractor[],
  limits?: LayerLimits,
): Promise<LayerReading> {
  const found = new Map<string, FileResult[]>(extractors.map((e) => [e.name, []]));
  const walk = await walkLayer<Extractor[]>(
    blob,
    { digest },
    {
      select(entry) {
        if (entry.type !== "file" && entry.type !== "hardlink") return undefined;
        const info: FileInfo = { path: entry.path, size: entry.size, mode: entry.mode };
        const wanting = extractors.filter((e) => e.wants(info));
        if (wanting.length === 0) return undefined;
        return { selection: wanting, maxBytes: Math.max(...wanting.map((e) => e.maxFileBytes)) };
      },
      async file(entry, content, wanting) {
        for (const extractor of wanting) {
          const list = found.get(extractor.name) as FileResult[];
          if (content.length > extractor.maxFileBytes) {
            list.push({
              extractor: extractor.name,
              path: entry.path,
              warnings: [`${entry.path}: too large for ${extractor.name}`],
            });
            continue;
          }
          try {
            const result = await extractor.extract({
              path: entry.path,
              size: content.length,
              mode: entry.mode,
              content,
            });
            list.push({ extractor: extractor.name, path: entry.path, ...result });
          } catch (err) {
            list.push({
              extractor: extractor.name,
              path: entry.path,
              warnings: [`${extractor.name} could not read ${entry.path}: ${(err as Error).message}`],
            });
          }
        }
      },
    },
    limits,
  );
  return { walk, found };
}
