/**
 * Registry type `coreos` (spec section 8; registries.md 2.9): Quay (quay.io, Red Hat Quay, Project
 * Quay).
 *
 * Follows Quay's API (https://docs.quay.io/api/ and the Red Hat Quay API guide,
 * https://docs.redhat.com/en/documentation/red_hat_quay/3/html/red_hat_quay_api_guide/, chapter
 * "OAuth 2 access tokens" and "Using the API"; its implementation in quay/quay:
 * endpoints/api/repository.py `listRepos`, endpoints/api/tag.py `listRepoTags`, endpoints/api/
 * __init__.py `page_support` and `process_oauth`, endpoints/exception.py for error bodies,
 * endpoints/v2/catalog.py for the registry's `/v2/_catalog`) and Quay's registry login (robot
 * accounts https://docs.quay.io/glossary/robot-accounts.html; `$oauthtoken`, auth/credential_consts.py).
 *
 * - `registry`: "" or "quay.io" for quay.io, else a Quay host or URL ("http://" = plain HTTP, so
 *   insecure). The REST API is `/api/v1/` on the same origin; a `caCert` is trusted for both.
 * - Credentials and what each gets:
 *   * `apiToken` (an OAuth 2 access token of an OAuth application, scope `repo:read`), or `basic`
 *     with username `$oauthtoken` and the token as password: the REST API with `Authorization:
 *     Bearer`, which gives push times, and the registry as `$oauthtoken`.
 *   * `basic` with a robot account (`namespace+robot` and its token) or a user and password: the
 *     registry only. Quay's API takes OAuth tokens and browser sessions, never Basic credentials
 *     (it would treat the caller as anonymous), so repositories come from `/v2/_catalog` (the
 *     repositories the account may read, kept to the specification's namespaces) and tags from `/v2/<name>/tags/list` dated by their image
 *     config's `created` build time (the Docker Registry v2 provider's behaviour).
 *   * none: public repositories; the REST API answers anonymous callers about them.
 *   Every credential is checked at connect the way `docker login` does (Quay's `/v2/auth`).
 * - Repositories through the API: `GET /api/v1/repository?namespace=<ns>&public=true` per namespace
 *   of the specification's `namespace` (comma-separated names allowed), or else per namespace its
 *   `repository` pattern names literally (`acme/*`), following the body's `next_page` token. Quay cannot tell a missing namespace from one the caller sees nothing of (both
 *   list empty), so an empty namespace is a NotFoundError that says both. Without either the
 *   `/v2/_catalog` lists what the credential may read (and a `repository` of exact names stands in
 *   where the catalog is closed, e.g. to anonymous callers).
 * - Tags through the API: `GET /api/v1/repository/<ns>/<repo>/tag/?onlyActiveTags=true&limit=100&page=N`
 *   until `has_additional` is false. A tag carries `manifest_digest` (the index's for a manifest list)
 *   and `start_ts` (unix seconds: when the tag began pointing at its manifest = the push time). Tags
 *   whose `end_ts` has passed (deleted, expired, or overwritten history) are dropped even when an
 *   older Quay ignores `onlyActiveTags`.
 */

import { isArtifactTag } from "../client.js";
import {
  AuthError,
  NotFoundError,
  ProtocolError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { isValidTag, parseRegistryAddress } from "../reference.js";
import { dockerV2Provider, exactRepositories } from "./docker-v2.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";
import { type ApiResponse, apiFailure, RestApi } from "./rest.js";

const QUAY_IO = "quay.io";
/** Quay's largest tag page (`limit` is capped at 100). */
const TAG_PAGE_LIMIT = 100;
/** Guards against a server whose `has_additional` never turns false. */
const MAX_TAG_PAGES = 10_000;
/** The username with which Quay's registry takes an OAuth access token as password. */
const OAUTH_USERNAME = "$oauthtoken";

/** What the specification's credential is to Quay. */
type QuayIdentity =
  | { kind: "anonymous" }
  | { kind: "oauth"; token: string }
  | { kind: "account"; username: string; password: string };

interface QuayRepository {
  namespace?: unknown;
  name?: unknown;
}

interface QuayTag {
  name?: unknown;
  manifest_digest?: unknown;
  start_ts?: unknown;
  end_ts?: unknown;
}

function identityOf(credential: ResolvedCredential | undefined, ctx: RegistryErrorContext): QuayIdentity {
  if (credential === undefined) return { kind: "anonymous" };
  if (credential.type === "apiToken") {
    const token = credential.apiToken?.plain ?? credential.secret?.plain ?? "";
    if (token === "") {
      throw new AuthError(ctx, `credential "${credential._id}" has no OAuth access token (apiToken)`);
    }
    return { kind: "oauth", token };
  }
  if (credential.type !== "basic") {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" is of type "${credential.type}"; Quay accepts "basic" (a robot account namespace+robot with its token, a user, or $oauthtoken with an OAuth access token), "apiToken" (an OAuth access token) or none`,
    );
  }
  const username = credential.accountID ?? "";
  const password = credential.secret?.plain ?? "";
  if (username === "" || password === "") {
    throw new AuthError(
      ctx,
      `credential "${credential._id}" needs a username (accountID) and a password or token (secret)`,
    );
  }
  return username === OAUTH_USERNAME
    ? { kind: "oauth", token: password }
    : { kind: "account", username, password };
}

function describe(identity: QuayIdentity): string {
  switch (identity.kind) {
    case "anonymous":
      return "anonymous access";
    case "oauth":
      return "the OAuth access token";
    case "account":
      return identity.username.includes("+")
        ? `robot account "${identity.username}"`
        : `user "${identity.username}"`;
  }
}

/** Quay's error in one line: `HTTP 403 insufficient_scope: Unauthorized` (API) or a registry error. */
function answerOf(res: ApiResponse): string {
  let detail = "";
  try {
    const body = JSON.parse(res.text) as Record<string, unknown>;
    const parts = [
      body.error_type ?? body.title,
      body.detail ?? body.error_message ?? body.message ?? body.error,
    ];
    detail = parts.filter((p) => typeof p === "string" && p !== "").join(": ");
  } catch {
    // not JSON: the status says it
  }
  return detail ? `HTTP ${res.status} ${detail}` : `HTTP ${res.status}`;
}

/** Quay's seconds since the epoch; absent, zero or unreadable = unknown. */
function secondsOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
}

class QuaySession implements ProviderSession {
  constructor(
    /** The registry side: login, catalog, tags/list, pulls (the Docker Registry v2 provider's session). */
    private readonly registry: ProviderSession,
    /** The REST API, for credentials it accepts (OAuth tokens, anonymous); undefined for robots and users. */
    private readonly api: RestApi | undefined,
    private readonly identity: QuayIdentity,
    private readonly namespaces: string[],
    /** The specification's `repository` when it names repositories exactly. */
    private readonly exactNames: string[] | undefined,
  ) {}

  get registryHost(): string {
    return this.registry.registryHost;
  }

  get client() {
    return this.registry.client;
  }

  private get who(): string {
    return describe(this.identity);
  }

  /** The typed error for a non-200 API answer to `what`. */
  failure(res: ApiResponse, what: string, ctx: RegistryErrorContext): Error {
    const answer = answerOf(res);
    return apiFailure(res, what, ctx, {
      401:
        this.identity.kind === "anonymous"
          ? `Quay requires authentication (${answer}); give the specification an OAuth access token (apiToken, or basic with username $oauthtoken) or a robot account`
          : `Quay rejected ${this.who} (${answer})`,
      403: `${this.who} is not allowed to (${answer}); the OAuth token needs the repo:read scope, and its user read permission on the repository`,
      404: `not found (${answer})`,
      429: `Quay's rate limit (${answer}); retries exhausted`,
      other: `Quay answered ${answer}`,
    });
  }

  /** A 200 answer's JSON object, or the typed error. */
  private async getObject(
    api: RestApi,
    path: string,
    what: string,
    ctx: RegistryErrorContext,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const res = await api.get(path, signal);
    if (res.status !== 200) throw this.failure(res, what, ctx);
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      throw new ProtocolError(ctx, `${what}: Quay's answer is not JSON`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new ProtocolError(ctx, `${what}: Quay's answer is not a JSON object`);
    }
    return parsed as Record<string, unknown>;
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    const api = this.api;
    if (api === undefined || this.namespaces.length === 0) {
      // Quay's catalog answers anonymous callers with an empty list unless the public catalog is on.
      if (this.identity.kind === "anonymous") {
        if (this.exactNames) return this.exactNames;
        throw new UnsupportedError(
          { registry: this.registryHost },
          "Quay does not list repositories to anonymous callers; give the specification a namespace, name the repositories exactly in `repository`, or give it a credential",
        );
      }
      const listed = await this.registry.listRepositories(signal);
      // The catalog spans every namespace the account reads; the specification's namespaces bound it.
      if (this.namespaces.length === 0) return listed;
      return listed.filter((name) =>
        this.namespaces.includes(name.slice(0, name.indexOf("/")).toLowerCase()),
      );
    }
    const names = new Set<string>();
    for (const namespace of this.namespaces) {
      for (const name of await this.namespaceRepositories(api, namespace, signal)) names.add(name);
    }
    return [...names].sort();
  }

  private async namespaceRepositories(
    api: RestApi,
    namespace: string,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const ctx = { registry: this.registryHost };
    const what = `listing the repositories of namespace "${namespace}"`;
    const names: string[] = [];
    const seen = new Set<string>();
    let nextPage: string | undefined;
    do {
      const query = new URLSearchParams({ namespace, public: "true" });
      if (nextPage !== undefined) query.set("next_page", nextPage);
      const body = await this.getObject(api, `repository?${query}`, what, ctx, signal);
      if (!Array.isArray(body.repositories)) {
        throw new ProtocolError(ctx, `${what}: Quay's answer has no "repositories" list`);
      }
      for (const repository of body.repositories as QuayRepository[]) {
        if (typeof repository?.name !== "string" || repository.name === "") continue;
        const owner = typeof repository.namespace === "string" ? repository.namespace : namespace;
        names.push(`${owner}/${repository.name}`);
      }
      const next = body.next_page;
      nextPage = typeof next === "string" && next !== "" ? next : undefined;
      if (nextPage !== undefined) {
        if (seen.has(nextPage)) throw new ProtocolError(ctx, `${what}: Quay's next_page repeats`);
        seen.add(nextPage);
      }
    } while (nextPage !== undefined);
    if (names.length === 0) {
      throw new NotFoundError(
        ctx,
        `${what}: Quay lists no repositories there to ${this.who}; the namespace does not exist, holds no repositories, or ${this.who} may read none of them`,
      );
    }
    return names;
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const api = this.api;
    if (api === undefined) return this.registry.listTags(repository, options);
    const ctx = { registry: this.registryHost, repository };
    if (!repository.includes("/")) {
      throw new NotFoundError(ctx, "a Quay repository name starts with its namespace (namespace/name)");
    }
    const path = `repository/${repository.split("/").map(encodeURIComponent).join("/")}/tag/`;
    const tags = new Map<string, DiscoveredTag>();
    const now = Date.now() / 1000;
    for (let page = 1; ; page++) {
      if (page > MAX_TAG_PAGES) throw new ProtocolError(ctx, "listing tags: Quay's pages do not end");
      const query = new URLSearchParams({
        onlyActiveTags: "true",
        limit: String(TAG_PAGE_LIMIT),
        page: String(page),
      });
      const body = await this.getObject(api, `${path}?${query}`, "listing tags", ctx, options.signal);
      if (!Array.isArray(body.tags))
        throw new ProtocolError(ctx, `listing tags: Quay's answer has no "tags" list`);
      for (const tag of body.tags as QuayTag[]) {
        const name = tag?.name;
        if (typeof name !== "string" || !isValidTag(name) || isArtifactTag(name) || tags.has(name)) continue;
        const end = secondsOf(tag.end_ts);
        if (end !== undefined && end <= now) continue;
        const start = secondsOf(tag.start_ts);
        tags.set(name, {
          tag: name,
          digest: typeof tag.manifest_digest === "string" ? tag.manifest_digest : undefined,
          pushedAt: start === undefined ? undefined : new Date(start * 1000),
        });
      }
      if (body.has_additional !== true) break;
    }
    return [...tags.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  async close(): Promise<void> {
    await Promise.all([this.registry.close(), this.api?.close()]);
  }
}

const listOf = (text: string) =>
  text
    .split(",")
    .map((element) => element.trim())
    .filter((element) => element !== "");

/**
 * The namespaces to list: the specification's `namespace` (one name or several, comma-separated),
 * else the namespaces a `repository` pattern names literally (`acme/*`, `acme/app,team/*`). None when
 * a pattern element leaves the namespace open (`*`, `*app`, `t*m/app`): then the catalog decides.
 */
function namespacesOf(namespace: string | undefined, repositoryPattern: unknown): string[] {
  const given = listOf(namespace ?? "");
  if (given.length > 0) return [...new Set(given)];
  if (typeof repositoryPattern !== "string") return [];
  const includes = listOf(repositoryPattern).filter((element) => !element.startsWith("-"));
  const named = includes.map((element) => {
    const slash = element.indexOf("/");
    const owner = slash > 0 ? element.slice(0, slash) : "";
    return owner.includes("*") ? "" : owner.toLowerCase();
  });
  return named.length > 0 && named.every((owner) => owner !== "") ? [...new Set(named)] : [];
}

export const coreosProvider: RegistryProvider = {
  type: "coreos",
  credentialTypes: ["basic", "apiToken"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    const registry = context.registry.trim() === "" ? QUAY_IO : context.registry.trim();
    const parsed = parseRegistryAddress(registry);
    const ctx = { registry: parsed.host };
    const identity = identityOf(context.credential, ctx);
    const insecure = (context.insecure ?? false) || parsed.scheme === "http";
    const ca = context.caCert?.trim() || undefined;
    // Quay's registry takes every credential as a Basic login at /v2/auth, an OAuth token as $oauthtoken.
    const registryCredential: ResolvedCredential | undefined =
      identity.kind === "anonymous"
        ? undefined
        : {
            _id: context.credential?._id ?? "",
            type: "basic",
            accountID: identity.kind === "oauth" ? OAUTH_USERNAME : identity.username,
            secret: { plain: identity.kind === "oauth" ? identity.token : identity.password },
          };
    let registrySession: ProviderSession;
    try {
      registrySession = await dockerV2Provider.connect({
        ...context,
        registry,
        insecure,
        caCert: ca,
        credential: registryCredential,
      });
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      throw new AuthError(
        ctx,
        identity.kind === "anonymous"
          ? "checking access to /v2/: Quay requires credentials here; give the specification a robot account (basic) or an OAuth access token (apiToken)"
          : `checking access to /v2/: Quay's /v2/auth rejected ${describe(identity)}${
              identity.kind === "account" && !identity.username.includes("+")
                ? "; a robot account signs in as namespace+robot with its token"
                : ""
            }`,
        { status: err.status, cause: err },
      );
    }
    const api =
      identity.kind === "account"
        ? undefined
        : new RestApi(
            new URL(`${parsed.scheme ?? "https"}://${parsed.host}${parsed.pathPrefix}/api/v1/`),
            ctx,
            {
              insecure,
              ca,
              authorization: identity.kind === "oauth" ? `Bearer ${identity.token}` : undefined,
            },
          );
    return new QuaySession(
      registrySession,
      api,
      identity,
      namespacesOf(context.namespace, context.spec.repository),
      exactRepositories(context.spec.repository),
    );
  },
};
