/**
 * A Mirantis Secure Registry / Docker Trusted Registry 2.x simulation on 127.0.0.1, written from:
 * - the DTR/MSR 2.x API reference (swagger) for `GET /api/v0/repositories`,
 *   `GET /api/v0/repositories/{namespace}` (`{repositories:[{id, namespace, namespaceType, name,
 *   shortDescription, visibility, scanOnPush, immutableTags, enableManifestLists, pulls, pushes,
 *   tagLimit}]}`) and `GET /api/v0/repositories/{namespace}/{reponame}/tags` (`[{name, digest,
 *   author, manifest:{digest, mediaType, configMediaType, size, createdAt, os, architecture},
 *   hashMismatch, inNotary, createdAt, updatedAt}]`), paged by `pageSize` and `pageStart` with the
 *   next page's start in `X-Next-Page-Start` (as Harbor's DTR adapter, goharbor/harbor
 *   src/pkg/reg/adapter/dtr, reads them);
 * - https://docs.mirantis.com/msr/2.8/ops/manage-access-tokens.html: an access token works wherever
 *   the user's password does (Basic auth on the API, `docker login`);
 * - the distribution token flow (https://distribution.github.io/distribution/spec/auth/token/) with
 *   DTR's token service at `/auth/token` and the DTR host as the service.
 *
 * /v2/ is the real docker-registry (token auth, realm this host's /auth/token), reached through this
 * server; /auth/token checks the password or access token, then has the harness token server sign the
 * JWT for the repositories the user may read. Page starts are cursors: the id (repositories) or name
 * (tags) of the first item of the next page, in the order DTR's database keeps them.
 *
 * Left out: the eNZi accounts API, teams and repository-level grants (a user reads its own namespace,
 * the namespaces listed for it, and public repositories), writes, scanning and Notary data. Error
 * codes (NOT_AUTHENTICATED, NOT_AUTHORIZED, NO_SUCH_ACCOUNT, NO_SUCH_REPOSITORY) are DTR's names
 * for these cases as far as the available material shows; the answer to a private repository the
 * user may not read (403, not 404) is a choice of this simulation. Injected faults (429, 5xx,
 * malformed bodies) are the test's, not DTR's.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { type RunningTokenServer, startTokenServer } from "../token-server.js";
import { spreadPushTime } from "./harbor.js";
import { basicCredentials, basicHeader, intParam, type Listening, listen, proxy, sendJson } from "./http.js";
import { readBlobJson, storedTags } from "./storage.js";

export interface DtrAccount {
  password: string;
  /** Access tokens made in the UI (Profile > Access Tokens); each signs in in place of the password. */
  accessTokens?: string[];
  /** DTR administrator: every repository. */
  admin?: boolean;
  /** Namespaces (organizations) whose private repositories the user may read, besides its own. */
  reads?: string[];
}

export interface DtrSimOptions {
  /** Storage root to serve; every repository name is `namespace/name`. */
  storageDir: string;
  /** Username → account. Every account is also a (user) namespace. */
  accounts: Record<string, DtrAccount>;
  /** Repositories with visibility "public": listed and pullable for everyone, anonymous included. */
  publicRepositories?: string[];
  /** Largest `pageSize` served; smaller makes short lists span pages. */
  maxPageSize?: number;
  /** When each tag was last pushed (`updatedAt`); default: a fixed spread over 2024 from the name. */
  pushTime?: (repository: string, tag: string) => Date;
}

export interface DtrSimTag {
  repository: string;
  tag: string;
  digest: string;
  /** The tag's first push. */
  createdAt: Date;
  /** The tag's last push: what a scanner's cap orders by. */
  updatedAt: Date;
}

export interface DtrRequest {
  method: string;
  path: string;
  query: string;
  user: string | undefined;
  status: number;
}

export interface DtrFault {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface DtrSim {
  /** `http://127.0.0.1:PORT`: API, token service and /v2/ on one origin, as DTR serves them. */
  url: string;
  host: string;
  tags: DtrSimTag[];
  requests: DtrRequest[];
  /** Answers the next `count` API requests with `fault`, replacing faults still pending. */
  failNext(fault: DtrFault, count: number): void;
  stop(): Promise<void>;
}

const DEFAULT_PAGE_SIZE = 10;
const DAY_MS = 86_400_000;

interface Repository {
  id: string;
  namespace: string;
  name: string;
  visibility: "public" | "private";
  /** Sorted by name: the tags table's order. */
  tags: DtrSimTag[];
}

const dtrError = (code: string, message: string, detail: unknown = {}) => ({
  errors: [{ code, message, detail }],
});
const NOT_AUTHENTICATED = dtrError("NOT_AUTHENTICATED", "The client is not authenticated.");
const NOT_AUTHORIZED = dtrError("NOT_AUTHORIZED", "The client is not authorized.");

/** A stable UUID-shaped id per name, so the id order (DTR's page order) differs from the name order. */
function idOf(name: string): string {
  const hex = createHash("sha256").update(name).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** What DTR records of a tag's manifest (its media type, and the image config's platform). */
async function manifestOf(storageDir: string, digest: string): Promise<Record<string, unknown>> {
  const manifest = await readBlobJson(storageDir, digest);
  const mediaType = String(manifest.mediaType ?? "");
  const config = manifest.config as { digest?: string; mediaType?: string; size?: number } | undefined;
  const image = config?.digest ? await readBlobJson(storageDir, config.digest) : {};
  return {
    digest,
    mediaType,
    configMediaType: config?.mediaType ?? "",
    configDigest: config?.digest ?? "",
    size: config?.size ?? 0,
    createdAt: image.created ?? "0001-01-01T00:00:00Z",
    os: image.os ?? "",
    architecture: image.architecture ?? "",
    author: "",
    dockerfile: [],
  };
}

export async function startDtrSim(options: DtrSimOptions): Promise<DtrSim> {
  const pushTime = options.pushTime ?? spreadPushTime;
  const maxPageSize = options.maxPageSize ?? 100;
  const repositories = new Map<string, Repository>();
  const tags: DtrSimTag[] = [];
  const manifests = new Map<string, Record<string, unknown>>();
  for (const { repository, tag, digest } of await storedTags(options.storageDir)) {
    const parts = repository.split("/");
    if (parts.length !== 2) throw new Error(`DTR repository ${repository} is not namespace/name`);
    let repo = repositories.get(repository);
    if (!repo) {
      repo = {
        id: idOf(repository),
        namespace: parts[0] as string,
        name: parts[1] as string,
        visibility: options.publicRepositories?.includes(repository) ? "public" : "private",
        tags: [],
      };
      repositories.set(repository, repo);
    }
    const updatedAt = pushTime(repository, tag);
    // Every other tag was pushed again later: its createdAt is older than its updatedAt.
    const createdAt = new Date(updatedAt.getTime() - (tags.length % 2) * 30 * DAY_MS);
    const record = { repository, tag, digest, createdAt, updatedAt };
    tags.push(record);
    repo.tags.push(record);
    if (!manifests.has(digest)) manifests.set(digest, await manifestOf(options.storageDir, digest));
  }
  const byId = [...repositories.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const namespaces = new Set([...Object.keys(options.accounts), ...byId.map((r) => r.namespace)]);
  const requests: DtrRequest[] = [];
  const faults: DtrFault[] = [];

  const mayRead = (user: string | undefined, repo: Repository): boolean => {
    if (repo.visibility === "public") return true;
    if (user === undefined) return false;
    const account = options.accounts[user];
    return (
      account?.admin === true ||
      repo.namespace === user ||
      (account?.reads?.includes(repo.namespace) ?? false)
    );
  };

  /** The caller: undefined for anonymous, null for credentials DTR rejects. */
  const caller = (req: IncomingMessage): string | undefined | null => {
    const credentials = basicCredentials(req);
    if (credentials === undefined) return undefined;
    const account = options.accounts[credentials.username];
    if (!account) return null;
    const accepted =
      account.password === credentials.password ||
      (account.accessTokens ?? []).includes(credentials.password);
    return accepted ? credentials.username : null;
  };

  /** One page from `items` (in DTR's order), starting at the item whose key is `pageStart`. */
  const page = <T>(
    res: ServerResponse,
    url: URL,
    items: T[],
    keyOf: (item: T) => string,
    body: (slice: T[]) => unknown,
  ) => {
    const pageSize = Math.min(intParam(url.searchParams, "pageSize", DEFAULT_PAGE_SIZE), maxPageSize);
    const start = url.searchParams.get("pageStart");
    const from = start === null || start === "" ? 0 : items.findIndex((item) => keyOf(item) >= start);
    const rest = from < 0 ? [] : items.slice(from);
    const slice = rest.slice(0, pageSize);
    const next = rest[pageSize];
    sendJson(res, 200, body(slice), next === undefined ? {} : { "x-next-page-start": keyOf(next) });
  };

  const renderRepository = (r: Repository) => ({
    id: r.id,
    namespace: r.namespace,
    namespaceType: options.accounts[r.namespace] ? "user" : "organization",
    name: r.name,
    shortDescription: "",
    visibility: r.visibility,
    scanOnPush: false,
    immutableTags: false,
    enableManifestLists: false,
    pulls: 0,
    pushes: r.tags.length,
    tagLimit: 0,
  });

  const api = (req: IncomingMessage, res: ServerResponse, url: URL, user: string | undefined) => {
    if (req.method !== "GET")
      return sendJson(res, 405, dtrError("METHOD_NOT_ALLOWED", "Method not allowed."));
    const segments = url.pathname.split("/").slice(3).map(decodeURIComponent);
    if (
      segments[0] !== "repositories" ||
      segments.length > 4 ||
      (segments.length === 4 && segments[3] !== "tags")
    ) {
      return sendJson(res, 404, dtrError("NOT_FOUND", "Not found."));
    }
    const [, namespace, name] = segments;
    if (namespace === undefined) {
      const visible = byId.filter((r) => mayRead(user, r));
      return page(
        res,
        url,
        visible,
        (r) => r.id,
        (slice) => ({ repositories: slice.map(renderRepository) }),
      );
    }
    if (!namespaces.has(namespace)) {
      return sendJson(
        res,
        404,
        dtrError("NO_SUCH_ACCOUNT", "An account with the given name does not exist.", { name: namespace }),
      );
    }
    if (name === undefined) {
      const visible = byId.filter((r) => r.namespace === namespace && mayRead(user, r));
      return page(
        res,
        url,
        visible,
        (r) => r.id,
        (slice) => ({ repositories: slice.map(renderRepository) }),
      );
    }
    const repo = repositories.get(`${namespace}/${name}`);
    if (!repo) {
      return sendJson(
        res,
        404,
        dtrError("NO_SUCH_REPOSITORY", "A repository with the given name does not exist.", {
          name: `${namespace}/${name}`,
        }),
      );
    }
    if (!mayRead(user, repo))
      return sendJson(
        res,
        user === undefined ? 401 : 403,
        user === undefined ? NOT_AUTHENTICATED : NOT_AUTHORIZED,
      );
    return page(
      res,
      url,
      repo.tags,
      (t) => t.tag,
      (slice) =>
        slice.map((t) => ({
          name: t.tag,
          digest: t.digest,
          author: t.repository.split("/")[0],
          manifest: manifests.get(t.digest),
          hashMismatch: false,
          inNotary: false,
          createdAt: t.createdAt.toISOString(),
          updatedAt: t.updatedAt.toISOString(),
        })),
    );
  };

  let tokens: RunningTokenServer | undefined;
  let registry: RunningRegistry | undefined;

  const server: Listening = await listen((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const user = caller(req);
    const record: DtrRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      user: user ?? undefined,
      status: 0,
    };
    requests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    if (url.pathname === "/v2" || url.pathname.startsWith("/v2/")) {
      if (!registry) return sendJson(res, 503, dtrError("UNAVAILABLE", "The registry is starting."));
      return proxy(req, res, registry.url, `${url.pathname}${url.search}`);
    }
    if (url.pathname === "/auth/token") {
      if (!tokens) return sendJson(res, 503, dtrError("UNAVAILABLE", "The token service is starting."));
      if (user === null)
        return sendJson(res, 401, NOT_AUTHENTICATED, { "www-authenticate": 'Basic realm="DTR"' });
      // The token server knows each user's password only: an access token is swapped for it.
      const headers = { ...req.headers };
      if (user !== undefined)
        headers.authorization = basicHeader(user, options.accounts[user]?.password ?? "");
      return proxy(req, res, tokens.realm.replace(/\/token$/, ""), `/token${url.search}`, headers);
    }
    if (url.pathname.startsWith("/api/v0/")) {
      const fault = faults.shift();
      if (fault) {
        res.writeHead(fault.status, { "content-type": "application/json", ...fault.headers });
        res.end(fault.body ?? JSON.stringify(dtrError("INTERNAL_ERROR", "An internal error occurred.")));
        return;
      }
      if (user === null) return sendJson(res, 401, NOT_AUTHENTICATED);
      return api(req, res, url, user);
    }
    sendJson(res, 404, dtrError("NOT_FOUND", "Not found."));
  });

  try {
    tokens = await startTokenServer({
      service: server.host,
      users: Object.fromEntries(Object.entries(options.accounts).map(([name, a]) => [name, a.password])),
      grant: (grantee, scope) => {
        if (scope.type !== "repository") return [];
        const repo = repositories.get(scope.name);
        return repo && mayRead(grantee, repo) ? ["pull"] : [];
      },
    });
    registry = await startRegistry({
      storageDir: options.storageDir,
      readOnly: true,
      auth: { kind: "token", ...tokens, realm: `${server.url}/auth/token` },
    });
  } catch (err) {
    await server.stop();
    await tokens?.stop();
    throw err;
  }

  return {
    url: server.url,
    host: server.host,
    tags,
    requests,
    failNext(fault, count) {
      faults.splice(0, faults.length, ...Array.from({ length: count }, () => fault));
    },
    async stop() {
      await server.stop();
      await registry?.stop();
      await tokens?.stop();
    },
  };
}
