/**
 * Registry type `2` (spec section 8): Docker Registry v2 / CNCF distribution and any v2-compliant
 * registry (registries.md 2.1), over the generic distribution client.
 *
 * - `registry`: "host[:port]", "https://host[/prefix]", "http://host:port" (plain HTTP, so the
 *   session is insecure). Docker Hub ("", docker.io) goes to the Docker Hub provider and ghcr.io to
 *   the GitHub Container Registry provider, whose own APIs list what the v2 API cannot.
 * - Credentials: none (anonymous) or `basic` (`accountID` + `secret.plain`); checked at connect the
 *   way `docker login` does, so wrong credentials fail before any listing.
 * - Repositories: the paginated `/v2/_catalog` (spec 6.2 step 1). Token servers often grant the
 *   catalog to administrators only; then a `repository` made of exact names is taken as the list,
 *   and otherwise the session says the catalog is not available.
 * - Tags: `/v2/<name>/tags/list`. The v2 API has no push time anywhere (registries.md 1.10), so
 *   `withTimes` reads each tag's manifest and image config (bounded concurrency) and uses the config's
 *   `created` build time, for the platform the specification scans (`os`). Build times before 2000
 *   count as unknown (reproducible builds pin 1970). `digest` is the tag's manifest digest (the
 *   index's for a multi-platform tag).
 */
import type { Platform } from "../../image/manifest.js";
import type { Credentials } from "../auth.js";
import { mapBounded } from "../backoff.js";
import { RegistryClient } from "../client.js";
import { AuthError, NotFoundError, RegistryError, UnsupportedError } from "../errors.js";
import { isDockerHub, isValidRepository, parseRegistryAddress } from "../reference.js";
import { dockerHubProvider } from "./dockerhub.js";
import { ghcrProvider } from "./ghcr.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";

const DOCKER_HUB = "docker.io";
const GHCR = "ghcr.io";
/** Per-tag manifest + config reads in flight for one repository (the client caps the registry too). */
const TAG_TIME_CONCURRENCY = 8;

export interface V2Address {
  /** What the distribution client is given. */
  address: string;
  /** Host as results name it: "127.0.0.1:5000", "docker.io" for Docker Hub. */
  registryHost: string;
  insecure: boolean;
  dockerHub: boolean;
}

/** Reads the specification's `registry` value; throws for an address that is not one. */
export function v2AddressOf(registry: string, insecure = false): V2Address {
  const text = registry.trim();
  if (text === "") return { address: DOCKER_HUB, registryHost: DOCKER_HUB, insecure, dockerHub: true };
  const parsed = parseRegistryAddress(text);
  const dockerHub = isDockerHub(parsed.host);
  return {
    address: text,
    registryHost: dockerHub ? DOCKER_HUB : parsed.host,
    insecure: insecure || parsed.scheme === "http",
    dockerHub,
  };
}

/** The platform whose config dates a tag, from the specification's `os` (spec 6.7). */
export function platformOf(os: unknown): Platform {
  if (os === "linuxARM64") return { os: "linux", architecture: "arm64" };
  if (os === "windows") return { os: "windows", architecture: "amd64" };
  return { os: "linux", architecture: "amd64" };
}

function credentialsOf(credential: ResolvedCredential | undefined, registryHost: string): Credentials {
  if (credential === undefined) return { kind: "anonymous" };
  const ctx = { registry: registryHost };
  if (credential.type !== "basic") {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" is of type "${credential.type}"; Docker Registry v2 accepts "basic" or none`,
    );
  }
  const username = credential.accountID ?? "";
  const password = credential.secret?.plain ?? "";
  if (username === "" || password === "") {
    throw new AuthError(
      ctx,
      `credential "${credential._id}" needs a username (accountID) and a password (secret)`,
    );
  }
  return { kind: "basic", username, password };
}

/** The names of a `repository` pattern made only of exact names; undefined when it has wildcards or NOTs. */
export function exactRepositories(pattern: unknown): string[] | undefined {
  if (typeof pattern !== "string") return undefined;
  const names = pattern
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0);
  if (names.length === 0 || names.some((name) => name.includes("*") || name.startsWith("-")))
    return undefined;
  return names.every(isValidRepository) ? [...new Set(names)].sort() : undefined;
}

/** A registry error's message without the "registry/repository:" location in front. */
function detailOf(err: RegistryError): string {
  return err.message.split(": ").slice(1).join(": ");
}

class DockerV2Session implements ProviderSession {
  constructor(
    readonly client: RegistryClient,
    private readonly address: V2Address,
    private readonly platform: Platform,
    private readonly exactNames: string[] | undefined,
  ) {}

  get registryHost(): string {
    return this.address.registryHost;
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    try {
      return await this.client.listRepositories({ signal });
    } catch (err) {
      if (err instanceof UnsupportedError && this.exactNames) return this.exactNames;
      if (err instanceof UnsupportedError) {
        // The client's message ends in a command-line hint; say what answered and what to do here.
        const answer = err.cause instanceof RegistryError ? detailOf(err.cause) : detailOf(err);
        throw new UnsupportedError(
          { registry: this.address.registryHost },
          `the registry does not list its repositories to this credential (${answer}); name them exactly in \`repository\``,
          { status: err.status, cause: err },
        );
      }
      throw err;
    }
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const names = await this.client.listTags(repository, { signal: options.signal });
    if (!options.withTimes) return names.map((tag) => ({ tag }));
    const tags = await mapBounded(names, TAG_TIME_CONCURRENCY, (tag) =>
      this.datedTag(repository, tag, options.signal),
    );
    return tags.filter((tag): tag is DiscoveredTag => tag !== undefined);
  }

  /**
   * One tag with its digest and build time. A tag whose manifest is gone (listed but garbage
   * collected, registries.md 2.1) is dropped; one that cannot be dated (no image for the platform, an
   * artefact, broken content) is kept without a time, so its scan reports what is wrong with it.
   * Errors about access, the network or rate limits concern the whole registry and are thrown.
   */
  private async datedTag(
    repository: string,
    tag: string,
    signal: AbortSignal | undefined,
  ): Promise<DiscoveredTag | undefined> {
    try {
      const image = await this.client.resolveImage(repository, tag, { platform: this.platform, signal });
      return { tag, digest: image.indexDigest ?? image.digest, pushedAt: image.config.createdAt };
    } catch (err) {
      if (!(err instanceof RegistryError) || signal?.aborted) throw err;
      if (err instanceof NotFoundError && err.status === 404 && err.reference === tag) return undefined;
      if (["unsupported", "not_found", "protocol", "digest_mismatch"].includes(err.code)) return { tag };
      throw err;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/**
 * A session over the distribution API alone (catalog, tags/list, config build times), whatever the
 * host; for products whose own API is not available to the credential.
 */
export async function connectDistribution(context: ProviderContext): Promise<ProviderSession> {
  const address = v2AddressOf(context.registry, context.insecure ?? false);
  const credentials = credentialsOf(context.credential, address.registryHost);
  const client = new RegistryClient({
    registry: address.address,
    credentials,
    insecure: address.insecure,
    ca: context.caCert?.trim() || undefined,
  });
  try {
    await client.login();
  } catch (err) {
    await client.close();
    if (err instanceof AuthError && credentials.kind === "anonymous") {
      throw new AuthError(
        { registry: address.registryHost },
        "the registry requires authentication; give the specification a credential of type basic",
        { status: err.status, cause: err },
      );
    }
    throw err;
  }
  return new DockerV2Session(
    client,
    address,
    platformOf(context.spec.os),
    exactRepositories(context.spec.repository),
  );
}

export const dockerV2Provider: RegistryProvider = {
  type: "2",
  credentialTypes: ["basic"],

  /**
   * Prisma clients configure Docker Hub (registry "") and GitHub Container Registry as type `2`;
   * their own APIs list them.
   */
  async connect(context: ProviderContext): Promise<ProviderSession> {
    const address = v2AddressOf(context.registry, context.insecure ?? false);
    if (address.dockerHub) return dockerHubProvider.connect(context);
    if (address.registryHost === GHCR) return ghcrProvider.connect(context);
    return connectDistribution(context);
  },
};
