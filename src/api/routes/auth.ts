/** POST /authenticate (spec 2.1) and GET /authenticate/renew (2.3). */

import { login } from "../authentication.js";
import { badRequest } from "../errors.js";
import { AuthenticationRequest, AuthenticationResponse, ErrorBody } from "../schemas.js";
import type { RouteContext } from "../server.js";

export function registerAuthRoutes({ app, deps }: RouteContext): void {
  app.post(
    "/authenticate",
    {
      config: { permission: "none" },
      schema: {
        tags: ["auth"],
        summary: "Exchange a user name and password for a 30-minute token",
        security: [],
        body: AuthenticationRequest,
        response: { 200: AuthenticationResponse, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      if (body.username === undefined || body.password === undefined) {
        throw badRequest(
          body.token !== undefined
            ? "platform tokens are not accepted by this console; send username and password"
            : "username and password are required",
        );
      }
      const user = await login(deps, body.username, body.password, request.ip);
      return { token: await deps.tokens.issue(user.username) };
    },
  );

  app.get(
    "/authenticate/renew",
    {
      config: { permission: "user" },
      schema: {
        tags: ["auth"],
        summary: "A new token for the holder of an unexpired one, which is superseded",
        response: { 200: AuthenticationResponse, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => {
      if (request.bearerToken === undefined) throw badRequest("renewal needs a Bearer token");
      return { token: await deps.tokens.renew(request.bearerToken) };
    },
  );
}
