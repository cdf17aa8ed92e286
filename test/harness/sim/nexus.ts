/**
 * A Sonatype Nexus Repository 3 simulation on 127.0.0.1, written from Sonatype's documentation:
 * - Repositories API (`GET /service/rest/v1/repositories`: name, format, type hosted/proxy/group,
 *   url, and for docker the connector settings `docker.httpPort`/`httpsPort`, a group's
 *   `group.memberNames`): https://help.sonatype.com/en/repositories-api.html
 * - Search API (`GET /service/rest/v1/search?format=docker&repository=…[&name=…]`, items with name,
 *   version (= tag) and assets with `checksum.sha256`, `lastModified`, `blobCreated`; pages by an
 *   opaque `continuationToken`, null on the last page): https://help.sonatype.com/en/search-api.html,
 *   https://help.sonatype.com/en/pagination.html
 * - Docker connector ports and path-based routing `/repository/<name>/v2/`, Basic auth on /v2/ with
 *   realm "Sonatype Nexus Repository Manager": https://help.sonatype.com/en/docker-registry.html and
 *   https://help.sonatype.com/en/docker-repository-reverse-proxy-strategies.html
 * - Nexus 3.58 returning `null` entries (`nullItems` mixes them into search pages).
 *
 * The REST API is served on the main port and on every connector port, as Nexus does. /v2/ on a
 * connector (or by path) checks Basic credentials and read access here, then forwards to the real
 * docker-registry (no auth) whose storage names repositories `<nexus repository>/<image>`.
 */

import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { spreadPushTime } from "./harbor.js";
import { basicCredentials, type Listening, listen, proxy, sendJson } from "./http.js";
import { readBlob, storedTags } from "./storage.js";

export interface NexusRepo {
  name: string;
  type: "hosted" | "proxy" | "group";
  /** Give the repository an HTTP connector port (allocated when the simulation starts). */
  connector?: boolean;
  /** For a group: its members in order. */
  members?: string[];
}

export interface NexusAccount {
  password: string;
  /** Repositories the user may browse and read; every one when unset. */
  repositories?: string[];
}

export interface NexusSimOptions {
  /** Storage root whose repositories are named `<hosted or proxy repository>/<image>`. */
  storageDir: string;
  repositories: NexusRepo[];
  accounts: Record<string, NexusAccount>;
  /** Repositories anonymous callers may browse and read. */
  anonymous?: string[];
  /** Search page size (Nexus uses 50). */
  pageSize?: number;
  /** `null` items in search pages (Nexus 3.58). */
  nullItems?: boolean;
  /** The Docker Bearer Token Realm is active: /v2/ challenges for Bearer tokens of this lifetime (s). */
  bearerTokenSeconds?: number;
  pushTime?: (repository: string, tag: string) => Date;
  fault?: (
    req: IncomingMessage,
    path: string,
  ) => { status: number; headers?: Record<string, string> } | undefined;
}

export interface NexusTag {
  /** Hosted or proxy repository holding it. */
  repository: string;
  image: string;
  tag: string;
  digest: string;
  pushedAt: Date;
}

export interface NexusRequest {
  port: number;
  method: string;
  path: string;
  search: string;
  user: string | undefined;
  status: number;
}

export interface NexusSim {
  /** The main port: `http://127.0.0.1:PORT`. */
  url: string;
  /** Repository name → its connector URL. */
  connectors: Record<string, string>;
  tags: NexusTag[];
  requests: NexusRequest[];
  /** Bearer tokens issued at /v2/token. */
  tokensIssued(): number;
  stop(): Promise<void>;
}

const REALM = 'Basic realm="Sonatype Nexus Repository Manager"';
const SERVER_HEADER = { server: "Nexus/3.68.1-02 (OSS)" };

export async function startNexusSim(options: NexusSimOptions): Promise<NexusSim> {
  const pushTime = options.pushTime ?? spreadPushTime;
  const pageSize = options.pageSize ?? 50;
  const tags: NexusTag[] = [];
  for (const stored of await storedTags(options.storageDir)) {
    const slash = stored.repository.indexOf("/");
    tags.push({
      repository: stored.repository.slice(0, slash),
      image: stored.repository.slice(slash + 1),
      tag: stored.tag,
      digest: stored.digest,
      pushedAt: pushTime(stored.repository, stored.tag),
    });
  }
  const requests: NexusRequest[] = [];
  const byName = new Map(options.repositories.map((r) => [r.name, r]));
  const ports = new Map<string, number>();
  let registry: RunningRegistry | undefined;

  /** Bearer token → its user and expiry (epoch ms). */
  const bearerTokens = new Map<string, { user: string | undefined; expiresAt: number }>();
  const caller = (req: IncomingMessage): string | undefined | null => {
    const credentials = basicCredentials(req);
    if (credentials === undefined) return undefined;
    return options.accounts[credentials.username]?.password === credentials.password
      ? credentials.username
      : null;
  };
  const mayRead = (user: string | undefined, name: string): boolean => {
    if (user === undefined) return options.anonymous?.includes(name) ?? false;
    const allowed = options.accounts[user]?.repositories;
    return allowed === undefined || allowed.includes(name);
  };
  /** The hosted/proxy repository serving `image` through `name` (a group's first member holding it). */
  const holder = (name: string, image: string): string | undefined => {
    const repo = byName.get(name);
    const candidates = repo?.type === "group" ? (repo.members ?? []) : [name];
    return candidates.find((c) => tags.some((t) => t.repository === c && t.image === image));
  };

  const rest = async (res: ServerResponse, url: URL, user: string | undefined, origin: string) => {
    const path = url.pathname.slice("/service/rest/v1/".length);
    if (path === "repositories") {
      return sendJson(
        res,
        200,
        options.repositories
          .filter((r) => mayRead(user, r.name))
          .map((r) => ({
            name: r.name,
            format: "docker",
            type: r.type,
            url: `${origin}/repository/${r.name}`,
            attributes: {},
            docker: {
              v1Enabled: false,
              forceBasicAuth: true,
              httpPort: ports.get(r.name) ?? null,
              httpsPort: null,
            },
            ...(r.type === "group" ? { group: { memberNames: r.members ?? [] } } : {}),
          })),
        SERVER_HEADER,
      );
    }
    if (path !== "search") return sendJson(res, 404, { message: "Not Found" }, SERVER_HEADER);
    const repository = url.searchParams.get("repository") ?? "";
    const name = url.searchParams.get("name");
    // Search shows only what the caller may browse; an unknown repository matches nothing.
    const found = mayRead(user, repository)
      ? tags.filter((t) => t.repository === repository && (name === null || t.image === name))
      : [];
    const offset = Number.parseInt(url.searchParams.get("continuationToken") ?? "0", 16) || 0;
    const slice = found.slice(offset, offset + pageSize);
    const items = await Promise.all(
      slice.map(async (t) => {
        const bytes = await readBlob(options.storageDir, t.digest);
        const sha256 = createHash("sha256").update(bytes).digest("hex");
        const sha1 = createHash("sha1").update(bytes).digest("hex");
        const time = t.pushedAt.toISOString().replace("Z", "+00:00");
        return {
          id: Buffer.from(`${t.repository}:${t.image}:${t.tag}`).toString("base64url"),
          repository: t.repository,
          format: "docker",
          group: null,
          name: t.image,
          version: t.tag,
          assets: [
            {
              downloadUrl: `${origin}/repository/${t.repository}/v2/${t.image}/manifests/${t.tag}`,
              path: `v2/${t.image}/manifests/${t.tag}`,
              id: Buffer.from(`${t.repository}:${t.image}:${t.tag}:m`).toString("base64url"),
              repository: t.repository,
              format: "docker",
              checksum: { sha1, sha256 },
              contentType: "application/vnd.docker.distribution.manifest.v2+json",
              lastModified: time,
              lastDownloaded: null,
              uploader: "deployer",
              uploaderIp: "127.0.0.1",
              fileSize: bytes.length,
              blobCreated: time,
            },
          ],
        };
      }),
    );
    const next = offset + pageSize < found.length ? (offset + pageSize).toString(16) : null;
    sendJson(
      res,
      200,
      {
        items: options.nullItems && items.length > 0 ? [null, ...items, null] : items,
        continuationToken: next,
      },
      SERVER_HEADER,
    );
  };

  /** /v2/ of repository `name`: Basic auth and read access checked here, content from the registry. */
  const v2 = (
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    rest: string,
    user: string | undefined | null,
    /** "" on a connector, `/repository/<name>` by path. */
    routedPrefix: string,
  ) => {
    const tokenUrl = `http://${req.headers.host}${routedPrefix}/v2/token`;
    const challenge =
      options.bearerTokenSeconds === undefined ? REALM : `Bearer realm="${tokenUrl}",service="${tokenUrl}"`;
    const unauthorized = () =>
      sendJson(
        res,
        401,
        {
          errors: [
            {
              code: "UNAUTHORIZED",
              message: "access to the requested resource is not authorized",
              detail: null,
            },
          ],
        },
        { "www-authenticate": challenge, ...SERVER_HEADER },
      );
    if (rest === "/token" && options.bearerTokenSeconds !== undefined) {
      if (user === null) return unauthorized();
      const token = randomBytes(16).toString("hex");
      bearerTokens.set(token, { user, expiresAt: Date.now() + options.bearerTokenSeconds * 1000 });
      return sendJson(
        res,
        200,
        { token, access_token: token, expires_in: options.bearerTokenSeconds },
        SERVER_HEADER,
      );
    }
    const bearer = /^bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (bearer !== undefined) {
      const issued = bearerTokens.get(bearer);
      if (issued === undefined || issued.expiresAt <= Date.now()) return unauthorized();
      user = issued.user;
    } else if (options.bearerTokenSeconds !== undefined && user === undefined) {
      return unauthorized();
    }
    if (user === null || (user === undefined && !mayRead(undefined, name))) return unauthorized();
    if (!mayRead(user, name)) {
      return sendJson(
        res,
        403,
        { errors: [{ code: "DENIED", message: "requested access to the resource is denied" }] },
        SERVER_HEADER,
      );
    }
    if (!registry) return sendJson(res, 503, { message: "starting" });
    if (rest === "" || rest === "/") return proxy(req, res, registry.url, "/v2/");
    const image = /^\/(.+?)\/(manifests|blobs|tags)\//.exec(rest)?.[1] ?? "";
    const member = holder(name, image);
    if (!member) {
      return sendJson(
        res,
        404,
        { errors: [{ code: "NAME_UNKNOWN", message: `repository name not known to registry: ${image}` }] },
        SERVER_HEADER,
      );
    }
    const search = new URL(req.url ?? "/", "http://x").search;
    const { authorization: _checkedHere, ...headers } = req.headers;
    return proxy(req, res, registry.url, `/v2/${member}${rest}${search}`, headers);
  };

  const handler =
    (connectorOf: string | undefined, port: () => number) =>
    async (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const user = caller(req);
      const record: NexusRequest = {
        port: port(),
        method: req.method ?? "",
        path: url.pathname,
        search: url.search,
        user: user ?? undefined,
        status: 0,
      };
      requests.push(record);
      res.on("finish", () => {
        record.status = res.statusCode;
      });
      const injected = options.fault?.(req, url.pathname);
      if (injected)
        return sendJson(
          res,
          injected.status,
          { message: "injected" },
          { ...SERVER_HEADER, ...injected.headers },
        );
      const origin = `http://${req.headers.host}`;
      if (connectorOf !== undefined && (url.pathname === "/v2" || url.pathname.startsWith("/v2/"))) {
        return v2(req, res, connectorOf, url.pathname.slice(3), user, "");
      }
      const routed = /^\/repository\/([^/]+)\/v2(\/.*)?$/.exec(url.pathname);
      if (routed && connectorOf === undefined && byName.has(routed[1] ?? "")) {
        return v2(req, res, routed[1] ?? "", routed[2] ?? "", user, `/repository/${routed[1]}`);
      }
      if (url.pathname.startsWith("/service/rest/v1/")) {
        if (user === null)
          return sendJson(
            res,
            401,
            { message: "Unauthorized" },
            { "www-authenticate": 'BASIC realm="Sonatype Nexus Repository Manager"', ...SERVER_HEADER },
          );
        return rest(res, url, user, origin);
      }
      sendJson(res, 404, { message: "Not Found" }, SERVER_HEADER);
    };

  const listeners: Listening[] = [];
  let mainPort = 0;
  const main = await listen(handler(undefined, () => mainPort));
  mainPort = Number(new URL(main.url).port);
  listeners.push(main);
  const connectors: Record<string, string> = {};
  for (const repo of options.repositories.filter((r) => r.connector)) {
    let connectorPort = 0;
    const connector = await listen(handler(repo.name, () => connectorPort));
    connectorPort = Number(new URL(connector.url).port);
    ports.set(repo.name, connectorPort);
    connectors[repo.name] = connector.url;
    listeners.push(connector);
  }
  try {
    registry = await startRegistry({ storageDir: options.storageDir, readOnly: true });
  } catch (err) {
    await Promise.all(listeners.map((l) => l.stop()));
    throw err;
  }
  return {
    url: main.url,
    connectors,
    tags,
    requests,
    tokensIssued: () => bearerTokens.size,
    async stop() {
      await Promise.all(listeners.map((l) => l.stop()));
      await registry?.stop();
    },
  };
}
