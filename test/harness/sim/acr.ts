/**
 * An Azure Container Registry simulation on 127.0.0.1 (one HTTPS origin: the token service,
 * /acr/v1/ and /v2/, as a login server serves them) plus Microsoft Entra ID (a second HTTPS origin),
 * written from Microsoft's documentation:
 * - ACR data-plane REST API, swagger Azure.ContainerRegistry/stable/2021-07-01
 *   (https://github.com/Azure/azure-rest-api-specs, specification/containerregistry/data-plane):
 *   `POST /oauth2/exchange` form grant_type=access_token, service, tenant, access_token →
 *   `{"refresh_token"}`; `POST /oauth2/token` form grant_type=refresh_token, service, scope,
 *   refresh_token → `{"access_token"}`; `GET /acr/v1/_catalog?n=&last=` → `{"repositories"}`;
 *   `GET /acr/v1/{name}/_tags?n=&last=&orderby=` → `{registry, imageName, tags:[{name, digest,
 *   createdTime, lastUpdateTime, signed, changeableAttributes}]}` (TagOrderBy `timedesc` = by
 *   lastUpdateTime, newest first); errors AcrErrors `{"errors":[{code, message, detail}]}`.
 * - ACR authentication (https://github.com/Azure/acr/blob/main/docs/AAD-OAuth.md,
 *   https://learn.microsoft.com/azure/container-registry/container-registry-authentication):
 *   `Bearer realm="https://<host>/oauth2/token",service="<host>"` challenges, Basic on
 *   `GET /oauth2/token?service=&scope=` for the admin user and repository-scoped tokens, relative
 *   `Link: </acr/v1/_catalog?last=x&n=2&orderby=>; rel="next"` pages; tokens carry the intersection
 *   of the requested and the granted actions, so a refusal shows on the API call (401), not on the
 *   token request.
 * - Entra ID v2.0 (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
 *   `GET /<tenant>/v2.0/.well-known/openid-configuration`, `POST /<tenant>/oauth2/v2.0/token`
 *   grant_type=client_credentials, client_id, client_secret, scope → `{token_type, expires_in,
 *   ext_expires_in, access_token}`; a wrong secret is 401 `invalid_client` AADSTS7000215, an unknown
 *   application 400 `unauthorized_client` AADSTS700016.
 *
 * Left out: ARM (registry management), /acr/v1/{name}/_manifests, repository and tag attribute
 * updates, Basic directly on /v2/, anonymous pull, ABAC repository permissions, geo-replica data
 * endpoints. Tokens are opaque JWT-shaped strings (unsigned; only their `exp` is read) that this
 * simulation checks itself; /v2/ is the real docker-registry (no auth of its own) behind that check.
 */

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { parseScope } from "../token-server.js";
import { basicCredentials, type Listening, listen, proxy, sendJson } from "./http.js";
import { storedTags } from "./storage.js";

/** What an identity may do: `catalog` = registry:catalog:*, per repository the actions granted. */
export interface AcrGrants {
  catalog: boolean;
  /** Repository → actions (`pull`, `metadata_read`); `*` = every repository. */
  repositories: Record<string, string[]>;
}

export interface AcrSimOptions {
  storageDir: string;
  tls: { cert: string; key: string };
  /** Entra ID tenants → their applications (client id → secret and what it may do in the registry). */
  tenants: Record<string, Record<string, { secret: string; grants: AcrGrants }>>;
  /** Basic logins on the token service: admin user, repository-scoped tokens. */
  basicUsers: Record<string, { password: string; grants: AcrGrants }>;
  /** Tenants whose Entra tokens the registry's exchange accepts (default: every tenant above). */
  registryTenants?: string[];
  /** The most entries a listing page holds (ACR's is 100); smaller to exercise paging. */
  maxPageSize?: number;
}

export interface AcrSimTag {
  repository: string;
  tag: string;
  digest: string;
  createdTime: Date;
  /** The push time: when the tag was last pointed at a manifest. */
  lastUpdateTime: Date;
  readEnabled: boolean;
}

export interface AcrRequest {
  method: string;
  /** `aad:` + path for Entra ID. */
  path: string;
  status: number;
}

export interface AcrSim {
  /** `https://127.0.0.1:PORT`, the login server. */
  url: string;
  host: string;
  /** `https://127.0.0.1:PORT`, Entra ID's authority host. */
  authorityHost: string;
  tags: AcrSimTag[];
  requests: AcrRequest[];
  /** Entra access tokens, ACR refresh tokens (exchanges) and ACR access tokens issued so far. */
  issued: { entra: number; refresh: number; access: number };
  /** Lifetimes in seconds of the tokens issued from now on. */
  lifetimes: { entra: number; refresh: number; access: number };
  /**
   * Answers the next `count` /acr/v1/ requests with `status` (429 with Retry-After, 5xx), or with a
   * 200 whose body is not JSON ("malformed"); replaces faults still pending.
   */
  failNext(status: number | "malformed", count: number): void;
  /** Makes every ACR refresh and access token issued so far invalid (as after a revocation). */
  revokeTokens(): void;
  stop(): Promise<void>;
}

const BASE_TIME = Date.UTC(2024, 2, 4, 9, 30, 0);
const AUTH_HELP = "visit https://aka.ms/acr/authorization for more information.";
/** Entra's audiences ACR accepts in an exchange: Azure Resource Manager, or ACR itself. */
const ACR_AUDIENCES = [
  "https://management.azure.com/.default",
  "https://containerregistry.azure.net/.default",
];

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** A JWT-shaped token carrying `exp`, as ACR's are (unsigned: the simulation looks tokens up). */
function jwtShaped(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ jti: randomUUID(), ...claims })}.sig`;
}

const acrErrors = (code: string, message: string, detail?: unknown) => ({
  errors: [{ code, message, ...(detail === undefined ? {} : { detail }) }],
});

interface Held {
  grants: AcrGrants;
  expiresAt: number;
}

interface AccessToken extends Held {
  /** Granted scopes, `type:name:action`. */
  access: Set<string>;
}

export async function startAcrSim(options: AcrSimOptions): Promise<AcrSim> {
  const maxPageSize = options.maxPageSize ?? 100;
  const registryTenants = options.registryTenants ?? Object.keys(options.tenants);
  const lifetimes = { entra: 3600, refresh: 3 * 3600, access: 75 * 60 };
  const issued = { entra: 0, refresh: 0, access: 0 };
  const registry: RunningRegistry = await startRegistry({ storageDir: options.storageDir, readOnly: true });
  const tags: AcrSimTag[] = (await storedTags(options.storageDir)).map((stored, index) => {
    // Distinct times, not in name order; some tags were pushed again after they were created.
    const createdTime = new Date(BASE_TIME + ((index * 7919) % 97) * 60_000);
    const repushedMinutes = index % 3 === 0 ? 0 : ((index * 31) % 200) + 1;
    return {
      ...stored,
      createdTime,
      lastUpdateTime: new Date(createdTime.getTime() + repushedMinutes * 60_000),
      readEnabled: true,
    };
  });
  const repositories = [...new Set(tags.map((t) => t.repository))].sort();
  const entraTokens = new Map<
    string,
    { tenant: string; clientId: string; audience: string; expiresAt: number }
  >();
  const refreshTokens = new Map<string, Held>();
  const accessTokens = new Map<string, AccessToken>();
  const requests: AcrRequest[] = [];
  const faults: (number | "malformed")[] = [];

  const granted = (grants: AcrGrants, scope: string): string[] => {
    const parsed = parseScope(scope);
    if (parsed === undefined) return [];
    if (parsed.type === "registry")
      return parsed.name === "catalog" && grants.catalog ? parsed.actions.filter((a) => a === "*") : [];
    if (parsed.type !== "repository") return [];
    const allowed = grants.repositories[parsed.name] ?? grants.repositories["*"] ?? [];
    return parsed.actions.filter((a) => allowed.includes(a));
  };

  const issueAccessToken = (grants: AcrGrants, scopes: string[]): string => {
    const access = new Set<string>();
    for (const scope of scopes) {
      const parsed = parseScope(scope);
      if (parsed === undefined) continue;
      for (const action of granted(grants, scope)) access.add(`${parsed.type}:${parsed.name}:${action}`);
    }
    const exp = Math.floor(Date.now() / 1000) + lifetimes.access;
    const token = jwtShaped({ exp, grant_type: "access_token" });
    accessTokens.set(token, { grants, access, expiresAt: exp * 1000 });
    issued.access++;
    return token;
  };

  const entra: Listening = await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "https://sim");
    const send = (status: number, body: unknown) => {
      requests.push({ method: req.method ?? "", path: `aad:${url.pathname}`, status });
      sendJson(res, status, body);
    };
    const [, tenant = "", ...rest] = url.pathname.split("/");
    const path = rest.join("/");
    const applications = options.tenants[tenant];
    if (applications === undefined) {
      return send(400, {
        error: "invalid_tenant",
        error_description: `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        error_codes: [90002],
        trace_id: randomUUID(),
        correlation_id: randomUUID(),
      });
    }
    const authority = `${entra.url}/${tenant}`;
    if (req.method === "GET" && path === "v2.0/.well-known/openid-configuration") {
      return send(200, {
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          "client_secret_post",
          "private_key_jwt",
          "client_secret_basic",
        ],
        jwks_uri: `${entra.url}/${tenant}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        issuer: `${authority}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: "https://graph.microsoft.com/oidc/userinfo",
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
        claims_supported: ["sub", "iss", "aud", "exp", "iat", "tid"],
        tenant_region_scope: "EU",
        cloud_instance_name: "microsoftonline.com",
      });
    }
    if (req.method === "POST" && path === "oauth2/v2.0/token") {
      const form = await readForm(req);
      const clientId = form.get("client_id") ?? "";
      const failure = (status: number, error: string, code: number, description: string) =>
        send(status, {
          error,
          error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()}`,
          error_codes: [code],
          timestamp: new Date().toISOString(),
          trace_id: randomUUID(),
          correlation_id: randomUUID(),
        });
      if (form.get("grant_type") !== "client_credentials")
        return failure(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
      const application = applications[clientId];
      if (application === undefined)
        return failure(
          400,
          "unauthorized_client",
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
        );
      if (form.get("client_secret") !== application.secret)
        return failure(
          401,
          "invalid_client",
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      const audience = form.get("scope") ?? "";
      const token = `entra-${randomUUID()}`;
      entraTokens.set(token, { tenant, clientId, audience, expiresAt: Date.now() + lifetimes.entra * 1000 });
      issued.entra++;
      return send(200, {
        token_type: "Bearer",
        expires_in: lifetimes.entra,
        ext_expires_in: lifetimes.entra,
        access_token: token,
      });
    }
    send(404, { error: "not_found", error_description: `no such endpoint: ${url.pathname}` });
  }, options.tls);

  /** The token service (`/oauth2/exchange`, `/oauth2/token`). */
  const tokenService = async (req: IncomingMessage, url: URL, send: Send) => {
    const unauthorized = (message: string) => send(401, acrErrors("UNAUTHORIZED", message));
    if (req.method === "POST" && url.pathname === "/oauth2/exchange") {
      const form = await readForm(req);
      if (form.get("grant_type") !== "access_token")
        return send(400, acrErrors("UNSUPPORTED", "grant_type must be access_token"));
      if (form.get("service") !== server.host)
        return send(400, acrErrors("UNSUPPORTED", `service must be ${server.host}`));
      const entraToken = entraTokens.get(form.get("access_token") ?? "");
      if (
        entraToken === undefined ||
        entraToken.expiresAt <= Date.now() ||
        entraToken.tenant !== form.get("tenant") ||
        !registryTenants.includes(entraToken.tenant) ||
        !ACR_AUDIENCES.includes(entraToken.audience)
      )
        return unauthorized(`authentication required, ${AUTH_HELP}`);
      const grants = options.tenants[entraToken.tenant]?.[entraToken.clientId]?.grants as AcrGrants;
      const exp = Math.floor(Date.now() / 1000) + lifetimes.refresh;
      const token = jwtShaped({ exp, grant_type: "refresh_token", tenant: entraToken.tenant });
      refreshTokens.set(token, { grants, expiresAt: exp * 1000 });
      issued.refresh++;
      return send(200, { refresh_token: token });
    }
    if (url.pathname !== "/oauth2/token") return send(404, acrErrors("NOT_FOUND", "not found"));
    if (req.method === "POST") {
      const form = await readForm(req);
      if (form.get("grant_type") !== "refresh_token")
        return send(400, acrErrors("UNSUPPORTED", "grant_type must be refresh_token"));
      const held = refreshTokens.get(form.get("refresh_token") ?? "");
      if (form.get("service") !== server.host || held === undefined || held.expiresAt <= Date.now())
        return unauthorized(`authentication required, ${AUTH_HELP}`);
      const scopes = form.getAll("scope").flatMap((s) => s.split(" ").filter(Boolean));
      return send(200, { access_token: issueAccessToken(held.grants, scopes) });
    }
    if (req.method === "GET") {
      const credentials = basicCredentials(req);
      const user = credentials ? options.basicUsers[credentials.username] : undefined;
      if (user === undefined || user.password !== credentials?.password)
        return unauthorized(`authentication required, ${AUTH_HELP}`);
      if (url.searchParams.get("service") !== server.host)
        return unauthorized(`service must be ${server.host}, ${AUTH_HELP}`);
      return send(200, { access_token: issueAccessToken(user.grants, url.searchParams.getAll("scope")) });
    }
    send(405, acrErrors("UNSUPPORTED", "method not allowed"));
  };

  type Send = (status: number, body: unknown, headers?: Record<string, string>) => void;

  /** The caller's access token when it carries `scope`; else the 401 has been sent. */
  const authorize = (req: IncomingMessage, scope: string | undefined, send: Send): boolean => {
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const token = bearer ? accessTokens.get(bearer) : undefined;
    const valid = token !== undefined && token.expiresAt > Date.now();
    if (valid && (scope === undefined || token.access.has(scope))) return true;
    const params = [`realm="${server.url}/oauth2/token"`, `service="${server.host}"`];
    if (scope !== undefined) params.push(`scope="${scope}"`);
    if (valid) params.push('error="insufficient_scope"');
    else if (bearer) params.push('error="invalid_token"');
    const wanted = scope === undefined ? undefined : parseScope(scope);
    const detail = wanted && [{ Type: wanted.type, Name: wanted.name, Action: wanted.actions.join(",") }];
    send(401, acrErrors("UNAUTHORIZED", `authentication required, ${AUTH_HELP}`, detail), {
      "www-authenticate": `Bearer ${params.join(",")}`,
    });
    return false;
  };

  /** A page of `items` after `last` (in their order) with ACR's relative Link to the next. */
  const page = <T>(items: T[], keyOf: (item: T) => string, url: URL, orderby: string) => {
    const n = Math.min(Number(url.searchParams.get("n")) || maxPageSize, maxPageSize);
    const last = url.searchParams.get("last");
    const start = last === null ? 0 : items.findIndex((item) => keyOf(item) === last) + 1;
    const slice = items.slice(start, start + n);
    const more = start + n < items.length && slice.length > 0;
    const next = more
      ? `<${url.pathname}?last=${encodeURIComponent(keyOf(slice[slice.length - 1] as T))}&n=${n}&orderby=${orderby}>; rel="next"`
      : undefined;
    return { slice, headers: next ? { link: next } : ({} as Record<string, string>) };
  };

  const acrApi = (req: IncomingMessage, res: ServerResponse, url: URL, send: Send) => {
    const fault = faults.shift();
    if (fault === 429)
      return send(429, acrErrors("TOOMANYREQUESTS", "too many requests"), { "retry-after": "1" });
    if (fault === "malformed") {
      requests.push({ method: req.method ?? "", path: url.pathname, status: 200 });
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"repositories": ["team/debian",');
      return;
    }
    if (fault !== undefined) return send(fault, acrErrors("UNKNOWN", "service unavailable"));
    if (url.pathname === "/acr/v1/_catalog") {
      if (!authorize(req, "registry:catalog:*", send)) return;
      const { slice, headers } = page(repositories, (r) => r, url, "");
      return send(200, { repositories: slice }, headers);
    }
    const match = /^\/acr\/v1\/(.+)\/_tags$/.exec(url.pathname);
    if (match === null) return send(404, acrErrors("NOT_FOUND", "not found"));
    const repository = match[1] as string;
    if (!authorize(req, `repository:${repository}:metadata_read`, send)) return;
    if (!repositories.includes(repository))
      return send(
        404,
        acrErrors("NAME_UNKNOWN", "repository name not known to registry", { name: repository }),
      );
    const orderby = url.searchParams.get("orderby") ?? "";
    const ofRepository = tags.filter((t) => t.repository === repository);
    const ordered =
      orderby === "timedesc"
        ? [...ofRepository].sort((a, b) => b.lastUpdateTime.getTime() - a.lastUpdateTime.getTime())
        : orderby === "timeasc"
          ? [...ofRepository].sort((a, b) => a.lastUpdateTime.getTime() - b.lastUpdateTime.getTime())
          : ofRepository;
    const { slice, headers } = page(ordered, (t) => t.tag, url, orderby);
    send(
      200,
      {
        registry: server.host,
        imageName: repository,
        tags: slice.map((t) => ({
          name: t.tag,
          digest: t.digest,
          createdTime: t.createdTime.toISOString(),
          lastUpdateTime: t.lastUpdateTime.toISOString(),
          signed: false,
          changeableAttributes: {
            deleteEnabled: true,
            writeEnabled: true,
            readEnabled: t.readEnabled,
            listEnabled: true,
          },
        })),
      },
      headers,
    );
  };

  /** The scope a /v2/ request needs: none for the ping, the catalog, or pull on the repository. */
  const v2Scope = (path: string): string | undefined => {
    if (path === "/v2/" || path === "/v2") return undefined;
    if (path === "/v2/_catalog") return "registry:catalog:*";
    const match = /^\/v2\/(.+)\/(manifests|blobs|tags)\//.exec(path);
    return match ? `repository:${match[1]}:pull` : "repository:unknown:pull";
  };

  const server: Listening = await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "https://sim");
    const send: Send = (status, body, headers = {}) => {
      requests.push({ method: req.method ?? "", path: url.pathname, status });
      sendJson(res, status, body, headers);
    };
    if (url.pathname.startsWith("/oauth2/")) return tokenService(req, url, send);
    if (url.pathname.startsWith("/acr/v1/")) return acrApi(req, res, url, send);
    if (url.pathname === "/v2" || url.pathname.startsWith("/v2/")) {
      if (!authorize(req, v2Scope(url.pathname), send)) return;
      requests.push({ method: req.method ?? "", path: url.pathname, status: 0 });
      // The docker-registry behind has no auth of its own; the token was checked here.
      const headers = { ...req.headers };
      delete headers.authorization;
      return proxy(req, res, registry.url, `${url.pathname}${url.search}`, headers);
    }
    send(404, acrErrors("NOT_FOUND", "not found"));
  }, options.tls);

  return {
    url: server.url,
    host: server.host,
    authorityHost: entra.url,
    tags,
    requests,
    issued,
    lifetimes,
    failNext(status, count) {
      faults.splice(0, faults.length, ...Array.from({ length: count }, () => status));
    },
    revokeTokens() {
      refreshTokens.clear();
      accessTokens.clear();
    },
    async stop() {
      await Promise.all([server.stop(), entra.stop(), registry.stop()]);
    },
  };
}
