/**
 * Registry type `gcr` (spec section 8; registries.md 2.6): Google Artifact Registry and the gcr.io
 * hosts of (Artifact-Registry-backed) Container Registry, as Google documents them:
 * - Service-account keys and access tokens: https://developers.google.com/identity/protocols/oauth2/
 *   service-account#httprest (an RS256 JWT assertion, `iss` = client_email, `aud` = the key's
 *   `token_uri`, `scope` cloud-platform, POSTed as grant_type urn:ietf:params:oauth:grant-type:
 *   jwt-bearer; answer `access_token`, `expires_in`; a bad key is 400 `invalid_grant`)
 * - Registry login: https://cloud.google.com/artifact-registry/docs/docker/authentication
 *   (`oauth2accesstoken` + access token, `_json_key` + key JSON, `_json_key_base64` + base64 of it)
 * - REST: https://cloud.google.com/artifact-registry/docs/reference/rest (`projects.locations.list`,
 *   `projects.locations.repositories.list` with `format`, `registryUri`, and
 *   `...repositories.dockerImages.list` with `uri`, `tags`, `uploadTime`; `pageSize`/`pageToken`/
 *   `nextPageToken`; errors `{"error":{"code","message","status"}}` such as PERMISSION_DENIED)
 * - The registry's tags/list extension (registries.md 2.6): `child[]` sub-repositories and
 *   `manifest{digest: {tag[], timeUploadedMs}}`, asked with `n=10000` since it is not paged.
 *
 * - `registry`: `gcr.io`, `<region>.gcr.io`, `<location>-docker.pkg.dev`, or a URL (other hosts:
 *   private endpoints, the tests' simulations).
 * - Projects: the first segment of each `repository` pattern entry (`project-id/image`,
 *   `company-sandbox/*`), else the key's `project_id`.
 * - Credentials: `gcp` (service-account JSON key in `secret`), or `basic` with user `_json_key` (key
 *   JSON), `_json_key_base64` (base64 of it) or `oauth2accesstoken` (an access token, used as is).
 *   Access tokens from a key are obtained at connect (a bad key fails there), renewed ahead of their
 *   expiry and once after a 401, for the REST API and for the registry (as `oauth2accesstoken`). The
 *   token endpoint is the key's `token_uri` (https, or http to a loopback address). No credential:
 *   public images, found by the tags/list walk.
 * - Discovery: on `*.gcr.io`, and for a project with no Docker repository served from this host in
 *   the Artifact Registry API, the registry's tags/list walk from `/v2/<project>/` (push time
 *   `timeUploadedMs`); otherwise the REST API: the repositories of the host's location (every
 *   location of the project for other hosts, keeping those whose `registryUri` is on this host), then
 *   each repository's dockerImages (push time `uploadTime`). The REST API is
 *   `SHIPSHAPE_ARTIFACTREGISTRY_URL` (default https://artifactregistry.googleapis.com/).
 */
import { createSign } from "node:crypto";
import type { Credentials, StaticCredentials } from "../auth.js";
import { mapBounded } from "../backoff.js";
import { RegistryClient } from "../client.js";
import {
  AuthError,
  describeErrorBody,
  NotFoundError,
  PermissionError,
  ProtocolError,
  RateLimitedError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { type Expiring, ExpiringValue } from "../expiring.js";
import { isValidTag } from "../reference.js";
import { v2AddressOf } from "./docker-v2.js";
import { serviceEndpoint } from "./endpoints.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";
import { type ApiResponse, apiTime, RestApi } from "./rest.js";

const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ASSERTION_LIFETIME_S = 3600;
const API_PAGE_SIZE = 1000;
/** The tags/list extension is not paged: ask for everything (registries.md 2.6). */
const TAGS_LIST_ENTRIES = 10_000;
const MAX_PAGES = 10_000;
const WALK_CONCURRENCY = 8;
const MAX_TAGS_LIST_BYTES = 64 * 1024 * 1024;
const PRODUCT = "Google Artifact Registry";

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  project_id?: string;
  token_uri: string;
}

/** What the credential gives: access tokens (from a key or fixed), or nothing (public images). */
interface Access {
  /** `Authorization` for the REST API. */
  api: string | ExpiringValue<string> | undefined;
  registry: Credentials;
  /** The key's project, for a specification without one in its pattern. */
  keyProject: string | undefined;
  /** Obtains a token now, so that a bad key fails at connect. */
  check(signal?: AbortSignal): Promise<void>;
}

function parseKey(text: string, ctx: RegistryErrorContext, from: string): ServiceAccountKey {
  let key: Partial<ServiceAccountKey> & { type?: unknown };
  try {
    key = JSON.parse(text) as typeof key;
  } catch {
    throw new AuthError(ctx, `${from} is not a service-account JSON key (not JSON)`);
  }
  for (const field of ["client_email", "private_key", "token_uri"] as const) {
    if (typeof key[field] !== "string" || key[field] === "") {
      throw new AuthError(ctx, `${from} is not a service-account JSON key (no ${field})`);
    }
  }
  let tokenUri: URL;
  try {
    tokenUri = new URL(key.token_uri as string);
  } catch {
    throw new AuthError(ctx, `${from}: token_uri ${JSON.stringify(key.token_uri)} is not a URL`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(tokenUri.hostname);
  if (tokenUri.protocol !== "https:" && !(tokenUri.protocol === "http:" && loopback)) {
    throw new AuthError(ctx, `${from}: token_uri ${tokenUri.origin} is not https`);
  }
  return key as ServiceAccountKey;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** An OAuth2 access token for a service-account key (the JWT bearer grant at the key's token_uri). */
async function accessToken(
  key: ServiceAccountKey,
  ctx: RegistryErrorContext,
  signal?: AbortSignal,
): Promise<Expiring<string>> {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "RS256", typ: "JWT", ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const claims = {
    iss: key.client_email,
    scope: CLOUD_PLATFORM_SCOPE,
    aud: key.token_uri,
    iat: now,
    exp: now + ASSERTION_LIFETIME_S,
  };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  let signature: string;
  try {
    signature = createSign("RSA-SHA256").update(unsigned).sign(key.private_key, "base64url");
  } catch (err) {
    throw new AuthError(ctx, `the service-account key of ${key.client_email} has an unusable private_key`, {
      cause: err,
    });
  }
  let res: Response;
  try {
    res = await fetch(key.token_uri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: `${unsigned}.${signature}` }),
      signal,
    });
  } catch (err) {
    throw new AuthError(ctx, `Google's token endpoint ${key.token_uri} is unreachable (${String(err)})`, {
      cause: err,
    });
  }
  const text = await res.text();
  let body: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = {};
  }
  if (res.status !== 200 || typeof body.access_token !== "string") {
    const why = [body.error, body.error_description].filter((p) => typeof p === "string").join(": ");
    throw new AuthError(
      ctx,
      `Google refused an access token for ${key.client_email} (HTTP ${res.status}${why ? `: ${why}` : ""}); check that the service-account key is current and the account enabled`,
      { status: res.status },
    );
  }
  const expiresIn = typeof body.expires_in === "number" ? body.expires_in : 3600;
  return { value: body.access_token, expiresAt: Date.now() + expiresIn * 1000 };
}

function keyAccess(key: ServiceAccountKey, ctx: RegistryErrorContext): Access {
  const api = new ExpiringValue(async (signal) => {
    const token = await accessToken(key, ctx, signal);
    return { value: `Bearer ${token.value}`, expiresAt: token.expiresAt };
  });
  const registry = new ExpiringValue<StaticCredentials>(async (signal) => {
    const token = await accessToken(key, ctx, signal);
    return {
      value: { kind: "basic", username: "oauth2accesstoken", password: token.value },
      expiresAt: token.expiresAt,
    };
  });
  return {
    api,
    registry: { kind: "refreshing", describe: `service account ${key.client_email}`, source: registry },
    keyProject: key.project_id,
    check: async (signal) => {
      await api.get(signal);
    },
  };
}

function accessOf(credential: ResolvedCredential | undefined, ctx: RegistryErrorContext): Access {
  if (credential === undefined) {
    return { api: undefined, registry: { kind: "anonymous" }, keyProject: undefined, check: async () => {} };
  }
  const secret = credential.secret?.plain ?? "";
  if (credential.type === "gcp") {
    return keyAccess(parseKey(secret, ctx, `credential "${credential._id}"`), ctx);
  }
  if (credential.type === "basic") {
    const user = credential.accountID?.trim() ?? "";
    const from = `credential "${credential._id}" (${user})`;
    if (user === "_json_key") return keyAccess(parseKey(secret, ctx, from), ctx);
    if (user === "_json_key_base64")
      return keyAccess(parseKey(Buffer.from(secret, "base64").toString("utf8"), ctx, from), ctx);
    if (user === "oauth2accesstoken" && secret !== "") {
      return {
        api: `Bearer ${secret}`,
        registry: { kind: "basic", username: user, password: secret },
        keyProject: undefined,
        check: async () => {},
      };
    }
  }
  throw new UnsupportedError(
    ctx,
    `credential "${credential._id}" (type "${credential.type}") is none Google accepts: use type "gcp" with the service-account JSON key, or "basic" with user _json_key, _json_key_base64 or oauth2accesstoken`,
  );
}

/** The location a `<location>-docker.pkg.dev` host names, or undefined. */
export function locationOfHost(host: string): string | undefined {
  return /^([a-z0-9-]+)-docker\.pkg\.dev$/.exec(host.replace(/:\d+$/, ""))?.[1];
}

export function isGcrHost(host: string): boolean {
  return /(^|\.)gcr\.io$/.test(host.replace(/:\d+$/, ""));
}

/** The projects a repository pattern names (`project-id/image`), or undefined when one is a wildcard. */
export function projectsOfPattern(pattern: unknown): string[] | undefined {
  if (typeof pattern !== "string") return undefined;
  const entries = pattern
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "" && !e.startsWith("-"));
  const projects = entries.map((e) => e.split("/")[0] ?? "");
  if (projects.length === 0 || projects.some((p) => p === "" || p.includes("*"))) return undefined;
  return [...new Set(projects)].sort();
}

function apiFailure(res: ApiResponse, what: string, ctx: RegistryErrorContext): Error {
  let status = "";
  let message = "";
  try {
    const body = JSON.parse(res.text) as { error?: { status?: unknown; message?: unknown } };
    if (typeof body.error?.status === "string") status = body.error.status;
    if (typeof body.error?.message === "string") message = body.error.message;
  } catch {
    // not JSON
  }
  const answer = `HTTP ${res.status}${status ? ` ${status}` : ""}${message ? `: ${message}` : ""}`;
  switch (res.status) {
    case 401:
      return new AuthError(ctx, `${what}: ${PRODUCT} rejected the access token (${answer})`, { status: 401 });
    case 403:
      return new PermissionError(
        ctx,
        `${what}: ${PRODUCT} denied access (${answer}); grant the service account roles/artifactregistry.reader on the project and check the project ID`,
        { status: 403 },
      );
    case 404:
      return new NotFoundError(
        ctx,
        `${what}: ${PRODUCT} does not know it (${answer}); check the project ID in the repository pattern or the key`,
        { status: 404 },
      );
    case 429:
      return new RateLimitedError(
        ctx,
        `${what}: ${PRODUCT} quota exhausted (${answer}); retry later`,
        undefined,
      );
    default:
      return new ProtocolError(ctx, `${what}: ${PRODUCT} answered ${answer}`, { status: res.status });
  }
}

/** Every item of a Google list method: `pageToken` in, `nextPageToken` out. */
async function allPages<T>(
  api: RestApi,
  path: string,
  field: string,
  what: string,
  ctx: RegistryErrorContext,
  signal?: AbortSignal,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let pageToken = "";
  for (let page = 0; ; page++) {
    const url = new URL(path, api.base);
    url.searchParams.set("pageSize", String(API_PAGE_SIZE));
    if (pageToken) url.searchParams.set("pageToken", pageToken);
    const res = await api.get(url, signal);
    if (res.status !== 200) throw apiFailure(res, what, ctx);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(res.text) as Record<string, unknown>;
    } catch {
      throw new ProtocolError(ctx, `${what}: ${PRODUCT}'s answer is not JSON`);
    }
    const list = body[field];
    if (list !== undefined && !Array.isArray(list))
      throw new ProtocolError(ctx, `${what}: "${field}" is not a list`);
    items.push(...((list ?? []) as T[]));
    const next = typeof body.nextPageToken === "string" ? body.nextPageToken : "";
    if (next === "") return items;
    if (seen.has(next) || page >= MAX_PAGES) throw new ProtocolError(ctx, `${what}: the pages do not end`);
    seen.add(next);
    pageToken = next;
  }
}

interface ArRepository {
  name?: unknown;
  format?: unknown;
  registryUri?: unknown;
}

interface ArDockerImage {
  uri?: unknown;
  tags?: unknown;
  uploadTime?: unknown;
}

interface TagsListAnswer {
  tags?: unknown;
  child?: unknown;
  manifest?: Record<string, { tag?: unknown; timeUploadedMs?: unknown }> | null;
}

/**
 * The registry's extended tags/list (registries.md 2.6) through the distribution client, whose
 * ping learns the challenge the registry's 401s on this path may lack; statuses in Google's terms.
 */
class TagsListReader {
  constructor(
    private readonly client: RegistryClient,
    private readonly ctx: RegistryErrorContext,
  ) {}

  /** The extended tags/list of `name` (a repository or a project/folder above repositories). */
  async read(name: string, signal?: AbortSignal): Promise<TagsListAnswer> {
    const ctx = { ...this.ctx, repository: name };
    const res = await this.client.getExtension(name, `tags/list?n=${TAGS_LIST_ENTRIES}`, {
      maxBytes: MAX_TAGS_LIST_BYTES,
      what: "listing tags",
      signal,
    });
    if (res.status !== 200) {
      const why = describeErrorBody(res.text);
      const answer = `HTTP ${res.status}${why ? `: ${why}` : ""}`;
      if (res.status === 403)
        throw new PermissionError(
          ctx,
          `listing tags: ${PRODUCT} denied ${this.client.identity} (${answer}); grant roles/artifactregistry.reader and check the project ID`,
          { status: 403 },
        );
      if (res.status === 404)
        throw new NotFoundError(ctx, `listing tags: no such project or repository (${answer})`, {
          status: 404,
        });
      if (res.status === 429)
        throw new RateLimitedError(
          ctx,
          `listing tags: ${PRODUCT} rate limit (${answer}); retry later`,
          undefined,
        );
      throw new ProtocolError(ctx, `listing tags: ${PRODUCT} answered ${answer}`, { status: res.status });
    }
    try {
      return JSON.parse(res.text) as TagsListAnswer;
    } catch {
      throw new ProtocolError(ctx, "listing tags: the answer is not JSON");
    }
  }
}

/** The tags of a tags/list answer with their digests and push times. */
function tagsOfAnswer(answer: TagsListAnswer): DiscoveredTag[] {
  const found = new Map<string, DiscoveredTag>();
  for (const [digest, entry] of Object.entries(answer.manifest ?? {})) {
    const uploaded = Number(entry?.timeUploadedMs);
    const pushedAt = Number.isFinite(uploaded) && uploaded > 0 ? new Date(uploaded) : undefined;
    for (const tag of Array.isArray(entry?.tag) ? entry.tag : []) {
      if (typeof tag === "string" && isValidTag(tag)) found.set(tag, { tag, digest, pushedAt });
    }
  }
  // Tags the manifest map does not cover (a truncated answer) still count, undated.
  for (const tag of Array.isArray(answer.tags) ? answer.tags : []) {
    if (typeof tag === "string" && isValidTag(tag) && !found.has(tag)) found.set(tag, { tag });
  }
  return [...found.values()];
}

const byTag = (a: DiscoveredTag, b: DiscoveredTag) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);

class GcrSession implements ProviderSession {
  private found: Map<string, DiscoveredTag[]> | undefined;

  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: RestApi | undefined,
    private readonly reader: TagsListReader,
    /** Per project: its Artifact Registry repositories served from this host, or "walk". */
    private readonly projects: Map<string, ArRepository[] | "walk">,
  ) {}

  private get ctx(): RegistryErrorContext {
    return { registry: this.registryHost };
  }

  private async discover(signal?: AbortSignal): Promise<Map<string, DiscoveredTag[]>> {
    const found = new Map<string, DiscoveredTag[]>();
    for (const [project, source] of this.projects) {
      if (source === "walk") await this.walk(project, found, signal);
      else await this.listImages(source, found, signal);
    }
    this.found = found;
    return found;
  }

  /** Repositories under `root` by the tags/list `child[]` links, breadth first. */
  private async walk(root: string, found: Map<string, DiscoveredTag[]>, signal?: AbortSignal): Promise<void> {
    let level = [root];
    while (level.length > 0) {
      const answers = await mapBounded(level, WALK_CONCURRENCY, (name) => this.reader.read(name, signal));
      const next: string[] = [];
      answers.forEach((answer, index) => {
        const name = level[index] as string;
        const tags = tagsOfAnswer(answer);
        if (tags.length > 0) found.set(name, tags);
        for (const child of Array.isArray(answer.child) ? answer.child : []) {
          if (typeof child === "string" && child !== "") next.push(`${name}/${child}`);
        }
      });
      level = next;
    }
  }

  private async listImages(
    repositories: ArRepository[],
    found: Map<string, DiscoveredTag[]>,
    signal?: AbortSignal,
  ): Promise<void> {
    const api = this.api as RestApi;
    for (const repository of repositories) {
      const resource = String(repository.name);
      const images = await allPages<ArDockerImage>(
        api,
        `v1/${resource}/dockerImages`,
        "dockerImages",
        `listing the Docker images of ${resource}`,
        this.ctx,
        signal,
      );
      for (const image of images) {
        if (typeof image.uri !== "string") continue;
        // uri: <host>/<project>/<repository>/<image>@sha256:…, the image's pull name.
        const at = image.uri.lastIndexOf("@");
        const slash = image.uri.indexOf("/");
        if (at < 0 || slash < 0) continue;
        const path = image.uri.slice(slash + 1, at);
        const digest = image.uri.slice(at + 1);
        const pushedAt = apiTime(image.uploadTime);
        const tags = found.get(path) ?? [];
        for (const tag of Array.isArray(image.tags) ? image.tags : []) {
          if (typeof tag === "string" && isValidTag(tag)) tags.push({ tag, digest, pushedAt });
        }
        if (tags.length > 0) found.set(path, tags);
      }
    }
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    return [...(await this.discover(signal)).keys()].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    let tags = (this.found ?? (await this.discover(options.signal))).get(repository);
    // A repository outside what discovery covers (named exactly) is asked directly.
    tags ??= tagsOfAnswer(await this.reader.read(repository, options.signal));
    if (tags.length === 0) {
      throw new NotFoundError({ ...this.ctx, repository }, `${PRODUCT} lists no tagged image here`);
    }
    const sorted = [...tags].sort(byTag);
    return options.withTimes ? sorted : sorted.map(({ tag, digest }) => ({ tag, digest }));
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api?.close()]);
  }
}

/** The Docker repositories of `project` served from `host`, or "walk" when there are none. */
async function projectSource(
  api: RestApi,
  project: string,
  host: string,
  ctx: RegistryErrorContext,
  signal?: AbortSignal,
): Promise<ArRepository[] | "walk"> {
  const hostLocation = locationOfHost(host);
  const locations = hostLocation
    ? [hostLocation]
    : (
        await allPages<{ locationId?: unknown }>(
          api,
          `v1/projects/${encodeURIComponent(project)}/locations`,
          "locations",
          `listing the locations of project ${project}`,
          ctx,
          signal,
        )
      )
        .map((l) => l.locationId)
        .filter((l): l is string => typeof l === "string" && l !== "");
  const served: ArRepository[] = [];
  for (const location of locations) {
    const repositories = await allPages<ArRepository>(
      api,
      `v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(location)}/repositories`,
      "repositories",
      `listing the repositories of project ${project} in ${location}`,
      ctx,
      signal,
    );
    for (const repository of repositories) {
      if (repository.format !== "DOCKER" || typeof repository.name !== "string") continue;
      const uriHost =
        typeof repository.registryUri === "string" ? repository.registryUri.split("/")[0] : undefined;
      // On <location>-docker.pkg.dev every Docker repository of the location is served here.
      if (hostLocation !== undefined || uriHost === host) served.push(repository);
    }
  }
  if (served.length > 0) return served;
  if (hostLocation !== undefined) {
    throw new NotFoundError(
      ctx,
      `project ${project} has no Docker repository in ${PRODUCT} location ${hostLocation}; check the project and the registry host`,
    );
  }
  return "walk";
}

export const gcrProvider: RegistryProvider = {
  type: "gcr",
  credentialTypes: ["gcp", "basic"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    const registry = context.registry.trim();
    if (registry === "") {
      throw new UnsupportedError(
        { registry: "" },
        "a Google registry needs its host (gcr.io, us.gcr.io, <location>-docker.pkg.dev)",
      );
    }
    const address = v2AddressOf(registry, context.insecure ?? false);
    const ctx = { registry: address.registryHost };
    const access = accessOf(context.credential, ctx);
    const projects =
      projectsOfPattern(context.spec.repository) ?? (access.keyProject ? [access.keyProject] : undefined);
    if (projects === undefined) {
      throw new UnsupportedError(
        ctx,
        "name the Google Cloud project: a repository pattern such as project-id/* or a service-account key with project_id",
      );
    }
    const ca = context.caCert?.trim() || undefined;
    const client = new RegistryClient({
      registry: address.address,
      credentials: access.registry,
      insecure: address.insecure,
      ca,
    });
    const reader = new TagsListReader(client, ctx);
    const useApi = access.api !== undefined && !isGcrHost(address.registryHost);
    const api = useApi
      ? new RestApi(
          serviceEndpoint("SHIPSHAPE_ARTIFACTREGISTRY_URL", "https://artifactregistry.googleapis.com/"),
          ctx,
          {
            insecure: false,
            authorization: access.api,
          },
        )
      : undefined;
    try {
      await access.check();
      const sources = new Map<string, ArRepository[] | "walk">();
      for (const project of projects) {
        sources.set(project, api ? await projectSource(api, project, address.registryHost, ctx) : "walk");
      }
      await client.login();
      // A walked project is checked now too, so a wrong project fails before any listing.
      for (const [project, source] of sources) if (source === "walk") await reader.read(project);
      return new GcrSession(client, address.registryHost, api, reader, sources);
    } catch (err) {
      await Promise.all([client.close(), api?.close()]);
      throw err;
    }
  },
};
