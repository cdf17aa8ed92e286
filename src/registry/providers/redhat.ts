/**
 * Registry type `redhat` (spec section 8; registries.md 2.14): the OpenShift integrated image
 * registry (openshift/image-registry), discovered through the image streams of the cluster's API
 * server, as OpenShift documents them:
 * - ImageStream [image.openshift.io/v1] (OpenShift Container Platform "Image APIs"):
 *   `GET /apis/image.openshift.io/v1/imagestreams` (all namespaces),
 *   `/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams` and `.../imagestreams/{name}`;
 *   `status.tags[]` = `{tag, items: [{created, dockerImageReference, image, generation}]}` with
 *   `items[0]` the tag's current image (openshift/api image/v1 types.go, NamedTagEventList/TagEvent).
 * - Kubernetes list chunking (https://kubernetes.io/docs/reference/using-api/api-concepts/
 *   #retrieving-large-results-sets-in-chunks): `limit` and `continue`; only a non-empty
 *   `metadata.continue` means more pages (a page may hold fewer items than the limit, even none);
 *   an expired continue token is a 410 and the list is started again. Errors are `Status` objects
 *   (`{kind: "Status", status: "Failure", reason, message, code}`).
 * - The registry's authentication (openshift/image-registry pkg/dockerregistry/server auth.go and
 *   token.go): the API token is the password of Basic, or a Bearer token; `/openshift/token` hands
 *   the password back as the registry token; pulling needs `get` on `imagestreams/layers` in the
 *   namespace, the `/v2/_catalog` cluster-wide `list` on `imagestreams`.
 *
 * - `registry`: the registry's host (`image-registry.openshift-image-registry.svc:5000`, or its
 *   route `default-route-openshift-image-registry.apps.<cluster-domain>`) or a URL of it.
 * - API server: the credential's `url` when given (the "base server URL" of a credential), else
 *   `SHIPSHAPE_OPENSHIFT_API_URL`, else https://kubernetes.default.svc/ (the in-cluster address).
 *   The specification has no field for it. `caCert` is trusted for both the API server and the
 *   registry; their CAs usually differ (the kube-apiserver CA, the service CA or the ingress CA), so
 *   it may hold several PEM certificates.
 * - Credentials: `basic` with the service account's (or user's) token as the password; the username
 *   is ignored by OpenShift and only sent to the registry. `GET /apis/user.openshift.io/v1/users/~`
 *   checks the token at connect and names its identity in errors; `docker login`'s request checks
 *   the registry.
 * - Repositories: `<namespace>/<image stream>` of the specification's `namespace` (one project), or
 *   of every namespace. When the token may not list image streams (403), the registry's
 *   `/v2/_catalog` (or a `repository` of exact names) is tried, tags then coming from the registry
 *   dated by the image config (the Docker Registry v2 provider's way); when that is refused too, a
 *   PermissionError names the permission to grant.
 * - Tags: each `status.tags[]` entry with an image: `items[0].image` is the digest and
 *   `items[0].created` (when the tag event was recorded: the push or import) the push time. Tags
 *   without any event (an import that has not succeeded) are skipped.
 */
import { RegistryClient } from "../client.js";
import {
  AuthError,
  NotFoundError,
  PermissionError,
  ProtocolError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { connectDistribution, v2AddressOf } from "./docker-v2.js";
import { serviceEndpoint } from "./endpoints.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";
import { type ApiResponse, apiFailure, apiTime, RestApi } from "./rest.js";

/** Image streams per list request; the API server's default chunk size for clients (kubectl, oc). */
const PAGE_LIMIT = 500;
const MAX_PAGES = 10_000;
const IMAGE_API = "apis/image.openshift.io/v1/";
const IN_CLUSTER_API = "https://kubernetes.default.svc";
/** The username `docker login` sends when none is given; the registry ignores it. */
const DEFAULT_USERNAME = "serviceaccount";

/** The fields read of a tag event (openshift/api image/v1 TagEvent). */
interface TagEvent {
  created?: string;
  image?: string;
}

interface NamedTagEventList {
  tag?: string;
  items?: TagEvent[] | null;
}

interface ImageStream {
  metadata?: { name?: string; namespace?: string };
  status?: { tags?: NamedTagEventList[] | null };
}

interface ImageStreamList {
  kind?: string;
  metadata?: { continue?: string };
  items?: ImageStream[] | null;
}

interface KubernetesStatus {
  kind?: string;
  reason?: string;
  message?: string;
}

function tokenOf(credential: ResolvedCredential | undefined, ctx: RegistryErrorContext) {
  if (credential === undefined) {
    throw new UnsupportedError(
      ctx,
      "the OpenShift registry provider needs a basic credential whose password is a service-account or user token",
    );
  }
  if (credential.type !== "basic") {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" is of type "${credential.type}"; OpenShift accepts "basic" (the service account's name and its token as the password)`,
    );
  }
  const token = credential.secret?.plain?.trim() ?? "";
  if (token === "") {
    throw new AuthError(
      ctx,
      `credential "${credential._id}" needs the token as its password (oc create token <service account>, or oc whoami -t)`,
    );
  }
  return { username: credential.accountID?.trim() || DEFAULT_USERNAME, token };
}

/** The API server's root: the credential's `url`, else the environment, else the in-cluster service. */
function apiServerOf(credential: ResolvedCredential, ctx: RegistryErrorContext): URL {
  const configured = credential.url?.trim();
  if (!configured) return serviceEndpoint("SHIPSHAPE_OPENSHIFT_API_URL", IN_CLUSTER_API);
  let url: URL;
  try {
    url = new URL(configured);
  } catch {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}": url is not the API server's URL: ${JSON.stringify(configured)}`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UnsupportedError(ctx, `credential "${credential._id}": url must be an http(s) URL`);
  }
  if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
  return url;
}

/** The API server's answer in one line: `HTTP 403 Forbidden: imagestreams.image.openshift.io is forbidden: …`. */
function answerOf(res: ApiResponse): string {
  try {
    const status = JSON.parse(res.text) as KubernetesStatus;
    if (status.kind === "Status") {
      const text = [status.reason, status.message].filter((p) => typeof p === "string" && p).join(": ");
      if (text) return `HTTP ${res.status} ${text}`;
    }
  } catch {
    // not a Status object
  }
  return `HTTP ${res.status}`;
}

/** The error for a non-200 answer of the API server (at `origin`) to `what` done as `identity`. */
function openshiftFailure(
  res: ApiResponse,
  what: string,
  ctx: RegistryErrorContext,
  origin: string,
  identity: string,
): Error {
  const answer = answerOf(res);
  return apiFailure(res, what, ctx, {
    401: `the OpenShift API server at ${origin} rejected the token (${answer}); the credential's password must be a valid service-account or user token (oc create token <service account>, or oc whoami -t)`,
    403: `${identity} is not allowed to (${answer})`,
    404: `not found on the OpenShift API server (${answer})`,
    429: `the OpenShift API server is throttling requests (${answer}); retry later`,
    other: `the OpenShift API server answered ${answer}`,
  });
}

/** Splits `namespace/name`; the integrated registry has no other repository names. */
function imageStreamOf(repository: string, ctx: RegistryErrorContext): { namespace: string; name: string } {
  const parts = repository.split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new NotFoundError(
      ctx,
      "OpenShift repositories are <namespace>/<image stream>, exactly two path segments",
    );
  }
  return { namespace: parts[0], name: parts[1] };
}

/** The current image of every tag that has one, sorted by tag. */
function tagsOf(stream: ImageStream): DiscoveredTag[] {
  const tags: DiscoveredTag[] = [];
  for (const list of stream.status?.tags ?? []) {
    const current = list.items?.[0];
    if (!list.tag || !current?.image) continue;
    tags.push({ tag: list.tag, digest: current.image, pushedAt: apiTime(current.created) });
  }
  return tags.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

class OpenShiftSession implements ProviderSession {
  /** Image streams by repository name, from the last listing. */
  private streams: Map<string, ImageStream> | undefined;
  /** The registry's own listing, used when the token may not list image streams. */
  private distribution: ProviderSession | undefined;

  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: RestApi,
    private readonly identity: string,
    private readonly namespace: string | undefined,
    private readonly context: ProviderContext,
  ) {}

  private get ctx(): RegistryErrorContext {
    return { registry: this.registryHost };
  }

  /** Where a listing looks: one project, or the whole cluster. */
  private get scope(): string {
    return this.namespace === undefined ? "at the cluster scope" : `in project "${this.namespace}"`;
  }

  failure(res: ApiResponse, what: string, ctx: RegistryErrorContext = this.ctx): Error {
    return openshiftFailure(res, what, ctx, this.api.base.origin, this.identity);
  }

  private parse<T>(res: ApiResponse, what: string, ctx: RegistryErrorContext = this.ctx): T {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      throw new ProtocolError(ctx, `${what}: the OpenShift API server's answer is not JSON`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new ProtocolError(ctx, `${what}: the OpenShift API server's answer is not an object`);
    }
    return parsed as T;
  }

  /** Every image stream in scope, page by page; an expired continue token starts the list again once. */
  private async listImageStreams(signal?: AbortSignal): Promise<ImageStream[]> {
    const path =
      this.namespace === undefined
        ? `${IMAGE_API}imagestreams`
        : `${IMAGE_API}namespaces/${encodeURIComponent(this.namespace)}/imagestreams`;
    const what = `listing image streams ${this.scope}`;
    let streams: ImageStream[] = [];
    let next: string | undefined;
    let restarted = false;
    const seen = new Set<string>();
    for (let pages = 0; ; pages++) {
      if (pages >= MAX_PAGES) throw new ProtocolError(this.ctx, `${what}: pagination does not end`);
      const query = new URLSearchParams({ limit: String(PAGE_LIMIT) });
      if (next !== undefined) query.set("continue", next);
      const res = await this.api.get(`${path}?${query}`, signal);
      if (res.status === 410 && next !== undefined && !restarted) {
        // The continue token outlived the API server's compaction window: a consistent list needs a
        // new start.
        restarted = true;
        streams = [];
        next = undefined;
        seen.clear();
        continue;
      }
      if (res.status !== 200) throw this.failure(res, what);
      const list = this.parse<ImageStreamList>(res, what);
      if (list.kind !== "ImageStreamList" || (list.items !== null && !Array.isArray(list.items))) {
        throw new ProtocolError(this.ctx, `${what}: the answer is not an ImageStreamList`);
      }
      streams.push(...(list.items ?? []));
      const token = list.metadata?.continue;
      if (!token) return streams;
      if (seen.has(token)) throw new ProtocolError(this.ctx, `${what}: the continue token repeats`);
      seen.add(token);
      next = token;
    }
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    if (this.distribution) return this.catalog(this.distribution, undefined, signal);
    let streams: ImageStream[];
    try {
      streams = await this.listImageStreams(signal);
    } catch (err) {
      if (!(err instanceof PermissionError)) throw err;
      this.distribution = await connectDistribution({
        ...this.context,
        credential: { ...(this.context.credential as ResolvedCredential), accountID: this.username },
      });
      return this.catalog(this.distribution, err, signal);
    }
    const byName = new Map<string, ImageStream>();
    for (const stream of streams) {
      const { name, namespace } = stream.metadata ?? {};
      if (name && namespace) byName.set(`${namespace}/${name}`, stream);
    }
    if (this.namespace !== undefined && byName.size === 0) {
      throw new NotFoundError(
        this.ctx,
        `project "${this.namespace}" has no image streams, or does not exist (the API server lists an unknown namespace as empty)`,
      );
    }
    this.streams = byName;
    return [...byName.keys()].sort();
  }

  private get username(): string {
    return this.context.credential?.accountID?.trim() || DEFAULT_USERNAME;
  }

  /**
   * The registry's repositories in scope, when the image streams may not be listed. A catalog that is
   * refused as well is the image stream listing's PermissionError, saying what to grant.
   */
  private async catalog(
    distribution: ProviderSession,
    refused: PermissionError | undefined,
    signal?: AbortSignal,
  ): Promise<string[]> {
    let names: string[];
    try {
      names = await distribution.listRepositories(signal);
    } catch (err) {
      if (!(err instanceof UnsupportedError) && !(err instanceof PermissionError)) throw err;
      const grant =
        this.namespace === undefined
          ? `grant it "list" on imagestreams.image.openshift.io at the cluster scope (oc adm policy add-cluster-role-to-user registry-viewer ${this.identity}), or set the specification's namespace to one project it may read`
          : `grant it "get" and "list" on imagestreams.image.openshift.io in project "${this.namespace}" (oc policy add-role-to-user registry-viewer ${this.identity} -n ${this.namespace})`;
      const why = refused
        ? refused.message.split(": ").slice(1).join(": ")
        : `listing image streams ${this.scope}`;
      throw new PermissionError(
        this.ctx,
        `${why}; the registry's /v2/_catalog is refused too; ${grant}, or name the repositories exactly in \`repository\``,
        { status: refused?.status ?? 403, cause: err },
      );
    }
    return this.namespace === undefined ? names : names.filter((n) => n.startsWith(`${this.namespace}/`));
  }

  /** One image stream, for a repository the last listing did not include. */
  private async getImageStream(repository: string, signal?: AbortSignal): Promise<ImageStream> {
    const ctx = { registry: this.registryHost, repository };
    const { namespace, name } = imageStreamOf(repository, ctx);
    const what = `reading image stream "${name}" in project "${namespace}"`;
    const res = await this.api.get(
      `${IMAGE_API}namespaces/${encodeURIComponent(namespace)}/imagestreams/${encodeURIComponent(name)}`,
      signal,
    );
    if (res.status === 403) {
      throw new PermissionError(
        ctx,
        `${what}: ${this.identity} is not allowed to (${answerOf(res)}); grant it "get" on imagestreams.image.openshift.io in project "${namespace}" (oc policy add-role-to-user registry-viewer ${this.identity} -n ${namespace})`,
        { status: 403 },
      );
    }
    if (res.status !== 200) throw this.failure(res, what, ctx);
    const stream = this.parse<ImageStream>(res, what, ctx);
    if (stream.metadata?.name !== name) {
      throw new ProtocolError(ctx, `${what}: the answer is not that image stream`);
    }
    return stream;
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    if (this.distribution) return this.distribution.listTags(repository, options);
    const stream = this.streams?.get(repository) ?? (await this.getImageStream(repository, options.signal));
    const tags = tagsOf(stream);
    return options.withTimes ? tags : tags.map(({ tag, digest }) => ({ tag, digest }));
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api.close(), this.distribution?.close()]);
  }
}

export const redhatProvider: RegistryProvider = {
  type: "redhat",
  credentialTypes: ["basic"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    if (context.registry.trim() === "") {
      throw new UnsupportedError(
        { registry: "" },
        "an OpenShift registry needs its host (image-registry.openshift-image-registry.svc:5000, or its route)",
      );
    }
    const address = v2AddressOf(context.registry, context.insecure ?? false);
    const ctx = { registry: address.registryHost };
    const { username, token } = tokenOf(context.credential, ctx);
    const apiServer = apiServerOf(context.credential as ResolvedCredential, ctx);
    const ca = context.caCert?.trim() || undefined;
    const api = new RestApi(apiServer, ctx, {
      // An http:// API server is the operator's explicit choice, as an http:// registry is.
      insecure: address.insecure || apiServer.protocol === "http:",
      ca,
      authorization: `Bearer ${token}`,
    });
    const client = new RegistryClient({
      registry: address.address,
      credentials: { kind: "basic", username, password: token },
      insecure: address.insecure,
      ca,
    });
    const namespace = context.namespace?.trim() || undefined;
    try {
      const identity = await whoami(api, ctx);
      await client.login().catch((err: unknown) => {
        if (!(err instanceof AuthError)) throw err;
        throw new AuthError(
          ctx,
          `checking access to /v2/: the OpenShift registry rejected the token of ${identity} (${err.message.split(": ").slice(1).join(": ")})`,
          { status: err.status, cause: err },
        );
      });
      return new OpenShiftSession(client, address.registryHost, api, identity, namespace, context);
    } catch (err) {
      await Promise.all([client.close(), api.close()]);
      throw err;
    }
  },
};

/** The token's identity (`system:serviceaccount:<namespace>:<name>`, or a user), as `oc whoami` asks it. */
async function whoami(api: RestApi, ctx: RegistryErrorContext): Promise<string> {
  const what = "checking the token";
  const res = await api.get("apis/user.openshift.io/v1/users/~");
  if (res.status === 404) {
    throw new NotFoundError(
      ctx,
      `${what}: ${api.base.origin} does not serve the OpenShift user API (${answerOf(res)}); set the OpenShift cluster's API server (the credential's url, or SHIPSHAPE_OPENSHIFT_API_URL)`,
      { status: 404 },
    );
  }
  if (res.status !== 200) throw openshiftFailure(res, what, ctx, api.base.origin, "the token");
  let name: unknown;
  try {
    name = (JSON.parse(res.text) as { metadata?: { name?: unknown } }).metadata?.name;
  } catch {
    throw new ProtocolError(ctx, `${what}: the OpenShift API server's answer is not JSON`);
  }
  if (typeof name !== "string" || name === "") {
    throw new ProtocolError(ctx, `${what}: the OpenShift API server's answer names no user`);
  }
  return `"${name}"`;
}
