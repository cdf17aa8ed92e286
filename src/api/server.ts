/**
 * The console's HTTP API (spec sections 1–5): a Fastify instance serving every route under
 * `/api/v1/` and `/api/vNN.NN/` (spec 1.2; a malformed version segment is 404), behind an optional
 * path prefix (spec 1.1), with Bearer and Basic authentication and one permission per route
 * (spec 1.3, 1.4), `{"err": …}` errors (1.5), and the OpenAPI document generated from the TypeBox
 * schemas at `/api/v1/openapi.json` with swagger-ui at `/docs`.
 */
import fastifyRateLimit, { type RateLimitOptions } from "@fastify/rate-limit";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Ajv } from "ajv";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import type { LoginLimiter } from "../auth/login-limiter.js";
import type { Permission } from "../auth/roles.js";
import type { SecretBox } from "../auth/secrets.js";
import type { TokenIssuer } from "../auth/tokens.js";
import type { ScanControl } from "../scan/control.js";
import type { ConsoleStore, UserRecord } from "../store/console-store.js";
import type { VulnerabilityDatabase } from "../vulndb/database.js";
import { authenticateRequest, checkPermission } from "./authentication.js";
import type { RateLimit } from "./config.js";
import { ApiError, badRequest, installErrorHandling, notFound } from "./errors.js";
import { registerAuthRoutes } from "./routes/auth.js";
import { registerCredentialRoutes } from "./routes/credentials.js";
import { registerResultRoutes } from "./routes/results.js";
import { registerScanRoutes } from "./routes/scan.js";
import { registerSettingsRoutes } from "./routes/settings.js";
import { registerSystemRoutes } from "./routes/system.js";
import { registerUserRoutes } from "./routes/users.js";
import { registerWebhookRoutes } from "./routes/webhook.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's permission (spec 1.4); "none" = no authentication. */
    permission?: Permission | "none";
  }
  interface FastifyRequest {
    user?: UserRecord;
    /** The Bearer token the request came with (for /authenticate/renew). */
    bearerToken?: string;
  }
}

export interface ApiDeps {
  store: ConsoleStore;
  scans: ScanControl;
  secrets: SecretBox;
  tokens: TokenIssuer;
  limiter: LoginLimiter;
  /** The current vulnerability database, undefined while none is built. */
  database: () => VulnerabilityDatabase | undefined;
  /** Re-arms the periodic scan after POST /settings/scan. */
  reschedule: () => Promise<void>;
  /** The version GET /version answers. */
  version: string;
}

export interface ServerOptions {
  /** Path prefix before /api (spec 1.1), e.g. "/tenant-1"; "" for none. */
  pathPrefix?: string;
  https?: { key: string; cert: string } | undefined;
  logger?: FastifyServerOptions["logger"];
  /** Requests per window each user may make to GET /registry (spec 5.1); none when undefined. */
  registryRateLimit?: RateLimit | undefined;
}

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What each route module gets: the typed instance and the console's parts. */
export interface RouteContext {
  app: Api;
  deps: ApiDeps;
  /** The prefix plus "/api/v1", where the v1-only webhook lives. */
  v1Base: string;
  /** The route config of GET /registry's rate limit (false = unlimited). */
  registryRateLimit?: RateLimitOptions | false;
}

const API_VERSION = /^v(1|\d{2}\.\d{2})$/;

/** Headers and body fields that must never reach the log (spec 3.6: secrets are never logged). */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "password",
  "*.password",
  "secret.plain",
  "apiToken.plain",
  "*.secret.plain",
  "*.apiToken.plain",
];

export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? "").trim().replace(/\/+$/, "");
  if (trimmed === "") return "";
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

/**
 * JSON bodies are checked as the vendor's Go server decodes them: a string where a number or boolean
 * belongs (`"cap": "5"`, `"registry": 5`) is a 400, not silently converted. Query strings and path
 * parameters arrive as text and keep Fastify's coercion. Otherwise Fastify's default Ajv options.
 */
function installValidators(app: Api): void {
  const shared = {
    useDefaults: true,
    removeAdditional: true,
    addUsedSchema: false,
    allErrors: false,
  } as const;
  const bodies = new Ajv({ ...shared, coerceTypes: false });
  const text = new Ajv({ ...shared, coerceTypes: "array" });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? bodies : text).compile(schema as object),
  );
}

export async function buildServer(deps: ApiDeps, options: ServerOptions = {}): Promise<Api> {
  const prefix = normalizePrefix(options.pathPrefix);
  const logger =
    options.logger === undefined || options.logger === true
      ? { level: "info", redact: REDACTED_PATHS }
      : options.logger;
  const app = Fastify({
    logger,
    ...(options.https ? { https: options.https } : {}),
    // Ids such as credential names may be long; the vendor's SDK URL-encodes them into the path.
    routerOptions: { maxParamLength: 1000 },
    bodyLimit: 32 * 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as Api;

  installErrorHandling(app);
  installJsonParser(app);
  installValidators(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "shipshape console API",
        description:
          "Registry-scanning API compatible with Prisma Cloud Compute (see docs/api-compatibility.md). Every route is served under /api/v1 and /api/vNN.NN.",
        version: deps.version,
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
          basic: { type: "http", scheme: "basic" },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: `${prefix}/docs` });

  app.addHook("onRequest", async (request) => {
    const version = (request.params as { apiVersion?: string } | undefined)?.apiVersion;
    if (version !== undefined && !API_VERSION.test(version)) {
      throw notFound(`unknown API version ${version}; use v1 or vNN.NN`);
    }
    const permission = request.routeOptions.config.permission;
    if (permission === undefined || permission === "none") return;
    request.user = await authenticateRequest(request, deps);
    checkPermission(request.user, permission, request.method);
  });

  if (options.registryRateLimit) await installRateLimit(app, options.registryRateLimit);

  const v1Base = `${prefix}/api/v1`;
  await app.register(
    async (scoped) => {
      const context: RouteContext = {
        app: scoped as Api,
        deps,
        v1Base,
        registryRateLimit: options.registryRateLimit
          ? { max: options.registryRateLimit.max, timeWindow: options.registryRateLimit.windowMs }
          : false,
      };
      registerAuthRoutes(context);
      registerSystemRoutes(context);
      registerSettingsRoutes(context);
      registerCredentialRoutes(context);
      registerScanRoutes(context);
      registerResultRoutes(context);
      registerUserRoutes(context);
    },
    { prefix: `${prefix}/api/:apiVersion` },
  );
  await app.register(async (scoped) => registerWebhookRoutes({ app: scoped as Api, deps, v1Base }), {
    prefix: v1Base,
  });

  app.get(
    `${prefix}/api/v1/openapi.json`,
    { schema: { hide: true }, config: { permission: "none" } },
    async () => app.swagger(),
  );
  return app;
}

/**
 * Per-route rate limits (only routes whose config names one), counted per authenticated user: the
 * check runs in preHandler, after the onRequest hook has authenticated the request, so requests
 * that fail authentication spend nothing. Over the limit: 429 `{"err": …}` with Retry-After.
 */
async function installRateLimit(app: Api, limit: RateLimit): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: false,
    hook: "preHandler",
    keyGenerator: (request) => `user:${request.user?.username ?? ""}`,
    errorResponseBuilder: (_request, context) =>
      new ApiError(
        429,
        `rate limit exceeded: ${context.max} requests per ${limit.windowMs / 1000} s per user; retry in ${Math.ceil(context.ttl / 1000)} s`,
      ),
  });
}

/**
 * JSON bodies, also under the Docker Registry's notification media type; an empty body is no body
 * (POST /registry/scan with `Content-Type: application/json` and nothing else is a full scan).
 */
function installJsonParser(app: Api): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ["application/json", "application/vnd.docker.distribution.events.v1+json"],
    { parseAs: "string" },
    (_request, body, done) => {
      const text = typeof body === "string" ? body : body.toString("utf8");
      if (text.trim() === "") {
        done(null, undefined);
        return;
      }
      try {
        done(null, JSON.parse(text));
      } catch (err) {
        done(badRequest(`request body is not valid JSON: ${(err as Error).message}`), undefined);
      }
    },
  );
}
