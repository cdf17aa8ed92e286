/**
 * JSON over a product's own REST API (Harbor, GitLab, …) for the providers: the registry client's
 * Transport (retries with backoff, `Retry-After`, redirects that drop credentials on another origin,
 * proxies from the environment), bounded bodies, and paging by the `Link` header or by a provider's
 * next-page rule. Credentials go in the `authorization` slot only, which the Transport keeps on the
 * API's origin (other headers would follow a redirect anywhere).
 */
import { defaultRetryPolicy, parseRetryAfter } from "../backoff.js";
import {
  AuthError,
  NotFoundError,
  PermissionError,
  ProtocolError,
  RateLimitedError,
  type RegistryError,
  type RegistryErrorContext,
} from "../errors.js";
import type { ExpiringValue } from "../expiring.js";
import { nextLink } from "../link-header.js";
import { type Headers, header, readBounded, Transport } from "../transport.js";

const MAX_API_BODY_BYTES = 32 * 1024 * 1024;
const MAX_PAGES = 100_000;

export interface ApiResponse {
  status: number;
  headers: Headers;
  url: URL;
  /** The body text (bounded). */
  text: string;
}

/**
 * A product's wording of a refused API call, by status, each after "<what>: ". Each product says in
 * its own words who was refused and what to do about it; the mapping to error classes is the same.
 */
export interface FailureWording {
  401: string;
  403: string;
  404: string;
  /**
   * Without it a 429 is a ProtocolError like any other status. A message alone waits what the
   * Retry-After header says; a product that announces its wait elsewhere gives the wait with it.
   */
  429?: string | { message: string; retryAfterMs: number | undefined };
  /** Any other status. */
  other: string;
}

/**
 * The typed error for a non-2xx API answer to `what`: 401 AuthError, 403 PermissionError, 404
 * NotFoundError, 429 RateLimitedError (where the product words it), else ProtocolError.
 */
export function apiFailure(
  res: Pick<ApiResponse, "status" | "headers">,
  what: string,
  ctx: RegistryErrorContext,
  wording: FailureWording,
): RegistryError {
  const { status } = res;
  switch (status) {
    case 401:
      return new AuthError(ctx, `${what}: ${wording[401]}`, { status });
    case 403:
      return new PermissionError(ctx, `${what}: ${wording[403]}`, { status });
    case 404:
      return new NotFoundError(ctx, `${what}: ${wording[404]}`, { status });
  }
  const rateLimited = wording[429];
  if (status === 429 && rateLimited !== undefined) {
    const { message, retryAfterMs } =
      typeof rateLimited === "string"
        ? { message: rateLimited, retryAfterMs: parseRetryAfter(header(res.headers, "retry-after")) }
        : rateLimited;
    return new RateLimitedError(ctx, `${what}: ${message}`, retryAfterMs);
  }
  return new ProtocolError(ctx, `${what}: ${wording.other}`, { status });
}

/**
 * A push or creation time from an API answer (RFC 3339): undefined when absent, unreadable or before
 * 2000, which is the zero time Go services (Harbor, DTR, Docker Hub) send for "never"; no image was
 * pushed before 2000.
 */
export function apiTime(value: unknown): Date | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) || time.getUTCFullYear() < 2000 ? undefined : time;
}

export class RestApi {
  private readonly transport: Transport;

  constructor(
    /** API root, ending in "/" (e.g. https://harbor.example.com/api/v2.0/). */
    readonly base: URL,
    private readonly ctx: RegistryErrorContext,
    options: {
      insecure: boolean;
      /** PEM CA that signed the API's certificate (the specification's caCert). */
      ca?: string | undefined;
      /** The Authorization header value, or one that expires (OAuth access tokens). */
      authorization?: string | ExpiringValue<string> | undefined;
      /** Headers every request carries besides Accept (e.g. IBM Cloud's Account). */
      headers?: Record<string, string> | undefined;
    },
  ) {
    this.transport = new Transport({
      insecure: options.insecure,
      ca: options.ca,
      concurrency: 8,
      connectTimeoutMs: 10_000,
      idleTimeoutMs: 30_000,
      retry: defaultRetryPolicy,
      userAgent: "shipshape/0.1",
      maxRedirects: 5,
    });
    this.authorization = options.authorization;
    this.headers = { ...options.headers, accept: "application/json" };
  }

  private readonly authorization: string | ExpiringValue<string> | undefined;
  private readonly headers: Record<string, string>;

  /**
   * GET of `path` (relative to the base, already encoded) or of an absolute URL. An expiring
   * authorization that is refused (401) is renewed once and the request sent again.
   */
  async get(target: string | URL, signal?: AbortSignal): Promise<ApiResponse> {
    const auth = this.authorization;
    const first = await this.request("GET", target, {
      authorization: typeof auth === "string" ? auth : await auth?.get(signal),
      signal,
    });
    if (first.status !== 401 || auth === undefined || typeof auth === "string") return first;
    auth.invalidate();
    return this.request("GET", target, { authorization: await auth.get(signal), signal });
  }

  /**
   * One request with exactly the authorization given (none by default) instead of the API's own:
   * token endpoints, and APIs whose token depends on the call (ACR's access token per scope). A
   * body is a form or JSON.
   */
  async request(
    method: "GET" | "POST",
    target: string | URL,
    options: {
      authorization?: string | undefined;
      form?: URLSearchParams | undefined;
      json?: unknown;
      signal?: AbortSignal | undefined;
    } = {},
    maxBytes = MAX_API_BODY_BYTES,
  ): Promise<ApiResponse> {
    const url = typeof target === "string" ? new URL(target, this.base) : target;
    const headers = { ...this.headers };
    let body: string | undefined;
    if (options.form !== undefined) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = options.form.toString();
    } else if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    const res = await this.transport.send({
      method,
      url,
      headers,
      body,
      authorization: options.authorization,
      signal: options.signal,
      ctx: this.ctx,
    });
    const text = (await readBounded(res, maxBytes, this.ctx)).toString("utf8");
    return { status: res.status, headers: res.headers, url: res.url, text };
  }

  /** Parses a 200 answer's JSON array; anything else goes to `failure`. */
  array<T>(res: ApiResponse, what: string): T[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      throw new ProtocolError(this.ctx, `${what}: the answer is not JSON`);
    }
    // Some APIs answer an empty list as null.
    if (parsed === null) return [];
    if (!Array.isArray(parsed)) throw new ProtocolError(this.ctx, `${what}: expected a JSON array`);
    return parsed as T[];
  }

  /**
   * Every item of a paged list: follows `rel="next"` of the Link header, else `nextPage(res)` (a
   * provider's own header, e.g. GitLab's X-Next-Page), until neither names a page. `failure` turns a
   * non-200 answer into the provider's error. With `totalHeader` (Harbor's X-Total-Count, GitLab's
   * X-Total), pages that end short of the largest total announced are an error, not a short list.
   */
  async all<T>(
    first: string,
    what: string,
    failure: (res: ApiResponse) => Error,
    options: {
      signal?: AbortSignal | undefined;
      nextPage?: (res: ApiResponse) => URL | undefined;
      totalHeader?: string;
    } = {},
  ): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let announced = 0;
    let url: URL | undefined = new URL(first, this.base);
    for (let pages = 0; url !== undefined; pages++) {
      if (pages >= MAX_PAGES || seen.has(url.href)) {
        throw new ProtocolError(this.ctx, `${what}: pagination does not end (${url.pathname}${url.search})`);
      }
      seen.add(url.href);
      const res = await this.get(url, options.signal);
      if (res.status !== 200) throw failure(res);
      items.push(...this.array<T>(res, what));
      const total = options.totalHeader ? Number(header(res.headers, options.totalHeader)) : Number.NaN;
      if (Number.isInteger(total) && total > announced) announced = total;
      url = this.nextPage(res, what, options.nextPage);
    }
    if (announced > items.length) {
      throw new ProtocolError(
        this.ctx,
        `${what}: the pages ended after ${items.length} of the ${announced} items announced (${options.totalHeader})`,
      );
    }
    return items;
  }

  /**
   * The Link header's next page when it stays on the API's origin (credentials go with it), else the
   * provider's own next-page rule. A product behind a proxy or with another external URL may name
   * its own origin in Link; a next page only reachable there is an error.
   */
  private nextPage(
    res: ApiResponse,
    what: string,
    fallback: ((res: ApiResponse) => URL | undefined) | undefined,
  ): URL | undefined {
    const link = nextLink(res.headers.link, res.url);
    if (link !== undefined && link.origin === this.base.origin) return link;
    const own = fallback?.(res);
    if (own !== undefined || link === undefined) return own;
    throw new ProtocolError(
      this.ctx,
      `${what}: the next page is on another origin (${link.origin}, not ${this.base.origin}); set the API address the product itself uses`,
    );
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
