/**
 * Image configuration (OCI image-spec config.md; Docker image spec v1.2): the fields the scanner
 * needs for attribution and ordering.
 */
export interface HistoryEntry {
  created?: string | undefined;
  createdBy?: string | undefined;
  comment?: string | undefined;
  emptyLayer: boolean;
}

export interface ImageConfig {
  /** RFC 3339 build time as written; undefined when absent. */
  created?: string | undefined;
  /** Parsed build time; undefined when absent, unparseable, or before 2000 (reproducible builds pin 1970). */
  createdAt?: Date | undefined;
  os: string;
  architecture: string;
  variant?: string | undefined;
  history: HistoryEntry[];
  /** Uncompressed layer digests, bottom first. */
  diffIds: string[];
}

export class InvalidConfigError extends Error {}

const EARLIEST_PLAUSIBLE_BUILD = Date.UTC(2000, 0, 1);

export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new InvalidConfigError(`image config is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidConfigError("image config is not a JSON object");
  }
  const rootfs = body.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  const diffIds = Array.isArray(rootfs?.diff_ids)
    ? rootfs.diff_ids.filter((d): d is string => typeof d === "string")
    : [];
  const history = Array.isArray(body.history)
    ? body.history
        .filter((h): h is Record<string, unknown> => typeof h === "object" && h !== null)
        .map((h) => ({
          created: str(h.created),
          createdBy: str(h.created_by),
          comment: str(h.comment),
          emptyLayer: h.empty_layer === true,
        }))
    : [];
  const created = str(body.created);
  return {
    created,
    createdAt: plausibleDate(created),
    os: str(body.os) ?? "",
    architecture: str(body.architecture) ?? "",
    variant: str(body.variant),
    history,
    diffIds,
  };
}

/** RFC 3339 date-time; a missing offset is tolerated and read as UTC. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/;

export function plausibleDate(text: string | undefined): Date | undefined {
  // Date.parse alone reads "hello 2024" as 2024-01-01 and a zone-less time as local time.
  const m = text ? RFC3339.exec(text) : null;
  if (!text || !m) return undefined;
  const ms = Date.parse(m[1] ? text : `${text}Z`);
  return Number.isNaN(ms) || ms < EARLIEST_PLAUSIBLE_BUILD ? undefined : new Date(ms);
}

/** The history line that created each non-empty layer, index-aligned with diffIds. */
export function layerHistory(config: ImageConfig): (HistoryEntry | undefined)[] {
  const nonEmpty = config.history.filter((h) => !h.emptyLayer);
  return config.diffIds.map((_, i) => nonEmpty[i]);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}
