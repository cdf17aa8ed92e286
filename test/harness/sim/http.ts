/** Small node:http pieces the product simulations share. */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

export function basicCredentials(req: IncomingMessage): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export const basicHeader = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

/** Forwards a request as is (method, path, headers, body) to `upstream` and streams the answer back. */
export function proxy(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: string,
  pathAndQuery: string,
  headers: Record<string, string | string[] | undefined> = req.headers,
): void {
  const target = new URL(pathAndQuery, upstream);
  const forwarded = request(
    target,
    { method: req.method, headers: { ...headers, host: target.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forwarded.on("error", (err) => {
    if (!res.headersSent) sendJson(res, 502, { errors: [{ code: "BAD_GATEWAY", message: String(err) }] });
    else res.destroy(err);
  });
  req.pipe(forwarded);
}

/** Offset pagination of a list: the page's items and the page count (at least 1). */
export function pageOf<T>(items: readonly T[], page: number, perPage: number): { items: T[]; pages: number } {
  const pages = Math.max(1, Math.ceil(items.length / perPage));
  return { items: items.slice((page - 1) * perPage, page * perPage), pages };
}

/** A positive integer query parameter, or `fallback` when absent or not one. */
export function intParam(params: URLSearchParams, name: string, fallback: number): number {
  const value = Number(params.get(name));
  return Number.isInteger(value) && value >= 1 ? value : fallback;
}

export interface Listening {
  server: Server;
  url: string;
  host: string;
  stop(): Promise<void>;
}

/** Listens on a free 127.0.0.1 port, over HTTPS with `tls`; errors in `handle` become a 500. */
export async function listen(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void,
  tls?: { cert: string; key: string },
): Promise<Listening> {
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    Promise.resolve(handle(req, res)).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: String(err) });
      else res.destroy();
    });
  };
  const server: Server = tls ? createHttpsServer(tls, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
