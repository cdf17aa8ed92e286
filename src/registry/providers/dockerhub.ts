/**
 * Docker Hub: registry type `2` with `registry` "" (or docker.io), spec section 8; registries.md 2.2.
 * Docker Hub has no `/v2/_catalog`, so repositories and tags come from the Docker Hub API as Docker
 * documents it (https://docs.docker.com/reference/api/hub/latest/): `POST /v2/auth/token`
 * (`{identifier, secret}` → `{access_token}`, a JWT that expires in 10 minutes),
 * `GET /v2/namespaces/{namespace}/repositories` and
 * `GET /v2/namespaces/{namespace}/repositories/{repository}/tags` (`page_size` ≤ 100, pages
 * `{count, next, previous, results}` followed by `next`; tags with `name`, `digest`,
 * `tag_last_pushed`, `last_updated`), errors `{message, errinfo}` or `{detail}`, API rate limits
 * `X-RateLimit-*` and, on 429, `X-Retry-After` (a unix time).
 *
 * - Repositories: the specification's `repository` pattern. Exact names are taken as they are, a name
 *   without a namespace being an official image (`ubuntu` → `library/ubuntu`); a wildcard element
 *   (`myorg/*`, `ubuntu*` = `library/ubuntu*`) lists its namespace through the API. A pattern that
 *   names no namespace (`*`, empty) lists the specification's `namespace` if it has one; otherwise
 *   listing is refused with an UnsupportedError, while the session still serves single images
 *   (on-demand and webhook scans need no listing).
 * - Credentials: none (public repositories; the lowest pull limits) or `basic`: `accountID` = the
 *   username (an organisation name for an organisation access token), `secret` = the password or a
 *   personal/organisation access token. The API access token is obtained at connect, so wrong
 *   credentials fail there, and renewed ahead of its expiry and once after a 401. The registry gets the
 *   same credentials through its token service (auth.docker.io), checked at connect the way
 *   `docker login` does.
 * - Tags: the API's listing, pushed time `tag_last_pushed` (else `last_updated`) and `digest` (the
 *   index's for a multi-platform tag), so discovery sends no manifest GET: pulls are what Docker Hub's
 *   pull limit counts. A tag the listing gives no digest is resolved with a manifest HEAD, which is
 *   not counted.
 * - Endpoints: `SHIPSHAPE_DOCKERHUB_API_URL` (default https://hub.docker.com/) and
 *   `SHIPSHAPE_DOCKERHUB_REGISTRY_URL` (default https://registry-1.docker.io/); results name the
 *   registry `docker.io` wherever the requests go.
 */
import { mapBounded } from "../backoff.js";
import { RegistryClient } from "../client.js";
import {
  AuthError,
  NotFoundError,
  ProtocolError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { type Expiring, ExpiringValue } from "../expiring.js";
import { isValidTag } from "../reference.js";
import { type Headers, header } from "../transport.js";
import { serviceEndpoint } from "./endpoints.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";
import { type ApiResponse, apiFailure, apiTime, RestApi } from "./rest.js";

const DOCKER_HUB = "docker.io";
const OFFICIAL_NAMESPACE = "library";
/** The Docker Hub API's largest `page_size`. */
const PAGE_SIZE = 100;
const MAX_PAGES = 100_000;
/** Documented lifetime of an API access token, for one whose JWT carries no `exp`. */
const ACCESS_TOKEN_LIFETIME_MS = 10 * 60_000;
const MAX_TOKEN_BODY_BYTES = 64 * 1024;
/** Manifest HEADs in flight for tags the listing gives no digest. */
const DIGEST_LOOKUPS = 4;

const where: RegistryErrorContext = { registry: DOCKER_HUB };

interface HubPage {
  next?: unknown;
  results?: unknown;
}

interface HubRepository {
  name?: unknown;
}

interface HubTag {
  name?: unknown;
  digest?: unknown;
  tag_last_pushed?: unknown;
  last_updated?: unknown;
}

/** Who the API and the registry see: a Docker ID (or organisation) with its secret, or nobody. */
type Account = { identifier: string; secret: string } | undefined;

/**
 * The `repository` pattern as Docker Hub names repositories: an element without a namespace is an
 * official image under `library/` (`ubuntu` → `library/ubuntu`, `-ubuntu*` → `-library/ubuntu*`);
 * `*` (everything) stays as it is. Matching repository names against this pattern is what the
 * specification means on Docker Hub.
 */
export function hubRepositoryPattern(pattern: string | undefined): string {
  return (pattern ?? "")
    .split(",")
    .map((element) => element.trim())
    .filter((element) => element.length > 0)
    .map((element) => {
      const exclude = element.startsWith("-");
      const name = exclude ? element.slice(1).trim() : element;
      const full = name === "*" || name.includes("/") ? name : `${OFFICIAL_NAMESPACE}/${name}`;
      return `${exclude ? "-" : ""}${full.toLowerCase()}`;
    })
    .join(",");
}

/** What to discover: exactly named repositories, and namespaces to list through the API. */
export interface HubSelection {
  exact: string[];
  namespaces: string[];
  /**
   * Why the repositories cannot be listed (the pattern needs a catalog Docker Hub does not have).
   * Listing then fails with it, while a session for single images (on-demand scans) still works.
   */
  unlisted?: string;
}

const NO_CATALOG =
  "Docker Hub has no catalog: name a namespace (`myorg/*`), the repositories themselves (`library/ubuntu`), or the specification's namespace";

/** Reads the specification's `repository` (and `namespace`) as what to discover on Docker Hub. */
export function hubSelection(pattern: string | undefined, namespace?: string): HubSelection {
  const includes = hubRepositoryPattern(pattern)
    .split(",")
    .filter((element) => element !== "" && !element.startsWith("-"));
  const exact = new Set<string>();
  const namespaces = new Set<string>();
  const fallback = namespace?.trim().toLowerCase() ?? "";
  let unlisted: string | undefined;
  const listFallback = () => {
    if (fallback === "") unlisted ??= NO_CATALOG;
    else namespaces.add(fallback);
  };
  if (includes.length === 0) listFallback();
  for (const element of includes) {
    if (element === "*") {
      listFallback();
    } else if (!element.includes("*")) {
      exact.add(element);
    } else {
      const owner = element.slice(0, element.indexOf("/"));
      if (owner.includes("*")) {
        unlisted ??= `the repository pattern "${element}" has a wildcard in its namespace; Docker Hub lists one named namespace at a time`;
      } else {
        namespaces.add(owner);
      }
    }
  }
  return {
    exact: [...exact].sort(),
    namespaces: [...namespaces].sort(),
    ...(unlisted === undefined ? {} : { unlisted }),
  };
}

function accountOf(credential: ResolvedCredential | undefined): Account {
  if (credential === undefined) return undefined;
  if (credential.type !== "basic") {
    throw new UnsupportedError(
      where,
      `credential "${credential._id}" is of type "${credential.type}"; Docker Hub accepts "basic" (a Docker ID with its password or personal access token, or an organisation with its access token) or none`,
    );
  }
  const identifier = credential.accountID?.trim() ?? "";
  const secret = credential.secret?.plain ?? "";
  if (identifier === "" || secret === "") {
    throw new AuthError(
      where,
      `credential "${credential._id}" needs a Docker ID (accountID) and a password or access token (secret)`,
    );
  }
  return { identifier, secret };
}

const identityOf = (account: Account) =>
  account === undefined ? "anonymous access" : `Docker ID "${account.identifier}"`;

/** The Docker Hub API's error text: `{message}` (with `errinfo`) or `{detail}`. */
function messageOf(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; detail?: unknown };
    const message = [body.message, body.detail].find((part) => typeof part === "string" && part !== "");
    if (typeof message === "string") return `HTTP ${status}: ${message}`;
  } catch {
    // not JSON
  }
  return `HTTP ${status}`;
}

/** Milliseconds until the API accepts requests again: `X-Retry-After` is a unix time, `Retry-After` a delay. */
function retryAfterOf(headers: Headers, now = Date.now()): number | undefined {
  const at = Number(header(headers, "x-retry-after"));
  if (Number.isFinite(at) && at > 0) return Math.max(0, at * 1000 - now);
  const delay = Number(header(headers, "retry-after"));
  return Number.isFinite(delay) && delay >= 0 ? delay * 1000 : undefined;
}

/** The typed error for a Docker Hub API answer other than 200 to `what`. */
function failure(res: ApiResponse, what: string, ctx: RegistryErrorContext, account: Account): Error {
  const answer = messageOf(res.status, res.text);
  const wait = retryAfterOf(res.headers);
  return apiFailure(res, what, ctx, {
    401:
      account === undefined
        ? `Docker Hub requires a login (${answer}); give the specification a basic credential`
        : `Docker Hub rejected the credentials of ${identityOf(account)} (${answer}); a personal access token is needed where the organisation enforces SSO`,
    403: `Docker Hub refused ${identityOf(account)} (${answer})`,
    404:
      account === undefined
        ? `not found on Docker Hub (${answer}); private repositories are hidden from anonymous callers, so give a credential that can read it`
        : `not found on Docker Hub, or not visible to ${identityOf(account)} (${answer})`,
    // Docker Hub announces the end of its window in X-Retry-After.
    429: {
      message: `Docker Hub API rate limit (${answer})${wait === undefined ? "" : `; retry in ${Math.ceil(wait / 1000)} s`}`,
      retryAfterMs: wait,
    },
    other: `the Docker Hub API answered ${answer}`,
  });
}

/** When a JWT expires (its `exp`), or undefined when it is no JWT or has none. */
function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** `POST /v2/auth/token`, without the API's own (expiring) authorization. */
async function accessToken(
  api: RestApi,
  account: { identifier: string; secret: string },
  signal?: AbortSignal,
): Promise<Expiring<string>> {
  const what = `signing in to the Docker Hub API as ${identityOf(account)}`;
  const res = await api.request(
    "POST",
    "v2/auth/token",
    { json: { identifier: account.identifier, secret: account.secret }, signal },
    MAX_TOKEN_BODY_BYTES,
  );
  const text = res.text;
  if (res.status !== 200) throw failure(res, what, where, account);
  let token: unknown;
  try {
    token = (JSON.parse(text) as { access_token?: unknown }).access_token;
  } catch {
    throw new ProtocolError(where, `${what}: the answer is not JSON`);
  }
  if (typeof token !== "string" || token === "") {
    throw new ProtocolError(where, `${what}: the answer has no access_token`);
  }
  return { value: `Bearer ${token}`, expiresAt: jwtExpiry(token) ?? Date.now() + ACCESS_TOKEN_LIFETIME_MS };
}

class DockerHubSession implements ProviderSession {
  readonly registryHost = DOCKER_HUB;

  constructor(
    readonly client: RegistryClient,
    private readonly api: RestApi,
    private readonly account: Account,
    private readonly selection: HubSelection,
  ) {}

  /** Every item of a Docker Hub list, page by page through `next` on the API's origin. */
  private async all<T>(
    first: string,
    what: string,
    ctx: RegistryErrorContext,
    signal?: AbortSignal,
  ): Promise<T[]> {
    const items: T[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = new URL(first, this.api.base);
    while (url !== undefined) {
      if (seen.has(url.href) || seen.size >= MAX_PAGES) {
        throw new ProtocolError(ctx, `${what}: the Docker Hub API's pages do not end (${url.pathname})`);
      }
      seen.add(url.href);
      const res: ApiResponse = await this.api.get(url, signal);
      if (res.status !== 200) throw failure(res, what, ctx, this.account);
      const page = this.page(res, what, ctx);
      items.push(...(page.results as T[]));
      url = this.next(page.next, what, ctx);
    }
    return items;
  }

  private page(res: ApiResponse, what: string, ctx: RegistryErrorContext): HubPage {
    let page: HubPage;
    try {
      page = JSON.parse(res.text) as HubPage;
    } catch {
      throw new ProtocolError(ctx, `${what}: the Docker Hub API's answer is not JSON`);
    }
    if (page === null || typeof page !== "object" || !Array.isArray(page.results)) {
      throw new ProtocolError(ctx, `${what}: the Docker Hub API's answer has no results list`);
    }
    return page;
  }

  /** The `next` page; one on another origin would take the access token elsewhere, so it is refused. */
  private next(next: unknown, what: string, ctx: RegistryErrorContext): URL | undefined {
    if (next === null || next === undefined || next === "") return undefined;
    let url: URL;
    try {
      url = new URL(String(next), this.api.base);
    } catch {
      throw new ProtocolError(ctx, `${what}: the next page is no URL (${JSON.stringify(next)})`);
    }
    if (url.origin !== this.api.base.origin) {
      throw new ProtocolError(
        ctx,
        `${what}: the next page is on another origin (${url.origin}, not ${this.api.base.origin})`,
      );
    }
    return url;
  }

  /** A page of one item: checks that the namespace exists and the API accepts the access token. */
  async checkNamespace(namespace: string): Promise<void> {
    const what = `listing the repositories of namespace "${namespace}"`;
    const res = await this.api.get(`v2/namespaces/${encodeURIComponent(namespace)}/repositories?page_size=1`);
    if (res.status !== 200) throw failure(res, what, where, this.account);
    this.page(res, what, where);
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    if (this.selection.unlisted !== undefined) throw new UnsupportedError(where, this.selection.unlisted);
    const names = new Set(this.selection.exact);
    for (const namespace of this.selection.namespaces) {
      const repositories = await this.all<HubRepository>(
        `v2/namespaces/${encodeURIComponent(namespace)}/repositories?page_size=${PAGE_SIZE}`,
        `listing the repositories of namespace "${namespace}"`,
        where,
        signal,
      );
      for (const repository of repositories) {
        if (typeof repository.name === "string" && repository.name !== "") {
          names.add(`${namespace}/${repository.name.toLowerCase()}`);
        }
      }
    }
    return [...names].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const ctx = { registry: DOCKER_HUB, repository };
    const full = repository.includes("/") ? repository : `${OFFICIAL_NAMESPACE}/${repository}`;
    const [namespace = "", name = "", ...rest] = full.split("/");
    if (namespace === "" || name === "" || rest.length > 0) {
      throw new NotFoundError(ctx, "a Docker Hub repository is named namespace/name");
    }
    const listed = await this.all<HubTag>(
      `v2/namespaces/${encodeURIComponent(namespace)}/repositories/${encodeURIComponent(name)}/tags?page_size=${PAGE_SIZE}`,
      "listing tags",
      ctx,
      options.signal,
    );
    const tags = new Map<string, DiscoveredTag>();
    for (const entry of listed) {
      if (typeof entry.name !== "string" || !isValidTag(entry.name)) continue;
      const digest = typeof entry.digest === "string" && entry.digest !== "" ? entry.digest : undefined;
      const pushedAt = apiTime(entry.tag_last_pushed) ?? apiTime(entry.last_updated);
      tags.set(
        entry.name,
        options.withTimes ? { tag: entry.name, digest, pushedAt } : { tag: entry.name, digest },
      );
    }
    const sorted = [...tags.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    const resolved = await mapBounded(sorted, DIGEST_LOOKUPS, (tag) =>
      tag.digest === undefined ? this.withDigest(full, tag, options.signal) : Promise.resolve(tag),
    );
    return resolved.filter((tag): tag is DiscoveredTag => tag !== undefined);
  }

  /** The tag with its manifest digest from a HEAD (no pull); a tag whose manifest is gone is dropped. */
  private async withDigest(
    repository: string,
    tag: DiscoveredTag,
    signal: AbortSignal | undefined,
  ): Promise<DiscoveredTag | undefined> {
    try {
      const { digest } = await this.client.headManifest(repository, tag.tag, signal);
      return { ...tag, digest };
    } catch (err) {
      if (err instanceof NotFoundError && err.reference === tag.tag) return undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api.close()]);
  }
}

export const dockerHubProvider: RegistryProvider = {
  type: "2",
  credentialTypes: ["basic"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    const selection = hubSelection(
      typeof context.spec.repository === "string" ? context.spec.repository : undefined,
      context.namespace,
    );
    const account = accountOf(context.credential);
    const apiBase = serviceEndpoint("SHIPSHAPE_DOCKERHUB_API_URL", "https://hub.docker.com");
    const registryBase = serviceEndpoint("SHIPSHAPE_DOCKERHUB_REGISTRY_URL", "https://registry-1.docker.io");
    // The sign-in itself goes through the same API client, with no authorization of its own.
    const authorization =
      account === undefined ? undefined : new ExpiringValue((signal) => accessToken(api, account, signal));
    const api: RestApi = new RestApi(apiBase, where, { insecure: false, authorization });
    const client = new RegistryClient({
      registry: registryBase.href,
      credentials:
        account === undefined
          ? { kind: "anonymous" }
          : { kind: "basic", username: account.identifier, password: account.secret },
      // Plain HTTP only for a registry endpoint configured as http:// (a mirror or a simulation).
      insecure: registryBase.protocol === "http:",
    });
    const session = new DockerHubSession(client, api, account, selection);
    try {
      await authorization?.get();
      for (const namespace of selection.namespaces) await session.checkNamespace(namespace);
      await client.login().catch((err: unknown) => {
        if (!(err instanceof AuthError)) throw err;
        throw new AuthError(
          where,
          `checking access to the registry: Docker Hub's token service rejected ${identityOf(account)}`,
          { status: err.status, cause: err },
        );
      });
    } catch (err) {
      await session.close();
      throw err;
    }
    return session;
  },
};
