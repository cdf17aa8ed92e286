/**
 * Image configuration (OCI image-spec config.md; Docker image spec v1.2): the fields the scanner
 * needs for attribution and ordering, and the container defaults the scan results show.
 */
export interface HistoryEntry {
  created?: string | undefined;
  createdBy?: string | undefined;
  comment?: string | undefined;
  emptyLayer: boolean;
}

/**
 * The defaults of a container run from the image (the config's `config` object) that results show.
 * `Env` is not read: its values often hold credentials, and no result repeats them.
 */
export interface RunConfig {
  entrypoint: string[];
  cmd: string[];
  /** "" when unset (root). */
  user: string;
  /** "" when unset (/). */
  workingDir: string;
  labels: Record<string, string>;
  /** A HEALTHCHECK is set and is not `NONE` (Test starts with CMD or CMD-SHELL). */
  healthcheck: boolean;
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
  run: RunConfig;
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
    run: runConfig(body.config),
  };
}

function runConfig(value: unknown): RunConfig {
  const c = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  const labels: Record<string, string> = {};
  if (typeof c.Labels === "object" && c.Labels !== null) {
    for (const [key, v] of Object.entries(c.Labels)) if (typeof v === "string") labels[key] = v;
  }
  const healthTest = strings((c.Healthcheck as { Test?: unknown } | null | undefined)?.Test);
  return {
    entrypoint: strings(c.Entrypoint),
    cmd: strings(c.Cmd),
    user: str(c.User) ?? "",
    workingDir: str(c.WorkingDir) ?? "",
    labels,
    healthcheck: healthTest[0] === "CMD" || healthTest[0] === "CMD-SHELL",
  };
}

/** A JSON string list; a lone string is a one-element list, as Docker's strslice reads it. */
function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];
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
