/**
 * The HTTP layer under every registry request (undici): per-registry connection pool and concurrency
 * limit, connect and idle timeouts, retries with backoff on network errors and retryable statuses,
 * redirects followed by hand so credentials never leave the registry's origin, proxy from the
 * environment (HTTP_PROXY/HTTPS_PROXY/NO_PROXY).
 */
import { rootCertificates } from "node:tls";
import { Agent, type Dispatcher, EnvHttpProxyAgent, request } from "undici";
import {
  backoffDelay,
  HostPause,
  parseRateLimitBudget,
  parseRetryAfter,
  type RetryPolicy,
  Semaphore,
  sleep,
} from "./backoff.js";
import { NetworkError, ProtocolError, type RegistryErrorContext } from "./errors.js";

export interface TransportOptions {
  insecure: boolean;
  /**
   * PEM CA certificate(s) trusted besides the system's, for a registry whose certificate a private
   * CA signed (RegistrySpecification.caCert). The system roots stay trusted: token servers and
   * redirect targets (object storage) are often public.
   */
  ca?: string | undefined;
  /** Requests in flight to this registry at once (a streaming body holds its slot). */
  concurrency: number;
  connectTimeoutMs: number;
  /** Longest silence, waiting for headers or between body chunks, before the attempt fails. */
  idleTimeoutMs: number;
  retry: RetryPolicy;
  userAgent: string;
  maxRedirects: number;
}

export interface HttpRequest {
  method: "GET" | "HEAD" | "POST";
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  /** Sent to the request's own origin only, never to a redirect target elsewhere. */
  authorization?: string | undefined;
  signal?: AbortSignal | undefined;
  ctx: RegistryErrorContext;
}

export type Headers = Record<string, string | string[] | undefined>;

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Final URL, after redirects. */
  url: URL;
  body: Dispatcher.ResponseData["body"];
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
/** Transient failures worth another try; refused connections and DNS or TLS failures are not. */
const RETRYABLE_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
]);

export function header(headers: Headers, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export class Transport {
  private readonly dispatcher: Dispatcher;
  private readonly slots: Semaphore;
  private readonly pauses = new Map<string, HostPause>();

  constructor(private readonly options: TransportOptions) {
    const agentOptions = {
      connect: {
        timeout: options.connectTimeoutMs,
        rejectUnauthorized: !options.insecure,
        ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
      },
      headersTimeout: options.idleTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      connections: options.concurrency * 2,
    };
    const proxied = ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"].some((v) => process.env[v]);
    this.dispatcher = proxied ? new EnvHttpProxyAgent(agentOptions) : new Agent(agentOptions);
    this.slots = new Semaphore(options.concurrency);
  }

  get retryPolicy(): RetryPolicy {
    return this.options.retry;
  }

  /** One request with retries on network errors and retryable statuses; the last answer is returned as is. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const { retry } = this.options;
    for (let attempt = 1; ; attempt++) {
      await this.pauseFor(req.url.host).wait(req.signal);
      let res: HttpResponse;
      try {
        res = await this.followRedirects(req);
      } catch (err) {
        if (req.signal?.aborted || err instanceof ProtocolError) throw err;
        if (attempt < retry.maxAttempts && isRetryableNetworkError(err)) {
          await sleep(backoffDelay(attempt, retry), req.signal);
          continue;
        }
        throw new NetworkError(req.ctx, `${req.method} ${redactUrl(req.url)}: ${describeNetworkError(err)}`, {
          cause: err,
        });
      }
      this.holdForExhaustedBudget(res, retry.maxDelayMs);
      if (!RETRYABLE_STATUS.has(res.status)) return res;
      const retryAfter = parseRetryAfter(header(res.headers, "retry-after"));
      const delay = Math.min(retryAfter ?? backoffDelay(attempt, retry), retry.maxDelayMs);
      // The host's pause holds back every request to it, also when this one has no tries left.
      if (retryAfter !== undefined) this.pauseFor(res.url.host).pause(delay);
      if (attempt >= retry.maxAttempts) return res;
      await res.body.dump().catch(() => undefined);
      await sleep(delay, req.signal);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /**
   * A provider's rate-limit headers saying the budget is spent (Docker Hub's `ratelimit-remaining:
   * 0;w=S`, GitHub's and Docker Hub API's `X-RateLimit-*`, GitLab's `RateLimit-*`) hold back every
   * further request to the host until the reset, so a crawl does not run into 429s and get the
   * account throttled. The hold is bounded by the retry policy's longest delay; a reset further off
   * is left to the registry's own 429, which ends in a RateLimitedError after the retries.
   */
  private holdForExhaustedBudget(res: HttpResponse, maxHoldMs: number): void {
    const budget = parseRateLimitBudget((name) => header(res.headers, name));
    if (budget?.remaining !== 0 || budget.resetAt === undefined) return;
    const wait = budget.resetAt - Date.now();
    if (wait > 0) this.pauseFor(res.url.host).pause(Math.min(wait, maxHoldMs));
  }

  private pauseFor(host: string): HostPause {
    let pause = this.pauses.get(host);
    if (!pause) {
      pause = new HostPause();
      this.pauses.set(host, pause);
    }
    return pause;
  }

  private async followRedirects(req: HttpRequest): Promise<HttpResponse> {
    const origin = req.url.origin;
    let url = req.url;
    let method = req.method;
    for (let hop = 0; hop <= this.options.maxRedirects; hop++) {
      const release = await this.slots.acquire();
      let res: Dispatcher.ResponseData;
      try {
        const headers: Record<string, string> = {
          "user-agent": this.options.userAgent,
          // Blobs must arrive byte-exact for digest verification: no transfer compression.
          "accept-encoding": "identity",
          ...req.headers,
        };
        if (req.authorization && url.origin === origin) headers.authorization = req.authorization;
        res = await request(url, {
          method,
          headers,
          body: method === "POST" ? req.body : undefined,
          dispatcher: this.dispatcher,
          signal: req.signal,
        });
      } catch (err) {
        release();
        throw err;
      }
      const location = header(res.headers, "location");
      if (REDIRECT_STATUS.has(res.statusCode) && location) {
        await res.body.dump().catch(() => undefined);
        release();
        const next = new URL(location, url);
        this.checkRedirectTarget(next, req);
        if (res.statusCode === 303) method = "GET";
        url = next;
        continue;
      }
      res.body.once("close", release);
      res.body.once("error", release);
      res.body.once("end", release);
      return { status: res.statusCode, headers: res.headers, url, body: res.body };
    }
    throw new ProtocolError(
      req.ctx,
      `more than ${this.options.maxRedirects} redirects from ${redactUrl(req.url)}`,
    );
  }

  /** Redirects to plain HTTP or to private addresses are refused unless the registry itself is there. */
  private checkRedirectTarget(target: URL, req: HttpRequest): void {
    if (target.protocol !== "https:" && !(this.options.insecure && target.protocol === "http:")) {
      throw new ProtocolError(req.ctx, `refusing redirect to non-HTTPS URL ${redactUrl(target)}`);
    }
    if (target.hostname !== req.url.hostname && isPrivateAddress(target.hostname)) {
      throw new ProtocolError(req.ctx, `refusing redirect to private address ${target.hostname}`);
    }
  }
}

function errorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === "string") return e.code;
  }
  return undefined;
}

export function isRetryableNetworkError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

export function describeNetworkError(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (is the registry address right?)";
    case "ENOTFOUND":
      return "host not found";
    case "UND_ERR_CONNECT_TIMEOUT":
      return "timed out connecting";
    case "UND_ERR_HEADERS_TIMEOUT":
      return "timed out waiting for a response";
    case "UND_ERR_BODY_TIMEOUT":
      return "the response stalled";
    case "ERR_SSL_WRONG_VERSION_NUMBER":
    case "EPROTO":
      return "TLS handshake failed (plain-HTTP registry? use --insecure)";
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "CERT_SIGNATURE_FAILURE":
    case "CERT_HAS_EXPIRED":
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `TLS certificate not trusted (${code}); give the CA that signed it (the registry specification's caCert) or use --insecure to skip verification`;
    default:
      return code ? `${message} (${code})` : message;
  }
}

/** Query parameters that carry signatures or tokens are secrets too (pre-signed blob URLs). */
export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  for (const key of [...copy.searchParams.keys()]) {
    if (/sig|token|signature|credential|key|password|secret/i.test(key))
      copy.searchParams.set(key, "REDACTED");
  }
  copy.username = "";
  copy.password = "";
  return copy.href;
}

/** IP literals in loopback, private, link-local (cloud metadata) and unique-local ranges. */
export function isPrivateAddress(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost") return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (host.includes(":")) {
    return (
      host === "::1" ||
      host === "::" ||
      /^f[cd]/.test(host) ||
      /^fe[89ab]/.test(host) ||
      host.startsWith("::ffff:")
    );
  }
  return false;
}

/** Reads a whole body as bytes, failing once it grows past `limit` (manifests, tokens, API pages). */
export async function readBounded(
  res: HttpResponse,
  limit: number,
  ctx: RegistryErrorContext,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      res.body.destroy();
      throw new ProtocolError(ctx, `response from ${redactUrl(res.url)} exceeds ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
