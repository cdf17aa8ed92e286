/**
 * Query-string values as clients send them (spec 1.6): booleans read leniently (a value beginning
 * with `true` is true, for the Python SDK's `?filterBaseImage=true?limit=50&offset=N`), arrays as
 * repeated keys or comma lists, integers checked, and the `search` escapes of the vendor UI client
 * (`\.` for `.`, `%253A` for `:`) undone. A value that cannot be read is a 400 naming the parameter.
 */
import { badRequest } from "./errors.js";

export type RawQuery = Record<string, string | string[] | undefined>;

function single(query: RawQuery, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value.at(-1) : value;
}

export function queryBool(query: RawQuery, name: string, fallback = false): boolean {
  const value = single(query, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (lower.startsWith("true") || lower === "1" || lower === "t") return true;
  if (lower.startsWith("false") || lower === "0" || lower === "f" || lower === "") return false;
  throw badRequest(`query parameter ${name} must be true or false, got "${value}"`);
}

/** Every value of a repeated or comma-separated parameter; empty items dropped. */
export function queryList(query: RawQuery, name: string): string[] | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(",")).map((v) => v.trim());
  const kept = items.filter((v) => v !== "");
  return kept.length > 0 ? kept : undefined;
}

export function queryString(query: RawQuery, name: string): string | undefined {
  const value = single(query, name);
  return value === undefined || value === "" ? undefined : value;
}

export function queryInt(
  query: RawQuery,
  name: string,
  bounds: { min: number; max?: number },
): number | undefined {
  const value = single(query, name);
  if (value === undefined || value === "") return undefined;
  if (!/^\d+$/.test(value.trim()))
    throw badRequest(`query parameter ${name} must be a non-negative integer, got "${value}"`);
  const n = Number(value);
  if (n < bounds.min) throw badRequest(`query parameter ${name} must be at least ${bounds.min}`);
  return bounds.max === undefined ? n : Math.min(n, bounds.max);
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 250;

/** offset (default 0) and limit (default 50, larger values capped at 250). */
export function queryPage(query: RawQuery): { offset: number; limit: number } {
  const offset = queryInt(query, "offset", { min: 0 }) ?? 0;
  const limit = queryInt(query, "limit", { min: 0, max: MAX_LIMIT }) ?? DEFAULT_LIMIT;
  return { offset, limit: limit === 0 ? DEFAULT_LIMIT : limit };
}

/**
 * The search term as the user typed it: a still-encoded `%3A` (the client double-encodes `:`) is
 * decoded, and the client's regular-expression escapes (`\.`) are dropped, leaving a plain substring.
 */
export function searchTerm(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let term = raw;
  if (/%[0-9a-f]{2}/i.test(term)) {
    try {
      term = decodeURIComponent(term);
    } catch {
      // A lone "%" the user meant literally.
    }
  }
  term = term.replace(/\\(.)/g, "$1");
  return term === "" ? undefined : term;
}
