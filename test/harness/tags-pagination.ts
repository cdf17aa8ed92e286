/**
 * A simulation of tag-list pagination as the OCI distribution spec v1.1 describes it ("Listing Tags":
 * `n`, `last`, lexical order, a `Link: <...>; rel="next"` header while more remain), served in front
 * of a real docker-registry. It exists because distribution 2.8 (Debian's docker-registry) ignores
 * `n` and `last` on /tags/list and never sends Link, so a real paginated answer cannot come from it.
 * Quirk switches reproduce what other registries do: relative links (ACR, Quay), unsorted pages and
 * duplicates across pages, null entries (Nexus), digest-looking tags (Artifactory), links to another
 * origin or back to the same page.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";

export interface TagsPaginationOptions {
  relativeLinks?: boolean;
  /** Reverse each page and repeat the previous page's last tag at its start. */
  unsortedWithDuplicates?: boolean;
  /** Adds null, "" and "sha256:<hex>" entries to every page. */
  junkEntries?: boolean;
  /** Every next link points to this origin instead. */
  foreignOrigin?: string;
  /** The next link of page 2 points back at page 1. */
  loop?: boolean;
}

export interface TagsPaginationServer {
  url: string;
  host: string;
  /** Tag-list requests received, with their query strings. */
  requests: string[];
  stop(): Promise<void>;
}

export async function startTagsPagination(
  upstream: string,
  options: TagsPaginationOptions = {},
): Promise<TagsPaginationServer> {
  const requests: string[] = [];
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://placeholder");
      const headers: Record<string, string> = {};
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      const up = await request(`${upstream}${url.pathname}`, { method: req.method as "GET", headers });
      const match = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
      if (!match || up.statusCode !== 200) {
        res.writeHead(up.statusCode, filterHeaders(up.headers));
        res.end(await up.body.text());
        return;
      }
      requests.push(url.search);
      const all = ((await up.body.json()) as { tags: string[] }).tags.slice().sort();
      const n = Number(url.searchParams.get("n") ?? all.length);
      const last = url.searchParams.get("last");
      const start = last === null ? 0 : all.findIndex((t) => t > last);
      const from = start < 0 ? all.length : start;
      let page: (string | null)[] = all.slice(from, from + n);
      const more = from + n < all.length;
      if (options.unsortedWithDuplicates && from > 0) page = [all[from - 1] as string, ...page.reverse()];
      if (options.junkEntries) page.push(null, "", `sha256:${"ab".repeat(32)}`);
      const out: Record<string, string> = { "content-type": "application/json" };
      if (more) {
        const lastTag = all[from + n - 1] as string;
        const loopBack = options.loop && last !== null;
        const next = `${url.pathname}?n=${n}${loopBack ? "" : `&last=${encodeURIComponent(lastTag)}`}`;
        const target = options.foreignOrigin
          ? `${options.foreignOrigin}${next}`
          : options.relativeLinks
            ? `list${next.slice(url.pathname.length)}`
            : next;
        out.link = `<${target}>; rel="next"`;
      }
      res.writeHead(200, out);
      res.end(JSON.stringify({ name: match[1], tags: page }));
    } catch (err) {
      res.writeHead(502);
      res.end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function filterHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !["connection", "keep-alive", "transfer-encoding"].includes(k)) out[k] = v;
  }
  return out;
}
