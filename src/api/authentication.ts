/**
 * Request authentication and authorization (spec 1.3, 1.4): `Authorization: Bearer <our JWT>` or
 * `Authorization: Basic base64(user:pass)` on every protected route; missing, wrong or expired → 401,
 * a role without the route's permission (read for GET, read-write otherwise) → 403. Failed logins
 * count against the user and the client address (LoginLimiter); while blocked, 429 with Retry-After.
 */
import type { FastifyRequest } from "fastify";
import { verifyPassword } from "../auth/passwords.js";
import { accessFor, allows, type Permission } from "../auth/roles.js";
import { TokenError } from "../auth/tokens.js";
import type { UserRecord } from "../store/console-store.js";
import { ApiError } from "./errors.js";
import type { ApiDeps } from "./server.js";

const unauthorized = (message: string) =>
  new ApiError(401, message, { "www-authenticate": 'Bearer realm="shipshape", Basic realm="shipshape"' });

/** The user a name and password identify, under the failed-login limit; 401 or 429 otherwise. */
export async function login(
  deps: Pick<ApiDeps, "store" | "limiter">,
  username: string,
  password: string,
  address: string,
): Promise<UserRecord> {
  const wait = deps.limiter.retryAfterMs(username, address);
  if (wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    throw new ApiError(429, `too many failed logins; retry in ${seconds} s`, {
      "retry-after": String(seconds),
    });
  }
  const user = await deps.store.getUser(username);
  if (!user || !(await verifyPassword(password, user.passwordHash))) {
    deps.limiter.recordFailure(username, address);
    throw unauthorized("invalid username or password");
  }
  deps.limiter.recordSuccess(username);
  return user;
}

export async function authenticateRequest(
  request: FastifyRequest,
  deps: Pick<ApiDeps, "store" | "limiter" | "tokens">,
): Promise<UserRecord> {
  const header = request.headers.authorization;
  if (!header) throw unauthorized("authentication required: send a Bearer token or Basic credentials");
  const [scheme, value = ""] = header.trim().split(/\s+/, 2);
  switch (scheme?.toLowerCase()) {
    case "bearer": {
      let username: string;
      try {
        ({ username } = await deps.tokens.verify(value));
      } catch (err) {
        if (err instanceof TokenError) throw unauthorized(err.message);
        throw err;
      }
      const user = await deps.store.getUser(username);
      if (!user) throw unauthorized("the token's user no longer exists");
      request.bearerToken = value;
      return user;
    }
    case "basic": {
      const decoded = Buffer.from(value, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw unauthorized("malformed Basic credentials");
      return login(deps, decoded.slice(0, colon), decoded.slice(colon + 1), request.ip);
    }
    default:
      throw unauthorized(`unsupported authorization scheme ${scheme ?? ""}; use Bearer or Basic`);
  }
}

export function checkPermission(user: UserRecord, permission: Permission, method: string): void {
  const access = accessFor(method);
  if (!allows(user.role, permission, access)) {
    throw new ApiError(
      403,
      `role ${user.role} lacks ${access === "read" ? "read" : "read-write"} permission ${permission}`,
    );
  }
}
