/**
 * Typed registry errors. Every error names where it happened (registry, repository, reference)
 * so a scan report can say exactly which image failed and why.
 */
export interface RegistryErrorContext {
  registry: string;
  repository?: string | undefined;
  reference?: string | undefined;
}

export type RegistryErrorCode =
  | "auth"
  | "permission"
  | "not_found"
  | "rate_limited"
  | "digest_mismatch"
  | "protocol"
  | "network"
  | "unsupported";

function where(ctx: RegistryErrorContext): string {
  let s = ctx.registry;
  if (ctx.repository) s += `/${ctx.repository}`;
  if (ctx.reference) s += ctx.reference.includes(":") ? `@${ctx.reference}` : `:${ctx.reference}`;
  return s;
}

export class RegistryError extends Error {
  readonly registry: string;
  readonly repository: string | undefined;
  readonly reference: string | undefined;
  readonly status: number | undefined;

  constructor(
    readonly code: RegistryErrorCode,
    ctx: RegistryErrorContext,
    detail: string,
    opts: { status?: number | undefined; cause?: unknown } = {},
  ) {
    super(`${where(ctx)}: ${detail}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.registry = ctx.registry;
    this.repository = ctx.repository;
    this.reference = ctx.reference;
    this.status = opts.status;
  }
}

/** Credentials missing or rejected (by the registry or its token server). */
export class AuthError extends RegistryError {
  constructor(ctx: RegistryErrorContext, detail: string, opts: { status?: number; cause?: unknown } = {}) {
    super("auth", ctx, detail, opts);
  }
}

/** Authenticated, but not allowed to do this (403, or 401 after a token with the right scope). */
export class PermissionError extends RegistryError {
  constructor(ctx: RegistryErrorContext, detail: string, opts: { status?: number; cause?: unknown } = {}) {
    super("permission", ctx, detail, opts);
  }
}

export class NotFoundError extends RegistryError {
  constructor(ctx: RegistryErrorContext, detail: string, opts: { status?: number; cause?: unknown } = {}) {
    super("not_found", ctx, detail, opts);
  }
}

export class RateLimitedError extends RegistryError {
  constructor(
    ctx: RegistryErrorContext,
    detail: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super("rate_limited", ctx, detail, { status: 429 });
  }
}

export class DigestMismatchError extends RegistryError {
  constructor(
    ctx: RegistryErrorContext,
    readonly expected: string,
    readonly actual: string,
    detail = `content digest mismatch: expected ${expected}, got ${actual}`,
  ) {
    super("digest_mismatch", ctx, detail);
  }
}

/** The server said something that is not the distribution protocol (bad JSON, wrong shape, odd status). */
export class ProtocolError extends RegistryError {
  constructor(ctx: RegistryErrorContext, detail: string, opts: { status?: number; cause?: unknown } = {}) {
    super("protocol", ctx, detail, opts);
  }
}

/** Connection refused, reset, timed out, TLS failure: after retries were spent. */
export class NetworkError extends RegistryError {
  constructor(ctx: RegistryErrorContext, detail: string, opts: { cause?: unknown } = {}) {
    super("network", ctx, detail, opts);
  }
}

/** The registry does not offer this operation (e.g. /v2/_catalog on many hosted registries). */
export class UnsupportedError extends RegistryError {
  constructor(ctx: RegistryErrorContext, detail: string, opts: { status?: number; cause?: unknown } = {}) {
    super("unsupported", ctx, detail, opts);
  }
}

/** Parses a distribution error body ({"errors":[{code,message}]}) into one line, tolerating text and HTML. */
export function describeErrorBody(body: string): string {
  const text = body.trim();
  if (!text) return "";
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
    }
  } catch {
    // not JSON: fall through to a shortened text form
  }
  const oneLine = text
    // Proxy and CDN error pages: drop comments, CSS and scripts before the tags, or they fill the line.
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}

/** The distribution error codes in a body, for decisions (e.g. PAGINATION_NUMBER_INVALID). */
export function errorCodes(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: unknown }[] };
    return (parsed.errors ?? []).map((e) => String(e.code ?? ""));
  } catch {
    return [];
  }
}
