/**
 * A Quay simulation on 127.0.0.1, written from Quay's documentation and implementation:
 * - REST API v1 (https://docs.quay.io/api/swagger/ and quay/quay endpoints/api/): `listRepos`
 *   `GET /api/v1/repository` (one of `namespace`, `starred`, `public` required, else 400;
 *   `public=true` adds the public repositories; `last_modified`; paging by an opaque `next_page`
 *   token in the body and the query), `listRepoTags` `GET /api/v1/repository/<ns>/<repo>/tag/`
 *   (`limit` default 50, max 100; `page`; `onlyActiveTags`; ordered by start time newest first, then
 *   name; `{tags:[{name, reversion, start_ts, end_ts, manifest_digest, is_manifest_list, size,
 *   last_modified, expiration}], page, has_additional}`), problem+json errors (endpoints/exception.py:
 *   `detail`, `error_message`, `error_type`, `title`, `type`, `status`). Permission is checked before
 *   the repository is looked up, so an unreadable or missing repository is 401 to anonymous callers
 *   and 403 (`insufficient_scope`) to users; 404 only where the caller may read the namespace.
 * - Authentication: the API takes OAuth 2 access tokens (`Authorization: Bearer`, scope `repo:read`)
 *   only; Basic credentials are not processed there (auth/decorators.py `process_oauth`), so such a
 *   caller is anonymous. The registry's token endpoint `/v2/auth` takes users, robot accounts
 *   (`namespace+robot`, https://docs.quay.io/glossary/robot-accounts.html) and `$oauthtoken` + an
 *   OAuth token; Basic credentials on other /v2/ paths answer `{"error": "Invalid bearer token
 *   format"}` (registries.md 2.9).
 * - `/v2/_catalog` (endpoints/v2/catalog.py): the repositories the token's account may read (public
 *   ones too only with the public-catalog feature), in creation order, `n` capped at 100, next page
 *   by an absolute `Link` with an opaque `next_page`.
 *
 * Left out: organizations/teams as objects (an account reads whole namespaces), write operations,
 * application repositories, quotas, the UI session login, starred repositories, token expiry of OAuth
 * tokens. /v2/ (manifests, blobs, tags/list) is the real docker-registry (token auth, realm this
 * host's /v2/auth), reached through this server; /v2/auth decides the account and has the harness
 * token server sign the JWT. Tags and digests come from the storage, start times from `pushTime`;
 * `history` adds tag versions that ended (deleted, expired, overwritten), which exist in the API's
 * history only.
 */
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { request } from "undici";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { type RunningTokenServer, startTokenServer } from "../token-server.js";
import { basicCredentials, basicHeader, type Listening, listen, proxy, sendJson } from "./http.js";
import { readBlobJson, storedTags } from "./storage.js";

export interface QuayAccount {
  /** Password (users) or token (robot accounts, `namespace+robot`). */
  password: string;
  /** Namespaces whose every repository the account may read (team or robot permissions). */
  namespaces: string[];
}

export interface QuayOAuthToken {
  /** The account the token acts for (its permissions apply). */
  account: string;
  /** OAuth scopes, e.g. ["repo:read"]. */
  scopes: string[];
}

export interface QuayTagVersion {
  repository: string;
  tag: string;
  digest: string;
  /** Unix seconds. */
  startTs: number;
  /** Unix seconds; in the past = no longer active. */
  endTs?: number | undefined;
}

export interface QuaySimOptions {
  /** Storage root to serve; every repository name is `namespace/name`. */
  storageDir: string;
  /** Username (`namespace+robot` for robots) → account. */
  accounts: Record<string, QuayAccount>;
  /** OAuth access token → what it acts as. */
  oauthTokens?: Record<string, QuayOAuthToken>;
  /** Repositories anyone may read. */
  publicRepositories?: string[];
  /** FEATURE_PUBLIC_CATALOG: public repositories in /v2/_catalog. */
  publicCatalog?: boolean;
  /** When each active tag was pushed; default: a fixed spread over 2024 derived from the name. */
  pushTime?: (repository: string, tag: string) => Date;
  /** Ended tag versions (deleted, expired, overwritten): in the API's history only. */
  history?: QuayTagVersion[];
  /** `repository:tag` → unix seconds at which an active tag is set to expire (`end_ts` ahead). */
  expiration?: Record<string, number>;
  /** Test knob: repositories per `listRepos` page and /v2/_catalog page. */
  repositoryPage?: number;
  /** Serve HTTPS with this certificate (Quay terminates TLS; the registry behind stays HTTP). */
  tls?: { cert: string; key: string };
}

export interface QuayRequest {
  method: string;
  path: string;
  /** Path and query. */
  url: string;
  status: number;
}

export interface QuaySim {
  /** `http(s)://127.0.0.1:PORT`: API, /v2/auth and /v2/ on one origin, as Quay serves them. */
  url: string;
  host: string;
  /** Every tag version the API knows (active ones from the storage, plus `history`). */
  tags: QuayTagVersion[];
  requests: QuayRequest[];
  stop(): Promise<void>;
}

const TAG_LIMIT_MAX = 100;
const TAG_LIMIT_DEFAULT = 50;
const CATALOG_MAX = 100;

interface Repository {
  id: number;
  namespace: string;
  name: string;
  public: boolean;
}

/** Who a request comes from: an account, or nobody. */
type Caller = { account: string; scopes?: string[] } | undefined;

/** A fixed time in 2024 per (repository, tag), whole seconds as Quay keeps them. */
export function spreadStartTime(repository: string, tag: string): Date {
  const hash = createHash("sha256").update(`quay:${repository}:${tag}`).digest();
  return new Date(Date.UTC(2024, 0, 1) + (hash.readUInt32BE(0) % (365 * 86_400)) * 1000);
}

/** endpoints/exception.py's problem+json body. */
function apiError(url: string, status: number, errorType: string, detail: string) {
  return {
    detail,
    error_message: detail,
    error_type: errorType,
    title: errorType,
    type: `${url}/api/v1/error/${errorType}`,
    status,
  };
}

/** endpoints/api/__init__.py format_date: RFC 2822. */
function formatDate(seconds: number): string {
  return new Date(seconds * 1000).toUTCString().replace("GMT", "-0000");
}

const token = (value: number) => Buffer.from(JSON.stringify({ start_id: value })).toString("base64url");
const untoken = (text: string | null): number => {
  if (!text) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as { start_id?: unknown };
    return typeof parsed.start_id === "number" ? parsed.start_id : 0;
  } catch {
    return 0;
  }
};

export async function startQuaySim(options: QuaySimOptions): Promise<QuaySim> {
  const stored = await storedTags(options.storageDir);
  const pushTime = options.pushTime ?? spreadStartTime;
  const repositories: Repository[] = [];
  const versions: QuayTagVersion[] = [];
  const manifestLists = new Set<string>();
  for (const { repository, tag, digest } of stored) {
    const slash = repository.indexOf("/");
    if (slash < 0) throw new Error(`Quay repository ${repository} has no namespace`);
    if (!repositories.some((r) => `${r.namespace}/${r.name}` === repository)) {
      repositories.push({
        id: repositories.length + 1,
        namespace: repository.slice(0, slash),
        name: repository.slice(slash + 1),
        public: options.publicRepositories?.includes(repository) ?? false,
      });
    }
    versions.push({
      repository,
      tag,
      digest,
      startTs: Math.floor(pushTime(repository, tag).getTime() / 1000),
      endTs: options.expiration?.[`${repository}:${tag}`],
    });
    const manifest = await readBlobJson(options.storageDir, digest);
    if (Array.isArray(manifest.manifests)) manifestLists.add(digest);
  }
  versions.push(...(options.history ?? []));
  const requests: QuayRequest[] = [];
  const repositoryPage = options.repositoryPage ?? 100;
  /** The harness token server knows every account under an internal secret; Quay's checks come first. */
  const internalSecret = randomBytes(16).toString("hex");
  /** Registry tokens this server issued → the account (undefined: anonymous). */
  const issued = new Map<string, string | undefined>();

  const canRead = (account: string | undefined, repo: Repository): boolean =>
    repo.public ||
    (account !== undefined && (options.accounts[account]?.namespaces.includes(repo.namespace) ?? false));
  const readsNamespace = (account: string | undefined, namespace: string): boolean =>
    account !== undefined && (options.accounts[account]?.namespaces.includes(namespace) ?? false);
  const repoOf = (name: string) => repositories.find((r) => `${r.namespace}/${r.name}` === name);

  let tokens: RunningTokenServer | undefined;
  let registry: RunningRegistry | undefined;
  let server: Listening | undefined;

  /** Quay's /v2/auth: the account behind Basic credentials, null for credentials it rejects. */
  const registryLogin = (req: IncomingMessage): string | undefined | null => {
    const credentials = basicCredentials(req);
    if (credentials === undefined) return undefined;
    if (credentials.username === "$oauthtoken") {
      return options.oauthTokens?.[credentials.password]?.account ?? null;
    }
    const account = options.accounts[credentials.username];
    return account !== undefined && account.password === credentials.password ? credentials.username : null;
  };

  const v2Auth = async (req: IncomingMessage, res: ServerResponse, url: URL, realm: string) => {
    const account = registryLogin(req);
    if (account === null) {
      return sendJson(res, 401, {
        errors: [{ code: "UNAUTHORIZED", detail: {}, message: "Invalid Username or Password" }],
      });
    }
    const answer = await request(`${realm}${url.search}`, {
      headers: account === undefined ? {} : { authorization: basicHeader(account, internalSecret) },
    });
    const body = (await answer.body.json()) as { token?: string };
    if (typeof body.token === "string") issued.set(body.token, account);
    sendJson(res, answer.statusCode, body);
  };

  /** The account of a registry bearer token this server issued; null when it is not one. */
  const bearerAccount = (req: IncomingMessage): string | undefined | null => {
    const authorization = req.headers.authorization;
    if (authorization === undefined) return undefined;
    const match = /^Bearer (.+)$/i.exec(authorization);
    if (!match || !issued.has(match[1] as string)) return null;
    return issued.get(match[1] as string);
  };

  const catalog = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const account = bearerAccount(req);
    if (account === null) {
      return sendJson(res, 401, {
        errors: [{ code: "UNAUTHORIZED", message: "access to the requested resource is not authorized" }],
      });
    }
    const requested = Number(url.searchParams.get("n") ?? CATALOG_MAX);
    const limit = Math.max(
      1,
      Math.min(Number.isInteger(requested) ? requested : CATALOG_MAX, CATALOG_MAX, repositoryPage),
    );
    const startId = untoken(url.searchParams.get("next_page"));
    const visible = repositories.filter(
      (r) =>
        r.id >= startId &&
        (account === undefined
          ? options.publicCatalog === true && r.public
          : readsNamespace(account, r.namespace) || (options.publicCatalog === true && r.public)),
    );
    const page = visible.slice(0, limit + 1);
    const headers: Record<string, string> = {};
    if (page.length > limit) {
      const next = new URLSearchParams({
        n: String(limit),
        next_page: token(Math.max(...page.map((r) => r.id))),
      });
      headers.link = `<${server?.url}/v2/_catalog?${next}>; rel="next"`;
    }
    sendJson(
      res,
      200,
      { repositories: page.slice(0, limit).map((r) => `${r.namespace}/${r.name}`) },
      headers,
    );
  };

  /** The API caller: OAuth bearer tokens only; anything else is anonymous. null = a bearer Quay rejects. */
  const apiCaller = (req: IncomingMessage): Caller | null => {
    const authorization = req.headers.authorization;
    const match = authorization === undefined ? null : /^Bearer (.+)$/i.exec(authorization);
    if (!match) return undefined;
    const oauth = options.oauthTokens?.[match[1] as string];
    return oauth ? { account: oauth.account, scopes: oauth.scopes } : null;
  };

  const api = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const origin = server?.url ?? "";
    const caller = apiCaller(req);
    if (caller === null) {
      return sendJson(
        res,
        401,
        apiError(origin, 401, "invalid_token", "OAuth access token could not be validated"),
      );
    }
    if (req.method !== "GET")
      return sendJson(res, 405, apiError(origin, 405, "invalid_request", "Method Not Allowed"));
    if (caller?.scopes && !caller.scopes.includes("repo:read")) {
      return sendJson(res, 403, apiError(origin, 403, "insufficient_scope", "Unauthorized"));
    }
    const account = caller?.account;
    if (url.pathname === "/api/v1/repository") {
      const namespace = url.searchParams.get("namespace");
      const includePublic = /^(true|1)$/i.test(url.searchParams.get("public") ?? "");
      const starred = /^(true|1)$/i.test(url.searchParams.get("starred") ?? "");
      if (!namespace && !starred && !includePublic) {
        return sendJson(
          res,
          400,
          apiError(
            origin,
            400,
            "invalid_request",
            "namespace, starred or public are required for this API call",
          ),
        );
      }
      if (starred && account === undefined)
        return sendJson(res, 400, apiError(origin, 400, "invalid_request", "Bad Request"));
      const startId = untoken(url.searchParams.get("next_page"));
      const visible = repositories.filter(
        (r) =>
          r.id >= startId &&
          (namespace ? r.namespace === namespace : true) &&
          (readsNamespace(account, r.namespace) || (includePublic && r.public)) &&
          !starred,
      );
      const page = visible.slice(0, repositoryPage + 1);
      const lastModified = /^(true|1)$/i.test(url.searchParams.get("last_modified") ?? "");
      const body: Record<string, unknown> = {
        repositories: page.slice(0, repositoryPage).map((r) => ({
          namespace: r.namespace,
          name: r.name,
          description: null,
          is_public: r.public,
          kind: "image",
          state: "NORMAL",
          is_starred: false,
          ...(lastModified
            ? {
                last_modified: Math.max(
                  ...versions
                    .filter((v) => v.repository === `${r.namespace}/${r.name}`)
                    .map((v) => v.startTs),
                ),
              }
            : {}),
        })),
      };
      if (page.length > repositoryPage) body.next_page = token(Math.max(...page.map((r) => r.id)));
      return sendJson(res, 200, body);
    }
    const tagPath = /^\/api\/v1\/repository\/([^/]+)\/([^/]+)\/tag\/$/.exec(url.pathname);
    if (tagPath) {
      const namespace = decodeURIComponent(tagPath[1] as string);
      const name = `${namespace}/${decodeURIComponent(tagPath[2] as string)}`;
      const repo = repoOf(name);
      // require_repo_read runs before the lookup.
      if (!(repo && canRead(account, repo)) && !readsNamespace(account, namespace)) {
        return account === undefined
          ? sendJson(res, 401, apiError(origin, 401, "invalid_token", "Requires authentication"))
          : sendJson(res, 403, apiError(origin, 403, "insufficient_scope", "Unauthorized"));
      }
      if (!repo) return sendJson(res, 404, apiError(origin, 404, "not_found", "Not Found"));
      const page = Math.max(1, Number.parseInt(url.searchParams.get("page") ?? "1", 10) || 1);
      const requested = Number.parseInt(url.searchParams.get("limit") ?? String(TAG_LIMIT_DEFAULT), 10);
      const limit = Math.min(
        TAG_LIMIT_MAX,
        Math.max(1, Number.isNaN(requested) ? TAG_LIMIT_DEFAULT : requested),
      );
      const onlyActive = /^(true|1)$/i.test(url.searchParams.get("onlyActiveTags") ?? "");
      const now = Date.now() / 1000;
      const history = versions
        .filter((v) => v.repository === name && (!onlyActive || v.endTs === undefined || v.endTs > now))
        .sort((a, b) => b.startTs - a.startTs || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
      const slice = history.slice(limit * (page - 1), limit * page + 1);
      return sendJson(res, 200, {
        tags: slice.slice(0, limit).map((v) => ({
          name: v.tag,
          reversion: false,
          start_ts: v.startTs,
          ...(v.endTs === undefined ? {} : { end_ts: v.endTs }),
          manifest_digest: v.digest,
          is_manifest_list: manifestLists.has(v.digest),
          size: null,
          last_modified: formatDate(v.startTs),
          ...(v.endTs === undefined ? {} : { expiration: formatDate(v.endTs) }),
        })),
        page,
        has_additional: slice.length > limit,
      });
    }
    sendJson(res, 404, apiError(origin, 404, "not_found", "Not Found"));
  };

  server = await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const record: QuayRequest = {
      method: req.method ?? "",
      path: url.pathname,
      url: `${url.pathname}${url.search}`,
      status: 0,
    };
    requests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    if (url.pathname === "/v2/auth" || url.pathname.startsWith("/v2/") || url.pathname === "/v2") {
      if (!registry || !tokens)
        return sendJson(res, 503, { errors: [{ code: "UNAVAILABLE", message: "starting" }] });
    }
    if (url.pathname === "/v2/auth") return v2Auth(req, res, url, tokens?.realm ?? "");
    if (url.pathname.startsWith("/v2/") || url.pathname === "/v2") {
      if (/^basic /i.test(req.headers.authorization ?? "")) {
        return sendJson(res, 401, { error: "Invalid bearer token format" });
      }
      if (url.pathname === "/v2/_catalog") return catalog(req, res, url);
      return proxy(req, res, registry?.url ?? "", `${url.pathname}${url.search}`);
    }
    if (url.pathname.startsWith("/api/v1/")) return api(req, res, url);
    sendJson(res, 404, { error: "Not Found" });
  }, options.tls);

  try {
    tokens = await startTokenServer({
      // Quay's service is its host name.
      service: server.host,
      users: Object.fromEntries(Object.keys(options.accounts).map((name) => [name, internalSecret])),
      grant: (user, scope) => {
        if (scope.type !== "repository") return [];
        const repo = repoOf(scope.name);
        return repo && canRead(user, repo) ? ["pull"] : [];
      },
    });
    registry = await startRegistry({
      storageDir: options.storageDir,
      readOnly: true,
      auth: { kind: "token", ...tokens, realm: `${server.url}/v2/auth` },
    });
  } catch (err) {
    await server.stop();
    await tokens?.stop();
    throw err;
  }
  const signer = tokens;

  const running = server;
  return {
    url: running.url,
    host: running.host,
    tags: versions,
    requests,
    async stop() {
      await running.stop();
      await registry?.stop();
      await signer.stop();
    },
  };
}
