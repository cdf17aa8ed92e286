/**
 * `shipshape console` settings: each from its flag, else its SHIPSHAPE_* environment variable, else
 * the config file (JSON or YAML, --config or SHIPSHAPE_CONFIG), else the default. Values are checked
 * here so a bad port or prefix stops the start with a message, not a stack trace.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";

export interface ConsoleConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Plain HTTP instead of HTTPS. */
  http: boolean;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** A folder laid out like the feed mirrors, for building the vulnerability database offline. */
  vulndbMirror: string | undefined;
  /** NAME=URL|PATH feed overrides, as `db update --source`. */
  sources: string[];
  parallelSpecs: number;
  pathPrefix: string;
  /** Requests per window one user may make to GET /registry; undefined = unlimited (the default). */
  registryRateLimit: RateLimit | undefined;
}

export interface RateLimit {
  max: number;
  windowMs: number;
}

/** Flags as commander hands them (every one optional: a flag not given falls through). */
export interface ConsoleFlags {
  port?: string;
  host?: string;
  dataDir?: string;
  http?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  config?: string;
  vulndbMirror?: string;
  source?: string[];
  parallelSpecs?: string;
  pathPrefix?: string;
  registryRateLimit?: string;
}

export class ConfigError extends Error {}

const KEYS = {
  port: "SHIPSHAPE_PORT",
  host: "SHIPSHAPE_HOST",
  dataDir: "SHIPSHAPE_DATA_DIR",
  http: "SHIPSHAPE_HTTP",
  tlsCert: "SHIPSHAPE_TLS_CERT",
  tlsKey: "SHIPSHAPE_TLS_KEY",
  vulndbMirror: "SHIPSHAPE_VULNDB_MIRROR",
  sources: "SHIPSHAPE_SOURCES",
  parallelSpecs: "SHIPSHAPE_PARALLEL_SPECS",
  pathPrefix: "SHIPSHAPE_PATH_PREFIX",
  registryRateLimit: "SHIPSHAPE_REGISTRY_RATE_LIMIT",
} as const satisfies Record<keyof ConsoleConfig, string>;

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || path.join(env.HOME || os.homedir(), ".local", "share");
  return path.join(base, "shipshape", "console");
}

function readFile(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed))
    throw new ConfigError(`config file ${file}: expected a mapping`);
  const known = new Set(Object.keys(KEYS));
  for (const key of Object.keys(parsed)) {
    if (!known.has(key))
      throw new ConfigError(`config file ${file}: unknown setting ${key} (known: ${[...known].join(", ")})`);
  }
  return parsed as Record<string, unknown>;
}

function integer(name: string, value: unknown, min: number, max: number): number {
  const n =
    typeof value === "number" ? value : /^\d+$/.test(String(value).trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  return n;
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  const text = String(value).trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(text)) return true;
  if (["0", "false", "no", "off", ""].includes(text)) return false;
  throw new ConfigError(`${name} must be true or false, got ${String(value)}`);
}

function list(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "object" && value !== null)
    return Object.entries(value).map(([k, v]) => `${k}=${String(v)}`);
  return String(value)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

const WINDOW_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30/30s" → 30 requests per 30 s (Prisma SaaS's limit on GET /registry); "off" or "" → none. */
export function parseRateLimit(name: string, value: unknown): RateLimit | undefined {
  const text = String(value).trim().toLowerCase();
  if (text === "" || text === "off" || text === "false") return undefined;
  const match = /^(\d+)\s*\/\s*(\d+)?\s*(ms|s|m|h)?$/.exec(text);
  const max = Number(match?.[1]);
  const windowMs = Number(match?.[2] ?? 1) * (WINDOW_UNITS_MS[match?.[3] ?? "s"] ?? Number.NaN);
  const valid = match && (match[2] || match[3]) && max >= 1 && windowMs >= 1 && windowMs <= 86_400_000;
  if (!valid)
    throw new ConfigError(
      `${name} must be REQUESTS/WINDOW, e.g. 30/30s (window in ms, s, m or h, at most a day), or off; got ${String(value)}`,
    );
  return { max, windowMs };
}

export function resolveConfig(flags: ConsoleFlags, env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const configFile = flags.config ?? env.SHIPSHAPE_CONFIG;
  const file = configFile ? readFile(configFile) : {};
  const fromFlags: Partial<Record<keyof ConsoleConfig, unknown>> = {
    port: flags.port,
    host: flags.host,
    dataDir: flags.dataDir,
    http: flags.http,
    tlsCert: flags.tlsCert,
    tlsKey: flags.tlsKey,
    vulndbMirror: flags.vulndbMirror,
    sources: flags.source && flags.source.length > 0 ? flags.source : undefined,
    parallelSpecs: flags.parallelSpecs,
    pathPrefix: flags.pathPrefix,
    registryRateLimit: flags.registryRateLimit,
  };
  const pick = (key: keyof ConsoleConfig): { value: unknown; from: string } | undefined => {
    if (fromFlags[key] !== undefined)
      return { value: fromFlags[key], from: `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` };
    const fromEnv = env[KEYS[key]];
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, from: KEYS[key] };
    if (file[key] !== undefined) return { value: file[key], from: `${configFile}: ${key}` };
    return undefined;
  };
  const text = (key: keyof ConsoleConfig) => {
    const v = pick(key);
    return v === undefined ? undefined : String(v.value);
  };
  const port = pick("port");
  const http = pick("http");
  const parallel = pick("parallelSpecs");
  const rateLimit = pick("registryRateLimit");
  const prefix = text("pathPrefix") ?? "";
  if (prefix !== "" && !/^\/?[A-Za-z0-9._~\-/]+$/.test(prefix))
    throw new ConfigError(`path prefix ${prefix} has characters a URL path cannot hold`);
  const config: ConsoleConfig = {
    port: port ? integer(port.from, port.value, 0, 65_535) : 8083,
    host: text("host") ?? "0.0.0.0",
    dataDir: path.resolve(text("dataDir") ?? defaultDataDir(env)),
    http: http ? boolean(http.from, http.value) : false,
    tlsCert: text("tlsCert"),
    tlsKey: text("tlsKey"),
    vulndbMirror: text("vulndbMirror"),
    sources: list(pick("sources")?.value ?? []),
    parallelSpecs: parallel ? integer(parallel.from, parallel.value, 1, 64) : 1,
    pathPrefix: prefix,
    registryRateLimit: rateLimit ? parseRateLimit(rateLimit.from, rateLimit.value) : undefined,
  };
  if (config.http && (config.tlsCert || config.tlsKey))
    throw new ConfigError("--http and --tls-cert/--tls-key exclude each other");
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey))
    throw new ConfigError("--tls-cert and --tls-key go together");
  return config;
}
