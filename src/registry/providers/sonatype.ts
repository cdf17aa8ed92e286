/**
 * Registry type `sonatype` (spec section 8; registries.md 2.11): Sonatype Nexus Repository 3 through
 * its REST API, following https://help.sonatype.com/en/repositories-api.html (`GET
 * /service/rest/v1/repositories`), https://help.sonatype.com/en/search-api.html (`GET
 * /service/rest/v1/search`, `continuationToken` paging), https://help.sonatype.com/en/pagination.html
 * and https://help.sonatype.com/en/docker-registry.html (connector ports, path-based routing).
 *
 * - `registry`: one Docker repository, either on its connector port `http(s)://<nexus>:<port>` (the
 *   form the specification documents) or by path `http(s)://<nexus>[:port]/repository/<name>`.
 *   "http://" = plain HTTP, so insecure; a `caCert` is trusted for the API and /v2/. Nexus serves its
 *   REST API on connector ports too, so the API is `<origin>/service/rest/v1/` either way; the
 *   repository is the docker one whose `docker.httpPort`/`httpsPort` is the registry's port (or the
 *   named one), so a port no repository listens on fails at connect naming the connector ports.
 * - Credentials: none (anonymous access, when enabled) or `basic`: a user and its password, or a
 *   user token's name code and pass code. Checked at connect against the REST API and /v2/ (Basic,
 *   or the "Docker Bearer Token Realm" when active, through the distribution client).
 * - Repositories and tags: the search API (`format=docker&repository=<name>`), every page by
 *   `continuationToken`; a component's `name` is the image, `version` the tag; `null` items are
 *   dropped. A group repository is searched through its members (`group.memberNames`; the first
 *   member holding a tag wins, as the group serves it). The tag's manifest asset gives the digest
 *   (`checksum.sha256`) and the push time (`lastModified`, else `blobCreated`).
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
import { isDigest, isValidTag, parseRegistryAddress } from "../reference.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";
import { type ApiResponse, apiFailure, apiTime, RestApi } from "./rest.js";

const MAX_PAGES = 100_000;

interface NexusRepository {
  name: string;
  format: string;
  type: string;
  docker?: { httpPort?: number | null; httpsPort?: number | null } | null;
  group?: { memberNames?: string[] } | null;
}

interface NexusAsset {
  path?: string;
  lastModified?: string | null;
  blobCreated?: string | null;
  checksum?: { sha256?: string } | null;
}

interface NexusComponent {
  name?: string;
  version?: string | null;
  assets?: (NexusAsset | null)[] | null;
}

interface SearchPage {
  items?: (NexusComponent | null)[] | null;
  continuationToken?: string | null;
}

function credentialsOf(credential: ResolvedCredential | undefined, ctx: RegistryErrorContext): Credentials {
  if (credential === undefined) return { kind: "anonymous" };
  if (credential.type !== "basic") {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" is of type "${credential.type}"; Nexus accepts "basic" (a user and password, or a user token's name and pass codes) or none`,
    );
  }
  const username = credential.accountID ?? "";
  const password = credential.secret?.plain ?? "";
  if (username === "" || password === "") {
    throw new AuthError(ctx, `credential "${credential._id}" needs a username (accountID) and a password`);
  }
  return { kind: "basic", username, password };
}

/** Nexus answers errors as text or as JSON; one line of either. */
function answerOf(res: ApiResponse): string {
  const detail = describeErrorBody(res.text);
  return detail ? `HTTP ${res.status}: ${detail}` : `HTTP ${res.status}`;
}

const portOf = (url: URL) => Number(url.port || (url.protocol === "https:" ? 443 : 80));

class NexusSession implements ProviderSession {
  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: RestApi,
    private readonly username: string | undefined,
    /** The repositories searched: the one of the registry value, or a group's members. */
    private readonly searched: string[],
    private readonly repository: string,
  ) {}

  private get ctx(): RegistryErrorContext {
    return { registry: this.registryHost };
  }

  failure(res: ApiResponse, what: string, ctx: RegistryErrorContext = this.ctx): Error {
    return nexusFailure(res, what, ctx, this.username);
  }

  /** Every component of the searched repositories (optionally of one image), across all pages. */
  private async components(image: string | undefined, ctx: RegistryErrorContext, signal?: AbortSignal) {
    const found: { repository: string; component: NexusComponent }[] = [];
    for (const repository of this.searched) {
      const what = `searching Nexus repository "${repository}"`;
      const query = new URLSearchParams({ format: "docker", repository });
      if (image !== undefined) query.set("name", image);
      const seen = new Set<string>();
      let token: string | null | undefined;
      for (let pages = 0; ; pages++) {
        if (token) query.set("continuationToken", token);
        if (pages >= MAX_PAGES || seen.has(query.toString())) {
          throw new ProtocolError(ctx, `${what}: the continuationToken paging does not end`);
        }
        seen.add(query.toString());
        const res = await this.api.get(`search?${query}`, signal);
        if (res.status !== 200) throw this.failure(res, what, ctx);
        let page: SearchPage;
        try {
          page = JSON.parse(res.text) as SearchPage;
        } catch {
          throw new ProtocolError(ctx, `${what}: Nexus's answer is not JSON`);
        }
        if (page === null || typeof page !== "object" || (page.items != null && !Array.isArray(page.items))) {
          throw new ProtocolError(ctx, `${what}: expected {items, continuationToken}`);
        }
        for (const component of page.items ?? []) {
          if (component !== null && typeof component.name === "string") found.push({ repository, component });
        }
        token = page.continuationToken;
        if (!token) break;
      }
    }
    return found;
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    const components = await this.components(undefined, this.ctx, signal);
    return [...new Set(components.map((c) => c.component.name as string))].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const ctx = { registry: this.registryHost, repository };
    const components = await this.components(repository, ctx, options.signal);
    const tags = new Map<string, DiscoveredTag>();
    for (const { component } of components) {
      // The search matches names by prefix in some versions; keep the image's own components.
      const tag = component.version;
      if (component.name !== repository || typeof tag !== "string") continue;
      if (!isValidTag(tag) || isDigest(tag) || tags.has(tag)) continue;
      if (!options.withTimes) {
        tags.set(tag, { tag });
        continue;
      }
      const assets = (component.assets ?? []).filter((a): a is NexusAsset => a !== null);
      const manifest = assets.find((a) => a.path === `v2/${repository}/manifests/${tag}`) ?? assets[0];
      const sha256 = manifest?.checksum?.sha256;
      tags.set(tag, {
        tag,
        digest: sha256 ? `sha256:${sha256}` : undefined,
        pushedAt: apiTime(manifest?.lastModified) ?? apiTime(manifest?.blobCreated),
      });
    }
    if (components.length === 0) {
      throw new NotFoundError(
        ctx,
        `Nexus repository "${this.repository}" holds no image "${repository}" (the search API found no component)`,
        { status: 404 },
      );
    }
    return [...tags.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api.close()]);
  }
}

function nexusFailure(
  res: ApiResponse,
  what: string,
  ctx: RegistryErrorContext,
  username: string | undefined,
): Error {
  const answer = answerOf(res);
  const who = username === undefined ? "anonymous access" : `user "${username}"`;
  return apiFailure(res, what, ctx, {
    401:
      username === undefined
        ? `Nexus requires credentials (${answer}); give the specification a basic credential, or enable anonymous access in Nexus`
        : `Nexus rejected the credentials of ${who} (${answer}); check the user name and password (or user token codes)`,
    403: `${who} is not allowed to (${answer}); the user needs the privileges nx-repository-view-docker-<repository>-browse and -read`,
    404: `not found (${answer}); check that the registry is the Nexus address with the repository's connector port`,
    429: `Nexus kept answering ${answer} after the retries; lower the scan's concurrency`,
    other: `Nexus answered ${answer}`,
  });
}

export const sonatypeProvider: RegistryProvider = {
  type: "sonatype",
  credentialTypes: ["basic"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    if (context.registry.trim() === "") {
      throw new UnsupportedError(
        { registry: "" },
        "a Nexus registry needs its address: http(s)://<nexus-host>:<connector port of the docker repository>",
      );
    }
    const parsed = parseRegistryAddress(context.registry);
    const ctx = { registry: parsed.host };
    const credentials = credentialsOf(context.credential, ctx);
    const scheme = parsed.scheme ?? "https";
    const insecure = (context.insecure ?? false) || scheme === "http";
    const routed = /^(.*)\/repository\/([^/]+)$/.exec(parsed.pathPrefix);
    const origin = `${scheme}://${parsed.host}${routed ? routed[1] : parsed.pathPrefix}`;
    const ca = context.caCert?.trim() || undefined;
    const username = credentials.kind === "basic" ? credentials.username : undefined;
    const api = new RestApi(new URL(`${origin}/service/rest/v1/`), ctx, {
      insecure,
      ca,
      authorization:
        credentials.kind === "basic" ? basicHeader(credentials.username, credentials.password) : undefined,
    });
    const client = new RegistryClient({
      registry: routed ? `${origin}/repository/${routed[2]}` : origin,
      credentials,
      insecure,
      ca,
    });
    const closeAll = () => Promise.all([client.close(), api.close()]);
    try {
      const what = "listing repositories";
      const res = await api.get("repositories");
      if (res.status !== 200) throw nexusFailure(res, what, ctx, username);
      const docker = api.array<NexusRepository>(res, what).filter((r) => r.format === "docker");
      const port = portOf(new URL(origin));
      const repository = routed
        ? docker.find((r) => r.name === decodeURIComponent(routed[2] ?? ""))
        : docker.find((r) => r.docker?.httpPort === port || r.docker?.httpsPort === port);
      if (repository === undefined) {
        const who = username === undefined ? "anonymous access" : `user "${username}"`;
        const connectors = docker
          .flatMap((r) => [r.docker?.httpPort, r.docker?.httpsPort].map((p) => (p ? `${r.name}: ${p}` : "")))
          .filter(Boolean);
        throw new NotFoundError(
          ctx,
          routed
            ? `Nexus has no docker repository "${routed[2]}" visible to ${who} (docker repositories: ${docker.map((r) => r.name).join(", ") || "none"}); Nexus shows a repository to users with its nx-repository-view-docker-<name>-browse privilege`
            : `no Nexus docker repository visible to ${who} has its connector on port ${port}; use the repository's connector port (${connectors.join(", ") || "none visible"}) or http(s)://<nexus>/repository/<name>; Nexus shows a repository to users with its nx-repository-view-docker-<name>-browse privilege`,
        );
      }
      const searched =
        repository.type === "group" ? (repository.group?.memberNames ?? []) : [repository.name];
      await client.login().catch((err: unknown) => {
        if (!(err instanceof AuthError)) throw err;
        throw new AuthError(
          ctx,
          `checking access to /v2/ of repository "${repository.name}": Nexus rejected ${username === undefined ? "anonymous access" : `user "${username}"`}; check the credentials, and for tokens that the Docker Bearer Token Realm is active`,
          { status: err.status, cause: err },
        );
      });
      return new NexusSession(client, parsed.host, api, username, searched, repository.name);
    } catch (err) {
      await closeAll();
      throw err;
    }
  },
};
