/**
 * Registry type `jfrog` (spec section 8; registries.md 2.10): JFrog Artifactory / JFrog Container
 * Registry through its REST API, following
 * https://jfrog.com/help/r/jfrog-rest-apis/get-repositories (repository keys),
 * https://jfrog.com/help/r/jfrog-rest-apis/list-docker-repositories and list-docker-tags (the Docker
 * API under `/artifactory/api/docker/<key>/v2/`), https://jfrog.com/help/r/jfrog-rest-apis/file-info
 * (the Storage API) and https://jfrog.com/help/r/jfrog-artifactory-documentation/the-repository-path-method-for-docker.
 *
 * - `registry`: the Artifactory URL, "https://<host>" or "https://<host>/artifactory" ("http://" =
 *   plain HTTP, so insecure). The REST API is `<host>/artifactory/api/`; images are pulled by the
 *   repository-path method (`<host>/v2/<repo-key>/<image>`, Artifactory's default since 5.8 and the
 *   only one on SaaS), so every repository is named `<repo-key>/<image>`. "https://<host>/<repo-key>"
 *   (a Docker reference's registry part under that method) scans that one key whatever its type.
 *   A `caCert` is trusted for both. Under the subdomain method (`https://<key>.<host>`: the reverse
 *   proxy maps the host's /v2/ to that key and passes /artifactory/ on) the host's first label is a
 *   Docker key: that key alone is scanned and its images are named `<image>`. Under the port method
 *   (`https://<host>:<port>`: the reverse proxy rewrites that port's /v2/ to one key and passes
 *   /artifactory/ on) the key is the one Get Reverse Proxy Configuration
 *   (`GET api/system/configuration/webServer`, https://jfrog.com/help/r/jfrog-rest-apis/get-reverse-proxy-configuration,
 *   readable by non-admin users for the keys they may read) assigns to that port under
 *   `PORTPERREPO`; it is scanned alone, images named `<image>`, as under the subdomain method. Prisma
 *   Cloud does not support the port method (spec section 8); this goes beyond it.
 * - Credentials: none (anonymous access, when enabled) or `basic`: a user with its password, or with
 *   an access/identity token as the password (Docker's own form). Checked at connect against the
 *   REST API and, through `docker login`'s request, the `/v2/token` realm.
 * - Repositories: `GET api/repositories?packageType=docker` → keys, kept when their type (LOCAL,
 *   REMOTE, VIRTUAL, FEDERATED counted as local) is in `jfrogRepoTypes` (all three when unset); per
 *   key the `api/docker/<key>/v2/_catalog` in pages of `n`.
 * - Tags: `api/docker/<key>/v2/<image>/tags/list` in pages, digest-looking and null entries dropped.
 *   Artifactory's `Link` for the next page may lack the `/artifactory/api/docker/<key>` prefix and
 *   `n` (RTFACT-18971), so the next page is always the current URL with the Link's `last`.
 * - Push times (`withTimes`): per tag the Storage API's file info of `<image>/<tag>/manifest.json`
 *   (`list.manifest.json` for an index): `created` is when the tag's manifest was deployed, and its
 *   `checksums.sha256` the manifest digest. The Storage API reads metadata only, so scanning a local
 *   repository leaves the artifacts' "Last Downloaded" as it was.
 */
import { basicHeader, type Credentials } from "../auth.js";
import { mapBounded } from "../backoff.js";
import { RegistryClient } from "../client.js";
import {
  AuthError,
  describeErrorBody,
  NotFoundError,
  ProtocolError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { nextLink } from "../link-header.js";
import { isDigest, isValidTag, parseRegistryAddress } from "../reference.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";
import { type ApiResponse, apiFailure, apiTime, RestApi } from "./rest.js";

/** Entries per catalog and tag list page. */
const PAGE_SIZE = 100;
const MAX_PAGES = 100_000;
/** Storage API requests in flight per repository. */
const TIME_CONCURRENCY = 8;

export type JfrogRepoType = "local" | "remote" | "virtual";
const REPO_TYPES: readonly JfrogRepoType[] = ["local", "remote", "virtual"];

interface ArtifactoryRepository {
  key: string;
  type: string;
}

/** The parts of Get Reverse Proxy Configuration read here. */
interface ReverseProxyConfiguration {
  dockerReverseProxyMethod?: string;
  reverseProxyRepositories?: { reverseProxyRepoConfigs?: { repoRef?: string; port?: number }[] };
}

interface FileInfo {
  created?: string;
  lastModified?: string;
  checksums?: { sha256?: string };
}

function credentialsOf(credential: ResolvedCredential | undefined, ctx: RegistryErrorContext): Credentials {
  if (credential === undefined) return { kind: "anonymous" };
  if (credential.type !== "basic") {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" is of type "${credential.type}"; Artifactory accepts "basic" (a user with its password or access token) or none`,
    );
  }
  const username = credential.accountID ?? "";
  const password = credential.secret?.plain ?? "";
  if (username === "" || password === "") {
    throw new AuthError(
      ctx,
      `credential "${credential._id}" needs a username (accountID) and a password or access token`,
    );
  }
  return { kind: "basic", username, password };
}

/** `jfrogRepoTypes` of the specification; every type when unset. */
export function repoTypesOf(spec: Record<string, unknown>, ctx: RegistryErrorContext): Set<JfrogRepoType> {
  const value = spec.jfrogRepoTypes;
  if (value === undefined || value === null) return new Set(REPO_TYPES);
  if (!Array.isArray(value) || value.length === 0) {
    throw new UnsupportedError(ctx, `jfrogRepoTypes must list at least one of ${REPO_TYPES.join(", ")}`);
  }
  for (const type of value) {
    if (!REPO_TYPES.includes(type as JfrogRepoType)) {
      throw new UnsupportedError(
        ctx,
        `jfrogRepoTypes has "${String(type)}"; Artifactory repository types are ${REPO_TYPES.join(", ")}`,
      );
    }
  }
  return new Set(value as JfrogRepoType[]);
}

/** The repository type as `jfrogRepoTypes` names it; a federated repository is a local one. */
function repoTypeOf(type: string): JfrogRepoType | undefined {
  const lower = type.toLowerCase();
  if (lower === "federated") return "local";
  return REPO_TYPES.includes(lower as JfrogRepoType) ? (lower as JfrogRepoType) : undefined;
}

/** Artifactory's answer in one line: `HTTP 401: Bad credentials`. */
function answerOf(res: ApiResponse): string {
  let detail = "";
  try {
    const parsed = JSON.parse(res.text) as { errors?: { message?: string }[] };
    detail = (parsed.errors ?? []).map((e) => e.message ?? "").join("; ");
  } catch {
    detail = describeErrorBody(res.text);
  }
  return detail ? `HTTP ${res.status}: ${detail}` : `HTTP ${res.status}`;
}

class ArtifactorySession implements ProviderSession {
  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: RestApi,
    private readonly username: string | undefined,
    private readonly repoTypes: Set<JfrogRepoType>,
    /** The one key the registry value names (`<host>/<key>`), if any. */
    private readonly selectedKey: string | undefined,
    /** The host's first DNS label, which names the key under the subdomain method (`<key>.<host>`). */
    private readonly hostLabel: string | undefined,
    /** The registry value's explicit port, which may be one key's own under the port method. */
    private readonly hostPort: number | undefined,
  ) {}

  /**
   * The key this host serves alone under the subdomain or the port method, found by the first listing
   * (connect lists the keys first): its images are then `<image>`, not `<key>/<image>`.
   */
  private hostKey: string | undefined;
  /** The key of `hostPort` under the port method, once asked. */
  private portKey: Promise<string | undefined> | undefined;

  private get who(): string {
    return this.username === undefined ? "anonymous access" : `user "${this.username}"`;
  }

  failure(
    res: ApiResponse,
    what: string,
    ctx: RegistryErrorContext = { registry: this.registryHost },
  ): Error {
    const answer = answerOf(res);
    return apiFailure(res, what, ctx, {
      401:
        this.username === undefined
          ? `Artifactory requires credentials (${answer}); give the specification a basic credential (a user with its password or access token)`
          : `Artifactory rejected the credentials of ${this.who} (${answer}); check the user name and that the password or access token is current`,
      403: `${this.who} is not allowed to (${answer}); the user needs the Read permission on the repository (listing a catalog needs a user, not anonymous access)`,
      404: `Artifactory does not know it (${answer}); check the repository key and that the URL is the Artifactory base URL`,
      429: `Artifactory kept answering ${answer} after the retries; lower the scan's concurrency or ask the administrator about the rate limit`,
      other: `Artifactory answered ${answer}`,
    });
  }

  private json<T>(res: ApiResponse, what: string, ctx: RegistryErrorContext): T {
    try {
      return JSON.parse(res.text) as T;
    } catch {
      throw new ProtocolError(ctx, `${what}: Artifactory's answer is not JSON`);
    }
  }

  /** Docker repository keys of the types the specification scans, in Artifactory's order. */
  async repositoryKeys(signal?: AbortSignal): Promise<string[]> {
    const what = "listing Docker repositories";
    const res = await this.api.get("api/repositories?packageType=docker", signal);
    if (res.status !== 200) throw this.failure(res, what);
    const listed = this.api.array<ArtifactoryRepository>(res, what);
    const subdomain =
      this.selectedKey === undefined && this.hostLabel !== undefined
        ? listed.find((r) => r.key.toLowerCase() === this.hostLabel)
        : undefined;
    if (subdomain !== undefined) {
      this.hostKey = subdomain.key;
      return [subdomain.key];
    }
    if (this.selectedKey === undefined && this.hostPort !== undefined) {
      // The access method does not change during a scan: asked once.
      this.portKey ??= this.keyOfPort(this.hostPort, signal);
    }
    const portKey = await this.portKey;
    if (portKey !== undefined) {
      this.hostKey = portKey;
      return [portKey];
    }
    if (this.selectedKey !== undefined) {
      if (listed.some((r) => r.key === this.selectedKey)) return [this.selectedKey];
      throw new NotFoundError(
        { registry: this.registryHost },
        `${what}: Artifactory has no Docker repository "${this.selectedKey}" readable by ${this.who} (Docker repositories: ${listed.map((r) => r.key).join(", ") || "none"}); the registry is https://<host>[/<repository key>]`,
      );
    }
    return listed
      .filter((r) => {
        const type = repoTypeOf(r.type);
        return type !== undefined && this.repoTypes.has(type);
      })
      .map((r) => r.key);
  }

  /**
   * The key the reverse proxy serves on `port` under the port method (`PORTPERREPO`). Undefined under
   * another method, for a port of no key (Artifactory's own) and where the configuration cannot be
   * read (SaaS has none): the registry is then the repository-path method's.
   */
  private async keyOfPort(port: number, signal?: AbortSignal): Promise<string | undefined> {
    const res = await this.api.get("api/system/configuration/webServer", signal);
    if (res.status === 401 || res.status === 403 || res.status === 404) return undefined;
    const what = "reading the reverse proxy configuration (Docker access method)";
    if (res.status !== 200) throw this.failure(res, what);
    const config = this.json<ReverseProxyConfiguration>(res, what, { registry: this.registryHost });
    if (config.dockerReverseProxyMethod !== "PORTPERREPO") return undefined;
    // Artifactory refuses a port given to two keys, so the port alone names the key.
    return config.reverseProxyRepositories?.reverseProxyRepoConfigs?.find((c) => c.port === port)?.repoRef;
  }

  /**
   * Every entry of a paged Docker list (`repositories` of a catalog, `tags` of a tag list). The next
   * page is the current URL with the `last` of the Link header: Artifactory's Link may lack the
   * repository key prefix or `n`, so it is never followed as is.
   */
  private async pagedList(
    path: string,
    field: "repositories" | "tags",
    what: string,
    ctx: RegistryErrorContext,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const entries: string[] = [];
    const seen = new Set<string>();
    let url: URL | undefined = new URL(`${path}?n=${PAGE_SIZE}`, this.api.base);
    for (let pages = 0; url !== undefined; pages++) {
      if (pages >= MAX_PAGES || seen.has(url.href)) {
        throw new ProtocolError(ctx, `${what}: Artifactory's pagination does not end (${url.search})`);
      }
      seen.add(url.href);
      const res = await this.api.get(url, signal);
      if (res.status !== 200) throw this.failure(res, what, ctx);
      const page = this.json<Record<string, unknown>>(res, what, ctx)[field];
      if (page !== null && page !== undefined && !Array.isArray(page)) {
        throw new ProtocolError(ctx, `${what}: "${field}" is not a list`);
      }
      for (const entry of (page ?? []) as unknown[]) if (typeof entry === "string") entries.push(entry);
      const last = nextLink(res.headers.link, res.url)?.searchParams.get("last");
      if (last === null || last === undefined || last === "") {
        url = undefined;
      } else {
        url = new URL(url);
        url.searchParams.set("last", last);
      }
    }
    return entries;
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    const names = new Set<string>();
    for (const key of await this.repositoryKeys(signal)) {
      const images = await this.pagedList(
        `api/docker/${encodeURIComponent(key)}/v2/_catalog`,
        "repositories",
        `listing the images of repository "${key}"`,
        { registry: this.registryHost },
        signal,
      );
      for (const image of images) names.add(this.hostKey === undefined ? `${key}/${image}` : image);
    }
    return [...names].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const ctx = { registry: this.registryHost, repository };
    const slash = repository.indexOf("/");
    if (this.hostKey === undefined && slash < 0) {
      throw new NotFoundError(
        ctx,
        "an Artifactory repository name starts with its repository key (key/image)",
      );
    }
    const key = this.hostKey ?? repository.slice(0, slash);
    const image = this.hostKey === undefined ? repository.slice(slash + 1) : repository;
    const listed = await this.pagedList(
      `api/docker/${encodeURIComponent(key)}/v2/${image}/tags/list`,
      "tags",
      "listing tags",
      ctx,
      options.signal,
    );
    // Some Artifactory versions list digests among the tags.
    const names = [...new Set(listed.filter((t) => isValidTag(t) && !isDigest(t)))].sort();
    if (!options.withTimes) return names.map((tag) => ({ tag }));
    return mapBounded(names, TIME_CONCURRENCY, (tag) => this.tagInfo(key, image, tag, ctx, options.signal));
  }

  /** The tag's manifest file info: `manifest.json`, or `list.manifest.json` for an image index. */
  private async tagInfo(
    key: string,
    image: string,
    tag: string,
    ctx: RegistryErrorContext,
    signal?: AbortSignal,
  ): Promise<DiscoveredTag> {
    const what = `reading the Storage API file info of tag "${tag}"`;
    for (const file of ["manifest.json", "list.manifest.json"]) {
      const res = await this.api.get(
        `api/storage/${encodeURIComponent(key)}/${image}/${encodeURIComponent(tag)}/${file}`,
        signal,
      );
      if (res.status === 404) continue;
      if (res.status !== 200) throw this.failure(res, what, { ...ctx, reference: tag });
      const info = this.json<FileInfo>(res, what, ctx);
      const sha256 = info.checksums?.sha256;
      return {
        tag,
        digest: sha256 ? `sha256:${sha256}` : undefined,
        pushedAt: apiTime(info.created) ?? apiTime(info.lastModified),
      };
    }
    throw new NotFoundError(
      { ...ctx, reference: tag },
      `${what}: neither manifest.json nor list.manifest.json is stored under ${key}/${image}/${tag}/`,
      { status: 404 },
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api.close()]);
  }
}

export const jfrogProvider: RegistryProvider = {
  type: "jfrog",
  credentialTypes: ["basic"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    if (context.registry.trim() === "") {
      throw new UnsupportedError(
        { registry: "" },
        "an Artifactory registry needs its URL (https://<artifactory-host>)",
      );
    }
    const parsed = parseRegistryAddress(context.registry);
    const ctx = { registry: parsed.host };
    const credentials = credentialsOf(context.credential, ctx);
    const repoTypes = repoTypesOf(context.spec, ctx);
    const scheme = parsed.scheme ?? "https";
    const insecure = (context.insecure ?? false) || scheme === "http";
    // "<host>[/<context>]/artifactory" names the API; another last segment is a repository key.
    const keyed = /^(.*)\/([^/]+)$/.exec(parsed.pathPrefix);
    const selectedKey = keyed && keyed[2] !== "artifactory" ? decodeURIComponent(keyed[2] ?? "") : undefined;
    const prefix = keyed ? (keyed[1] ?? "") : "";
    const ca = context.caCert?.trim() || undefined;
    const api = new RestApi(new URL(`${scheme}://${parsed.host}${prefix}/artifactory/`), ctx, {
      insecure,
      ca,
      authorization:
        credentials.kind === "basic" ? basicHeader(credentials.username, credentials.password) : undefined,
    });
    const client = new RegistryClient({
      registry: `${scheme}://${parsed.host}${prefix}`,
      credentials,
      insecure,
      ca,
    });
    const username = credentials.kind === "basic" ? credentials.username : undefined;
    // Under the subdomain method the host's first label is the key (`docker-local.art.example.com`).
    const hostname = parsed.host.replace(/:\d+$/, "");
    const hostLabel =
      /^[a-z0-9-]+\.[^.]+\.[^.]+/i.test(hostname) && !/^[\d.]+$/.test(hostname)
        ? hostname.split(".")[0]?.toLowerCase()
        : undefined;
    const port = /:(\d+)$/.exec(parsed.host)?.[1];
    const session = new ArtifactorySession(
      client,
      parsed.host,
      api,
      username,
      repoTypes,
      selectedKey,
      hostLabel,
      port === undefined ? undefined : Number(port),
    );
    try {
      await session.repositoryKeys();
      await client.login().catch((err: unknown) => {
        if (!(err instanceof AuthError)) throw err;
        throw new AuthError(
          ctx,
          `checking access to /v2/: Artifactory's Docker token realm rejected ${username === undefined ? "anonymous access" : `user "${username}"`}`,
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
