/**
 * Console session tokens (spec 1.3, 2.1, 2.3): HS256 JWTs ({"alg":"HS256","typ":"JWT"}, as the
 * vendor's), valid 30 minutes, signed with a key generated at first start in `<data-dir>/token.key`.
 * The token names the user only; the role is read from the store on every request, so a changed role
 * applies at once. Renewal supersedes the old token: its id is refused until it would have expired.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { errors, jwtVerify, SignJWT } from "jose";
import { loadOrCreateKey } from "./key-file.js";

export const TOKEN_LIFETIME_SECONDS = 30 * 60;
const ISSUER = "shipshape";

export class TokenError extends Error {}

export interface TokenClaims {
  username: string;
  tokenId: string;
  /** Epoch seconds. */
  issuedAt: number;
  expiresAt: number;
}

export interface TokenIssuerOptions {
  key: Uint8Array;
  lifetimeSeconds?: number;
  now?: () => Date;
}

export class TokenIssuer {
  private readonly lifetime: number;
  private readonly now: () => Date;
  /** Superseded token ids → their expiry (epoch seconds), dropped once expired. */
  private readonly superseded = new Map<string, number>();
  /** Deleted user names → when (epoch seconds); their tokens issued until then are refused. */
  private readonly revoked = new Map<string, number>();

  constructor(private readonly options: TokenIssuerOptions) {
    this.lifetime = options.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS;
    this.now = options.now ?? (() => new Date());
  }

  static open(dataDir: string, options: Omit<TokenIssuerOptions, "key"> = {}): TokenIssuer {
    return new TokenIssuer({ ...options, key: loadOrCreateKey(path.join(dataDir, "token.key"), 32) });
  }

  async issue(username: string): Promise<string> {
    const issuedAt = Math.floor(this.now().getTime() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(username)
      .setIssuer(ISSUER)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.lifetime)
      .sign(this.options.key);
  }

  async verify(token: string): Promise<TokenClaims> {
    let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
    try {
      ({ payload } = await jwtVerify(token, this.options.key, {
        algorithms: ["HS256"],
        issuer: ISSUER,
        currentDate: this.now(),
        requiredClaims: ["sub", "iat", "exp", "jti"],
      }));
    } catch (err) {
      throw new TokenError(err instanceof errors.JWTExpired ? "token expired" : "invalid token");
    }
    const claims = {
      username: payload.sub ?? "",
      tokenId: payload.jti ?? "",
      issuedAt: payload.iat ?? 0,
      expiresAt: payload.exp ?? 0,
    };
    if (this.superseded.has(claims.tokenId)) throw new TokenError("token was renewed");
    const revokedAt = this.revoked.get(claims.username);
    // "<=": iat has whole seconds, so a token of the same second as the deletion is refused too.
    if (revokedAt !== undefined && claims.issuedAt <= revokedAt)
      throw new TokenError("token was revoked: its user was deleted");
    return claims;
  }

  /**
   * Refuses every token issued so far to `username` (its user was deleted), so a new user of the
   * same name does not inherit them. Kept in this process only, like renewals.
   */
  revokeUser(username: string): void {
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    for (const [name, at] of this.revoked) if (at + this.lifetime < nowSeconds) this.revoked.delete(name);
    this.revoked.set(username, nowSeconds);
  }

  /** A fresh token for the holder of a valid one, which stops being accepted (spec 2.3). */
  async renew(token: string): Promise<string> {
    const claims = await this.verify(token);
    const nowSeconds = this.now().getTime() / 1000;
    for (const [id, expiry] of this.superseded) if (expiry < nowSeconds) this.superseded.delete(id);
    this.superseded.set(claims.tokenId, claims.expiresAt);
    return this.issue(claims.username);
  }
}
