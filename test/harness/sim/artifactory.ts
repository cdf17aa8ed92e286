/**
 * A JFrog Artifactory 7 simulation on 127.0.0.1, written from JFrog's documentation:
 * - Get Repositories (`GET /artifactory/api/repositories?packageType=docker` → `[{key, type, packageType,
 *   url}]`): https://jfrog.com/help/r/jfrog-rest-apis/get-repositories
 * - List Docker Repositories / List Docker Tags (`/artifactory/api/docker/<key>/v2/_catalog` and
 *   `/v2/<image>/tags/list` with `n` and `last`):
 *   https://jfrog.com/help/r/jfrog-rest-apis/list-docker-repositories,
 *   https://jfrog.com/help/r/jfrog-rest-apis/list-docker-tags
 * - File Info (`GET /artifactory/api/storage/<key>/<path>` → `created`, `lastModified`, `checksums`):
 *   https://jfrog.com/help/r/jfrog-rest-apis/file-info
 * - The repository-path method (`<host>/v2/<key>/<image>`) and the `/v2/token` realm:
 *   https://jfrog.com/help/r/jfrog-artifactory-documentation/the-repository-path-method-for-docker
 * - Errors as `{"errors":[{"status":401,"message":"Bad credentials"}]}`; headers `X-JFrog-Version`,
 *   `X-Artifactory-Id`.
 * - The Link quirk of RTFACT-18971: with `brokenLinks`, next-page links are `/v2/...?last=x` without
 *   the `/artifactory/api/docker/<key>` prefix and without `n`.
 *
 * /v2/ is the real docker-registry (token auth, realm this host's /v2/token) serving a storage whose
 * repositories are named `<key>/<image>`; virtual repositories list the union of their members.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { type RunningTokenServer, startTokenServer } from "../token-server.js";
import { spreadPushTime } from "./harbor.js";
import { basicCredentials, intParam, type Listening, listen, proxy, sendJson } from "./http.js";
import { readBlob, readBlobJson, storedTags } from "./storage.js";

export interface ArtifactoryRepo {
  key: string;
  type: "LOCAL" | "REMOTE" | "VIRTUAL" | "FEDERATED";
  /** For a virtual repository: the keys it aggregates. */
  members?: string[];
}

export interface ArtifactoryAccount {
  password: string;
  /** Repository keys the user may read; every key when unset. */
  read?: string[];
}

export interface ArtifactorySimOptions {
  /** Storage root whose repositories are named `<key>/<image>` for the local and remote keys. */
  storageDir: string;
  repositories: ArtifactoryRepo[];
  accounts: Record<string, ArtifactoryAccount>;
  /** Keys anonymous callers may read (anonymous access enabled for them). */
  anonymousRead?: string[];
  /** Largest `n` honoured for catalog and tag pages. */
  maxPageSize?: number;
  /** Next-page Links without the repository prefix and `n` (RTFACT-18971). */
  brokenLinks?: boolean;
  /** Digest strings mixed into tag lists, as some versions return. */
  digestsInTags?: boolean;
  /** When each tag's manifest was deployed; default spreadPushTime. */
  pushTime?: (repository: string, tag: string) => Date;
  /** Answers before the normal handling (e.g. 429 or 503 for a while); undefined = handle normally. */
  fault?: (
    req: IncomingMessage,
    path: string,
  ) => { status: number; headers?: Record<string, string> } | undefined;
  /** Lifetime of the /v2/token tokens in seconds; default 300. */
  tokenSeconds?: number;
}

export interface ArtifactoryTag {
  /** `<key>/<image>` */
  repository: string;
  tag: string;
  digest: string;
  pushedAt: Date;
  /** manifest.json or list.manifest.json */
  file: string;
}

export interface ArtifactoryRequest {
  method: string;
  path: string;
  search: string;
  user: string | undefined;
  status: number;
}

export interface ArtifactorySim {
  url: string;
  host: string;
  tags: ArtifactoryTag[];
  requests: ArtifactoryRequest[];
  tokens: RunningTokenServer;
  stop(): Promise<void>;
}

const SERVICE = "artifactory";
const DEFAULT_PAGE_SIZE = 50;
const VERSION_HEADERS = { "x-jfrog-version": "Artifactory/7.77.5", "x-artifactory-id": "sim-artifactory" };

const artifactoryError = (status: number, message: string) => ({ errors: [{ status, message }] });

export async function startArtifactorySim(options: ArtifactorySimOptions): Promise<ArtifactorySim> {
  const pushTime = options.pushTime ?? spreadPushTime;
  const tags: ArtifactoryTag[] = [];
  for (const stored of await storedTags(options.storageDir)) {
    const manifest = await readBlobJson(options.storageDir, stored.digest);
    tags.push({
      repository: stored.repository,
      tag: stored.tag,
      digest: stored.digest,
      pushedAt: pushTime(stored.repository, stored.tag),
      file: Array.isArray(manifest.manifests) ? "list.manifest.json" : "manifest.json",
    });
  }
  const maxPageSize = options.maxPageSize ?? 1000;
  const requests: ArtifactoryRequest[] = [];
  const repoByKey = new Map(options.repositories.map((r) => [r.key, r]));

  /** Tags of a key: its own, or its members' for a virtual repository (first member wins). */
  const tagsOf = (key: string): Map<string, ArtifactoryTag> => {
    const repo = repoByKey.get(key);
    const found = new Map<string, ArtifactoryTag>();
    for (const member of repo?.type === "VIRTUAL" ? (repo.members ?? []) : [key]) {
      for (const t of tags) {
        if (!t.repository.startsWith(`${member}/`)) continue;
        const id = `${t.repository.slice(member.length + 1)}:${t.tag}`;
        if (!found.has(id)) found.set(id, t);
      }
    }
    return found;
  };

  const mayRead = (user: string | undefined, key: string): boolean => {
    if (user === undefined) return options.anonymousRead?.includes(key) ?? false;
    const read = options.accounts[user]?.read;
    return read === undefined || read.includes(key);
  };

  const tokens = await startTokenServer({
    service: SERVICE,
    users: Object.fromEntries(Object.entries(options.accounts).map(([name, a]) => [name, a.password])),
    expiresIn: options.tokenSeconds ?? 300,
    ...(options.tokenSeconds !== undefined ? { backdateSeconds: 60 } : {}),
    grant: (user, scope) => {
      if (scope.type !== "repository") return [];
      return mayRead(user, scope.name.split("/")[0] ?? "") ? ["pull"] : [];
    },
  });
  let registry: RunningRegistry | undefined;

  /** undefined for anonymous, null for rejected credentials. */
  const caller = (req: IncomingMessage): string | undefined | null => {
    const credentials = basicCredentials(req);
    if (credentials === undefined) return undefined;
    const account = options.accounts[credentials.username];
    return account?.password === credentials.password ? credentials.username : null;
  };

  /** A page of a sorted list after `last`, with Artifactory's Link to the next one. */
  const page = (
    res: ServerResponse,
    url: URL,
    field: string,
    all: string[],
    extra: Record<string, unknown>,
  ) => {
    const n = Math.min(intParam(url.searchParams, "n", DEFAULT_PAGE_SIZE), maxPageSize);
    const last = url.searchParams.get("last");
    const start = last === null ? 0 : all.findIndex((entry) => entry > last);
    const slice = start < 0 ? [] : all.slice(start, start + n);
    const headers: Record<string, string> = { ...VERSION_HEADERS };
    if (start >= 0 && start + n < all.length) {
      const lastEntry = slice[slice.length - 1] ?? "";
      const tail = url.pathname.replace(/^\/artifactory\/api\/docker\/[^/]+/, "");
      headers.link = options.brokenLinks
        ? `<${tail}?last=${encodeURIComponent(lastEntry)}>; rel="next"`
        : `<${url.pathname}?last=${encodeURIComponent(lastEntry)}&n=${n}>; rel="next"`;
    }
    sendJson(res, 200, { ...extra, [field]: slice }, headers);
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL, user: string | undefined) => {
    const fail = (status: number, message: string) =>
      sendJson(res, status, artifactoryError(status, message), VERSION_HEADERS);
    const path = url.pathname.slice("/artifactory/api/".length);
    if (path === "repositories") {
      const packageType = url.searchParams.get("packageType");
      // Only the repositories the caller may read are listed.
      const listed = options.repositories.filter(
        (r) => (packageType === null || packageType === "docker") && mayRead(user, r.key),
      );
      return sendJson(
        res,
        200,
        listed.map((r) => ({
          key: r.key,
          type: r.type,
          packageType: "Docker",
          url: `http://${req.headers.host}/artifactory/${r.key}`,
          description: "",
        })),
        VERSION_HEADERS,
      );
    }
    const docker = /^docker\/([^/]+)\/v2\/(.+)$/.exec(path);
    const storage = /^storage\/([^/]+)\/(.+)$/.exec(path);
    const key = decodeURIComponent(docker?.[1] ?? storage?.[1] ?? "");
    if (!docker && !storage) return fail(404, "Not Found");
    if (!repoByKey.has(key)) return fail(404, `Repository ${key} not found`);
    if (!mayRead(user, key)) {
      return user === undefined ? fail(401, "Authentication is required") : fail(403, "Forbidden");
    }
    const inKey = tagsOf(key);
    if (docker) {
      const rest = docker[2] ?? "";
      if (rest === "_catalog") {
        if (user === undefined) return fail(401, "Authentication is required");
        const images = [...new Set([...inKey.keys()].map((id) => id.slice(0, id.lastIndexOf(":"))))].sort();
        return page(res, url, "repositories", images, {});
      }
      const tagsList = /^(.+)\/tags\/list$/.exec(rest);
      if (!tagsList) return fail(404, "Not Found");
      const image = tagsList[1] ?? "";
      const found = [...inKey.entries()].filter(([id]) => id.slice(0, id.lastIndexOf(":")) === image);
      if (found.length === 0) return fail(404, `Docker repository ${image} not found in ${key}`);
      const names = found.map(([id]) => id.slice(id.lastIndexOf(":") + 1));
      if (options.digestsInTags) names.push(...new Set(found.map(([, t]) => t.digest)));
      return page(res, url, "tags", names.sort(), { name: image });
    }
    const file = decodeURIComponent(storage?.[2] ?? "");
    const m = /^(.+)\/([^/]+)\/((?:list\.)?manifest\.json)$/.exec(file);
    const t = m ? inKey.get(`${m[1]}:${m[2]}`) : undefined;
    if (!m || !t || t.file !== m[3]) return fail(404, "Unable to find item");
    const bytes = await readBlob(options.storageDir, t.digest);
    const checksum = (algorithm: string) => createHash(algorithm).update(bytes).digest("hex");
    const time = t.pushedAt.toISOString();
    return sendJson(
      res,
      200,
      {
        repo: key,
        path: `/${file}`,
        created: time,
        createdBy: "deployer",
        lastModified: time,
        modifiedBy: "deployer",
        lastUpdated: time,
        downloadUri: `http://${req.headers.host}/artifactory/${key}/${file}`,
        mimeType: "application/json",
        size: String(bytes.length),
        checksums: { sha1: checksum("sha1"), md5: checksum("md5"), sha256: checksum("sha256") },
        originalChecksums: { sha256: checksum("sha256") },
        uri: `http://${req.headers.host}/artifactory/api/storage/${key}/${file}`,
      },
      VERSION_HEADERS,
    );
  };

  const server: Listening = await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const user = caller(req);
    const record: ArtifactoryRequest = {
      method: req.method ?? "",
      path: url.pathname,
      search: url.search,
      user: user ?? undefined,
      status: 0,
    };
    requests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    const injected = options.fault?.(req, url.pathname);
    if (injected) {
      return sendJson(res, injected.status, artifactoryError(injected.status, "injected"), {
        ...VERSION_HEADERS,
        ...injected.headers,
      });
    }
    if (url.pathname === "/v2/token") {
      return proxy(req, res, tokens.realm.replace(/\/token$/, ""), `/token${url.search}`);
    }
    if (url.pathname === "/v2" || url.pathname.startsWith("/v2/")) {
      if (!registry) return sendJson(res, 503, artifactoryError(503, "starting"));
      return proxy(req, res, registry.url, `${url.pathname}${url.search}`);
    }
    if (user === null) return sendJson(res, 401, artifactoryError(401, "Bad credentials"), VERSION_HEADERS);
    if (url.pathname.startsWith("/artifactory/api/") && req.method === "GET") return api(req, res, url, user);
    sendJson(res, 404, artifactoryError(404, "Not Found"), VERSION_HEADERS);
  });

  try {
    registry = await startRegistry({
      storageDir: options.storageDir,
      readOnly: true,
      auth: { kind: "token", ...tokens, realm: `${server.url}/v2/token` },
    });
  } catch (err) {
    await server.stop();
    await tokens.stop();
    throw err;
  }

  return {
    url: server.url,
    host: server.host,
    tags,
    requests,
    tokens,
    async stop() {
      await server.stop();
      await registry?.stop();
      await tokens.stop();
    },
  };
}
