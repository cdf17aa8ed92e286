/**
 * Registry type `azure` (spec section 8; registries.md 2.5): Azure Container Registry.
 *
 * Follows Microsoft's documentation:
 * - ACR authentication and the token exchange
 *   (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md and the data-plane REST API
 *   https://learn.microsoft.com/rest/api/containerregistry/, swagger
 *   Azure.ContainerRegistry/stable/2021-07-01): `POST /oauth2/exchange` (grant_type=access_token,
 *   service, tenant, access_token → `refresh_token`), `POST /oauth2/token` (grant_type=refresh_token,
 *   service, scope, refresh_token → `access_token`), `GET /oauth2/token?service=&scope=` with Basic
 *   for the admin user and repository-scoped tokens; errors `{"errors":[{code,message,detail}]}`.
 * - Listing: `GET /acr/v1/_catalog?n=&last=` (`repositories`, scope `registry:catalog:*`) and
 *   `GET /acr/v1/<name>/_tags?n=&last=&orderby=timedesc` (`tags[]` with `name`, `digest`,
 *   `createdTime`, `lastUpdateTime`, `changeableAttributes`; scope `repository:<name>:metadata_read`),
 *   both paged by a relative `Link` header.
 * - Microsoft Entra ID client credentials through `@azure/identity` ClientSecretCredential, for the
 *   Azure Resource Manager audience of the registry's cloud (`https://management.azure.com/.default`;
 *   `.azurecr.cn` and `.azurecr.us` use their sovereign clouds' authority and ARM audience).
 *
 * - `registry`: the login server (`<name>.azurecr.io`) or a URL of it.
 * - Credentials: `azure`, the service-principal JSON `{clientId, clientSecret, tenantId,
 *   subscriptionId}` in `secret` (clientId/tenantId may come from `azureSPInfo`); or `basic`, the
 *   admin user (registry name + admin password), a service principal's id and secret, or a
 *   repository-scoped token (token name + password). The Entra token and the ACR refresh token both
 *   expire: each is an ExpiringValue, renewed ahead of expiry (the refresh token's JWT `exp`) and
 *   once after a 401. The Entra authority is `SHIPSHAPE_AZURE_AUTHORITY_HOST`, else the identity
 *   library's own `AZURE_AUTHORITY_HOST`, else the registry cloud's.
 * - Push time of a tag = its `lastUpdateTime` (moves when the tag is pushed again; `timedesc` orders
 *   by it). Tags whose `readEnabled` is false cannot be pulled and are left out.
 */

import { rootCertificates } from "node:tls";
import type { ClientSecretCredential } from "@azure/identity";
import type { Credentials, StaticCredentials } from "../auth.js";
import { isArtifactTag, RegistryClient } from "../client.js";
import {
  AuthError,
  describeErrorBody,
  PermissionError,
  ProtocolError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { ExpiringValue } from "../expiring.js";
import { nextLink } from "../link-header.js";
import { isValidTag } from "../reference.js";
import { exactRepositories, v2AddressOf } from "./docker-v2.js";
import { serviceEndpoint } from "./endpoints.js";
import type { DiscoveredTag, ProviderContext, ProviderSession, RegistryProvider } from "./provider.js";
import { type ApiResponse, apiFailure, apiTime, RestApi } from "./rest.js";

const TOKEN_BODY_BYTES = 64 * 1024;
const MAX_PAGES = 100_000;
/** ACR's documented page size limit for the catalog and tag listings. */
const PAGE_SIZE = 100;
/** Used when a token is not a JWT with `exp`: ACR access tokens last about an hour, refresh tokens 3 h. */
const ASSUMED_TOKEN_LIFETIME_MS = 60 * 60_000;
const PRODUCT = "Azure Container Registry";

interface AzureCloud {
  authorityHost: string;
  armScope: string;
}

/** The Entra authority and ARM audience of the cloud a login server belongs to. */
function cloudOf(registryHost: string): AzureCloud {
  const host = registryHost.replace(/:\d+$/, "").toLowerCase();
  if (host.endsWith(".azurecr.cn"))
    return {
      authorityHost: "https://login.chinacloudapi.cn",
      armScope: "https://management.chinacloudapi.cn/.default",
    };
  if (host.endsWith(".azurecr.us"))
    return {
      authorityHost: "https://login.microsoftonline.us",
      armScope: "https://management.usgovcloudapi.net/.default",
    };
  return {
    authorityHost: "https://login.microsoftonline.com",
    armScope: "https://management.azure.com/.default",
  };
}

interface ServicePrincipal {
  clientId: string;
  clientSecret: string;
  tenantId: string;
}

/** The service principal of an `azure` credential: the JSON in `secret`, ids also from azureSPInfo. */
function servicePrincipalOf(
  credential: NonNullable<ProviderContext["credential"]>,
  ctx: RegistryErrorContext,
): ServicePrincipal {
  const text = credential.secret?.plain?.trim() ?? "";
  let parsed: Record<string, unknown> = {};
  if (text !== "") {
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === "object" && value !== null && !Array.isArray(value))
        parsed = value as Record<string, unknown>;
      else throw new Error("not an object");
    } catch {
      throw new AuthError(
        ctx,
        `credential "${credential._id}": the secret is not the service principal's JSON ({"clientId", "clientSecret", "tenantId", "subscriptionId"})`,
      );
    }
  }
  const field = (name: string, fallback?: string) => {
    const value = parsed[name];
    return typeof value === "string" && value.trim() !== "" ? value.trim() : (fallback?.trim() ?? "");
  };
  const clientId = field("clientId", credential.azureSPInfo?.clientId);
  const tenantId = field("tenantId", credential.azureSPInfo?.tenantId);
  const clientSecret = field("clientSecret");
  if (clientSecret === "") {
    throw new UnsupportedError(
      ctx,
      `credential "${credential._id}" has no clientSecret; ${PRODUCT} is reached with a service principal's client secret (certificate and managed-identity credentials are not supported), or with a "basic" credential`,
    );
  }
  if (clientId === "" || tenantId === "") {
    throw new AuthError(
      ctx,
      `credential "${credential._id}" needs the service principal's clientId and tenantId`,
    );
  }
  return { clientId, clientSecret, tenantId };
}

/** The `exp` of a JWT in epoch milliseconds, or undefined for an opaque token. */
function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

const expiryOf = (token: string) => jwtExpiry(token) ?? Date.now() + ASSUMED_TOKEN_LIFETIME_MS;

function answerOf(res: ApiResponse): string {
  const why = describeErrorBody(res.text);
  return why ? `HTTP ${res.status}: ${why}` : `HTTP ${res.status}`;
}

/** A non-2xx answer of the ACR API or token service as the typed error saying what went wrong. */
function failure(res: ApiResponse, what: string, ctx: RegistryErrorContext): Error {
  const answer = answerOf(res);
  return apiFailure(res, what, ctx, {
    401: `${PRODUCT} refused the credentials (${answer})`,
    403: `${PRODUCT} denied access (${answer})`,
    404: `not found in ${PRODUCT} (${answer})`,
    429: `${PRODUCT} rate limit (${answer}); retries exhausted`,
    other: `${PRODUCT} answered ${answer}`,
  });
}

function parseJson(res: ApiResponse, what: string, ctx: RegistryErrorContext): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    throw new ProtocolError(ctx, `${what}: ${PRODUCT}'s answer is not JSON`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new ProtocolError(ctx, `${what}: ${PRODUCT}'s answer is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** How this session proves itself to the registry's token service. */
type Login =
  | { kind: "basic"; username: string; password: string }
  | { kind: "refresh-token"; describe: string; refreshToken: ExpiringValue<IdentityToken> };

/** ACR refresh tokens are identity tokens to the registry client (the OAuth2 POST form). */
type IdentityToken = Extract<StaticCredentials, { kind: "identity-token" }>;

/** The /acr/v1/ API with an access token per scope from /oauth2/token, renewed once after a 401. */
class AcrApi {
  private readonly accessTokens = new Map<string, ExpiringValue<string>>();

  constructor(
    private readonly http: RestApi,
    readonly service: string,
    private readonly ctx: RegistryErrorContext,
    private readonly login: Login,
  ) {}

  get origin(): URL {
    return this.http.base;
  }

  /** An ACR access token for `scope`, from the refresh token or from Basic credentials. */
  private async accessToken(
    scope: string,
    signal?: AbortSignal,
  ): Promise<{ value: string; expiresAt: number }> {
    const what = `getting an access token for ${scope}`;
    const url = new URL("oauth2/token", this.origin);
    const login = this.login;
    let res: ApiResponse;
    if (login.kind === "refresh-token") {
      const send = async () => {
        const form = new URLSearchParams({
          grant_type: "refresh_token",
          service: this.service,
          scope,
          refresh_token: (await login.refreshToken.get(signal)).token,
        });
        return this.http.request("POST", url, { form, signal }, TOKEN_BODY_BYTES);
      };
      res = await send();
      if (res.status === 401) {
        // The refresh token expired or was revoked: exchange the Entra token for a new one, once.
        login.refreshToken.invalidate();
        res = await send();
      }
    } else {
      url.searchParams.set("service", this.service);
      url.searchParams.set("scope", scope);
      res = await this.http.request(
        "GET",
        url,
        { authorization: basicHeader(login.username, login.password), signal },
        TOKEN_BODY_BYTES,
      );
    }
    if (res.status !== 200) {
      if (res.status === 401) {
        throw new AuthError(
          this.ctx,
          `${what}: ${PRODUCT}'s token service refused ${this.identity} (${answerOf(res)})`,
          { status: 401 },
        );
      }
      throw failure(res, what, this.ctx);
    }
    const body = parseJson(res, what, this.ctx);
    const token = typeof body.access_token === "string" ? body.access_token : body.token;
    if (typeof token !== "string" || token === "")
      throw new AuthError(this.ctx, `${what}: ${PRODUCT}'s token service sent no access_token`);
    return { value: `Bearer ${token}`, expiresAt: expiryOf(token) };
  }

  get identity(): string {
    return this.login.kind === "basic" ? `user "${this.login.username}"` : this.login.describe;
  }

  private tokenFor(scope: string): ExpiringValue<string> {
    let token = this.accessTokens.get(scope);
    if (token === undefined) {
      token = new ExpiringValue((signal) => this.accessToken(scope, signal));
      this.accessTokens.set(scope, token);
    }
    return token;
  }

  /** GET on /acr/v1/ with an access token for `scope`; a 401 gets a fresh token and one more try. */
  async get(url: URL, scope: string, signal?: AbortSignal): Promise<ApiResponse> {
    const token = this.tokenFor(scope);
    const first = await this.http.request("GET", url, { authorization: await token.get(signal), signal });
    if (first.status !== 401) return first;
    token.invalidate();
    return this.http.request("GET", url, { authorization: await token.get(signal), signal });
  }

  /**
   * Every page of an /acr/v1/ listing, following the relative `Link` on this origin. `read` takes a
   * page's items; a page that is not 200 goes to `refused`.
   */
  async pages(
    first: URL,
    scope: string,
    what: string,
    read: (body: Record<string, unknown>) => void,
    refused: (res: ApiResponse, page: number) => Error,
    signal?: AbortSignal,
  ): Promise<void> {
    const seen = new Set<string>();
    let url: URL | undefined = first;
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_PAGES || seen.has(url.href))
        throw new ProtocolError(this.ctx, `${what}: pagination does not end (${url.pathname}${url.search})`);
      seen.add(url.href);
      const res = await this.get(url, scope, signal);
      if (res.status !== 200) throw refused(res, page);
      read(parseJson(res, what, this.ctx));
      const next = nextLink(res.headers.link, res.url);
      if (next !== undefined && next.origin !== this.origin.origin)
        throw new ProtocolError(this.ctx, `${what}: refusing a next page on another origin (${next.origin})`);
      url = next;
    }
  }
}

const basicHeader = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

interface AcrTag {
  name?: unknown;
  digest?: unknown;
  createdTime?: unknown;
  lastUpdateTime?: unknown;
  changeableAttributes?: { readEnabled?: unknown } | null;
}

class AzureSession implements ProviderSession {
  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: AcrApi,
    private readonly http: RestApi,
    private readonly exactNames: string[] | undefined,
  ) {}

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    const ctx = { registry: this.registryHost };
    const what = "listing repositories";
    const names = new Set<string>();
    const url = new URL("acr/v1/_catalog", this.api.origin);
    url.searchParams.set("n", String(PAGE_SIZE));
    try {
      await this.api.pages(
        url,
        "registry:catalog:*",
        what,
        (body) => {
          const repositories = body.repositories ?? [];
          if (!Array.isArray(repositories))
            throw new ProtocolError(ctx, `${what}: "repositories" is not an array`);
          for (const name of repositories) if (typeof name === "string" && name !== "") names.add(name);
        },
        (res, page) => {
          // Identities that may pull need not be allowed to list (repository-scoped tokens, ABAC).
          if (page === 0 && (res.status === 401 || res.status === 403)) {
            return new UnsupportedError(
              ctx,
              `${this.api.identity} may not list the registry's repositories (registry:catalog:*; ${answerOf(res)}); name them exactly in \`repository\``,
              { status: res.status },
            );
          }
          return failure(res, what, ctx);
        },
        signal,
      );
    } catch (err) {
      if (err instanceof UnsupportedError && this.exactNames) return this.exactNames;
      throw err;
    }
    return [...names].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const ctx = { registry: this.registryHost, repository };
    const what = "listing tags";
    const scope = `repository:${repository}:metadata_read`;
    const tags = new Map<string, DiscoveredTag>();
    const url = new URL(`acr/v1/${repository}/_tags`, this.api.origin);
    url.searchParams.set("n", String(PAGE_SIZE));
    url.searchParams.set("orderby", "timedesc");
    await this.api.pages(
      url,
      scope,
      what,
      (body) => {
        const list = body.tags ?? [];
        if (!Array.isArray(list)) throw new ProtocolError(ctx, `${what}: "tags" is not an array`);
        for (const entry of list as AcrTag[]) {
          const name = entry?.name;
          if (typeof name !== "string" || !isValidTag(name) || isArtifactTag(name)) continue;
          // A tag that may not be read cannot be pulled, so it cannot be scanned.
          if (entry.changeableAttributes?.readEnabled === false) continue;
          tags.set(name, {
            tag: name,
            digest: typeof entry.digest === "string" ? entry.digest : undefined,
            pushedAt: apiTime(entry.lastUpdateTime) ?? apiTime(entry.createdTime),
          });
        }
      },
      (res) =>
        res.status === 401
          ? new PermissionError(
              ctx,
              `${this.api.identity} is not authorised for ${scope} (${answerOf(res)} after a fresh token)`,
              { status: 401 },
            )
          : failure(res, what, ctx),
      options.signal,
    );
    const sorted = [...tags.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    return options.withTimes ? sorted : sorted.map(({ tag, digest }) => ({ tag, digest }));
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.http.close()]);
  }
}

/**
 * The ACR refresh token of a service principal: Entra token → POST /oauth2/exchange. The identity
 * library is loaded here, not with every command (it is a large share of the CLI bundle).
 */
async function servicePrincipalLogin(
  sp: ServicePrincipal,
  registryHost: string,
  ctx: RegistryErrorContext,
  http: RestApi,
  ca: string | undefined,
): Promise<Login> {
  const { ClientSecretCredential } = await import("@azure/identity");
  const cloud = cloudOf(registryHost);
  const authority = serviceEndpoint(
    "SHIPSHAPE_AZURE_AUTHORITY_HOST",
    process.env.AZURE_AUTHORITY_HOST?.trim() || cloud.authorityHost,
  );
  const describe = `service principal ${sp.clientId} of tenant ${sp.tenantId}`;
  let identity: ClientSecretCredential;
  try {
    identity = new ClientSecretCredential(sp.tenantId, sp.clientId, sp.clientSecret, {
      authorityHost: authority.href.replace(/\/$/, ""),
      // The authority is used as given (sovereign, private or test clouds), without asking the public cloud.
      disableInstanceDiscovery: true,
      // The specification's CA is trusted for Entra ID too (a TLS-inspecting proxy), besides the system's.
      ...(ca ? { tlsOptions: { ca: [...rootCertificates, ca] } } : {}),
    });
  } catch (err) {
    // The library checks the ids' form (e.g. a tenantId with characters no tenant has).
    throw new AuthError(ctx, `${describe}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const entraToken = new ExpiringValue(async (signal) => {
    try {
      const token = await identity.getToken(cloud.armScope, { abortSignal: signal });
      return { value: token.token, expiresAt: token.expiresOnTimestamp };
    } catch (err) {
      const detail = err instanceof Error ? err.message.split("\n")[0] : String(err);
      throw new AuthError(
        ctx,
        `Microsoft Entra ID (${authority.origin}) refused ${describe}: ${detail}; check the credential's clientId, clientSecret and tenantId`,
        { cause: err },
      );
    }
  });
  const refreshToken = new ExpiringValue<IdentityToken>(async (signal) => {
    const what = `exchanging the Entra token of ${describe} for an ACR refresh token`;
    const exchangeUrl = new URL("oauth2/exchange", http.base);
    const send = async () =>
      http.request(
        "POST",
        exchangeUrl,
        {
          form: new URLSearchParams({
            grant_type: "access_token",
            service: registryHost,
            tenant: sp.tenantId,
            access_token: await entraToken.get(signal),
          }),
          signal,
        },
        TOKEN_BODY_BYTES,
      );
    let res = await send();
    if (res.status === 401) {
      entraToken.invalidate();
      res = await send();
    }
    if (res.status === 401)
      throw new AuthError(ctx, `${what}: ${PRODUCT} refused the token (${answerOf(res)})`, { status: 401 });
    if (res.status !== 200) throw failure(res, what, ctx);
    const token = parseJson(res, what, ctx).refresh_token;
    if (typeof token !== "string" || token === "")
      throw new ProtocolError(ctx, `${what}: ${PRODUCT} sent no refresh_token`);
    return { value: { kind: "identity-token", token }, expiresAt: expiryOf(token) };
  });
  return { kind: "refresh-token", describe, refreshToken };
}

export const azureProvider: RegistryProvider = {
  type: "azure",
  credentialTypes: ["azure", "basic"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    if (context.registry.trim() === "") {
      throw new UnsupportedError(
        { registry: "" },
        `an ${PRODUCT} specification needs the registry's login server (<name>.azurecr.io)`,
      );
    }
    const address = v2AddressOf(context.registry, context.insecure ?? false);
    const registryHost = address.registryHost;
    const ctx = { registry: registryHost };
    const credential = context.credential;
    if (credential === undefined || (credential.type !== "azure" && credential.type !== "basic")) {
      throw new UnsupportedError(
        ctx,
        `${PRODUCT} needs an "azure" (service principal) or "basic" (admin user, repository-scoped token) credential${credential ? `, not "${credential.type}"` : ""}`,
      );
    }
    const ca = context.caCert?.trim() || undefined;
    const scheme = address.insecure && /^http:\/\//i.test(context.registry.trim()) ? "http" : "https";
    const origin = new URL(`${scheme}://${registryHost}/`);

    const servicePrincipal = credential.type === "azure" ? servicePrincipalOf(credential, ctx) : undefined;
    const username = credential.accountID?.trim() ?? "";
    const password = credential.secret?.plain ?? "";
    if (servicePrincipal === undefined && (username === "" || password === "")) {
      throw new AuthError(
        ctx,
        `credential "${credential._id}" needs a username (accountID) and a password (secret)`,
      );
    }
    const http = new RestApi(origin, ctx, { insecure: address.insecure, ca });
    let login: Login;
    try {
      login = servicePrincipal
        ? await servicePrincipalLogin(servicePrincipal, registryHost, ctx, http, ca)
        : { kind: "basic", username, password };
    } catch (err) {
      await http.close();
      throw err;
    }
    const api = new AcrApi(http, registryHost, ctx, login);
    const credentials: Credentials =
      login.kind === "basic"
        ? login
        : { kind: "refreshing", describe: login.describe, source: login.refreshToken };
    const client = new RegistryClient({
      registry: address.address,
      credentials,
      insecure: address.insecure,
      ca,
    });
    try {
      if (login.kind === "refresh-token") await login.refreshToken.get();
      await client.login();
    } catch (err) {
      await Promise.all([http.close(), client.close()]);
      throw err;
    }
    return new AzureSession(client, registryHost, api, http, exactRepositories(context.spec.repository));
  },
};
