/**
 * A registry provider: how one registry product (a RegistrySpecification `version` code)
 * authenticates, lists repositories and lists tags with their push times. Pulling always goes
 * through the OCI distribution API with the RegistryClient the session hands out.
 *
 * Adding a registry type = one file `providers/<type>.ts` exporting a RegistryProvider, listed in
 * providers/index.ts, plus its test against a local simulation of the product's documented API.
 */
import type { Credential, RegistryType } from "../../api/schemas.js";
import type { RegistryClient } from "../client.js";

/** A credential with its secrets decrypted (`secret.plain`, `apiToken.plain`) for this use only. */
export type ResolvedCredential = Credential;

export interface ProviderContext {
  /** The specification's `registry` value as the user wrote it ("", host, host:port, or URL). */
  registry: string;
  namespace?: string | undefined;
  credential?: ResolvedCredential | undefined;
  /** PEM CA that signed the registry certificate (RegistrySpecification.caCert). */
  caCert?: string | undefined;
  /** Allow plain HTTP and unverified TLS (set for an http:// registry URL). */
  insecure?: boolean | undefined;
  /** The whole specification, for type-specific fields (gitlabRegistrySpec, jfrogRepoTypes, …). */
  spec: Record<string, unknown>;
}

export interface DiscoveredTag {
  tag: string;
  /** Manifest digest when the listing API gives it. */
  digest?: string | undefined;
  /** Push (or, failing that, image creation) time, when known. */
  pushedAt?: Date | undefined;
}

export interface ProviderSession {
  /** Registry host as it appears in result ids and repoTag.registry (e.g. "127.0.0.1:5000"). */
  readonly registryHost: string;
  listRepositories(signal?: AbortSignal): Promise<string[]>;
  /**
   * Tags of one repository. With `withTimes`, every tag carries `pushedAt` (fetched per tag when the
   * product's listing does not include it); without, only names (versionPattern ordering needs no
   * per-tag requests, spec 6.5).
   */
  listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]>;
  /** The authenticated distribution client used to pull this registry's images. */
  readonly client: RegistryClient;
  close(): Promise<void>;
}

export interface RegistryProvider {
  readonly type: RegistryType;
  /** Credential types this provider accepts (validated when a specification is saved). */
  readonly credentialTypes: readonly string[];
  connect(context: ProviderContext): Promise<ProviderSession>;
}
