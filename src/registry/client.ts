/**
 * OCI distribution client (OCI distribution-spec v1.1 plus the Docker Registry HTTP API v2 catalog):
 * discovery, manifests, image configs and verified, resumable blob streams for one registry.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { type ImageConfig, InvalidConfigError, parseImageConfig } from "../image/config.js";
import {
  type Descriptor,
  IMAGE_CONFIG_TYPES,
  type ImageManifest,
  InvalidManifestError,
  MANIFEST_ACCEPT,
  type Manifest,
  MediaTypes,
  type Platform,
  parseManifest,
} from "../image/manifest.js";
import { DEFAULT_PLATFORM, PlatformNotFoundError, selectPlatform } from "../image/platform.js";
import { Authenticator, type AuthScheme, type Credentials, catalogScope, pullScope } from "./auth.js";
import { backoffDelay, defaultRetryPolicy, parseRetryAfter, type RetryPolicy, sleep } from "./backoff.js";
import {
  AuthError,
  DigestMismatchError,
  describeErrorBody,
  errorCodes,
  NetworkError,
  NotFoundError,
  PermissionError,
  ProtocolError,
  RateLimitedError,
  RegistryError,
  type RegistryErrorContext,
  UnsupportedError,
} from "./errors.js";
import { nextLink } from "./link-header.js";
import { isDigest, isValidTag, parseRegistryAddress } from "./reference.js";
import {
  describeNetworkError,
  type HttpRequest,
  type HttpResponse,
  header,
  isRetryableNetworkError,
  readBounded,
  Transport,
} from "./transport.js";
import { parseWwwAuthenticate } from "./www-authenticate.js";

export interface RegistryClientOptions {
  /** "host:port", "https://host/prefix", "docker.io". */
  registry: string;
  credentials?: Credentials;
  /** Allow plain HTTP and unverified TLS for this registry. */
  insecure?: boolean;
  /** PEM CA certificate(s) to trust for this registry besides the system's. */
  ca?: string | undefined;
  concurrency?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Resumptions of one blob download after a dropped connection. */
  maxBlobResumes?: number;
  maxManifestBytes?: number;
  userAgent?: string;
}

export interface PingResult {
  /** The API base actually used (scheme decided). */
  baseUrl: string;
  auth: AuthScheme;
  apiVersion?: string | undefined;
}

export interface ManifestDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface FetchedManifest extends ManifestDescriptor {
  bytes: Buffer;
  manifest: Manifest;
}

export interface ResolvedImage {
  repository: string;
  reference: string;
  /** Digest of the image manifest (the platform's, when the reference named an index). */
  digest: string;
  /** Digest of the index the reference resolved through, if any. */
  indexDigest?: string | undefined;
  platform: Platform;
  manifest: ImageManifest;
  config: ImageConfig;
}

export interface PageOptions {
  /** Entries asked for per page (`n`). */
  pageSize?: number;
  signal?: AbortSignal;
}

const MAX_PAGES = 100_000;
const MAX_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const COSIGN_TAG = /^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/;

/** Tags that name signatures, attestations or referrer indexes rather than runnable images. */
export function isArtifactTag(tag: string): boolean {
  return COSIGN_TAG.test(tag);
}

export class RegistryClient {
  readonly registry: string;
  private base: URL;
  private readonly candidates: URL[];
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  private readonly ctx: RegistryErrorContext;
  private readonly maxManifestBytes: number;
  private readonly maxBlobResumes: number;
  private ping_: Promise<PingResult> | undefined;

  constructor(options: RegistryClientOptions) {
    const address = parseRegistryAddress(options.registry);
    const insecure = options.insecure ?? false;
    this.registry = address.host;
    this.ctx = { registry: address.host };
    if (address.scheme === "http" && !insecure) {
      throw new Error(`plain HTTP registry ${options.registry} needs --insecure`);
    }
    const baseFor = (scheme: string) => new URL(`${scheme}://${address.host}${address.pathPrefix}/`);
    // An insecure registry without an explicit scheme is tried over HTTPS first, then plain HTTP (as Docker does).
    this.candidates = address.scheme
      ? [baseFor(address.scheme)]
      : insecure
        ? [baseFor("https"), baseFor("http")]
        : [baseFor("https")];
    this.base = this.candidates[0] as URL;
    this.transport = new Transport({
      insecure,
      ca: options.ca,
      concurrency: options.concurrency ?? 4,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      retry: { ...defaultRetryPolicy, ...options.retry },
      userAgent: options.userAgent ?? "shipshape/0.1",
      maxRedirects: 10,
    });
    this.auth = new Authenticator(
      this.transport,
      options.credentials ?? { kind: "anonymous" },
      this.ctx,
      insecure,
    );
    this.maxManifestBytes = options.maxManifestBytes ?? 4 * 1024 * 1024;
    this.maxBlobResumes = options.maxBlobResumes ?? 5;
  }

  /** Token fetches so far (each token server round trip). */
  get tokenFetches(): number {
    return this.auth.tokenFetches;
  }

  /** GET /v2/: decides the scheme and the auth challenge; done once, shared by concurrent callers. */
  ping(signal?: AbortSignal): Promise<PingResult> {
    if (!this.ping_) {
      this.ping_ = this.doPing(signal);
      this.ping_.catch(() => {
        this.ping_ = undefined;
      });
    }
    return this.ping_;
  }

  private async doPing(signal?: AbortSignal): Promise<PingResult> {
    let lastError: unknown;
    for (const base of this.candidates) {
      const url = new URL("v2/", base);
      let res: HttpResponse;
      try {
        res = await this.transport.send({ method: "GET", url, signal, ctx: this.ctx });
      } catch (err) {
        lastError = err;
        continue;
      }
      await res.body.dump().catch(() => undefined);
      this.base = base;
      if (res.status === 200) this.auth.learn([]);
      else if (res.status === 401) {
        const challenges = parseWwwAuthenticate(res.headers["www-authenticate"]);
        if (!challenges.some((c) => c.scheme === "bearer" || c.scheme === "basic")) {
          throw new AuthError(
            this.ctx,
            "registry asks for authentication in a scheme other than Bearer or Basic",
            {
              status: 401,
            },
          );
        }
        this.auth.learn(challenges);
      } else {
        throw new ProtocolError(
          this.ctx,
          `${url.href} answered HTTP ${res.status}: not a Docker/OCI registry API (wrong address or path prefix?)`,
          { status: res.status },
        );
      }
      return {
        baseUrl: base.href,
        auth: this.auth.authScheme ?? "none",
        apiVersion: header(res.headers, "docker-distribution-api-version"),
      };
    }
    if (lastError instanceof RegistryError) throw lastError;
    throw new NetworkError(this.ctx, describeNetworkError(lastError), { cause: lastError });
  }

  /** An API URL; pings first, since the ping decides the scheme of an insecure registry. */
  private async endpoint(path: string, signal?: AbortSignal): Promise<URL> {
    await this.ping(signal);
    return new URL(path, this.base);
  }

  /**
   * Sends an authorised request. On a 401 it refreshes the token once (with any scope the challenge
   * adds, put first since some token servers honour only the first), then gives up with a typed error.
   */
  private async send(
    req: Omit<HttpRequest, "ctx" | "authorization">,
    scopes: string[],
    ctx: RegistryErrorContext,
  ): Promise<HttpResponse> {
    await this.ping(req.signal);
    let res = await this.transport.send({
      ...req,
      ctx,
      authorization: await this.auth.authorization(scopes),
    });
    if (res.status !== 401) return res;
    await res.body.dump().catch(() => undefined);
    const challenges = parseWwwAuthenticate(res.headers["www-authenticate"]);
    const wanted = challenges.find((c) => c.scheme === "bearer")?.params.scope;
    let retryScopes = scopes;
    if (this.auth.authScheme === "none" && challenges.length > 0) this.auth.learn(challenges);
    else if (!this.auth.canRefresh) {
      throw new AuthError(
        ctx,
        this.auth.hasCredentials
          ? `registry rejected the credentials of ${this.auth.identity} (HTTP 401)`
          : "registry requires authentication (HTTP 401); give credentials (--username, --password-stdin)",
        { status: 401 },
      );
    } else {
      this.auth.invalidate(scopes);
      if (wanted) retryScopes = [...new Set([...wanted.split(" "), ...scopes])];
    }
    res = await this.transport.send({
      ...req,
      ctx,
      authorization: await this.auth.authorization(retryScopes),
    });
    if (res.status === 401) {
      await res.body.dump().catch(() => undefined);
      if (this.auth.authScheme === "basic") {
        throw new AuthError(
          ctx,
          `registry rejected ${this.auth.identity} (HTTP 401, also after renewing it)`,
          {
            status: 401,
          },
        );
      }
      const detail = `${this.auth.identity} is not authorised for ${retryScopes.join(" ")} (HTTP 401 after a fresh token)`;
      throw this.auth.hasCredentials
        ? new PermissionError(ctx, detail, { status: 401 })
        : new AuthError(ctx, detail, { status: 401 });
    }
    return res;
  }

  /** Turns a non-2xx answer into the typed error that says what went wrong. */
  private async failure(res: HttpResponse, ctx: RegistryErrorContext, what: string): Promise<RegistryError> {
    const body = res.body
      ? (await readBounded(res, 64 * 1024, ctx).catch(() => Buffer.alloc(0))).toString()
      : "";
    const why = describeErrorBody(body);
    const detail = `${what}: HTTP ${res.status}${why ? ` (${why})` : ""}`;
    switch (res.status) {
      case 403:
        return new PermissionError(ctx, detail, { status: 403 });
      case 404:
        return new NotFoundError(ctx, detail, { status: 404 });
      case 429:
        return new RateLimitedError(
          ctx,
          `${detail}; retries exhausted`,
          parseRetryAfter(header(res.headers, "retry-after")),
        );
      default:
        return new ProtocolError(ctx, detail, { status: res.status });
    }
  }

  /**
   * Fetches a small body, retrying when the connection drops mid-body (the transport retries only
   * headers). Non-2xx answers are errors, except those `accept` lets through (their body is read too).
   */
  private async fetchSmall(
    req: Omit<HttpRequest, "ctx" | "authorization">,
    scopes: string[],
    ctx: RegistryErrorContext,
    limit: number,
    what: string,
    accept: (status: number) => boolean = () => false,
  ): Promise<{ res: HttpResponse; bytes: Buffer }> {
    const policy = this.transport.retryPolicy;
    for (let attempt = 1; ; attempt++) {
      const res = await this.send(req, scopes, ctx);
      if ((res.status < 200 || res.status >= 300) && !accept(res.status))
        throw await this.failure(res, ctx, what);
      try {
        return { res, bytes: await readBounded(res, limit, ctx) };
      } catch (err) {
        if (err instanceof RegistryError || req.signal?.aborted) throw err;
        if (attempt >= policy.maxAttempts || !isRetryableNetworkError(err)) {
          throw new NetworkError(ctx, `${what}: ${describeNetworkError(err)}`, { cause: err });
        }
        await sleep(backoffDelay(attempt, policy), req.signal);
      }
    }
  }

  /** Follows `n`/`Link` pagination to the end; stops on a repeated or foreign-origin link. */
  private async *paginate(
    path: string,
    key: "repositories" | "tags",
    scopes: string[],
    ctx: RegistryErrorContext,
    options: PageOptions,
  ): AsyncGenerator<string[]> {
    let pageSize = options.pageSize ?? 100;
    let url: URL | undefined = await this.endpoint(path, options.signal);
    url.searchParams.set("n", String(pageSize));
    const seen = new Set<string>();
    while (url) {
      if (seen.has(url.href) || seen.size >= MAX_PAGES) break;
      seen.add(url.href);
      // Registries that reject rather than clamp a large n (distribution's maxentries, ECR's 1000).
      const mayRejectPageSize = (status: number) => (status === 400 || status === 405) && pageSize > 10;
      // Read through fetchSmall, so that a page whose connection drops mid-body is fetched again.
      const { res, bytes: body } = await this.fetchSmall(
        { method: "GET", url, headers: { accept: "application/json" }, signal: options.signal },
        scopes,
        ctx,
        MAX_PAGE_BYTES,
        `listing ${key}`,
        mayRejectPageSize,
      );
      if (mayRejectPageSize(res.status)) {
        const text = body.toString();
        if (
          errorCodes(text).includes("PAGINATION_NUMBER_INVALID") ||
          /less than or equal|maxentries|\bn\b/i.test(text)
        ) {
          seen.delete(url.href);
          pageSize = Math.max(10, Math.floor(pageSize / 2));
          url.searchParams.set("n", String(pageSize));
          continue;
        }
        throw await this.failure({ ...res, body: Readable.from([text]) as never }, ctx, `listing ${key}`);
      }
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        throw new ProtocolError(ctx, `listing ${key}: response is not JSON`);
      }
      const entries = parsed[key];
      if (entries !== null && entries !== undefined && !Array.isArray(entries)) {
        throw new ProtocolError(ctx, `listing ${key}: "${key}" is not an array`);
      }
      yield (entries ?? []).filter((e): e is string => typeof e === "string" && e.length > 0);
      const next = nextLink(res.headers.link, url);
      if (next && next.origin !== this.base.origin) {
        throw new ProtocolError(
          ctx,
          `listing ${key}: refusing pagination link to another origin (${next.origin})`,
        );
      }
      url = next;
    }
  }

  /** Every repository in /v2/_catalog, sorted and de-duplicated. */
  async listRepositories(options: PageOptions = {}): Promise<string[]> {
    const all = new Set<string>();
    let pages = 0;
    try {
      for await (const page of this.paginate(
        "v2/_catalog",
        "repositories",
        [catalogScope],
        this.ctx,
        options,
      )) {
        pages++;
        for (const repo of page) all.add(repo);
      }
    } catch (err) {
      // Refused on the first page = no catalog here; a later page failing is an error of the listing.
      if (
        pages === 0 &&
        (err instanceof PermissionError ||
          err instanceof NotFoundError ||
          (err instanceof ProtocolError && err.status === 405))
      ) {
        throw new UnsupportedError(
          this.ctx,
          `the registry does not offer its catalog to ${this.auth.identity} (${err.message.split(": ").slice(1).join(": ")}); name repositories with --repo`,
          { status: err.status, cause: err },
        );
      }
      throw err;
    }
    return [...all].sort();
  }

  /**
   * Checks access the way `docker login` does: GET /v2/ with the Authorization for no scope (Basic,
   * or a token, which a token server issues only to valid credentials). Rejected credentials are an
   * AuthError naming the registry.
   */
  async login(signal?: AbortSignal): Promise<void> {
    const url = await this.endpoint("v2/", signal);
    const res = await this.send({ method: "GET", url, signal }, [], this.ctx);
    if (res.status !== 200) throw await this.failure(res, this.ctx, "checking access");
    await res.body.dump().catch(() => undefined);
  }

  /** Who this client acts as, for messages ("user \"x\"", "anonymous access", a refreshing credential's description). */
  get identity(): string {
    return this.auth.identity;
  }

  /**
   * A GET of a small JSON document under /v2/ of `repository` with this client's authentication (the
   * ping's challenge, a pull token, one renewal after a 401): a product's extension of the
   * distribution API, such as Google's tags/list with `child` and `manifest`. Any other status comes
   * back with its body, for the provider to explain in the product's terms.
   */
  async getExtension(
    repository: string,
    pathAndQuery: string,
    options: { maxBytes: number; what: string; signal?: AbortSignal | undefined },
  ): Promise<{ status: number; text: string }> {
    const ctx = { ...this.ctx, repository };
    const url = await this.endpoint(`v2/${repository}/${pathAndQuery}`, options.signal);
    const { res, bytes } = await this.fetchSmall(
      { method: "GET", url, headers: { accept: "application/json" }, signal: options.signal },
      [pullScope(repository)],
      ctx,
      options.maxBytes,
      options.what,
      () => true,
    );
    return { status: res.status, text: bytes.toString("utf8") };
  }

  /** Tags of a repository, sanitised (no nulls, digests or invalid names), without signature/attestation tags. */
  async listTags(
    repository: string,
    options: PageOptions & { includeArtifacts?: boolean } = {},
  ): Promise<string[]> {
    const ctx = { ...this.ctx, repository };
    const all = new Set<string>();
    for await (const page of this.paginate(
      `v2/${repository}/tags/list`,
      "tags",
      [pullScope(repository)],
      ctx,
      options,
    )) {
      for (const tag of page) {
        if (isValidTag(tag) && (options.includeArtifacts || !isArtifactTag(tag))) all.add(tag);
      }
    }
    return [...all].sort();
  }

  /** Resolves a tag to its manifest descriptor with HEAD, falling back to GET when HEAD gives no digest. */
  async headManifest(
    repository: string,
    reference: string,
    signal?: AbortSignal,
  ): Promise<ManifestDescriptor> {
    const ctx = { ...this.ctx, repository, reference };
    const url = await this.endpoint(`v2/${repository}/manifests/${reference}`, signal);
    const res = await this.send(
      { method: "HEAD", url, headers: { accept: MANIFEST_ACCEPT }, signal },
      [pullScope(repository)],
      ctx,
    );
    await res.body.dump().catch(() => undefined);
    const digest = header(res.headers, "docker-content-digest");
    if (res.status === 404) throw new NotFoundError(ctx, "manifest unknown (HTTP 404)", { status: 404 });
    if (res.status === 200 && digest && isDigest(digest)) {
      return {
        digest,
        mediaType: header(res.headers, "content-type")?.split(";")[0]?.trim() ?? "",
        size: Number(header(res.headers, "content-length") ?? -1),
      };
    }
    const { digest: d, mediaType, size } = await this.getManifest(repository, reference, signal);
    return { digest: d, mediaType, size };
  }

  /** GETs a manifest, keeps its exact bytes, and checks them against the digest asked for or announced. */
  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const ctx = { ...this.ctx, repository, reference };
    const url = await this.endpoint(`v2/${repository}/manifests/${reference}`, signal);
    const { res, bytes } = await this.fetchSmall(
      { method: "GET", url, headers: { accept: MANIFEST_ACCEPT }, signal },
      [pullScope(repository)],
      ctx,
      this.maxManifestBytes,
      "fetching manifest",
    );
    let manifest: Manifest;
    try {
      manifest = parseManifest(bytes, header(res.headers, "content-type"));
    } catch (err) {
      if (err instanceof InvalidManifestError)
        throw new ProtocolError(ctx, `malformed manifest: ${err.message}`, { cause: err });
      throw err;
    }
    const announced = header(res.headers, "docker-content-digest");
    // A signed schema 1 manifest's digest covers its payload without the signature: only the header has it.
    const signedSchema1 = manifest.mediaType === MediaTypes.dockerSchema1Signed;
    const expected = isDigest(reference) ? reference : signedSchema1 ? undefined : announced;
    let digest = expected ?? announced ?? digestOf(bytes, "sha256");
    if (expected && !signedSchema1) {
      const actual = digestOf(bytes, expected.split(":")[0] as string);
      if (actual !== expected) throw new DigestMismatchError(ctx, expected, actual);
      digest = actual;
    }
    return { bytes, manifest, mediaType: manifest.mediaType, digest, size: bytes.length };
  }

  /**
   * Resolves a reference to one image: through an index to the wanted platform (default linux/amd64),
   * refusing non-image artefacts, and fetching the image config.
   */
  async resolveImage(
    repository: string,
    reference: string,
    options: { platform?: Platform; signal?: AbortSignal } = {},
  ): Promise<ResolvedImage> {
    const ctx = { ...this.ctx, repository, reference };
    const wanted = options.platform ?? DEFAULT_PLATFORM;
    let fetched = await this.getManifest(repository, reference, options.signal);
    let indexDigest: string | undefined;
    if (fetched.manifest.kind === "index") {
      indexDigest = fetched.digest;
      let entry: Descriptor;
      try {
        entry = selectPlatform(fetched.manifest, wanted);
      } catch (err) {
        if (err instanceof PlatformNotFoundError) throw new NotFoundError(ctx, err.message, { cause: err });
        throw err;
      }
      fetched = await this.getManifest(repository, entry.digest, options.signal);
      if (fetched.manifest.kind === "index")
        throw new UnsupportedError(ctx, "nested image indexes are not supported");
    }
    const manifest = fetched.manifest;
    if (manifest.kind === "schema1")
      return this.resolveSchema1(repository, reference, fetched, manifest, ctx);
    if (manifest.kind !== "image") throw new ProtocolError(ctx, "unexpected manifest kind");
    if (!IMAGE_CONFIG_TYPES.includes(manifest.config.mediaType)) {
      throw new UnsupportedError(
        ctx,
        `not a container image (config media type ${manifest.config.mediaType}${manifest.artifactType ? `, artifact type ${manifest.artifactType}` : ""})`,
      );
    }
    const config = await this.getConfig(repository, manifest.config, options.signal);
    return {
      repository,
      reference,
      digest: fetched.digest,
      indexDigest,
      platform: { os: config.os, architecture: config.architecture, variant: config.variant },
      manifest,
      config,
    };
  }

  /** Legacy schema 1: layers are listed top-down and the config is embedded in history[0]. */
  private resolveSchema1(
    repository: string,
    reference: string,
    fetched: FetchedManifest,
    manifest: Extract<Manifest, { kind: "schema1" }>,
    ctx: RegistryErrorContext,
  ): ResolvedImage {
    let config: ImageConfig;
    try {
      config = parseImageConfig(Buffer.from(manifest.history[0]?.v1Compatibility ?? "{}"));
    } catch (err) {
      throw new ProtocolError(ctx, `malformed schema 1 history: ${(err as Error).message}`);
    }
    const layers = [...manifest.fsLayers].reverse().map((l) => ({
      mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip",
      digest: l.blobSum,
      size: -1,
    }));
    return {
      repository,
      reference,
      digest: fetched.digest,
      platform: { os: config.os || "linux", architecture: config.architecture || manifest.architecture },
      manifest: {
        kind: "image",
        mediaType: manifest.mediaType,
        config: { mediaType: MediaTypes.dockerConfig, digest: fetched.digest, size: -1 },
        layers,
      },
      config,
    };
  }

  /** The image config blob, verified and parsed. */
  async getConfig(repository: string, descriptor: Descriptor, signal?: AbortSignal): Promise<ImageConfig> {
    const ctx = { ...this.ctx, repository, reference: descriptor.digest };
    if (descriptor.size > MAX_CONFIG_BYTES)
      throw new ProtocolError(ctx, `image config of ${descriptor.size} bytes is implausibly large`);
    const chunks: Buffer[] = [];
    for await (const chunk of this.openBlob(repository, descriptor, { signal })) chunks.push(chunk as Buffer);
    try {
      return parseImageConfig(Buffer.concat(chunks));
    } catch (err) {
      if (err instanceof InvalidConfigError) throw new ProtocolError(ctx, err.message, { cause: err });
      throw err;
    }
  }

  /**
   * A blob as a stream that is verified as it flows: the byte count against the descriptor's size
   * (a longer body is cut off at once) and the digest at the end. A dropped connection is resumed with
   * `Range` from the last byte received. The stream fails with a typed error on mismatch, so a
   * consumer must treat everything it read from a failed stream as unverified.
   */
  openBlob(
    repository: string,
    descriptor: Pick<Descriptor, "digest" | "size">,
    options: { signal?: AbortSignal | undefined } = {},
  ): Readable {
    return Readable.from(this.blobChunks(repository, descriptor, options.signal), {
      objectMode: false,
    });
  }

  private async *blobChunks(
    repository: string,
    descriptor: Pick<Descriptor, "digest" | "size">,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<Buffer> {
    const ctx = { ...this.ctx, repository, reference: descriptor.digest };
    const [algorithm] = descriptor.digest.split(":");
    if (algorithm !== "sha256" && algorithm !== "sha512") {
      throw new UnsupportedError(ctx, `unsupported digest algorithm "${algorithm}"`);
    }
    const url = await this.endpoint(`v2/${repository}/blobs/${descriptor.digest}`, signal);
    const hash = createHash(algorithm);
    const size = descriptor.size;
    let received = 0;
    for (let resumes = 0; ; ) {
      const headers: Record<string, string> = received > 0 ? { range: `bytes=${received}-` } : {};
      const res = await this.send({ method: "GET", url, headers, signal }, [pullScope(repository)], ctx);
      if (res.status !== 200 && res.status !== 206) throw await this.failure(res, ctx, "fetching blob");
      // 200 to a ranged request: the server ignored the range and sends everything again.
      let skip = received > 0 && res.status === 200 ? received : 0;
      if (res.status === 206) {
        const start = /^bytes (\d+)-/.exec(header(res.headers, "content-range") ?? "")?.[1];
        if (Number(start) !== received) {
          res.body.destroy();
          throw new ProtocolError(ctx, `blob range answer starts at ${start ?? "?"}, asked for ${received}`);
        }
      }
      try {
        for await (const raw of res.body) {
          let chunk = raw as Buffer;
          if (skip > 0) {
            const n = Math.min(skip, chunk.length);
            skip -= n;
            chunk = chunk.subarray(n);
            if (chunk.length === 0) continue;
          }
          if (size >= 0 && received + chunk.length > size) {
            res.body.destroy();
            throw new DigestMismatchError(
              ctx,
              descriptor.digest,
              "(unknown)",
              `blob is larger than its descriptor's ${size} bytes`,
            );
          }
          hash.update(chunk);
          received += chunk.length;
          yield chunk;
        }
      } catch (err) {
        if (err instanceof RegistryError || signal?.aborted) throw err;
        if (resumes >= this.maxBlobResumes || !isRetryableNetworkError(err)) {
          throw new NetworkError(
            ctx,
            `blob download failed after ${received} bytes: ${describeNetworkError(err)}`,
            { cause: err },
          );
        }
        resumes++;
        await sleep(backoffDelay(resumes, this.transport.retryPolicy), signal);
        continue;
      }
      if (size >= 0 && received < size) {
        // Premature end of body without an error: a truncating proxy or a dropped connection.
        if (resumes >= this.maxBlobResumes) {
          throw new NetworkError(
            ctx,
            `blob truncated: got ${received} of ${size} bytes after ${resumes} resumptions`,
          );
        }
        resumes++;
        await sleep(backoffDelay(resumes, this.transport.retryPolicy), signal);
        continue;
      }
      break;
    }
    const actual = `${algorithm}:${hash.digest("hex")}`;
    if (actual !== descriptor.digest) throw new DigestMismatchError(ctx, descriptor.digest, actual);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

export function digestOf(bytes: Uint8Array, algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}
