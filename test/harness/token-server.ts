import { execFile } from "node:child_process";
import { randomBytes, randomUUID, X509Certificate } from "node:crypto";
import fs from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { importPKCS8, SignJWT } from "jose";
import { ensureCommand } from "./tools.js";

const run = promisify(execFile);

/**
 * distribution 2.8 (registry/auth/token/token.go, `Leeway = 60 * time.Second`) accepts a token until
 * 60 s after its `exp` and from 60 s before its `nbf`. A token that must really die N seconds after it
 * was issued therefore needs `expiresIn: N, backdateSeconds: DISTRIBUTION_TOKEN_LEEWAY_SECONDS`.
 */
export const DISTRIBUTION_TOKEN_LEEWAY_SECONDS = 60;

/** One scope of a token request: `type[(class)]:name:action[,action...]`. */
export interface RequestedScope {
  type: string;
  class?: string;
  name: string;
  actions: string[];
}

/** Actions granted to `user` (undefined: anonymous) for `scope`; intersected with what was asked. */
export type GrantPolicy = (user: string | undefined, scope: RequestedScope) => string[];

export interface TokenServerOptions {
  /** The audience (`aud`) and the registry's `auth.token.service`; default "shipshape-registry". */
  service?: string;
  /** `iss`, the registry's `auth.token.issuer`; default "shipshape-token-server". */
  issuer?: string;
  /** username → password for Basic credentials and the OAuth2 password grant. */
  users?: Record<string, string>;
  /** Default: authenticated users get every action they ask for, anonymous callers get nothing. */
  grant?: GrantPolicy;
  /** Seconds from issuance to the JWT's `exp` (rounded up to a whole second); default 300. */
  expiresIn?: number;
  /** `expires_in` of the response, independent of the JWT; default `expiresIn`; null leaves it out. */
  responseExpiresIn?: number | null;
  /** Moves `iat`/`nbf`/`exp` this many seconds into the past (see DISTRIBUTION_TOKEN_LEEWAY_SECONDS). */
  backdateSeconds?: number;
  /** false: POST answers 404, like token servers without the OAuth2 form. Default true. */
  oauth2?: boolean;
}

/** A request as the server saw it, minus secrets (password, refresh_token, the Basic credentials). */
export interface TokenRequest {
  method: string;
  /** Query (GET) or form (POST) fields; `scope` keeps each value as sent. */
  fields: Record<string, string[]>;
  /** Every requested scope, GET's repeated params and POST's space-separated field alike. */
  scopes: string[];
  /** Whether an `Authorization: Basic` header came with it. */
  basic: boolean;
  /** The authenticated user, if authentication succeeded. */
  user?: string;
  status: number;
}

export interface RunningTokenServer {
  /** `http://127.0.0.1:PORT/token` */
  realm: string;
  service: string;
  issuer: string;
  /** Path of the PEM certificate (self-signed) whose key signs the tokens: the registry's rootcertbundle. */
  rootCertBundle: string;
  requests: TokenRequest[];
  stop(): Promise<void>;
}

interface Outcome {
  status: number;
  body: unknown;
  user?: string | undefined;
}

const SECRET_FIELDS = new Set(["password", "refresh_token"]);

export const grantEverythingToUsers: GrantPolicy = (user, scope) => (user === undefined ? [] : scope.actions);

/** The name may contain a `:` (host:port), so the type is split off the left and the actions off the right. */
export function parseScope(scope: string): RequestedScope | undefined {
  const match = /^([a-z0-9]+)(?:\(([^)]+)\))?:(.+):([^:]*)$/.exec(scope);
  if (match === null) return undefined;
  const [, type = "", cls, name = "", actions = ""] = match;
  return {
    type,
    ...(cls === undefined ? {} : { class: cls }),
    name,
    actions: actions.split(",").filter(Boolean),
  };
}

async function makeSigningKey(dir: string): Promise<{ keyPem: string; certPem: string; certFile: string }> {
  await ensureCommand("openssl", "openssl");
  const keyFile = path.join(dir, "key.pem");
  const certFile = path.join(dir, "cert.pem");
  await run("openssl", [
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    keyFile,
  ]);
  await run("openssl", [
    ...["req", "-x509", "-new", "-key", keyFile, "-out", certFile],
    ...["-days", "3650", "-subj", "/CN=shipshape test token issuer"],
  ]);
  return {
    keyPem: await fs.readFile(keyFile, "utf8"),
    certPem: await fs.readFile(certFile, "utf8"),
    certFile,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function fieldsOf(params: URLSearchParams): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const key of new Set(params.keys())) fields[key] = params.getAll(key);
  return fields;
}

function basicCredentials(req: IncomingMessage): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * A Docker token server (distribution's token auth spec: GET form, and the OAuth2 POST form with the
 * password and refresh_token grants) on 127.0.0.1, signing real ES256 JWTs that distribution accepts:
 * the header's `x5c` carries a self-signed certificate that is also the registry's rootcertbundle.
 */
export async function startTokenServer(opts: TokenServerOptions = {}): Promise<RunningTokenServer> {
  const service = opts.service ?? "shipshape-registry";
  const issuer = opts.issuer ?? "shipshape-token-server";
  const users = opts.users ?? {};
  const grant = opts.grant ?? grantEverythingToUsers;
  const expiresIn = opts.expiresIn ?? 300;
  const responseExpiresIn = opts.responseExpiresIn === undefined ? expiresIn : opts.responseExpiresIn;
  const backdate = opts.backdateSeconds ?? 0;

  const keyDir = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-token-"));
  const { keyPem, certPem, certFile } = await makeSigningKey(keyDir);
  const signingKey = await importPKCS8(keyPem, "ES256");
  const x5c = [new X509Certificate(certPem).raw.toString("base64")];
  /** Opaque refresh token → the user it was issued to. */
  const refreshTokens = new Map<string, string>();
  const requests: TokenRequest[] = [];

  async function mint(user: string | undefined, scopes: string[]): Promise<string> {
    const now = Date.now() / 1000;
    const iat = Math.floor(now) - backdate;
    // Rounded up, so the token lives at least `expiresIn` seconds despite whole-second claims.
    const exp = Math.ceil(now) - backdate + expiresIn;
    const access = scopes.flatMap((raw) => {
      const scope = parseScope(raw);
      if (scope === undefined) return [];
      const actions = grant(user, scope).filter((action) => scope.actions.includes(action));
      if (actions.length === 0) return [];
      return [
        { type: scope.type, ...(scope.class ? { class: scope.class } : {}), name: scope.name, actions },
      ];
    });
    // 2.8 decodes `aud` as a single string, so it must not be an array.
    return new SignJWT({ access })
      .setProtectedHeader({ alg: "ES256", typ: "JWT", x5c })
      .setIssuer(issuer)
      .setSubject(user ?? "")
      .setAudience(service)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(signingKey);
  }

  function authenticate(username: string, password: string): boolean {
    return Object.hasOwn(users, username) && users[username] === password;
  }

  function offlineToken(user: string | undefined, wanted: boolean): { refresh_token?: string } {
    if (!wanted || user === undefined) return {};
    const token = randomBytes(24).toString("base64url");
    refreshTokens.set(token, user);
    return { refresh_token: token };
  }

  function lifetime(): { expires_in?: number; issued_at: string } {
    // issued_at is the real time even when the JWT is backdated: it is what clients compute expiry from.
    const issuedAt = new Date().toISOString();
    return responseExpiresIn === null
      ? { issued_at: issuedAt }
      : { expires_in: responseExpiresIn, issued_at: issuedAt };
  }

  async function handleGet(params: URLSearchParams, req: IncomingMessage): Promise<Outcome> {
    const credentials = basicCredentials(req);
    if (credentials !== undefined && !authenticate(credentials.username, credentials.password)) {
      return {
        status: 401,
        body: { errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] },
      };
    }
    const user = credentials?.username;
    const token = await mint(user, params.getAll("scope"));
    const offline = offlineToken(user, params.get("offline_token") === "true");
    return { status: 200, user, body: { token, access_token: token, ...lifetime(), ...offline } };
  }

  async function handlePost(params: URLSearchParams): Promise<Outcome> {
    let user: string | undefined;
    switch (params.get("grant_type")) {
      case "password": {
        const username = params.get("username") ?? "";
        if (!authenticate(username, params.get("password") ?? "")) {
          return {
            status: 401,
            body: { error: "invalid_grant", error_description: "invalid username or password" },
          };
        }
        user = username;
        break;
      }
      case "refresh_token":
        user = refreshTokens.get(params.get("refresh_token") ?? "");
        if (user === undefined) {
          return {
            status: 401,
            body: { error: "invalid_grant", error_description: "unknown refresh token" },
          };
        }
        break;
      default:
        return { status: 400, body: { error: "unsupported_grant_type" } };
    }
    const scope = params.get("scope") ?? "";
    // Docker's OAuth2 response carries access_token only (no `token`), which clients must accept.
    const accessToken = await mint(user, scope.split(" ").filter(Boolean));
    const offline = offlineToken(user, params.get("access_type") === "offline");
    return { status: 200, user, body: { access_token: accessToken, scope, ...lifetime(), ...offline } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const post = req.method === "POST";
    const params = post ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const record: TokenRequest = {
      method: req.method ?? "",
      fields: fieldsOf(params),
      scopes: post ? (params.get("scope") ?? "").split(" ").filter(Boolean) : params.getAll("scope"),
      basic: basicCredentials(req) !== undefined,
      status: 0,
    };
    for (const secret of SECRET_FIELDS) delete record.fields[secret];
    requests.push(record);

    let outcome: Outcome;
    if (url.pathname !== "/token" || !(req.method === "GET" || (post && opts.oauth2 !== false))) {
      outcome = {
        status: 404,
        body: { errors: [{ code: "NOT_FOUND", message: `no ${req.method} ${url.pathname}` }] },
      };
    } else if (params.get("service") !== service) {
      outcome = {
        status: 400,
        body: { errors: [{ code: "INVALID_SERVICE", message: `service must be ${service}` }] },
      };
    } else {
      outcome = post ? await handlePost(params) : await handleGet(params, req);
    }
    record.status = outcome.status;
    if (outcome.user !== undefined) record.user = outcome.user;
    const challenge: Record<string, string> = {};
    if (outcome.status === 401) challenge["www-authenticate"] = 'Basic realm="shipshape-token-server"';
    sendJson(res, outcome.status, outcome.body, challenge);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { error: String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certFile,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(keyDir, { recursive: true, force: true });
    },
  };
}
