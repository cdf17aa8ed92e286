/**
 * Registry type `dtr` (spec section 8; registries.md 2.12): Mirantis Secure Registry / Docker Trusted
 * Registry 2.x through its REST API v0. Paths, paging and field names follow the DTR/MSR 2.x API
 * reference (its swagger), as Harbor's DTR replication adapter also uses them
 * (goharbor/harbor src/pkg/reg/adapter/dtr); credentials follow
 * https://docs.mirantis.com/msr/2.8/ops/manage-access-tokens.html ("use an access token anywhere
 * that requires your password": `docker login` and `curl --user <username>:<token> …/api/v0/repositories`).
 *
 * - `registry`: the DTR URL, "https://<dtr-host>" ("http://" = plain HTTP, so insecure); the API
 *   (`/api/v0/`), the token service (`/auth/token`) and `/v2/` share that origin; a `caCert` is
 *   trusted for all of them.
 * - Credentials: none (public repositories only) or `basic` / `dtr` (which of the two Prisma Cloud
 *   uses for DTR is not documented, so both): the username in `accountID`, the password or an access
 *   token in `secret.plain`. The API takes them as Basic auth; /v2/ answers with a Bearer challenge
 *   whose realm is DTR's `/auth/token`, which the distribution client follows with the same
 *   credentials. Both are checked at connect, so wrong credentials fail before any listing.
 * - Repositories: `GET /repositories` (every repository the caller can see), or
 *   `GET /repositories/{namespace}` for a specification with a namespace; `{repositories:[{namespace,
 *   name, ...}]}` in pages of `pageSize`, the next page's start in the `X-Next-Page-Start` header,
 *   sent back as `pageStart`. The `/v2/_catalog` is not relied upon.
 * - Tags: `GET /repositories/{namespace}/{name}/tags` with the same paging, an array of `{name,
 *   digest, createdAt, updatedAt, manifest:{digest, ...}}`. The push time is `updatedAt` (the last
 *   push to the tag, which moves it), else `createdAt`.
 * - Errors: DTR's `{"errors":[{"code","message","detail"}]}` is quoted in every error.
 * - MSR 4 is built on Harbor: a registry without `/api/v0` whose `/api/v2.0/systeminfo` answers is
 *   handed to the Harbor provider (registries.md 2.8) with the same credentials, as a basic one.
 */

import { basicHeader, type Credentials } from "../auth.js";
import { RegistryClient } from "../client.js";
import {
  AuthError,
  describeErrorBody,
  NotFoundError,
  ProtocolError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { parseRegistryAddress } from "../reference.js";
import { header } from "../transport.js";
import { v2AddressOf } from "./docker-v2.js";
import { harborProvider } from "./harbor.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";
import { type ApiResponse, apiFailure, apiTime, RestApi } from "./rest.js";

/** The page size Harbor's DTR adapter asks for too; DTR's maximum is not in the material available. */
const PAGE_SIZE = 100;
const MAX_PAGES = 100_000;
const CREDENTIAL_TYPES = ["basic", "dtr"] as const;

interface DtrRepository {
  namespace?: string;
  name?: string;
}
interface DtrTag {
  name?: string;
  digest?: string;
  createdAt?: string | null;
  updatedAt?: string | null;
  manifest?: { digest?: string } | null;
}
interface DtrError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
}

function credentialsOf(credential: ResolvedCredential | undefined, ctx: RegistryErrorContext): Credentials {
  if (credential === undefined) return { kind: "anonymous" };
  if (!(CREDENTIAL_TYPES as readonly string[]).includes(credential.type)) {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" is of type "${credential.type}"; DTR accepts "basic" or "dtr" (a DTR user and its password or access token) or none`,
    );
  }
  const username = credential.accountID ?? "";
  const password = credential.secret?.plain ?? "";
  if (username === "" || password === "") {
    throw new AuthError(
      ctx,
      `credential "${credential._id}" needs the DTR username (accountID) and its password or access token`,
    );
  }
  return { kind: "basic", username, password };
}

/** DTR's error body in one line: `NO_SUCH_REPOSITORY: A repository with the given name does not exist`. */
function dtrErrorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: DtrError[] };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) {
      return parsed.errors
        .map((e) => {
          const detail =
            e.detail === undefined || e.detail === null || e.detail === "" ? "" : JSON.stringify(e.detail);
          const text = [e.code, e.message].filter((part) => part !== undefined && part !== "").join(": ");
          return detail && detail !== "{}" ? `${text} (${detail})` : text;
        })
        .join("; ");
    }
  } catch {
    // not JSON: a proxy's page, shortened below
  }
  return describeErrorBody(body);
}

function answerOf(res: ApiResponse): string {
  const text = dtrErrorText(res.text);
  return text ? `HTTP ${res.status} ${text}` : `HTTP ${res.status}`;
}

class DtrSession implements ProviderSession {
  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: RestApi,
    private readonly username: string | undefined,
    private readonly namespace: string | undefined,
  ) {}

  private get who(): string {
    return this.username === undefined ? "anonymous access" : `user "${this.username}"`;
  }

  /** The typed error for a non-200 API answer to `what`. */
  failure(
    res: ApiResponse,
    what: string,
    ctx: RegistryErrorContext = { registry: this.registryHost },
  ): Error {
    const answer = answerOf(res);
    return apiFailure(res, what, ctx, {
      401:
        this.username === undefined
          ? `DTR requires credentials (${answer}); give the specification a basic credential (a DTR user and its password or access token)`
          : `DTR rejected the credentials of ${this.who} (${answer}); check the username and the password or access token`,
      403: `${this.who} is not allowed to (${answer}); the user needs read access to the repository (team or organization permission, or its own namespace)`,
      404: `not found (${answer})`,
      429: `DTR kept answering ${answer} after the retries; lower the scan's concurrency`,
      other: `DTR answered ${answer}`,
    });
  }

  /**
   * Every item of a paged DTR list: `pageSize` on every request, the `X-Next-Page-Start` of each
   * answer as the next request's `pageStart` until an answer has none. `items` takes a page's JSON.
   */
  private async pages<T>(
    path: string,
    what: string,
    ctx: RegistryErrorContext,
    items: (parsed: unknown) => T[] | undefined,
    signal?: AbortSignal,
  ): Promise<T[]> {
    const all: T[] = [];
    const starts = new Set<string>();
    let start: string | undefined;
    for (let pages = 0; ; pages++) {
      if (pages >= MAX_PAGES) throw new ProtocolError(ctx, `${what}: pagination does not end`);
      const query = new URLSearchParams({ pageSize: String(PAGE_SIZE) });
      if (start !== undefined) query.set("pageStart", start);
      const res = await this.api.get(`${path}?${query}`, signal);
      if (res.status !== 200) throw this.failure(res, what, ctx);
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.text);
      } catch {
        throw new ProtocolError(ctx, `${what}: DTR's answer is not JSON (${describeErrorBody(res.text)})`);
      }
      const page = items(parsed);
      if (page === undefined) throw new ProtocolError(ctx, `${what}: DTR's answer has an unexpected shape`);
      all.push(...page);
      const next = header(res.headers, "x-next-page-start")?.trim();
      if (!next) return all;
      // A start that comes back names a page already read: following it would never end.
      if (starts.has(next))
        throw new ProtocolError(ctx, `${what}: pagination does not end (pageStart ${next})`);
      starts.add(next);
      start = next;
    }
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    const path = this.namespace ? `repositories/${encodeURIComponent(this.namespace)}` : "repositories";
    const what = this.namespace
      ? `listing the repositories of namespace "${this.namespace}"`
      : "listing repositories";
    const ctx = { registry: this.registryHost };
    const repositories = await this.pages<DtrRepository>(
      path,
      what,
      ctx,
      (parsed) => {
        const list = (parsed as { repositories?: unknown } | null)?.repositories;
        return Array.isArray(list) ? (list as DtrRepository[]) : undefined;
      },
      signal,
    );
    const names = new Set<string>();
    for (const repository of repositories) {
      if (typeof repository?.namespace !== "string" || typeof repository.name !== "string") {
        throw new ProtocolError(ctx, `${what}: a repository without namespace or name`);
      }
      names.add(`${repository.namespace}/${repository.name}`);
    }
    return [...names].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const ctx = { registry: this.registryHost, repository };
    const parts = repository.split("/");
    if (parts.length !== 2 || parts.some((p) => p === "")) {
      throw new NotFoundError(ctx, "a DTR repository name is its namespace and its name (namespace/name)");
    }
    const [namespace, name] = parts as [string, string];
    const tags = await this.pages<DtrTag>(
      `repositories/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/tags`,
      "listing tags",
      ctx,
      // DTR answers a repository without tags as an empty array, some versions as null.
      (parsed) => (parsed === null ? [] : Array.isArray(parsed) ? (parsed as DtrTag[]) : undefined),
      options.signal,
    );
    const byName = new Map<string, DiscoveredTag>();
    for (const tag of tags) {
      if (typeof tag?.name !== "string" || tag.name === "") {
        throw new ProtocolError(ctx, "listing tags: a tag without a name");
      }
      byName.set(tag.name, {
        tag: tag.name,
        digest: tag.digest || tag.manifest?.digest || undefined,
        pushedAt: apiTime(tag.updatedAt) ?? apiTime(tag.createdAt),
      });
    }
    return [...byName.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api.close()]);
  }
}

/**
 * MSR 4 is Harbor (https://docs.mirantis.com/msr/4.0/migration: a new code base, deployed from the
 * Harbor Helm chart): no `/api/v0`, but Harbor's `/api/v2.0/systeminfo`, which answers anonymous
 * callers too.
 */
async function isHarbor(api: RestApi): Promise<boolean> {
  const res = await api.get("../v2.0/systeminfo");
  if (res.status !== 200) return false;
  try {
    const info = JSON.parse(res.text) as { harbor_version?: unknown; auth_mode?: unknown } | null;
    return typeof info?.harbor_version === "string" || typeof info?.auth_mode === "string";
  } catch {
    return false;
  }
}

export const dtrProvider: RegistryProvider = {
  type: "dtr",
  credentialTypes: CREDENTIAL_TYPES,

  async connect(context: ProviderContext): Promise<ProviderSession> {
    if (context.registry.trim() === "") {
      throw new UnsupportedError({ registry: "" }, "a DTR registry needs its URL (https://<dtr-host>)");
    }
    const address = v2AddressOf(context.registry, context.insecure ?? false);
    const ctx = { registry: address.registryHost };
    const credentials = credentialsOf(context.credential, ctx);
    const parsed = parseRegistryAddress(context.registry);
    const scheme = parsed.scheme ?? "https";
    const ca = context.caCert?.trim() || undefined;
    const api = new RestApi(new URL(`${scheme}://${parsed.host}${parsed.pathPrefix}/api/v0/`), ctx, {
      insecure: address.insecure,
      ca,
      authorization:
        credentials.kind === "basic" ? basicHeader(credentials.username, credentials.password) : undefined,
    });
    const client = new RegistryClient({
      registry: address.address,
      credentials,
      insecure: address.insecure,
      ca,
    });
    const username = credentials.kind === "basic" ? credentials.username : undefined;
    const namespace = context.namespace?.trim() || undefined;
    const session = new DtrSession(client, address.registryHost, api, username, namespace);
    let harbor = false;
    try {
      const check = await api.get(
        namespace ? `repositories/${encodeURIComponent(namespace)}?pageSize=1` : "repositories?pageSize=1",
      );
      harbor = check.status === 404 && (await isHarbor(api));
      if (!harbor && check.status !== 200) {
        throw session.failure(
          check,
          namespace ? `checking access to namespace "${namespace}"` : "checking access",
        );
      }
      if (!harbor) {
        await client.login().catch((err: unknown) => {
          if (!(err instanceof AuthError)) throw err;
          throw new AuthError(
            ctx,
            `checking access to /v2/: DTR's token service (/auth/token) rejected ${username === undefined ? "anonymous access" : `user "${username}"`}`,
            { status: err.status, cause: err },
          );
        });
      }
    } catch (err) {
      await session.close();
      throw err;
    }
    if (harbor) {
      await session.close();
      // Harbor takes the same username and password (or robot secret) as a basic credential.
      const credential = context.credential && { ...context.credential, type: "basic" as const };
      return harborProvider.connect({ ...context, credential });
    }
    return session;
  },
};
