/**
 * A GitHub simulation on 127.0.0.1: the REST API's packages endpoints (as api.github.com) and the
 * container registry (as ghcr.io) in front of the real docker-registry, written from GitHub's docs:
 * - Packages: https://docs.github.com/en/rest/packages/packages (`GET /orgs/{org}/packages`,
 *   `/users/{username}/packages`, `/user/packages` need `package_type`; versions at
 *   `.../packages/container/{package_name}/versions` with the name URL-encoded, `name` = digest,
 *   `created_at`, `metadata.container.tags`; the classic PAT needs `read:packages`)
 * - Users: https://docs.github.com/en/rest/users/users (`GET /user`, `GET /users/{username}` with
 *   `type` "User" or "Organization"); errors `{"message","documentation_url","status"}`,
 *   401 "Bad credentials"
 * - Pagination: https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
 *   (`page`, `per_page`, `Link` with next/last/first/prev); capped small here so lists span pages
 * - Rate limits: https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
 *   (`x-ratelimit-limit/-remaining/-used/-reset/-resource` on every answer; primary limit: 403 with
 *   remaining 0; secondary limit: 403 with `retry-after`)
 * - Registry: https://docs.github.com/en/packages/working-with-a-github-packages-registry/working-
 *   with-the-container-registry (Basic `user:PAT` at `ghcr.io/token`, service `ghcr.io`; anonymous
 *   tokens for public packages); the token endpoint checks the PAT, then the harness token server
 *   signs the JWT the real docker-registry accepts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { type RunningTokenServer, startTokenServer } from "../token-server.js";
import { basicCredentials, basicHeader, intParam, type Listening, listen, proxy, sendJson } from "./http.js";
import { readBlobJson, storedTags } from "./storage.js";

export interface GhcrSimToken {
  login: string;
  scopes: string[];
  /** Organizations whose private packages the token's user reads. */
  memberOf: string[];
}

export interface GhcrSimOptions {
  storageDir: string;
  /** GitHub accounts by login (as GitHub spells it); a repository's first segment is its owner, lower-cased. */
  accounts: Record<string, "User" | "Organization">;
  /** Repositories (`owner/package`) anyone may pull and list. */
  publicRepositories: string[];
  tokens: Record<string, GhcrSimToken>;
  /** Largest `per_page` honoured (GitHub's is 100). */
  maxPerPage?: number;
}

export interface GhcrSimVersion {
  id: number;
  repository: string;
  /** The digest. */
  name: string;
  tags: string[];
  createdAt: Date;
}

export interface GhcrRequest {
  method: string;
  path: string;
  query: string;
  status: number;
}

export type GhcrFault = "secondary" | "primary" | "primary-far" | number;

export interface GhcrSim {
  /** The REST API root, `http://127.0.0.1:PORT/`. */
  apiUrl: string;
  /** The registry, `http://127.0.0.1:PORT`. */
  registryUrl: string;
  versions: GhcrSimVersion[];
  requests: GhcrRequest[];
  /** Answers the next `count` API requests with a rate limit or an HTTP status, replacing pending faults. */
  failNext(fault: GhcrFault, count: number): void;
  stop(): Promise<void>;
}

const BASE_TIME = Date.UTC(2024, 2, 4, 9, 30, 0);
const SERVICE = "ghcr.io";
const RATE_LIMIT = 5000;
const DOCS = "https://docs.github.com/rest";
const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);

const githubError = (message: string, status: number, documentation = DOCS) => ({
  message,
  documentation_url: documentation,
  status: String(status),
});

export async function startGhcrSim(options: GhcrSimOptions): Promise<GhcrSim> {
  const maxPerPage = options.maxPerPage ?? 2;
  const ownerOf = (repository: string) =>
    Object.keys(options.accounts).find((login) => login.toLowerCase() === repository.split("/")[0]);
  const tokens = Object.entries(options.tokens).map(([value, token], index) => ({
    value,
    token,
    internal: { user: `token-${index}`, password: `internal-${index}` },
  }));
  type Caller = (typeof tokens)[number] | undefined;

  const versions: GhcrSimVersion[] = [];
  let nextId = 1000;
  const stored = await storedTags(options.storageDir);
  for (const [index, tag] of stored.entries()) {
    if (!ownerOf(tag.repository))
      throw new Error(`GitHub simulation: ${tag.repository} has no owner account`);
    const existing = versions.find((v) => v.repository === tag.repository && v.name === tag.digest);
    if (existing) {
      existing.tags.push(tag.tag);
      continue;
    }
    // Push times distinct and not in name order, so a cap by push time differs from one by name.
    const createdAt = new Date(BASE_TIME + ((index * 7919) % 97) * 3_600_000);
    versions.push({ id: nextId++, repository: tag.repository, name: tag.digest, tags: [tag.tag], createdAt });
    // A multi-arch push also creates an untagged version for each platform manifest.
    const manifest = await readBlobJson(options.storageDir, tag.digest);
    if (INDEX_TYPES.has(String(manifest.mediaType))) {
      for (const child of (manifest.manifests ?? []) as { digest: string }[]) {
        versions.push({ id: nextId++, repository: tag.repository, name: child.digest, tags: [], createdAt });
      }
    }
  }
  const repositories = [...new Set(versions.map((v) => v.repository))];
  const isPublic = (repository: string) => options.publicRepositories.includes(repository);
  const canRead = (caller: Caller, repository: string) => {
    if (isPublic(repository)) return true;
    const owner = ownerOf(repository)?.toLowerCase();
    if (!caller || owner === undefined) return false;
    return (
      caller.token.login.toLowerCase() === owner ||
      caller.token.memberOf.some((org) => org.toLowerCase() === owner)
    );
  };

  const grantTokens: RunningTokenServer = await startTokenServer({
    service: SERVICE,
    users: Object.fromEntries(tokens.map((t) => [t.internal.user, t.internal.password])),
    grant: (user, scope) => {
      if (scope.type !== "repository" || !repositories.includes(scope.name)) return [];
      return canRead(
        tokens.find((t) => t.internal.user === user),
        scope.name,
      )
        ? ["pull"]
        : [];
    },
  });

  const requests: GhcrRequest[] = [];
  const faults: GhcrFault[] = [];
  let used = 0;
  const resetAt = () => Math.floor(Date.now() / 1000) + 3600;

  const rateHeaders = (remaining: number, reset: number) => ({
    "x-ratelimit-limit": String(RATE_LIMIT),
    "x-ratelimit-remaining": String(remaining),
    "x-ratelimit-used": String(RATE_LIMIT - remaining),
    "x-ratelimit-reset": String(reset),
    "x-ratelimit-resource": "core",
  });

  /** Offset pages with GitHub's Link header (next, last, first, prev). */
  const sendPage = <T>(res: ServerResponse, url: URL, items: T[], headers: Record<string, string>) => {
    const perPage = Math.min(intParam(url.searchParams, "per_page", 30), maxPerPage);
    const page = intParam(url.searchParams, "page", 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const linkTo = (n: number) => {
      const target = new URL(url.href);
      target.searchParams.set("page", String(n));
      return target.href;
    };
    const links: string[] = [];
    if (page < last) links.push(`<${linkTo(page + 1)}>; rel="next"`, `<${linkTo(last)}>; rel="last"`);
    if (page > 1) links.push(`<${linkTo(1)}>; rel="first"`, `<${linkTo(page - 1)}>; rel="prev"`);
    sendJson(res, 200, items.slice((page - 1) * perPage, page * perPage), {
      ...headers,
      ...(links.length ? { link: links.join(", ") } : {}),
    });
  };

  const packageJson = (repository: string) => {
    const owner = ownerOf(repository) ?? "";
    const name = repository.slice(owner.length + 1);
    const own = versions.filter((v) => v.repository === repository);
    return {
      id: own[0]?.id ?? 0,
      name,
      package_type: "container",
      owner: { login: owner, type: options.accounts[owner] },
      version_count: own.length,
      visibility: isPublic(repository) ? "public" : "private",
      url: `${api.url}/${options.accounts[owner] === "Organization" ? "orgs" : "users"}/${owner}/packages/container/${encodeURIComponent(name)}`,
      created_at: new Date(Math.min(...own.map((v) => v.createdAt.getTime()))).toISOString(),
      updated_at: new Date(Math.max(...own.map((v) => v.createdAt.getTime()))).toISOString(),
      html_url: `https://github.com/${owner}/packages/container/package/${encodeURIComponent(name)}`,
    };
  };

  const versionJson = (v: GhcrSimVersion) => ({
    id: v.id,
    name: v.name,
    url: `${api.url}/packages/container/versions/${v.id}`,
    package_html_url: `https://github.com/${v.repository}/packages`,
    created_at: v.createdAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
    updated_at: new Date(v.createdAt.getTime() + 60_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    html_url: `https://github.com/${v.repository}/pkgs/container/${v.id}`,
    metadata: { package_type: "container", container: { tags: v.tags } },
  });

  const handleApi = (req: IncomingMessage, res: ServerResponse) => {
    // Link targets name this API's own origin.
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const record: GhcrRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      status: 0,
    };
    requests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    used++;
    const headers = rateHeaders(Math.max(0, RATE_LIMIT - used), resetAt());
    const fault = faults.shift();
    if (fault === "secondary") {
      return sendJson(
        res,
        403,
        githubError(
          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
          403,
          "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        ),
        { ...headers, "retry-after": "1" },
      );
    }
    if (fault === "primary" || fault === "primary-far") {
      const reset = Math.floor(Date.now() / 1000) + (fault === "primary" ? 2 : 3600);
      return sendJson(
        res,
        403,
        githubError(
          "API rate limit exceeded for user ID 1.",
          403,
          "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        ),
        rateHeaders(0, reset),
      );
    }
    if (typeof fault === "number") return sendJson(res, fault, githubError("Server Error", fault), headers);
    if (req.method !== "GET") return sendJson(res, 404, githubError("Not Found", 404), headers);

    const bearer = /^(?:bearer|token) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const caller: Caller = bearer === undefined ? undefined : tokens.find((t) => t.value === bearer);
    if (bearer !== undefined && caller === undefined)
      return sendJson(res, 401, githubError("Bad credentials", 401), headers);
    if (caller === undefined) return sendJson(res, 401, githubError("Requires authentication", 401), headers);
    const withScopes = { ...headers, "x-oauth-scopes": caller.token.scopes.join(", ") };
    // Routes match on raw segments: a package name's "/" must arrive as %2F.
    const segments = url.pathname.split("/").slice(1);
    if (segments.length === 1 && segments[0] === "user") {
      return sendJson(res, 200, { login: caller.token.login, id: 1, type: "User" }, withScopes);
    }
    if (segments.length === 2 && segments[0] === "users") {
      const login = Object.keys(options.accounts).find(
        (l) => l.toLowerCase() === decodeURIComponent(segments[1] ?? "").toLowerCase(),
      );
      if (!login) return sendJson(res, 404, githubError("Not Found", 404), withScopes);
      return sendJson(res, 200, { login, id: 2, type: options.accounts[login] }, withScopes);
    }
    // /user/packages…, /orgs/{org}/packages…, /users/{user}/packages…
    const own = segments[0] === "user";
    const ownerSegment = own ? caller.token.login : decodeURIComponent(segments[1] ?? "");
    const rest = segments.slice(own ? 1 : 2);
    const owner = Object.keys(options.accounts).find((l) => l.toLowerCase() === ownerSegment.toLowerCase());
    const kindFits =
      own ||
      (segments[0] === "orgs" && owner !== undefined && options.accounts[owner] === "Organization") ||
      (segments[0] === "users" && owner !== undefined && options.accounts[owner] === "User");
    if (!kindFits || owner === undefined || rest[0] !== "packages")
      return sendJson(res, 404, githubError("Not Found", 404), withScopes);
    if (!caller.token.scopes.includes("read:packages") && !caller.token.scopes.includes("write:packages")) {
      return sendJson(
        res,
        403,
        githubError("You need at least read:packages scope to list packages.", 403),
        withScopes,
      );
    }
    const visible = repositories.filter((r) => r.split("/")[0] === owner.toLowerCase() && canRead(caller, r));
    if (rest.length === 1) {
      const packageType = url.searchParams.get("package_type");
      if (packageType === null)
        return sendJson(res, 400, githubError("package_type is required", 400), withScopes);
      return sendPage(res, url, packageType === "container" ? visible.map(packageJson) : [], withScopes);
    }
    if (rest.length === 4 && rest[1] === "container" && rest[3] === "versions") {
      const repository = `${owner.toLowerCase()}/${decodeURIComponent(rest[2] ?? "")}`;
      if (!visible.includes(repository))
        return sendJson(res, 404, githubError("Package not found.", 404), withScopes);
      const own = versions
        .filter((v) => v.repository === repository)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id);
      return sendPage(res, url, own.map(versionJson), withScopes);
    }
    sendJson(res, 404, githubError("Not Found", 404), withScopes);
  };

  const api: Listening = await listen(handleApi);

  const tokenEndpoint = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const upstream = grantTokens.realm.replace(/\/token$/, "");
    const credentials = basicCredentials(req);
    if (credentials === undefined) return proxy(req, res, upstream, `/token${url.search}`, {});
    const match = tokens.find((t) => t.value === credentials.password);
    const readsPackages = match?.token.scopes.some((s) => s === "read:packages" || s === "write:packages");
    if (!match || !readsPackages || credentials.username === "") {
      return sendJson(res, 403, { errors: [{ code: "DENIED", message: "denied" }] });
    }
    proxy(req, res, upstream, `/token${url.search}`, {
      authorization: basicHeader(match.internal.user, match.internal.password),
    });
  };

  let registry: RunningRegistry | undefined;
  const front: Listening = await listen((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const record: GhcrRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      status: 0,
    };
    requests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    if (url.pathname === "/token" && req.method === "GET") return tokenEndpoint(req, res, url);
    if (registry === undefined || !(url.pathname === "/v2" || url.pathname.startsWith("/v2/")))
      return sendJson(res, 404, { errors: [{ code: "NOT_FOUND", message: "not found" }] });
    proxy(req, res, registry.url, `${url.pathname}${url.search}`);
  });
  try {
    registry = await startRegistry({
      storageDir: options.storageDir,
      readOnly: true,
      auth: { kind: "token", ...grantTokens, realm: `${front.url}/token` },
    });
  } catch (err) {
    await Promise.all([api.stop(), front.stop(), grantTokens.stop()]);
    throw err;
  }
  const running = registry;

  return {
    apiUrl: `${api.url}/`,
    registryUrl: front.url,
    versions,
    requests,
    failNext(fault, count) {
      faults.splice(0, faults.length, ...Array.from({ length: count }, () => fault));
    },
    async stop() {
      await Promise.all([api.stop(), front.stop(), running.stop(), grantTokens.stop()]);
    },
  };
}
