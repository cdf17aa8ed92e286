// Fault-injecting HTTP/1.1 reverse proxy for resilience tests. Sits between the registry client and
// a real (loopback) upstream; forwards faithfully unless a rule matches, then injects one fault.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export type Fault =
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  | { kind: "reset" }
  // Sends an RST after the bytes; note a Node client that has not yet read them sees EOF, not ECONNRESET.
  | { kind: "reset-after"; bytes: number }
  | { kind: "truncate"; bytes: number }
  | { kind: "stall"; ms?: number; afterBytes?: number }
  | { kind: "corrupt"; offset: number }
  | { kind: "delay"; ms: number };

export interface FaultRule {
  /** All given fields must match. `path` is tested against path+query; a missing header never matches. */
  match: { method?: string; path?: RegExp | string; header?: [name: string, value: RegExp] };
  /** Apply to the first N matching requests (after `skip`), then pass through. Default: always. */
  times?: number;
  /** Let the first K matching requests through before applying. */
  skip?: number;
  fault: Fault;
}

export interface Hit {
  method: string;
  /** Path + query as the client sent it. */
  path: string;
  /** Fault kind applied, or null when passed through. */
  faulted: string | null;
  rangeHeader?: string;
  /** Status sent to the client; unset when the socket was reset/stalled before headers. */
  status?: number;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface FaultProxy {
  url: string;
  /** "127.0.0.1:PORT", for image references. */
  host: string;
  /** Mutable: replace or push at any time; evaluated per request, first applicable rule wins. */
  rules: FaultRule[];
  hits: Hit[];
  stop(): Promise<void>;
  /** Clears rules, hits and rule counters. */
  reset(): void;
}

// Per RFC 9110 §7.6.1 these describe one connection, not the message, so they are not forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export async function startFaultProxy(
  upstream: string,
  opts: { rules?: FaultRule[] } = {},
): Promise<FaultProxy> {
  const up = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const stopping = new AbortController();
  // Counters live outside the rule objects so tests can declare rules as plain literals.
  let seen = new WeakMap<FaultRule, number>();

  const pick = (req: IncomingMessage): FaultRule | undefined => {
    for (const rule of proxy.rules) {
      if (!matches(rule, req)) continue;
      const n = seen.get(rule) ?? 0;
      seen.set(rule, n + 1);
      const skip = rule.skip ?? 0;
      // A rule only counts requests that reach it, so `times: 1` rules stacked on one path act in sequence.
      if (n >= skip && (rule.times === undefined || n < skip + rule.times)) return rule;
    }
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const rule = pick(req);
    const hit: Hit = {
      method: req.method ?? "",
      path: req.url ?? "",
      faulted: rule?.fault.kind ?? null,
      at: Date.now(),
    };
    if (req.headers.range !== undefined) hit.rangeHeader = req.headers.range;
    proxy.hits.push(hit);
    // One signal for "stop waiting": the client went away or the proxy is stopping.
    const gone = AbortSignal.any([stopping.signal, closedSignal(res)]);
    handle(req, res, rule?.fault, hit, gone).catch(() => req.socket.destroy());
  });

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    fault: Fault | undefined,
    hit: Hit,
    gone: AbortSignal,
  ): Promise<void> => {
    switch (fault?.kind) {
      case "status":
        hit.status = fault.status;
        res.writeHead(fault.status, fault.headers);
        res.end(fault.body);
        return;
      case "reset":
        // RST rather than FIN so the client sees ECONNRESET, not a clean close.
        req.socket.resetAndDestroy();
        return;
      case "delay":
      case "stall":
        if (fault.kind === "delay" || fault.afterBytes === undefined) {
          if (!(await wait(fault.ms, gone))) return;
        }
        break;
    }

    const upReq = http.request({
      host: up.hostname,
      port: up.port,
      method: req.method,
      path: req.url,
      agent,
      headers: forwardHeaders(req.rawHeaders, (name, value) => (name === "host" ? up.host : value)),
    });
    gone.addEventListener("abort", () => upReq.destroy(), { once: true });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      upReq.on("response", resolve).on("error", reject);
    });
    req.pipe(upReq);

    let upRes: IncomingMessage;
    try {
      upRes = await response;
    } catch {
      // Upstream unreachable: a gateway error, like any reverse proxy (never a silent hang).
      if (gone.aborted) return;
      hit.status = 502;
      res.writeHead(502).end();
      return;
    }
    hit.status = upRes.statusCode ?? 502;
    const headers = forwardHeaders(upRes.rawHeaders, (name, value) =>
      name === "location" ? rewriteLocation(value, up.origin, proxy.url) : value,
    );
    res.writeHead(hit.status, upRes.statusMessage, headers);
    await pumpBody(upRes, res, fault, gone);
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: FaultProxy = {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    rules: [...(opts.rules ?? [])],
    hits: [],
    reset() {
      proxy.rules.length = 0;
      proxy.hits.length = 0;
      seen = new WeakMap();
    },
    async stop() {
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // close() alone waits for in-flight (e.g. stalled) requests; these cut them off.
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
  return proxy;
}

function matches({ match }: FaultRule, req: IncomingMessage): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== req.method) return false;
  const path = req.url ?? "";
  if (typeof match.path === "string" && !path.includes(match.path)) return false;
  if (match.path instanceof RegExp && !testRe(match.path, path)) return false;
  if (match.header) {
    const value = req.headers[match.header[0].toLowerCase()];
    if (value === undefined) return false;
    if (!testRe(match.header[1], Array.isArray(value) ? value.join(", ") : value)) return false;
  }
  return true;
}

// A /g or /y regex is stateful across test() calls; reset so every request is judged alike.
function testRe(re: RegExp, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}

/** Raw headers minus hop-by-hop ones (incl. those named in Connection), values mapped by `map`. */
function forwardHeaders(raw: string[], map: (lowerName: string, value: string) => string): string[] {
  const drop = new Set(HOP_BY_HOP);
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === "connection") {
      for (const token of (raw[i + 1] ?? "").split(",")) drop.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (!drop.has(lower)) out.push(name, map(lower, raw[i + 1] ?? ""));
  }
  return out;
}

/** Absolute Location on the upstream origin → same path on the proxy; relative or foreign ones unchanged. */
export function rewriteLocation(location: string, upstreamOrigin: string, proxyUrl: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(location);
  if (!m) return location;
  try {
    return new URL(m[0]).origin === upstreamOrigin ? proxyUrl + location.slice(m[0].length) : location;
  } catch {
    return location;
  }
}

/**
 * Streams the upstream body to the client, applying body-level faults. Offsets/byte counts are
 * relative to the body as sent (so for a 206 they count from the start of the partial body).
 */
async function pumpBody(
  upRes: IncomingMessage,
  res: ServerResponse,
  fault: Fault | undefined,
  gone: AbortSignal,
) {
  const corruptAt = fault?.kind === "corrupt" ? fault.offset : -1;
  let limit: number | undefined;
  if (fault?.kind === "reset-after" || fault?.kind === "truncate") limit = fault.bytes;
  if (fault?.kind === "stall" && fault.afterBytes !== undefined) limit = fault.afterBytes;

  // Returns false when the fault ended the response (socket reset/closed or client gone).
  const atLimit = async (head: Buffer): Promise<boolean> => {
    await flushed(res, head, gone); // bytes must reach the socket before we cut it
    const socket = res.socket;
    if (fault?.kind === "reset-after") socket?.resetAndDestroy();
    if (fault?.kind === "truncate") socket?.end(); // FIN without completing the body: premature EOF
    if (fault?.kind !== "stall") return false;
    return wait(fault.ms, gone);
  };

  let sent = 0;
  try {
    if (limit === 0 && !(await atLimit(Buffer.alloc(0)))) return;
    for await (const raw of upRes) {
      let chunk = raw as Buffer;
      if (corruptAt >= sent && corruptAt < sent + chunk.length) {
        chunk = Buffer.from(chunk); // don't mutate a buffer node may still own
        chunk[corruptAt - sent] = (chunk[corruptAt - sent] ?? 0) ^ 0xff;
      }
      if (limit !== undefined && limit > sent && sent + chunk.length >= limit) {
        const cut = limit - sent;
        limit = undefined;
        if (!(await atLimit(chunk.subarray(0, cut)))) return;
        chunk = chunk.subarray(cut);
        sent += cut;
      }
      sent += chunk.length;
      if (!res.write(chunk)) await drained(res, gone);
      if (gone.aborted) return;
    }
    res.end();
  } finally {
    upRes.destroy(); // no-op after a complete body; otherwise frees the upstream socket
  }
}

/** Resolves true after `ms` (forever if undefined), false as soon as `signal` aborts. */
function wait(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms === undefined) {
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(false), { once: true }));
  }
  return sleep(ms, true, { signal }).catch(() => false);
}

function flushed(res: ServerResponse, chunk: Buffer, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    signal.addEventListener("abort", () => resolve(), { once: true });
    res.write(chunk, () => resolve());
  });
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

function closedSignal(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  // 'close' also fires after a normal finish; only an unfinished response means the client left.
  res.on("close", () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac.signal;
}
