/**
 * A Google Cloud simulation on 127.0.0.1: the OAuth2 token endpoint for service-account keys, the
 * Artifact Registry REST API, and a registry host (as `<location>-docker.pkg.dev` or gcr.io) in front
 * of the real docker-registry, written from Google's documentation:
 * - OAuth2 for service accounts: https://developers.google.com/identity/protocols/oauth2/service-account
 *   (POST grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT>; `iss` =
 *   client_email, `aud` = the token URI, `scope`, `iat`, `exp` at most an hour later; answer
 *   `access_token`, `expires_in`, `token_type`; errors 400 `{"error":"invalid_grant",
 *   "error_description":"Invalid JWT Signature."}`)
 * - Artifact Registry REST v1: https://cloud.google.com/artifact-registry/docs/reference/rest
 *   (`projects.locations.list` → `locations[].locationId`; `projects.locations.repositories.list` →
 *   `repositories[]` with `name`, `format`, `mode`, `registryUri`; `...dockerImages.list` →
 *   `dockerImages[]` with `name`, `uri`, `tags`, `imageSizeBytes`, `uploadTime`, `buildTime`,
 *   `updateTime`, `mediaType`; `pageSize`, `pageToken`, `nextPageToken`; errors
 *   `{"error":{"code","message","status"}}`: UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND,
 *   RESOURCE_EXHAUSTED). Page sizes are capped small so every list spans pages.
 * - Registry authentication: https://cloud.google.com/artifact-registry/docs/docker/authentication
 *   (Basic `oauth2accesstoken` + access token at the realm `/v2/token`); the realm checks the access
 *   token, then the harness token server signs the JWT the real docker-registry accepts.
 * - tags/list extension (registries.md 2.6): `child[]`, `manifest{digest: {imageSizeBytes, layerId,
 *   mediaType, tag[], timeCreatedMs, timeUploadedMs}}` as strings, not paged by Link, truncated
 *   without `n`; its 401 carries no WWW-Authenticate.
 */
import { createPublicKey, randomUUID, verify } from "node:crypto";
import fs from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { importX509, jwtVerify } from "jose";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { type RunningTokenServer, startTokenServer } from "../token-server.js";
import { basicCredentials, basicHeader, type Listening, listen, proxy, sendJson } from "./http.js";
import { readBlobJson, storedTags } from "./storage.js";

export interface GcrSimRepository {
  project: string;
  location: string;
  /** The Artifact Registry repository id: images are `project/repository/image`. */
  repository: string;
  /** Default "DOCKER". */
  format?: string;
  /** Whether its registryUri is this simulation's host (else `<location>-docker.pkg.dev`). */
  servedHere: boolean;
}

export interface GcrSimOptions {
  storageDir: string;
  /** Projects that exist. */
  projects: string[];
  locations: string[];
  /** Service accounts by client_email: the PEM public key of their key and the projects they read. */
  serviceAccounts: Record<string, { publicKey: string; projects: string[] }>;
  repositories: GcrSimRepository[];
  /** Lifetime of access tokens in seconds (Google's is 3600). */
  tokenLifetimeSeconds?: number;
  /** Largest pageSize honoured. */
  maxPageSize?: number;
  /** Entries of a tags/list answer without `n`. */
  tagsWithoutN?: number;
}

export interface GcrSimImage {
  repository: string;
  tag: string;
  digest: string;
  /** uploadTime / timeUploadedMs of the tag's image. */
  uploadedAt: Date;
}

export interface GcrRequest {
  host: "api" | "registry";
  method: string;
  path: string;
  query: string;
  status: number;
}

export interface GcrSim {
  /** OAuth2 token endpoint: a key's token_uri. */
  tokenUri: string;
  /** Artifact Registry API root, ending in "/". */
  apiUrl: string;
  registryUrl: string;
  registryHost: string;
  images: GcrSimImage[];
  requests: GcrRequest[];
  /** Access tokens issued so far. */
  readonly issued: number;
  /** Access tokens the registry realm was given, and whether each was valid then. */
  realmLogins: { token: string; valid: boolean }[];
  tokenLifetimeSeconds: number;
  /** An access token for a service account, as `gcloud auth print-access-token` gives. */
  issueToken(email: string): string;
  revokeTokens(): void;
  /** Answers the next `count` API requests with `status`, replacing faults still pending. */
  failNext(status: number, count: number): void;
  stop(): Promise<void>;
}

const BASE_TIME = Date.UTC(2024, 4, 2, 7, 0, 0);
const SERVICE = "gcr.io";
const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);

const googleError = (code: number, status: string, message: string) => ({ error: { code, message, status } });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

interface ImageFacts {
  mediaType: string;
  size: number;
  createdMs: number;
}

/** Media type, size and config creation time of a tag's manifest (an index's: its own). */
async function factsOf(storageDir: string, digest: string): Promise<ImageFacts> {
  const manifest = await readBlobJson(storageDir, digest);
  const mediaType = String(manifest.mediaType ?? "application/vnd.oci.image.manifest.v1+json");
  if (INDEX_TYPES.has(mediaType)) return { mediaType, size: 0, createdMs: 0 };
  const layers = (manifest.layers ?? []) as { size: number }[];
  const config = manifest.config as { digest: string; size: number };
  const created = (await readBlobJson(storageDir, config.digest)).created;
  return {
    mediaType,
    size: layers.reduce((sum, l) => sum + l.size, config.size),
    createdMs: typeof created === "string" ? Math.max(0, Date.parse(created)) : 0,
  };
}

export async function startGcrSim(options: GcrSimOptions): Promise<GcrSim> {
  let lifetime = options.tokenLifetimeSeconds ?? 3600;
  const maxPageSize = options.maxPageSize ?? 2;
  const tagsWithoutN = options.tagsWithoutN ?? 100;
  const accounts = Object.entries(options.serviceAccounts).map(([email, account], index) => ({
    email,
    publicKey: createPublicKey(account.publicKey),
    projects: account.projects,
    internal: { user: `sa-${index}`, password: `internal-${index}` },
  }));
  type Account = (typeof accounts)[number];
  const reads = (account: Account | undefined, project: string) =>
    account?.projects.includes(project) ?? false;

  const images: GcrSimImage[] = [];
  const facts = new Map<string, ImageFacts>();
  const stored = await storedTags(options.storageDir);
  for (const [index, tag] of stored.entries()) {
    const sameImage = images.find((i) => i.repository === tag.repository && i.digest === tag.digest);
    // Push times distinct and not in name order, so a cap by push time differs from one by name.
    const uploadedAt = sameImage?.uploadedAt ?? new Date(BASE_TIME + ((index * 7919) % 89) * 600_000);
    images.push({ ...tag, uploadedAt });
    if (!facts.has(tag.digest)) facts.set(tag.digest, await factsOf(options.storageDir, tag.digest));
  }
  const repositoryNames = [...new Set(images.map((i) => i.repository))];

  const tokens = new Map<string, { account: Account; expiresAt: number }>();
  let issued = 0;
  const issue = (account: Account) => {
    const token = `ya29.sim-${randomUUID()}`;
    tokens.set(token, { account, expiresAt: Date.now() + lifetime * 1000 });
    issued++;
    return token;
  };
  const holder = (token: string | undefined) => {
    const found = token === undefined ? undefined : tokens.get(token);
    return found && found.expiresAt > Date.now() ? found.account : undefined;
  };

  const grantTokens: RunningTokenServer = await startTokenServer({
    service: SERVICE,
    users: Object.fromEntries(accounts.map((a) => [a.internal.user, a.internal.password])),
    grant: (user, scope) =>
      scope.type === "repository" &&
      reads(
        accounts.find((a) => a.internal.user === user),
        scope.name.split("/")[0] ?? "",
      )
        ? ["pull"]
        : [],
  });
  const grantKey = await importX509(await fs.readFile(grantTokens.rootCertBundle, "utf8"), "ES256");

  const requests: GcrRequest[] = [];
  const realmLogins: { token: string; valid: boolean }[] = [];
  const faults: number[] = [];
  const record = (host: GcrRequest["host"], req: IncomingMessage, res: ServerResponse, url: URL) => {
    const entry: GcrRequest = {
      host,
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      status: 0,
    };
    requests.push(entry);
    res.on("finish", () => {
      entry.status = res.statusCode;
    });
  };

  const oauthToken = async (req: IncomingMessage, res: ServerResponse) => {
    const form = new URLSearchParams(await readBody(req));
    const invalid = (description: string) =>
      sendJson(res, 400, { error: "invalid_grant", error_description: description });
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer")
      return sendJson(res, 400, {
        error: "unsupported_grant_type",
        error_description: "Invalid grant_type.",
      });
    const [headerPart = "", payloadPart = "", signature = ""] = (form.get("assertion") ?? "").split(".");
    let claims: { iss?: string; aud?: string; scope?: string; iat?: number; exp?: number };
    let header: { alg?: string };
    try {
      header = JSON.parse(Buffer.from(headerPart, "base64url").toString("utf8"));
      claims = JSON.parse(Buffer.from(payloadPart, "base64url").toString("utf8"));
    } catch {
      return invalid("Invalid JWT: the assertion is not a JWT.");
    }
    const account = accounts.find((a) => a.email === claims.iss);
    if (!account) return invalid("Invalid grant: account not found");
    const signed = verify(
      "RSA-SHA256",
      Buffer.from(`${headerPart}.${payloadPart}`),
      account.publicKey,
      Buffer.from(signature, "base64url"),
    );
    if (header.alg !== "RS256" || !signed) return invalid("Invalid JWT Signature.");
    if (claims.aud !== tokenUri) return invalid("Invalid JWT: Failed audience check.");
    const now = Date.now() / 1000;
    const iat = claims.iat ?? 0;
    const exp = claims.exp ?? 0;
    if (exp - iat > 3600 || exp < now || iat > now + 300) {
      return invalid(
        "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
      );
    }
    if (!(claims.scope ?? "").split(" ").includes(CLOUD_PLATFORM))
      return sendJson(res, 400, { error: "invalid_scope", error_description: "Invalid OAuth scope." });
    sendJson(res, 200, { access_token: issue(account), expires_in: lifetime, token_type: "Bearer" });
  };

  /** One page of a Google list method. */
  const sendPage = (res: ServerResponse, url: URL, field: string, items: unknown[]) => {
    const requested = Number(url.searchParams.get("pageSize") ?? "0");
    const size = Math.min(requested > 0 ? requested : maxPageSize, maxPageSize);
    const token = url.searchParams.get("pageToken");
    const offset = token
      ? Number(
          Buffer.from(token, "base64url")
            .toString("utf8")
            .replace(/^offset:/, ""),
        )
      : 0;
    if (!Number.isInteger(offset) || offset < 0 || offset > items.length)
      return sendJson(res, 400, googleError(400, "INVALID_ARGUMENT", "Invalid page token."));
    const next =
      offset + size < items.length ? Buffer.from(`offset:${offset + size}`).toString("base64url") : undefined;
    sendJson(res, 200, {
      [field]: items.slice(offset, offset + size),
      ...(next ? { nextPageToken: next } : {}),
    });
  };

  const registryUriOf = (r: GcrSimRepository) =>
    `${r.servedHere ? front.host : `${r.location}-docker.pkg.dev`}/${r.project}/${r.repository}`;

  const arApi = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const fault = faults.shift();
    if (fault === 429)
      return sendJson(
        res,
        429,
        googleError(
          429,
          "RESOURCE_EXHAUSTED",
          "Quota exceeded for quota metric 'Requests' of service 'artifactregistry.googleapis.com'.",
        ),
      );
    if (fault !== undefined)
      return sendJson(res, fault, googleError(fault, "UNAVAILABLE", "The service is currently unavailable."));
    const account = holder(/^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1]);
    if (!account)
      return sendJson(
        res,
        401,
        googleError(
          401,
          "UNAUTHENTICATED",
          "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        ),
      );
    const segments = url.pathname.split("/").slice(2).map(decodeURIComponent);
    const [, project = "", , location, , repositoryId, dockerImages] = segments;
    if (segments[0] !== "projects")
      return sendJson(res, 404, googleError(404, "NOT_FOUND", "Method not found."));
    if (!options.projects.includes(project))
      return sendJson(res, 404, googleError(404, "NOT_FOUND", `Project '${project}' not found or deleted.`));
    const resource = `projects/${project}${location ? `/locations/${location}` : ""}`;
    if (!reads(account, project))
      return sendJson(
        res,
        403,
        googleError(
          403,
          "PERMISSION_DENIED",
          `Permission 'artifactregistry.repositories.list' denied on resource '//artifactregistry.googleapis.com/${resource}' (or it may not exist).`,
        ),
      );
    if (segments.length === 3 && segments[2] === "locations") {
      return sendPage(
        res,
        url,
        "locations",
        options.locations.map((l) => ({
          name: `projects/${project}/locations/${l}`,
          locationId: l,
          displayName: l,
        })),
      );
    }
    if (location === undefined || !options.locations.includes(location))
      return sendJson(res, 404, googleError(404, "NOT_FOUND", `Location '${location}' is not found.`));
    const inLocation = options.repositories.filter((r) => r.project === project && r.location === location);
    if (segments.length === 5 && segments[4] === "repositories") {
      return sendPage(
        res,
        url,
        "repositories",
        inLocation.map((r) => ({
          name: `projects/${project}/locations/${location}/repositories/${r.repository}`,
          format: r.format ?? "DOCKER",
          mode: "STANDARD_REPOSITORY",
          registryUri: registryUriOf(r),
          createTime: new Date(BASE_TIME).toISOString(),
          updateTime: new Date(BASE_TIME).toISOString(),
        })),
      );
    }
    const repository = inLocation.find((r) => r.repository === repositoryId);
    if (segments.length === 7 && dockerImages === "dockerImages" && repository) {
      const prefix = `${project}/${repository.repository}/`;
      const byImage = new Map<string, GcrSimImage[]>();
      for (const image of images.filter((i) => i.repository.startsWith(prefix))) {
        const key = `${image.repository}@${image.digest}`;
        byImage.set(key, [...(byImage.get(key) ?? []), image]);
      }
      const host = registryUriOf(repository).split("/")[0];
      return sendPage(
        res,
        url,
        "dockerImages",
        [...byImage.values()].map((group) => {
          const first = group[0] as GcrSimImage;
          const fact = facts.get(first.digest) as ImageFacts;
          const imageName = first.repository.slice(prefix.length);
          return {
            name: `projects/${project}/locations/${location}/repositories/${repository.repository}/dockerImages/${encodeURIComponent(imageName)}@${first.digest}`,
            uri: `${host}/${first.repository}@${first.digest}`,
            tags: group.map((g) => g.tag),
            imageSizeBytes: String(fact.size),
            uploadTime: first.uploadedAt.toISOString(),
            mediaType: fact.mediaType,
            buildTime: new Date(fact.createdMs).toISOString(),
            updateTime: first.uploadedAt.toISOString(),
          };
        }),
      );
    }
    sendJson(res, 404, googleError(404, "NOT_FOUND", `Requested entity was not found: ${url.pathname}`));
  };

  const api: Listening = await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    record("api", req, res, url);
    if (url.pathname === "/token" && req.method === "POST") return oauthToken(req, res);
    if (url.pathname.startsWith("/v1/") && req.method === "GET") return arApi(req, res, url);
    sendJson(res, 404, googleError(404, "NOT_FOUND", "Not found."));
  });
  const tokenUri = `${api.url}/token`;

  const realm = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const upstream = grantTokens.realm.replace(/\/token$/, "");
    const credentials = basicCredentials(req);
    if (credentials === undefined) return proxy(req, res, upstream, `/token${url.search}`, {});
    const account = credentials.username === "oauth2accesstoken" ? holder(credentials.password) : undefined;
    realmLogins.push({ token: credentials.password, valid: account !== undefined });
    if (!account)
      return sendJson(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "Not Authorized." }] });
    proxy(req, res, upstream, `/token${url.search}`, {
      authorization: basicHeader(account.internal.user, account.internal.password),
    });
  };

  /** The extended tags/list, answered here from the storage (the docker-registry has no such form). */
  const tagsList = async (req: IncomingMessage, res: ServerResponse, url: URL, name: string) => {
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    let granted = false;
    if (bearer !== undefined) {
      try {
        const { payload } = await jwtVerify(bearer, grantKey, {
          issuer: grantTokens.issuer,
          audience: SERVICE,
        });
        const access = (payload.access ?? []) as { type: string; name: string; actions: string[] }[];
        granted = access.some(
          (a) => a.type === "repository" && a.name === name && a.actions.includes("pull"),
        );
      } catch {
        granted = false;
      }
    }
    const project = name.split("/")[0] ?? "";
    const below = repositoryNames.filter((r) => r === name || r.startsWith(`${name}/`));
    // Its 401 has no WWW-Authenticate: the client must reuse the ping's challenge.
    if (bearer === undefined)
      return sendJson(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "Requires authentication." }] });
    if (!options.projects.includes(project) || below.length === 0)
      return sendJson(res, 404, {
        errors: [{ code: "NAME_UNKNOWN", message: `Repository "${name}" not found` }],
      });
    if (!granted)
      return sendJson(res, 403, {
        errors: [
          {
            code: "DENIED",
            message: `Permission "artifactregistry.repositories.downloadArtifacts" denied on resource "projects/${project}/locations/us/repositories/gcr.io" (or it may not exist)`,
          },
        ],
      });
    const n = Number(url.searchParams.get("n"));
    const limit = Number.isInteger(n) && n > 0 ? n : tagsWithoutN;
    const own = images
      .filter((i) => i.repository === name)
      .sort((a, b) => (a.tag < b.tag ? -1 : 1))
      .slice(0, limit);
    const manifest: Record<string, unknown> = {};
    for (const image of own) {
      const fact = facts.get(image.digest) as ImageFacts;
      const entry = (manifest[image.digest] ?? {
        imageSizeBytes: String(fact.size),
        layerId: "",
        mediaType: fact.mediaType,
        tag: [],
        timeCreatedMs: String(fact.createdMs),
        timeUploadedMs: String(image.uploadedAt.getTime()),
      }) as { tag: string[] };
      entry.tag.push(image.tag);
      manifest[image.digest] = entry;
    }
    const child = [
      ...new Set(
        below.filter((r) => r !== name).map((r) => r.slice(name.length + 1).split("/")[0] as string),
      ),
    ].sort();
    sendJson(res, 200, { child, manifest, name, tags: own.map((i) => i.tag) });
  };

  let registry: RunningRegistry | undefined;
  const front: Listening = await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    record("registry", req, res, url);
    if (url.pathname === "/v2/token" && req.method === "GET") return realm(req, res, url);
    const tagsListPath = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (tagsListPath && req.method === "GET") return tagsList(req, res, url, tagsListPath[1] as string);
    if (registry === undefined || !(url.pathname === "/v2" || url.pathname.startsWith("/v2/")))
      return sendJson(res, 404, { errors: [{ code: "NOT_FOUND", message: "Not found." }] });
    proxy(req, res, registry.url, `${url.pathname}${url.search}`);
  });
  try {
    registry = await startRegistry({
      storageDir: options.storageDir,
      readOnly: true,
      auth: { kind: "token", ...grantTokens, realm: `${front.url}/v2/token` },
    });
  } catch (err) {
    await Promise.all([api.stop(), front.stop(), grantTokens.stop()]);
    throw err;
  }
  const running = registry;

  return {
    tokenUri,
    apiUrl: `${api.url}/`,
    registryUrl: front.url,
    registryHost: front.host,
    images,
    requests,
    get issued() {
      return issued;
    },
    realmLogins,
    get tokenLifetimeSeconds() {
      return lifetime;
    },
    set tokenLifetimeSeconds(seconds: number) {
      lifetime = seconds;
    },
    issueToken(email) {
      const account = accounts.find((a) => a.email === email);
      if (!account) throw new Error(`no service account ${email}`);
      return issue(account);
    },
    revokeTokens() {
      tokens.clear();
    },
    failNext(status, count) {
      faults.splice(0, faults.length, ...Array.from({ length: count }, () => status));
    },
    async stop() {
      await Promise.all([api.stop(), front.stop(), running.stop(), grantTokens.stop()]);
    },
  };
}
