/**
 * Registry authentication: the ping that learns the scheme (distribution spec "API version check"),
 * Basic, and the Docker token protocol (distribution docs: spec/auth/token.md for the GET form,
 * spec/auth/oauth.md for the OAuth2 POST form), with tokens cached per realm, service, scope set and
 * credential until shortly before they expire, and concurrent fetches of one token collapsed into one.
 */
import { AuthError, describeErrorBody, ProtocolError, type RegistryErrorContext } from "./errors.js";
import type { ExpiringValue } from "./expiring.js";
import { isPrivateAddress, readBounded, type Transport } from "./transport.js";
import type { Challenge } from "./www-authenticate.js";

export type StaticCredentials =
  | { kind: "anonymous" }
  | { kind: "basic"; username: string; password: string }
  /** An identity/refresh token (Docker config `identitytoken`, ACR refresh tokens): OAuth2 POST form. */
  | { kind: "identity-token"; token: string }
  /** A ready registry bearer token, sent as is. */
  | { kind: "bearer"; token: string };

export type Credentials =
  | StaticCredentials
  /**
   * Credentials that expire (ECR's `AWS:<token>`, ACR refresh tokens, OAuth access tokens): renewed
   * ahead of expiry and, after a 401, once more. `describe` names them in errors ("ECR token of …").
   */
  | { kind: "refreshing"; describe: string; source: ExpiringValue<StaticCredentials> };

export type AuthScheme = "none" | "basic" | "bearer";

/** Tokens are renewed this long before they expire. */
const EXPIRY_MARGIN_MS = 10_000;
/** Token responses are small; anything bigger is not a token server. */
const TOKEN_BODY_LIMIT = 64 * 1024;
const CLIENT_ID = "shipshape";

interface CachedToken {
  value: string;
  expiresAt: number;
}

export const catalogScope = "registry:catalog:*";
export const pullScope = (repository: string) => `repository:${repository}:pull`;

export class Authenticator {
  private challenge: Challenge | undefined;
  private scheme: AuthScheme | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  /** Token fetches made, for tests and progress output. */
  tokenFetches = 0;

  constructor(
    private readonly transport: Transport,
    private readonly credentials: Credentials,
    private readonly ctx: RegistryErrorContext,
    private readonly insecure: boolean,
  ) {}

  get authScheme(): AuthScheme | undefined {
    return this.scheme;
  }

  /** Adopts the challenge of a /v2/ ping (or of a later 401 when the ping was open). */
  learn(challenges: Challenge[]): void {
    const chosen =
      challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    this.challenge = chosen;
    this.scheme = chosen ? (chosen.scheme as AuthScheme) : "none";
  }

  /** The Authorization header value for a request needing `scopes`, or undefined for anonymous. */
  async authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const creds = await this.current(signal);
    if (creds.kind === "bearer") return `Bearer ${creds.token}`;
    if (this.scheme === "basic" || (this.scheme === "none" && creds.kind === "basic")) {
      return creds.kind === "basic" ? basicHeader(creds.username, creds.password) : undefined;
    }
    const challenge = this.challenge;
    if (this.scheme !== "bearer" || !challenge) return undefined;
    let token: string;
    try {
      token = await this.token(challenge, scopes, creds, signal);
    } catch (err) {
      // Expiring credentials the token server no longer takes (an ACR refresh token revoked or
      // expired early): obtain them anew, once.
      if (!(err instanceof AuthError) || this.credentials.kind !== "refreshing") throw err;
      this.credentials.source.invalidate();
      token = await this.token(challenge, scopes, await this.current(signal), signal);
    }
    return token ? `Bearer ${token}` : undefined;
  }

  /** Drops what a 401 rejected: the scopes' cached token, and expiring credentials themselves. */
  invalidate(scopes: string[]): void {
    if (this.challenge) this.tokens.delete(this.cacheKey(this.challenge, scopes));
    if (this.credentials.kind === "refreshing") this.credentials.source.invalidate();
  }

  /** Whether a 401 can be cured by fetching a fresh token (bearer), as opposed to bad credentials. */
  get canRefresh(): boolean {
    const kind = this.credentials.kind;
    return kind === "refreshing" || (this.scheme === "bearer" && kind !== "bearer");
  }

  get hasCredentials(): boolean {
    return this.credentials.kind !== "anonymous";
  }

  get identity(): string {
    const c = this.credentials;
    switch (c.kind) {
      case "basic":
        return `user "${c.username}"`;
      case "anonymous":
        return "anonymous access";
      case "refreshing":
        return c.describe;
      default:
        return "the token";
    }
  }

  private async current(signal?: AbortSignal): Promise<StaticCredentials> {
    const c = this.credentials;
    return c.kind === "refreshing" ? c.source.get(signal) : c;
  }

  /** One Authenticator serves one credential, so tokens are cached by where and what for. */
  private cacheKey(challenge: Challenge, scopes: string[]): string {
    return [challenge.params.realm, challenge.params.service ?? "", [...scopes].sort().join(" ")].join("|");
  }

  private async token(
    challenge: Challenge,
    scopes: string[],
    creds: StaticCredentials,
    signal?: AbortSignal,
  ): Promise<string> {
    const key = this.cacheKey(challenge, scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.value;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchToken(challenge, scopes, creds, signal).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const fresh = await pending;
    this.tokens.set(key, fresh);
    return fresh.value;
  }

  private realmUrl(challenge: Challenge): URL {
    const realm = challenge.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? "");
    } catch {
      throw new ProtocolError(this.ctx, `Bearer challenge has no usable realm (${JSON.stringify(realm)})`);
    }
    if (url.protocol !== "https:" && !(this.insecure && url.protocol === "http:")) {
      throw new ProtocolError(
        this.ctx,
        `refusing non-HTTPS token realm ${url.origin} (use --insecure to allow)`,
      );
    }
    const registryHost = this.ctx.registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
    if (isPrivateAddress(url.hostname) && url.hostname.replace(/^\[|\]$/g, "") !== registryHost) {
      throw new ProtocolError(this.ctx, `refusing token realm on private address ${url.hostname}`);
    }
    return url;
  }

  private async fetchToken(
    challenge: Challenge,
    scopes: string[],
    creds: StaticCredentials,
    signal?: AbortSignal,
  ): Promise<CachedToken> {
    const realm = this.realmUrl(challenge);
    const service = challenge.params.service;
    this.tokenFetches++;
    if (creds.kind === "identity-token") {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: creds.token,
        client_id: CLIENT_ID,
      });
      if (service) form.set("service", service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      const res = await this.transport.send({
        method: "POST",
        url: realm,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: form.toString(),
        signal,
        ctx: this.ctx,
      });
      // Not every token server implements OAuth2; the GET form cannot carry an identity token, so fail clearly.
      return this.tokenFromResponse(res.status, await readBounded(res, TOKEN_BODY_LIMIT, this.ctx), realm);
    }
    const url = new URL(realm.href);
    if (service) url.searchParams.set("service", service);
    for (const scope of scopes) url.searchParams.append("scope", scope);
    if (creds.kind === "basic") url.searchParams.set("account", creds.username);
    url.searchParams.set("client_id", CLIENT_ID);
    const res = await this.transport.send({
      method: "GET",
      url,
      headers: { accept: "application/json" },
      authorization: creds.kind === "basic" ? basicHeader(creds.username, creds.password) : undefined,
      signal,
      ctx: this.ctx,
    });
    return this.tokenFromResponse(res.status, await readBounded(res, TOKEN_BODY_LIMIT, this.ctx), realm);
  }

  private tokenFromResponse(status: number, body: Buffer, realm: URL): CachedToken {
    const receivedAt = Date.now();
    if (status === 401 || status === 403) {
      const why = describeErrorBody(body.toString("utf8"));
      throw new AuthError(
        this.ctx,
        `token server ${realm.origin} rejected ${this.identity} (HTTP ${status}${why ? `: ${why}` : ""})`,
        { status },
      );
    }
    if (status !== 200) {
      throw new ProtocolError(this.ctx, `token server ${realm.origin} answered HTTP ${status}`, { status });
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new ProtocolError(this.ctx, `token server ${realm.origin} sent a response that is not JSON`);
    }
    const value = typeof parsed.token === "string" && parsed.token ? parsed.token : parsed.access_token;
    if (typeof value !== "string" || !value) {
      // Some servers (Quay) answer 200 with no token for bad credentials.
      throw new AuthError(this.ctx, `token server ${realm.origin} issued no token for ${this.identity}`);
    }
    // Distribution's token spec: expires_in defaults to 60 s and anything shorter is treated as 60 s.
    const expiresIn = Math.max(60, typeof parsed.expires_in === "number" ? parsed.expires_in : 60);
    const issued = typeof parsed.issued_at === "string" ? Date.parse(parsed.issued_at) : Number.NaN;
    const issuedAt = Number.isNaN(issued) || issued > receivedAt ? receivedAt : issued;
    return { value, expiresAt: issuedAt + expiresIn * 1000 - EXPIRY_MARGIN_MS };
  }
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}
