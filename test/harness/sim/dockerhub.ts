/**
 * A Docker Hub simulation on 127.0.0.1: three servers, as Docker Hub has three hosts.
 *
 * - The Docker Hub API (hub.docker.com), written from https://docs.docker.com/reference/api/hub/latest/
 *   and its OpenAPI file (docker/docs content/reference/api/hub/latest.yaml):
 *   `POST /v2/auth/token` (`{identifier, secret}` → `{access_token}`, a JWT that expires in 10 minutes;
 *   401 with the `error` schema `{message, errinfo}`), `GET /v2/namespaces/{namespace}/repositories`
 *   (anonymous callers see public repositories only; `{count, next, previous, results:[{name,
 *   namespace, is_private, last_updated, …}]}`), `GET /v2/namespaces/{namespace}/repositories/
 *   {repository}/tags` (`paginated_tags`: `name`, `digest`, `last_updated`, `tag_last_pushed`,
 *   `images[]` with `architecture`, `os`, `digest`, `last_pushed`), `page`/`page_size` (default 10,
 *   at most 100) with absolute `next` URLs, and the API rate limit headers (`X-RateLimit-Limit`,
 *   `-Remaining`, `-Reset`; 429 with `X-Retry-After`, a unix time, body `{"detail":"Rate limit
 *   exceeded"}`). A repository the caller may not see answers 404 `object not found` with `errinfo`,
 *   as docker/hub-feedback#1919 shows the Hub doing.
 * - The token service (auth.docker.io) on its own port: the harness token server with service
 *   `registry.docker.io`, Basic credentials = Docker ID and secret, pull granted on public
 *   repositories and on the private repositories of an account's namespaces.
 * - The registry (registry-1.docker.io): the real docker-registry (token auth) behind a front that
 *   counts manifest GETs as pulls and sends the pull-limit headers of https://docs.docker.com/docker-hub/usage/pulls/
 *   (`ratelimit-limit: N;w=S`, `ratelimit-remaining: N;w=S`, `docker-ratelimit-source`) on manifest
 *   answers; HEAD is not a pull; a GET past the limit is 429 `TOOMANYREQUESTS`.
 *
 * Left out: the deprecated `/v2/users/login` and `/v2/users/2fa-login`, the legacy
 * `/v2/repositories/{namespace}/` paths, organisation access tokens and their scopes, `ordering` and
 * `name` filters, per-IP versus per-account pull budgets (one budget for the whole simulation), the
 * abuse limits, and blob redirects to a CDN. The exact texts of the 401 answers are not documented;
 * the ones here are made up in the documented shape.
 */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { type RunningTokenServer, startTokenServer } from "../token-server.js";
import { intParam, type Listening, listen, pageOf, proxy, sendJson } from "./http.js";
import { readBlobJson, storedTags } from "./storage.js";

export interface DockerHubAccount {
  /** The password or personal access token the account signs in with. */
  secret: string;
  /** Namespaces whose private repositories the account may list and pull. */
  namespaces: string[];
}

export interface DockerHubSimOptions {
  /** Storage root to serve (e.g. a storage view); every repository is `namespace/name`. */
  storageDir: string;
  /** Docker ID → account. */
  accounts: Record<string, DockerHubAccount>;
  /** Repositories only their namespace's accounts see; the rest are public. */
  privateRepositories?: string[];
  /** Docker Hub caps `page_size` at 100; a smaller cap makes short lists span pages. */
  maxPageSize?: number;
  /** `repository:tag` of tags pushed before Hub recorded digests and push times (null in the listing). */
  legacyTags?: string[];
  /** Pulls (manifest GETs) per window; default 100 per 21600 s (six hours). */
  pullLimit?: { limit: number; windowSeconds: number };
}

export interface DockerHubSimTag {
  repository: string;
  tag: string;
  digest: string;
  /** `tag_last_pushed`, or null for a legacy tag. */
  pushedAt: Date | null;
  /** `last_updated`: later than the push, in another order, so a client using it caps wrongly. */
  updatedAt: Date;
  /** Whether the listing carries the digest (false for a legacy tag). */
  listedDigest: boolean;
}

export interface DockerHubRequest {
  method: string;
  path: string;
  query: string;
  status: number;
}

export type DockerHubFault = number | "malformed";

export interface DockerHubSim {
  /** The API, `http://127.0.0.1:PORT/` (SHIPSHAPE_DOCKERHUB_API_URL). */
  apiUrl: string;
  /** The registry, `http://127.0.0.1:PORT/` (SHIPSHAPE_DOCKERHUB_REGISTRY_URL). */
  registryUrl: string;
  /** The token service's realm. */
  tokenRealm: string;
  tags: DockerHubSimTag[];
  apiRequests: DockerHubRequest[];
  registryRequests: DockerHubRequest[];
  /** Manifest GETs counted against the pull limit so far. */
  readonly pulls: number;
  /** API access tokens issued so far. */
  readonly accessTokensIssued: number;
  /** Lifetime of the API access tokens issued from now on; Docker documents 10 minutes. */
  accessTokenLifetimeSeconds: number;
  /** Answers the next `count` API requests (sign-in included) with the fault, replacing those pending. */
  failNext(fault: DockerHubFault, count: number): void;
  /** Makes every API access token issued so far invalid. */
  revokeAccessTokens(): void;
  stop(): Promise<void>;
}

const SERVICE = "registry.docker.io";
const HUB_PAGE_SIZE_LIMIT = 100;
const DEFAULT_PAGE_SIZE = 10;
const API_RATE_LIMIT = 180;

/** A fixed time in 2024 per key, so push order differs from tag order. */
function spread(key: string, from: number, spanSeconds: number): Date {
  const hash = createHash("sha256").update(key).digest();
  return new Date(from + (hash.readUInt32BE(0) % spanSeconds) * 1000);
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** A JWT in form (unsigned: only this simulation checks it), so clients can read its `exp`. */
function accessJwt(subject: string, expiresAt: number): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({
    sub: subject,
    jti: randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(expiresAt / 1000),
  })}.`;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What the Hub shows of a tag's images: the index's platforms, or the one image's config. */
async function imagesOf(storageDir: string, digest: string, pushedAt: Date | null) {
  const manifest = await readBlobJson(storageDir, digest);
  const lastPushed = iso(pushedAt);
  if (Array.isArray(manifest.manifests)) {
    return (manifest.manifests as { digest: string; size: number; platform?: Record<string, string> }[]).map(
      (child) => ({
        architecture: child.platform?.architecture ?? "unknown",
        os: child.platform?.os ?? "unknown",
        variant: child.platform?.variant ?? null,
        digest: child.digest,
        size: child.size,
        status: "active",
        last_pushed: lastPushed,
        last_pulled: null,
      }),
    );
  }
  const configDigest = (manifest.config as { digest?: string } | undefined)?.digest;
  const config = configDigest ? await readBlobJson(storageDir, configDigest) : {};
  return [
    {
      architecture: config.architecture ?? "unknown",
      os: config.os ?? "unknown",
      variant: config.variant ?? null,
      digest,
      size: 0,
      status: "active",
      last_pushed: lastPushed,
      last_pulled: null,
    },
  ];
}

export async function startDockerHubSim(options: DockerHubSimOptions): Promise<DockerHubSim> {
  const maxPageSize = Math.min(options.maxPageSize ?? HUB_PAGE_SIZE_LIMIT, HUB_PAGE_SIZE_LIMIT);
  const privateRepositories = new Set(options.privateRepositories ?? []);
  const legacy = new Set(options.legacyTags ?? []);
  const pullLimit = options.pullLimit ?? { limit: 100, windowSeconds: 21_600 };
  let tokenLifetime = 600;

  const tags: DockerHubSimTag[] = [];
  const images = new Map<string, unknown[]>();
  for (const { repository, tag, digest } of await storedTags(options.storageDir)) {
    if (repository.split("/").length !== 2)
      throw new Error(`Docker Hub repository ${repository} is not namespace/name`);
    const key = `${repository}:${tag}`;
    const old = legacy.has(key);
    const pushed = spread(`push ${key}`, Date.UTC(2024, 0, 1), 300 * 86_400);
    tags.push({
      repository,
      tag,
      digest,
      pushedAt: old ? null : pushed,
      updatedAt: spread(`update ${key}`, pushed.getTime() + 86_400_000, 60 * 86_400),
      listedDigest: !old,
    });
    images.set(key, await imagesOf(options.storageDir, digest, old ? null : pushed));
  }
  const repositories = [...new Set(tags.map((t) => t.repository))].sort();

  const apiRequests: DockerHubRequest[] = [];
  const registryRequests: DockerHubRequest[] = [];
  const accessTokens = new Map<string, { user: string; expiresAt: number }>();
  const faults: DockerHubFault[] = [];
  let accessTokensIssued = 0;
  let pulls = 0;
  let windowStart = Date.now();

  const mayRead = (user: string | undefined, repository: string) =>
    !privateRepositories.has(repository) ||
    (user !== undefined &&
      (options.accounts[user]?.namespaces.includes(repository.split("/")[0] ?? "") ?? false));

  const tokenServer: RunningTokenServer = await startTokenServer({
    service: SERVICE,
    issuer: "auth.docker.io",
    users: Object.fromEntries(Object.entries(options.accounts).map(([name, a]) => [name, a.secret])),
    grant: (user, scope) => (scope.type === "repository" && mayRead(user, scope.name) ? ["pull"] : []),
  });
  let registry: RunningRegistry | undefined;

  const notFound = (operation: string) => ({
    txnid: `REPOSREQ-${randomUUID()}`,
    message: "object not found",
    errinfo: {
      api_call_docker_id: "",
      api_call_name: operation,
      api_call_start: new Date().toISOString(),
      api_call_txnid: `REPOSREQ-${randomUUID()}`,
    },
  });

  const api: Listening = await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const record: DockerHubRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      status: 0,
    };
    apiRequests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    const resetAt = String(Math.ceil(Date.now() / 1000) + 1);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      sendJson(res, status, body, {
        "x-ratelimit-limit": String(API_RATE_LIMIT),
        "x-ratelimit-remaining": String(API_RATE_LIMIT - 1),
        "x-ratelimit-reset": resetAt,
        ...headers,
      });
    const fault = faults.shift();
    if (fault === 429) {
      return send(
        429,
        { detail: "Rate limit exceeded", error: false },
        { "x-ratelimit-remaining": "0", "x-retry-after": resetAt },
      );
    }
    if (fault === "malformed") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("<html><body>upstream hiccup</body></html>");
      return;
    }
    if (fault !== undefined) return send(fault, { message: `simulated HTTP ${fault}`, errinfo: {} });

    if (url.pathname === "/v2/auth/token") {
      if (req.method !== "POST") return send(405, { message: "method not allowed", errinfo: {} });
      const body = await readJson(req);
      const identifier = typeof body?.identifier === "string" ? body.identifier : "";
      const secret = typeof body?.secret === "string" ? body.secret : "";
      if (identifier === "" || secret === "") {
        return send(400, { message: "identifier and secret are required", errinfo: {} });
      }
      if (options.accounts[identifier]?.secret !== secret) {
        return send(401, { message: "incorrect username or password", errinfo: {} });
      }
      const expiresAt = Date.now() + tokenLifetime * 1000;
      const token = accessJwt(identifier, expiresAt);
      accessTokens.set(token, { user: identifier, expiresAt });
      accessTokensIssued++;
      return send(200, { access_token: token });
    }

    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    let user: string | undefined;
    if (bearer !== undefined) {
      const held = accessTokens.get(bearer);
      if (held === undefined || held.expiresAt <= Date.now()) {
        return send(401, {
          message: "authentication required: the access token is invalid or expired",
          errinfo: {},
        });
      }
      user = held.user;
    }
    if (req.method !== "GET") return send(405, { message: "method not allowed", errinfo: {} });
    const segments = url.pathname.split("/").slice(1).map(decodeURIComponent);
    const page = intParam(url.searchParams, "page", 1);
    const pageSize = Math.min(intParam(url.searchParams, "page_size", DEFAULT_PAGE_SIZE), maxPageSize);
    const respond = <T>(items: readonly T[], render: (item: T) => unknown) => {
      const { items: slice, pages } = pageOf(items, page, pageSize);
      const link = (target: number) => {
        const query = new URLSearchParams(url.searchParams);
        query.set("page", String(target));
        return `${api.url}${url.pathname}?${query}`;
      };
      return send(200, {
        count: items.length,
        next: page < pages ? link(page + 1) : null,
        previous: page > 1 ? link(page - 1) : null,
        results: slice.map(render),
      });
    };

    const [v2, namespacesSegment, namespace = "", repositoriesSegment, name, tagsSegment, ...rest] = segments;
    if (
      v2 !== "v2" ||
      namespacesSegment !== "namespaces" ||
      repositoriesSegment !== "repositories" ||
      rest.length > 0
    ) {
      return send(404, { message: "page not found", errinfo: {} });
    }
    const owned = repositories.filter((r) => r.startsWith(`${namespace}/`));
    const known =
      owned.length > 0 ||
      Object.values(options.accounts).some((a) => a.namespaces.includes(namespace)) ||
      Object.hasOwn(options.accounts, namespace);
    if (name === undefined) {
      if (!known) return send(404, notFound("ListRepositories"));
      const visible = owned.filter((r) => mayRead(user, r));
      return respond(visible, (repository) => {
        const own = tags.filter((t) => t.repository === repository);
        const updated = new Date(Math.max(...own.map((t) => t.updatedAt.getTime())));
        return {
          name: repository.slice(namespace.length + 1),
          namespace,
          repository_type: "image",
          status: 1,
          status_description: "active",
          description: "",
          is_private: privateRepositories.has(repository),
          star_count: 0,
          pull_count: 0,
          last_updated: updated.toISOString(),
          last_modified: updated.toISOString(),
          date_registered: "2023-12-01T00:00:00.000000Z",
          affiliation: "",
          media_types: ["application/vnd.oci.image.index.v1+json"],
          content_types: ["image"],
          categories: [],
          storage_size: 0,
        };
      });
    }
    const repository = `${namespace}/${name}`;
    if (tagsSegment !== "tags" || !owned.includes(repository) || !mayRead(user, repository)) {
      return send(404, notFound("ListRepositoryTags"));
    }
    // The Hub lists tags most recently updated first.
    const own = tags
      .filter((t) => t.repository === repository)
      .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || (a.tag < b.tag ? -1 : 1));
    return respond(own, (t) => ({
      creator: 1234,
      id: Number.parseInt(
        createHash("sha256").update(`${repository}:${t.tag}`).digest("hex").slice(0, 8),
        16,
      ),
      images: images.get(`${repository}:${t.tag}`),
      last_updated: t.updatedAt.toISOString(),
      last_updater: 1234,
      last_updater_username: namespace,
      name: t.tag,
      repository: 5678,
      full_size: 0,
      v2: true,
      tag_status: "active",
      tag_last_pulled: null,
      tag_last_pushed: iso(t.pushedAt),
      media_type: "application/vnd.oci.image.index.v1+json",
      content_type: "image",
      ...(t.listedDigest ? { digest: t.digest } : {}),
    }));
  });

  /** The pull-limit headers registry-1 sends on manifest answers. */
  const budgetHeaders = (remaining: number, source: string) => ({
    "ratelimit-limit": `${pullLimit.limit};w=${pullLimit.windowSeconds}`,
    "ratelimit-remaining": `${Math.max(0, remaining)};w=${pullLimit.windowSeconds}`,
    "docker-ratelimit-source": source,
  });

  const front: Listening = await listen((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const record: DockerHubRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      status: 0,
    };
    registryRequests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    if (!registry)
      return sendJson(res, 503, { errors: [{ code: "UNAVAILABLE", message: "registry starting" }] });
    const manifest = /^\/v2\/.+\/manifests\/[^/]+$/.test(url.pathname);
    const authorization = req.headers.authorization;
    if (manifest && authorization !== undefined) {
      if (Date.now() - windowStart > pullLimit.windowSeconds * 1000) {
        windowStart = Date.now();
        pulls = 0;
      }
      const subject = subjectOf(authorization);
      if (req.method === "GET") {
        if (pulls >= pullLimit.limit) {
          return sendJson(
            res,
            429,
            {
              errors: [
                {
                  code: "TOOMANYREQUESTS",
                  message:
                    "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
                },
              ],
            },
            budgetHeaders(0, subject),
          );
        }
        pulls++;
      }
      for (const [name, value] of Object.entries(budgetHeaders(pullLimit.limit - pulls, subject))) {
        res.setHeader(name, value);
      }
    }
    proxy(req, res, registry.url, `${url.pathname}${url.search}`);
  });

  try {
    registry = await startRegistry({
      storageDir: options.storageDir,
      readOnly: true,
      auth: { kind: "token", ...tokenServer },
    });
  } catch (err) {
    await Promise.all([api.stop(), front.stop(), tokenServer.stop()]);
    throw err;
  }

  return {
    apiUrl: `${api.url}/`,
    registryUrl: `${front.url}/`,
    tokenRealm: tokenServer.realm,
    tags,
    apiRequests,
    registryRequests,
    get pulls() {
      return pulls;
    },
    get accessTokensIssued() {
      return accessTokensIssued;
    },
    get accessTokenLifetimeSeconds() {
      return tokenLifetime;
    },
    set accessTokenLifetimeSeconds(seconds: number) {
      tokenLifetime = seconds;
    },
    failNext(fault, count) {
      faults.splice(0, faults.length, ...Array.from({ length: count }, () => fault));
    },
    revokeAccessTokens() {
      accessTokens.clear();
    },
    async stop() {
      await Promise.all([api.stop(), front.stop(), registry?.stop(), tokenServer.stop()]);
    },
  };
}

/** The registry token's subject (the Docker ID), or the caller's address for an anonymous token. */
function subjectOf(authorization: string): string {
  const payload = /^Bearer [^.]+\.([^.]+)\./i.exec(authorization)?.[1];
  try {
    const sub = payload
      ? (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { sub?: unknown }).sub
      : "";
    return typeof sub === "string" && sub !== "" ? sub : "127.0.0.1";
  } catch {
    return "127.0.0.1";
  }
}
