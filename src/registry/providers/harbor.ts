/**
 * Registry type `harbor` (spec section 8; registries.md 2.8): Harbor 2.x through its REST API v2.0.
 *
 * - `registry`: "https://<harbor-fqdn>" ("http://" = plain HTTP, so insecure); the API
 *   (`/api/v2.0/`), the token service (`/service/token`) and `/v2/` share that origin; a `caCert`
 *   is trusted for all of them.
 * - Credentials: none (public projects only) or `basic`: a user, or a robot account (`robot$name`,
 *   `robot$project+name`) with its secret. Checked at connect against the API and, through
 *   `docker login`'s request, the token service, so a rejected robot fails before any listing.
 * - Repositories: `GET /projects` then `/projects/{project}/repositories` (`page_size` 100, next page
 *   by the `Link` header, the count checked against `X-Total-Count`). The `/v2/_catalog` is for
 *   system administrators only, so it is not used.
 * - Tags: `/projects/{project}/repositories/{name}/artifacts?with_tag=true&q=tags%3D*`, with the name
 *   (the part after the project) URL-encoded twice as Harbor requires (`a/b` → `a%252Fb`). Every tag
 *   carries its artifact's digest and the tag's own `push_time` (when it was attached; the
 *   artifact's when absent). Artifacts that are no container image (Helm charts, CNAB) are skipped.
 */
import { basicHeader, type Credentials } from "../auth.js";
import { RegistryClient } from "../client.js";
import {
  AuthError,
  describeErrorBody,
  NotFoundError,
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

/** Harbor's largest `page_size`. */
const PAGE_SIZE = 100;

interface HarborProject {
  name: string;
}
interface HarborRepository {
  name: string;
}
interface HarborTag {
  name: string;
  push_time?: string | null;
}
interface HarborArtifact {
  type?: string;
  digest: string;
  push_time?: string | null;
  tags?: HarborTag[] | null;
}

function credentialsOf(credential: ResolvedCredential | undefined, ctx: RegistryErrorContext): Credentials {
  if (credential === undefined) return { kind: "anonymous" };
  if (credential.type !== "basic") {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" is of type "${credential.type}"; Harbor accepts "basic" (a user, or a robot account robot$name with its secret) or none`,
    );
  }
  const username = credential.accountID ?? "";
  const password = credential.secret?.plain ?? "";
  if (username === "" || password === "") {
    throw new AuthError(
      ctx,
      `credential "${credential._id}" needs a username (accountID) and a password or robot secret`,
    );
  }
  return { kind: "basic", username, password };
}

/** Harbor's answer in one line: `HTTP 403 FORBIDDEN: forbidden`. */
function answerOf(res: ApiResponse): string {
  const detail = describeErrorBody(res.text);
  return detail ? `HTTP ${res.status} ${detail}` : `HTTP ${res.status}`;
}

/** A `$`-less robot name is what a shell or template leaves of `robot$name`. */
function robotHint(username: string | undefined): string {
  if (username === undefined) return "";
  if (username.startsWith("robot$")) return "; a robot account signs in with its full name and its secret";
  if (/^robot/i.test(username)) {
    return '; robot account names have the form robot$name: was the "$…" expanded by a shell or a template?';
  }
  return "";
}

class HarborSession implements ProviderSession {
  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: RestApi,
    private readonly username: string | undefined,
  ) {}

  private get ctx(): RegistryErrorContext {
    return { registry: this.registryHost };
  }

  get who(): string {
    if (this.username === undefined) return "anonymous access";
    return this.username.startsWith("robot$")
      ? `robot account "${this.username}"`
      : `user "${this.username}"`;
  }

  /** The provider-specific error for a non-200 API answer to `what`. */
  failure(res: ApiResponse, what: string, ctx: RegistryErrorContext = this.ctx): Error {
    const answer = answerOf(res);
    return apiFailure(res, what, ctx, {
      401:
        this.username === undefined
          ? `Harbor requires credentials (${answer}); give the specification a basic credential (a user or a robot account)`
          : `Harbor rejected the credentials of ${this.who} (${answer})${robotHint(this.username)}`,
      403: `${this.who} is not allowed to (${answer}); ${
        this.username?.startsWith("robot$")
          ? 'a robot account needs the project permissions "List Repository", "List Artifact" and "Pull Repository"'
          : "a user needs a role in the project (Limited Guest at least)"
      }`,
      404: `not found (${answer})`,
      other: answer,
    });
  }

  /** Every item of a Harbor list; pages ending short of `X-Total-Count` are an error, never a short list. */
  private list<T>(path: string, what: string, ctx: RegistryErrorContext, signal?: AbortSignal): Promise<T[]> {
    const separator = path.includes("?") ? "&" : "?";
    return this.api.all<T>(
      `${path}${separator}page=1&page_size=${PAGE_SIZE}`,
      what,
      (res) => this.failure(res, what, ctx),
      { signal, totalHeader: "x-total-count" },
    );
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    const projects = await this.list<HarborProject>("projects", "listing projects", this.ctx, signal);
    const names = new Set<string>();
    for (const project of projects) {
      const repositories = await this.list<HarborRepository>(
        `projects/${encodeURIComponent(project.name)}/repositories`,
        `listing the repositories of project "${project.name}"`,
        this.ctx,
        signal,
      );
      for (const repository of repositories) names.add(repository.name);
    }
    return [...names].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const ctx = { registry: this.registryHost, repository };
    const slash = repository.indexOf("/");
    if (slash < 0)
      throw new NotFoundError(ctx, "a Harbor repository name starts with its project (project/name)");
    const project = repository.slice(0, slash);
    const name = repository.slice(slash + 1);
    const artifacts = await this.list<HarborArtifact>(
      `projects/${encodeURIComponent(project)}/repositories/${encodeURIComponent(encodeURIComponent(name))}/artifacts?with_tag=true&q=${encodeURIComponent("tags=*")}`,
      "listing artifacts",
      ctx,
      options.signal,
    );
    const tags = new Map<string, DiscoveredTag>();
    for (const artifact of artifacts) {
      if (artifact.type !== undefined && artifact.type !== "IMAGE") continue;
      for (const tag of artifact.tags ?? []) {
        tags.set(tag.name, {
          tag: tag.name,
          digest: artifact.digest,
          pushedAt: apiTime(tag.push_time ?? artifact.push_time),
        });
      }
    }
    return [...tags.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api.close()]);
  }
}

export const harborProvider: RegistryProvider = {
  type: "harbor",
  credentialTypes: ["basic"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    if (context.registry.trim() === "") {
      throw new UnsupportedError({ registry: "" }, "a Harbor registry needs its URL (https://<harbor-host>)");
    }
    const address = v2AddressOf(context.registry, context.insecure ?? false);
    const ctx = { registry: address.registryHost };
    const credentials = credentialsOf(context.credential, ctx);
    const parsed = parseRegistryAddress(context.registry);
    const scheme = parsed.scheme ?? "https";
    const ca = context.caCert?.trim() || undefined;
    const api = new RestApi(new URL(`${scheme}://${parsed.host}${parsed.pathPrefix}/api/v2.0/`), ctx, {
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
    const session = new HarborSession(client, address.registryHost, api, username);
    try {
      const check = await api.get("projects?page=1&page_size=1");
      if (check.status !== 200) throw session.failure(check, "checking access");
      await client.login().catch((err: unknown) => {
        if (!(err instanceof AuthError)) throw err;
        throw new AuthError(
          ctx,
          `checking access to /v2/: Harbor's token service rejected ${session.who}${robotHint(username)}`,
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
