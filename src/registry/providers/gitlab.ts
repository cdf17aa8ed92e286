/**
 * Registry type `gitlab` (spec section 8 and 7.2 `gitlabRegistrySpec`; registries.md 2.7): the GitLab
 * container registry, discovered through the GitLab REST API v4.
 *
 * - `registry`: the registry ("https://registry.gitlab.com", a self-managed `host:5050`, "http://"
 *   for plain HTTP). The API lives on the GitLab host: `gitlabRegistrySpec.apiDomainName` (a host or
 *   URL) when given, else gitlab.com for registry.gitlab.com, the host without its `registry.` label,
 *   or the registry's host on the default port. A `caCert` is trusted for the API and the registry.
 * - Credentials: `gitlabToken` or `apiToken` with the token in `apiToken` (or `secret`): a personal,
 *   project or group access token with `read_api` and `read_registry`, sent as `Authorization: Bearer`
 *   (GitLab's alternative to `PRIVATE-TOKEN`, kept on the API origin by the transport). The
 *   registry's `/jwt/auth` realm gets Basic `username:token`, the username being `accountID` or, when
 *   empty, the token's own user from `GET /user`. Deploy and CI job tokens work on the registry only,
 *   so they cannot discover anything. Both checks run at connect.
 * - Repositories (GitLab's precedence): project and group IDs when given (`/projects/:id/registry/
 *   repositories`, `/groups/:id/registry/repositories` with sub-groups), else the user's projects
 *   (`/users/:id/projects`, then each project's repositories); `excludedGroupIDs` drops the
 *   repositories under those groups; repositories scheduled for deletion are skipped. Lists are paged
 *   by the `Link` header or `X-Next-Page`.
 * - Tags: `.../repositories/:repository_id/tags`; with times, each tag's details (`created_at`, the
 *   image config's creation time: the REST API has no push time) and `digest`, one call per tag with
 *   bounded concurrency.
 */
import type { Credentials } from "../auth.js";
import { mapBounded } from "../backoff.js";
import { RegistryClient } from "../client.js";
import {
  AuthError,
  NotFoundError,
  ProtocolError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { parseRegistryAddress } from "../reference.js";
import { v2AddressOf } from "./docker-v2.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";
import { type ApiResponse, apiFailure, apiTime, RestApi } from "./rest.js";

const PER_PAGE = 100;
/** Tag detail requests in flight for one repository. */
const TAG_DETAIL_CONCURRENCY = 8;
const TOKEN_HINT =
  "discovery needs a personal, project or group access token with the read_api and read_registry scopes (deploy and CI job tokens work on the registry only)";

interface GitlabRegistrySpec {
  userID?: string;
  projectIDs?: string[];
  groupIDs?: string[];
  excludedGroupIDs?: string[];
  apiDomainName?: string;
}

interface GitlabRepository {
  id: number;
  path: string;
  project_id: number;
  status?: string | null;
}
interface GitlabProject {
  id: number;
}
interface GitlabTag {
  name: string;
}
interface GitlabTagDetails {
  digest?: string | null;
  created_at?: string | null;
}

/** The GitLab API root (`…/api/v4/`) for a registry address and an optional apiDomainName. */
export function gitlabApiBase(registry: string, apiDomainName?: string): URL {
  const domain = apiDomainName?.trim() ?? "";
  if (domain !== "") {
    const withScheme = /^https?:\/\//i.test(domain) ? domain : `https://${domain}`;
    return new URL(`${withScheme.replace(/\/+$/, "")}/api/v4/`);
  }
  const address = parseRegistryAddress(registry);
  const hostname = address.host.replace(/:\d+$/, "");
  const scheme = address.scheme ?? "https";
  const gitlabHost =
    hostname === "registry.gitlab.com"
      ? "gitlab.com"
      : hostname.startsWith("registry.")
        ? hostname.slice("registry.".length)
        : hostname;
  return new URL(`${scheme}://${gitlabHost}/api/v4/`);
}

function tokenOf(credential: ResolvedCredential | undefined, ctx: RegistryErrorContext): string | undefined {
  if (credential === undefined) return undefined;
  if (credential.type !== "gitlabToken" && credential.type !== "apiToken") {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" is of type "${credential.type}"; GitLab accepts "gitlabToken" or "apiToken" (an access token with read_api and read_registry)`,
    );
  }
  const token = credential.apiToken?.plain || credential.secret?.plain || "";
  if (token === "") throw new AuthError(ctx, `credential "${credential._id}" has no token (apiToken)`);
  return token;
}

/** GitLab's answer in one line: `HTTP 404: 404 Project Not Found`. */
function answerOf(res: ApiResponse): string {
  try {
    const body = JSON.parse(res.text) as { message?: unknown; error?: unknown; error_description?: unknown };
    const text =
      typeof body.message === "string"
        ? body.message
        : [body.error, body.error_description].filter((part) => typeof part === "string").join(": ");
    if (text) return `HTTP ${res.status}: ${text}`;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}

function failure(res: ApiResponse, what: string, ctx: RegistryErrorContext): Error {
  const answer = answerOf(res);
  return apiFailure(res, what, ctx, {
    401: `GitLab rejected the token (${answer}); ${TOKEN_HINT}`,
    403: `the token may not do this (${answer}); ${TOKEN_HINT}`,
    404: `not found or not visible to this token (${answer})`,
    other: answer,
  });
}

/** GitLab's next page when it sends no Link header (`X-Next-Page`, empty on the last page). */
function xNextPage(res: ApiResponse): URL | undefined {
  const next = res.headers["x-next-page"];
  const page = Array.isArray(next) ? next[0] : next;
  if (!page) return undefined;
  const url = new URL(res.url);
  url.searchParams.set("page", page);
  return url;
}

const idsOf = (value: unknown): string[] =>
  Array.isArray(value) ? value.map((v) => String(v).trim()).filter((v) => v !== "") : [];

class GitlabSession implements ProviderSession {
  /** Discovered repository path → where the API keeps it. */
  private readonly located = new Map<string, { projectId: number; repositoryId: number }>();

  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: RestApi,
    private readonly spec: GitlabRegistrySpec,
  ) {}

  /** Every item of a GitLab list; pages ending short of `X-Total` are an error, never a short list. */
  private list<T>(path: string, what: string, ctx: RegistryErrorContext, signal?: AbortSignal): Promise<T[]> {
    const separator = path.includes("?") ? "&" : "?";
    return this.api.all<T>(
      `${path}${separator}per_page=${PER_PAGE}`,
      what,
      (res) => failure(res, what, ctx),
      {
        signal,
        nextPage: xNextPage,
        totalHeader: "x-total",
      },
    );
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    const ctx = { registry: this.registryHost };
    const projectIds = idsOf(this.spec.projectIDs);
    const groupIds = idsOf(this.spec.groupIDs);
    const userId = this.spec.userID?.trim() ?? "";
    const found: GitlabRepository[] = [];
    const ofProject = async (id: string) =>
      found.push(
        ...(await this.list<GitlabRepository>(
          `projects/${encodeURIComponent(id)}/registry/repositories`,
          `listing the registry repositories of project ${id}`,
          ctx,
          signal,
        )),
      );
    // gitlabRegistrySpec precedence (spec 7.2): project and group IDs win over the user ID.
    if (projectIds.length > 0 || groupIds.length > 0) {
      for (const id of projectIds) await ofProject(id);
      for (const id of groupIds) {
        found.push(
          ...(await this.list<GitlabRepository>(
            `groups/${encodeURIComponent(id)}/registry/repositories`,
            `listing the registry repositories of group ${id}`,
            ctx,
            signal,
          )),
        );
      }
    } else if (userId !== "") {
      const projects = await this.list<GitlabProject>(
        `users/${encodeURIComponent(userId)}/projects`,
        `listing the projects of user ${userId}`,
        ctx,
        signal,
      );
      for (const project of projects) await ofProject(String(project.id));
    } else {
      throw new UnsupportedError(
        ctx,
        "a GitLab registry needs gitlabRegistrySpec.userID, projectIDs or groupIDs",
      );
    }
    const excluded = await this.excludedPaths(ctx, signal);
    this.located.clear();
    for (const repository of found) {
      if (repository.status === "delete_scheduled") continue;
      if (excluded.some((path) => repository.path.startsWith(`${path}/`))) continue;
      this.located.set(repository.path, { projectId: repository.project_id, repositoryId: repository.id });
    }
    return [...this.located.keys()].sort();
  }

  /** Full paths of the excludedGroupIDs groups. */
  private async excludedPaths(ctx: RegistryErrorContext, signal?: AbortSignal): Promise<string[]> {
    const paths: string[] = [];
    for (const id of idsOf(this.spec.excludedGroupIDs)) {
      const what = `reading excluded group ${id}`;
      const res = await this.api.get(`groups/${encodeURIComponent(id)}`, signal);
      if (res.status !== 200) throw failure(res, what, ctx);
      const group = JSON.parse(res.text) as { full_path?: unknown };
      if (typeof group.full_path !== "string")
        throw new ProtocolError(ctx, `${what}: no full_path in the answer`);
      paths.push(group.full_path);
    }
    return paths;
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const ctx = { registry: this.registryHost, repository };
    if (this.located.size === 0) await this.listRepositories(options.signal);
    const where = this.located.get(repository);
    if (!where) {
      throw new NotFoundError(
        ctx,
        "not among the registry repositories of the specification's gitlabRegistrySpec",
      );
    }
    const base = `projects/${where.projectId}/registry/repositories/${where.repositoryId}/tags`;
    const names = (await this.list<GitlabTag>(base, "listing tags", ctx, options.signal))
      .map((t) => t.name)
      .sort();
    if (!options.withTimes) return names.map((tag) => ({ tag }));
    const dated = await mapBounded(names, TAG_DETAIL_CONCURRENCY, async (tag) => {
      const what = `reading the details of tag ${tag}`;
      const res = await this.api.get(`${base}/${encodeURIComponent(tag)}`, options.signal);
      // Listed, then deleted: the tag is gone.
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw failure(res, what, { ...ctx, reference: tag });
      const details = JSON.parse(res.text) as GitlabTagDetails;
      return {
        tag,
        digest: details.digest ?? undefined,
        pushedAt: apiTime(details.created_at),
      } satisfies DiscoveredTag;
    });
    return dated.filter((tag) => tag !== undefined);
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api.close()]);
  }
}

export const gitlabProvider: RegistryProvider = {
  type: "gitlab",
  credentialTypes: ["gitlabToken", "apiToken"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    if (context.registry.trim() === "") {
      throw new UnsupportedError(
        { registry: "" },
        "a GitLab registry needs its address (e.g. https://registry.gitlab.com)",
      );
    }
    const address = v2AddressOf(context.registry, context.insecure ?? false);
    const ctx = { registry: address.registryHost };
    const spec = (context.spec.gitlabRegistrySpec ?? {}) as GitlabRegistrySpec;
    const token = tokenOf(context.credential, ctx);
    const base = gitlabApiBase(context.registry, spec.apiDomainName);
    const ca = context.caCert?.trim() || undefined;
    const api = new RestApi(base, ctx, {
      insecure: address.insecure,
      ca,
      // GitLab takes access tokens as PRIVATE-TOKEN or as a Bearer authorization; the latter is the
      // one the transport never carries to another origin on a redirect.
      authorization: token === undefined ? undefined : `Bearer ${token}`,
    });
    let credentials: Credentials = { kind: "anonymous" };
    let client: RegistryClient | undefined;
    try {
      if (token !== undefined) {
        const res = await api.get("user");
        if (res.status !== 200) throw failure(res, `checking the token at ${base.origin}`, ctx);
        const user = JSON.parse(res.text) as { username?: unknown };
        const username =
          context.credential?.accountID || (typeof user.username === "string" ? user.username : "");
        credentials = { kind: "basic", username, password: token };
      }
      client = new RegistryClient({ registry: address.address, credentials, insecure: address.insecure, ca });
      const who =
        credentials.kind === "basic" ? `user "${credentials.username}" with the token` : "anonymous access";
      await client.login().catch((err: unknown) => {
        if (!(err instanceof AuthError)) throw err;
        throw new AuthError(
          ctx,
          `GitLab's /jwt/auth rejected ${who}; the token needs the read_registry scope`,
          {
            status: err.status,
            cause: err,
          },
        );
      });
    } catch (err) {
      await Promise.all([api.close(), client?.close()]);
      throw err;
    }
    return new GitlabSession(client, address.registryHost, api, spec);
  },
};
