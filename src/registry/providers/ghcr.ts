/**
 * Registry type `ghcr` (registries.md 2.16): GitHub Container Registry, discovered through the GitHub
 * REST API's packages endpoints, as GitHub documents them:
 * https://docs.github.com/en/rest/packages/packages (`GET /orgs/{org}/packages`, `/users/{username}/
 * packages`, `/user/packages` with `package_type=container`; `.../packages/container/{package_name}/
 * versions`, the name URL-encoded), https://docs.github.com/en/rest/using-the-rest-api/
 * using-pagination-in-the-rest-api (`per_page` ≤ 100, `Link`), https://docs.github.com/en/rest/
 * using-the-rest-api/rate-limits-for-the-rest-api (`X-RateLimit-Remaining`/`-Reset`, secondary limits
 * answered 403 or 429 with `retry-after`) and https://docs.github.com/en/packages/working-with-a-
 * github-packages-registry/working-with-the-container-registry (login with a classic PAT).
 *
 * - `registry`: "ghcr.io" or a URL of it. The API is `SHIPSHAPE_GITHUB_API_URL` (default
 *   https://api.github.com/).
 * - Owner: the specification's `namespace`, else the first segment of the `repository` pattern
 *   (`owner/*`), else the token's own user. `GET /users/{owner}` says whether it is an organization
 *   or a user; the token's own user is listed through `/user/packages`, which includes its private
 *   packages.
 * - Credentials: `githubToken` (token in `apiToken` or `secret`) or `basic` (`accountID` + PAT in
 *   `secret`): a classic personal access token with `read:packages`. `GET /user` checks it at connect;
 *   the registry gets Basic `login:token` through ghcr.io's token endpoint. Without a credential the
 *   packages API is closed, so only exactly named public repositories are scanned, their tags from
 *   the registry dated by the image config's build time (the Docker Registry v2 provider's way).
 * - Repositories: `owner/<package name>` (lower case, as ghcr.io names them). Tags: each package
 *   version's `metadata.container.tags`, its `name` (the manifest digest) and `created_at` (when that
 *   digest was pushed); untagged versions (platform manifests of multi-arch images) are skipped.
 * - Rate limits: a 403 or 429 that is a primary (`X-RateLimit-Remaining: 0`) or secondary
 *   (`retry-after`) limit is waited out up to a minute and tried again, a few times; after that, or for
 *   a longer wait, a RateLimitedError says when to come back.
 */
import { sleep } from "../backoff.js";
import { RegistryClient } from "../client.js";
import {
  AuthError,
  NotFoundError,
  PermissionError,
  ProtocolError,
  RateLimitedError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { nextLink } from "../link-header.js";
import { header } from "../transport.js";
import { connectDistribution, exactRepositories, v2AddressOf } from "./docker-v2.js";
import { serviceEndpoint } from "./endpoints.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";
import { type ApiResponse, apiFailure, apiTime, RestApi } from "./rest.js";

const PER_PAGE = 100;
const MAX_PAGES = 10_000;
/** Rate-limit waits of one request before giving up. */
const RATE_LIMIT_RETRIES = 3;
/** Longest rate-limit wait taken in place; a later reset is reported instead. */
const MAX_RATE_LIMIT_WAIT_MS = 60_000;
/** GitHub: without retry-after or a reset, wait at least a minute after a secondary rate limit. */
const SECONDARY_LIMIT_DEFAULT_WAIT_MS = 60_000;

interface GithubPackage {
  name?: unknown;
}

interface GithubVersion {
  name?: unknown;
  created_at?: unknown;
  metadata?: { container?: { tags?: unknown } } | null;
}

interface Owner {
  login: string;
  /** Path of the owner's packages: "user", "orgs/<org>" or "users/<user>". */
  packagesPath: string;
  describe: string;
}

function messageOf(res: ApiResponse): string {
  try {
    const body = JSON.parse(res.text) as { message?: unknown };
    if (typeof body.message === "string" && body.message) return `HTTP ${res.status}: ${body.message}`;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}

/** How long a rate-limited answer asks to wait (ms), or undefined when it is no rate limit. */
export function rateLimitWait(res: ApiResponse, now = Date.now()): number | undefined {
  if (res.status !== 403 && res.status !== 429) return undefined;
  const retryAfter = header(res.headers, "retry-after");
  if (retryAfter !== undefined && /^\s*\d+\s*$/.test(retryAfter)) return Number(retryAfter) * 1000;
  if (header(res.headers, "x-ratelimit-remaining")?.trim() === "0") {
    const reset = Number(header(res.headers, "x-ratelimit-reset"));
    return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : undefined;
  }
  if (res.status === 429 || /rate limit/i.test(messageOf(res))) return SECONDARY_LIMIT_DEFAULT_WAIT_MS;
  return undefined;
}

function failure(res: ApiResponse, what: string, ctx: RegistryErrorContext): Error {
  const answer = messageOf(res);
  // GitHub rate limits come as 403 as well as 429, so they are told apart before the status mapping.
  const wait = rateLimitWait(res);
  if (wait !== undefined) {
    return new RateLimitedError(
      ctx,
      `${what}: GitHub API rate limit (${answer}); retry in ${Math.ceil(wait / 1000)} s or use a token with a larger budget`,
      wait,
    );
  }
  return apiFailure(res, what, ctx, {
    401: `GitHub rejected the token (${answer}); check the credential's personal access token`,
    403: `GitHub refused the token (${answer}); it needs to be a classic personal access token with read:packages, SSO-authorised for organizations that enforce SSO`,
    404: `not found on GitHub (${answer})`,
    other: `the GitHub API answered ${answer}`,
  });
}

/** The GitHub REST API with its rate limits waited out and its `Link` pages followed. */
class GithubApi {
  constructor(
    private readonly rest: RestApi,
    private readonly ctx: RegistryErrorContext,
  ) {}

  /** A 200 answer, after waiting out rate limits; anything else is the typed error. */
  async get(target: string | URL, what: string, signal?: AbortSignal): Promise<ApiResponse> {
    for (let waits = 0; ; waits++) {
      const res = await this.rest.get(target, signal);
      if (res.status === 200) return res;
      const wait = rateLimitWait(res);
      if (wait === undefined || wait > MAX_RATE_LIMIT_WAIT_MS || waits >= RATE_LIMIT_RETRIES) {
        throw failure(res, what, this.ctx);
      }
      await sleep(wait, signal);
    }
  }

  json<T>(res: ApiResponse, what: string): T {
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new ProtocolError(this.ctx, `${what}: the GitHub API's answer is not JSON`);
    }
  }

  /** Every item of a listing, page by page through `Link: rel="next"` on the API's origin. */
  async all<T>(first: string, what: string, signal?: AbortSignal): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = new URL(first, this.rest.base);
    while (url !== undefined) {
      if (seen.has(url.href) || seen.size >= MAX_PAGES) {
        throw new ProtocolError(this.ctx, `${what}: the GitHub API's pages do not end (${url.pathname})`);
      }
      seen.add(url.href);
      const res = await this.get(url, what, signal);
      const page = this.json<unknown>(res, what);
      if (!Array.isArray(page)) throw new ProtocolError(this.ctx, `${what}: expected a JSON array`);
      items.push(...(page as T[]));
      const next = nextLink(res.headers.link, res.url);
      if (next !== undefined && next.origin !== this.rest.base.origin) {
        throw new ProtocolError(this.ctx, `${what}: the next page is on another origin (${next.origin})`);
      }
      url = next;
    }
    return items;
  }

  close(): Promise<void> {
    return this.rest.close();
  }
}

function tokenOf(credential: ResolvedCredential, ctx: RegistryErrorContext): string {
  if (credential.type !== "githubToken" && credential.type !== "basic") {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" is of type "${credential.type}"; GitHub Container Registry accepts "githubToken" or "basic" (a personal access token with read:packages)`,
    );
  }
  const token =
    credential.type === "basic"
      ? credential.secret?.plain || ""
      : credential.apiToken?.plain || credential.secret?.plain || "";
  if (token === "") throw new AuthError(ctx, `credential "${credential._id}" has no personal access token`);
  return token;
}

const registryContext = (context: ProviderContext): RegistryErrorContext => ({
  registry: v2AddressOf(context.registry || "ghcr.io", context.insecure ?? false).registryHost,
});

/** The owner named by `namespace` or by the repository pattern's first segment, if any. */
function namedOwner(context: ProviderContext): string | undefined {
  const namespace = context.namespace?.trim();
  if (namespace) return namespace;
  const pattern = typeof context.spec.repository === "string" ? context.spec.repository : "";
  const owners = new Set(
    pattern
      .split(",")
      .map((entry) => entry.trim())
      // "*" (everything) names no owner: the token's own user is meant.
      .filter((entry) => entry !== "" && entry !== "*" && !entry.startsWith("-"))
      .map((entry) => entry.split("/")[0] ?? ""),
  );
  if (owners.size === 0) return undefined;
  const [owner] = owners;
  if (owners.size > 1 || owner === undefined || owner === "" || owner.includes("*")) {
    throw new UnsupportedError(
      registryContext(context),
      `the repository pattern "${pattern}" names no single GitHub owner; set the namespace to the organization or user`,
    );
  }
  return owner;
}

async function resolveOwner(
  api: GithubApi,
  login: string,
  named: string | undefined,
  signal?: AbortSignal,
): Promise<Owner> {
  if (named === undefined || named.toLowerCase() === login.toLowerCase()) {
    return { login, packagesPath: "user", describe: `user ${login} (the token's own)` };
  }
  const what = `looking up GitHub owner ${named}`;
  let res: ApiResponse;
  try {
    res = await api.get(`users/${encodeURIComponent(named)}`, what, signal);
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new NotFoundError(
        { registry: err.registry },
        `GitHub has no organization or user "${named}"; check the namespace or the repository pattern's owner`,
        { status: 404 },
      );
    }
    throw err;
  }
  const account = api.json<{ login?: unknown; type?: unknown }>(res, what);
  const found = typeof account.login === "string" ? account.login : named;
  return account.type === "Organization"
    ? { login: found, packagesPath: `orgs/${encodeURIComponent(found)}`, describe: `organization ${found}` }
    : { login: found, packagesPath: `users/${encodeURIComponent(found)}`, describe: `user ${found}` };
}

class GhcrSession implements ProviderSession {
  private packages: Map<string, string> | undefined;

  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: GithubApi,
    private readonly owner: Owner,
  ) {}

  private get prefix(): string {
    return `${this.owner.login.toLowerCase()}/`;
  }

  /** Repository name → package name. */
  private async loadPackages(signal?: AbortSignal): Promise<Map<string, string>> {
    const listed = await this.api.all<GithubPackage>(
      `${this.owner.packagesPath}/packages?package_type=container&per_page=${PER_PAGE}`,
      `listing the container packages of ${this.owner.describe}`,
      signal,
    );
    const packages = new Map<string, string>();
    for (const entry of listed) {
      if (typeof entry.name === "string" && entry.name !== "")
        packages.set(`${this.prefix}${entry.name.toLowerCase()}`, entry.name);
    }
    this.packages = packages;
    return packages;
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    return [...(await this.loadPackages(signal)).keys()].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const where = { registry: this.registryHost, repository };
    const packageName =
      (this.packages ?? (await this.loadPackages(options.signal))).get(repository) ??
      (repository.startsWith(this.prefix) ? repository.slice(this.prefix.length) : undefined);
    if (packageName === undefined) {
      throw new NotFoundError(where, `not a package of GitHub ${this.owner.describe}`);
    }
    const what = `listing the versions of package ${packageName} of ${this.owner.describe}`;
    let versions: GithubVersion[];
    try {
      versions = await this.api.all<GithubVersion>(
        `${this.owner.packagesPath}/packages/container/${encodeURIComponent(packageName)}/versions?per_page=${PER_PAGE}&state=active`,
        what,
        options.signal,
      );
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(where, err.message, { status: 404 });
      throw err;
    }
    const tags: DiscoveredTag[] = [];
    for (const version of versions) {
      const listed = version.metadata?.container?.tags;
      if (!Array.isArray(listed) || typeof version.name !== "string") continue;
      const pushedAt = apiTime(version.created_at);
      for (const tag of listed) {
        if (typeof tag !== "string" || tag === "") continue;
        tags.push(
          options.withTimes ? { tag, digest: version.name, pushedAt } : { tag, digest: version.name },
        );
      }
    }
    return tags.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api.close()]);
  }
}

/**
 * Public packages without a token: ghcr.io has no catalog, so the exact names are the repositories,
 * and tags (dated by their image config's build time) come through the Docker Registry v2 provider.
 */
class PublicGhcrSession implements ProviderSession {
  constructor(
    private readonly registrySession: ProviderSession,
    private readonly names: string[],
  ) {}

  get registryHost(): string {
    return this.registrySession.registryHost;
  }

  get client(): RegistryClient {
    return this.registrySession.client;
  }

  async listRepositories(): Promise<string[]> {
    return this.names;
  }

  listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    return this.registrySession.listTags(repository, options);
  }

  close(): Promise<void> {
    return this.registrySession.close();
  }
}

export const ghcrProvider: RegistryProvider = {
  type: "ghcr",
  credentialTypes: ["githubToken", "basic"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    const registry = context.registry.trim() || "ghcr.io";
    const address = v2AddressOf(registry, context.insecure ?? false);
    const where = { registry: address.registryHost };
    const credential = context.credential;
    if (credential === undefined) {
      const names = exactRepositories(context.spec.repository);
      if (names === undefined) {
        throw new UnsupportedError(
          where,
          "GitHub lists packages only to a token: give a credential (a personal access token with read:packages), or name public repositories exactly in `repository`",
        );
      }
      return new PublicGhcrSession(await connectDistribution({ ...context, registry }), names);
    }
    const token = tokenOf(credential, where);
    const named = namedOwner(context);
    const base = serviceEndpoint("SHIPSHAPE_GITHUB_API_URL", "https://api.github.com/");
    const api = new GithubApi(
      new RestApi(base, where, { insecure: false, authorization: `Bearer ${token}` }),
      where,
    );
    let client: RegistryClient | undefined;
    try {
      const answer = await api.get("user", "checking the token with GET /user");
      const user = api.json<{ login?: unknown }>(answer, "checking the token");
      if (typeof user.login !== "string" || user.login === "") {
        throw new ProtocolError(where, "GitHub's GET /user named no login");
      }
      // Classic PATs announce their scopes; the registry and the packages API need read:packages.
      const scopes = header(answer.headers, "x-oauth-scopes");
      if (scopes !== undefined && !/(^|[\s,])(read|write):packages([\s,]|$)/.test(scopes)) {
        throw new PermissionError(
          where,
          `the GitHub token of ${user.login} has the scopes "${scopes}" but not read:packages; give the classic personal access token the read:packages scope`,
        );
      }
      const owner = await resolveOwner(api, user.login, named);
      client = new RegistryClient({
        registry: address.address,
        credentials: { kind: "basic", username: credential.accountID?.trim() || user.login, password: token },
        insecure: address.insecure,
        ca: context.caCert?.trim() || undefined,
      });
      await client.login();
      return new GhcrSession(client, address.registryHost, api, owner);
    } catch (err) {
      await Promise.all([api.close(), client?.close()]);
      throw err;
    }
  },
};
