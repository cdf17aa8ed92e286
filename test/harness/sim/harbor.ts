/**
 * A Harbor 2.x simulation on 127.0.0.1, written from Harbor's documentation:
 * - REST API v2.0: https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml (projects,
 *   repositories, artifacts; `page`/`page_size` ≤ 100, `X-Total-Count` and `Link` headers; errors as
 *   `{"errors":[{"code","message"}]}`) and https://goharbor.io/docs/main/build-customize-contribute/configure-swagger/
 * - Repository names in API paths URL-encoded twice (`a/b` → `a%252Fb`): the `repository_name`
 *   parameter description in the swagger file above.
 * - Robot accounts (`robot$name`, explicit per-project permissions):
 *   https://goharbor.io/docs/main/administration/robot-accounts/ and
 *   https://goharbor.io/docs/main/working-with-projects/project-configuration/create-robot-accounts/
 * - The token service at `/service/token`, service `harbor-registry`:
 *   https://goharbor.io/docs/main/install-config/configure-yml-file/ and the distribution token spec
 *   https://distribution.github.io/distribution/spec/auth/token/
 *
 * /v2/ is the real docker-registry (token auth, realm this host's /service/token), reached through
 * this server; /service/token checks the account and project permissions, then has the harness token
 * server sign the JWT. Projects are the first path segment of the served repositories; tags and
 * digests come from the storage, push times from `pushTime`.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { type RunningTokenServer, startTokenServer } from "../token-server.js";
import { basicCredentials, intParam, type Listening, listen, pageOf, proxy, sendJson } from "./http.js";
import { readBlobJson, storedTags } from "./storage.js";

export type HarborAction = "list" | "pull";

export interface HarborAccount {
  password: string;
  /** System administrator: every project, every action. */
  admin?: boolean;
  /** Project name → what the account may do there (robot permissions, or a member's role). */
  projects?: Record<string, HarborAction[]>;
}

export interface HarborSimOptions {
  /** Storage root to serve (e.g. a storage view); every repository name has a project segment. */
  storageDir: string;
  /** Username (`robot$name` for robots) → account. */
  accounts: Record<string, HarborAccount>;
  /** Projects anonymous callers may list and pull from (`metadata.public`). */
  publicProjects?: string[];
  /** Harbor caps `page_size` at 100; a smaller cap makes short lists span pages. */
  maxPageSize?: number;
  /** When each tag was pushed; default: a fixed spread over 2024 derived from the name. */
  pushTime?: (repository: string, tag: string) => Date;
  /** Serve HTTPS with this certificate (Harbor's core terminates TLS; the registry behind stays HTTP). */
  tls?: { cert: string; key: string };
}

export interface HarborTag {
  repository: string;
  tag: string;
  digest: string;
  pushedAt: Date;
}

export interface HarborRequest {
  method: string;
  path: string;
  user: string | undefined;
  status: number;
}

export interface HarborSim {
  /** `http(s)://127.0.0.1:PORT`: API, token service and /v2/ on one origin, as Harbor serves them. */
  url: string;
  host: string;
  tags: HarborTag[];
  requests: HarborRequest[];
  stop(): Promise<void>;
}

const SERVICE = "harbor-registry";
const HARBOR_PAGE_SIZE_LIMIT = 100;
const DEFAULT_PAGE_SIZE = 10;

interface Project {
  id: number;
  name: string;
  public: boolean;
  created: Date;
}

interface Artifact {
  id: number;
  digest: string;
  mediaType: string;
  pushedAt: Date;
  tags: { id: number; name: string; pushedAt: Date }[];
  references: { child_digest: string; platform: unknown }[];
  extraAttrs: Record<string, unknown>;
}

interface Repository {
  id: number;
  projectId: number;
  name: string;
  artifacts: Artifact[];
}

const harborError = (code: string, message: string) => ({ errors: [{ code, message }] });

/** A fixed time in 2024 per (repository, tag), so push order differs from tag and build order. */
export function spreadPushTime(repository: string, tag: string): Date {
  const hash = createHash("sha256").update(`${repository}:${tag}`).digest();
  return new Date(Date.UTC(2024, 0, 1) + (hash.readUInt32BE(0) % (365 * 86_400)) * 1000);
}

async function buildModel(
  options: HarborSimOptions,
): Promise<{ projects: Project[]; repositories: Repository[]; tags: HarborTag[] }> {
  const pushTime = options.pushTime ?? spreadPushTime;
  const stored = await storedTags(options.storageDir);
  const projects = new Map<string, Project>();
  const repositories = new Map<string, Repository>();
  const tags: HarborTag[] = [];
  let nextId = 1;
  for (const { repository, tag, digest } of stored) {
    const projectName = repository.split("/")[0] ?? "";
    if (!repository.includes("/")) throw new Error(`Harbor repository ${repository} has no project`);
    let project = projects.get(projectName);
    if (!project) {
      project = {
        id: projects.size + 1,
        name: projectName,
        public: options.publicProjects?.includes(projectName) ?? false,
        created: new Date(Date.UTC(2023, 11, projects.size + 1)),
      };
      projects.set(projectName, project);
    }
    let repo = repositories.get(repository);
    if (!repo) {
      repo = { id: repositories.size + 1, projectId: project.id, name: repository, artifacts: [] };
      repositories.set(repository, repo);
    }
    const pushedAt = pushTime(repository, tag);
    tags.push({ repository, tag, digest, pushedAt });
    let artifact = repo.artifacts.find((a) => a.digest === digest);
    if (!artifact) {
      artifact = {
        id: nextId++,
        digest,
        pushedAt,
        tags: [],
        ...(await describe(options.storageDir, digest)),
      };
      repo.artifacts.push(artifact);
    }
    artifact.tags.push({ id: nextId++, name: tag, pushedAt });
    // The digest arrived with the first tag that named it.
    if (pushedAt < artifact.pushedAt) artifact.pushedAt = pushedAt;
  }
  return { projects: [...projects.values()], repositories: [...repositories.values()], tags };
}

/** What Harbor records of a manifest: media type, index children, image config attributes. */
async function describe(
  storageDir: string,
  digest: string,
): Promise<Pick<Artifact, "mediaType" | "references" | "extraAttrs">> {
  const manifest = await readBlobJson(storageDir, digest);
  const mediaType = String(manifest.mediaType ?? "");
  if (Array.isArray(manifest.manifests)) {
    const children = manifest.manifests as { digest: string; platform?: unknown }[];
    return {
      mediaType,
      references: children.map((c) => ({ child_digest: c.digest, platform: c.platform ?? null })),
      extraAttrs: {},
    };
  }
  const configDigest = (manifest.config as { digest?: string } | undefined)?.digest;
  const config = configDigest ? await readBlobJson(storageDir, configDigest) : {};
  return {
    mediaType,
    references: [],
    extraAttrs: { architecture: config.architecture, os: config.os, created: config.created },
  };
}

/** Harbor's `Link` header: prev and next pages with the caller's other query parameters kept. */
function paginationHeaders(url: URL, page: number, pages: number, total: number): Record<string, string> {
  const link = (target: number, rel: string) => {
    const query = new URLSearchParams(url.searchParams);
    query.set("page", String(target));
    return `<${url.pathname}?${query}>; rel="${rel}"`;
  };
  const links = [
    ...(page > 1 ? [link(page - 1, "prev")] : []),
    ...(page < pages ? [link(page + 1, "next")] : []),
  ];
  return { "x-total-count": String(total), ...(links.length > 0 ? { link: links.join(" , ") } : {}) };
}

export async function startHarborSim(options: HarborSimOptions): Promise<HarborSim> {
  const model = await buildModel(options);
  const maxPageSize = Math.min(options.maxPageSize ?? HARBOR_PAGE_SIZE_LIMIT, HARBOR_PAGE_SIZE_LIMIT);
  const requests: HarborRequest[] = [];

  const allowed = (user: string | undefined, project: Project, action: HarborAction): boolean => {
    if (project.public) return true;
    if (user === undefined) return false;
    const account = options.accounts[user];
    return account?.admin === true || (account?.projects?.[project.name]?.includes(action) ?? false);
  };
  const member = (user: string | undefined, project: Project): boolean =>
    project.public ||
    (user !== undefined &&
      (options.accounts[user]?.admin === true ||
        options.accounts[user]?.projects?.[project.name] !== undefined));

  const tokens: RunningTokenServer = await startTokenServer({
    service: SERVICE,
    users: Object.fromEntries(Object.entries(options.accounts).map(([name, a]) => [name, a.password])),
    grant: (user, scope) => {
      if (scope.type === "registry") return user !== undefined && options.accounts[user]?.admin ? ["*"] : [];
      const project = model.projects.find((p) => p.name === scope.name.split("/")[0]);
      return project && allowed(user, project, "pull") ? ["pull"] : [];
    },
  });
  let registry: RunningRegistry | undefined;

  /** The caller: undefined for anonymous, null for credentials Harbor rejects. */
  const caller = (req: IncomingMessage): string | undefined | null => {
    const credentials = basicCredentials(req);
    if (credentials === undefined) return undefined;
    const account = options.accounts[credentials.username];
    return account !== undefined && account.password === credentials.password ? credentials.username : null;
  };

  const api = (req: IncomingMessage, res: ServerResponse, url: URL, user: string | undefined) => {
    const page = intParam(url.searchParams, "page", 1);
    const pageSize = Math.min(intParam(url.searchParams, "page_size", DEFAULT_PAGE_SIZE), maxPageSize);
    const respond = <T>(items: readonly T[], render: (item: T) => unknown) => {
      const { items: slice, pages } = pageOf(items, page, pageSize);
      sendJson(res, 200, slice.map(render), paginationHeaders(url, page, pages, items.length));
    };
    // Harbor's router matches the once-decoded path, so a `/` inside a name must arrive as %252F.
    const segments = decodeURIComponent(url.pathname).split("/").slice(3);
    if (req.method !== "GET")
      return sendJson(res, 405, harborError("METHOD_NOT_ALLOWED", "method not allowed"));
    if (segments.length === 1 && segments[0] === "systeminfo") {
      return sendJson(res, 200, { harbor_version: "v2.11.0-sim", auth_mode: "db_auth" });
    }
    if (segments[0] !== "projects") return sendJson(res, 404, harborError("NOT_FOUND", "not found"));
    if (segments.length === 1) {
      const visible = model.projects.filter((p) => member(user, p));
      return respond(visible, (p) => ({
        project_id: p.id,
        name: p.name,
        registry_id: null,
        repo_count: model.repositories.filter((r) => r.projectId === p.id).length,
        metadata: { public: String(p.public) },
        creation_time: p.created.toISOString(),
        update_time: p.created.toISOString(),
      }));
    }
    const project = model.projects.find((p) => p.name === segments[1]);
    if (!project) {
      return sendJson(res, 404, harborError("NOT_FOUND", `project ${segments[1]} not found`));
    }
    if (!allowed(user, project, "list")) {
      return user === undefined
        ? sendJson(res, 401, harborError("UNAUTHORIZED", "unauthorized"))
        : sendJson(res, 403, harborError("FORBIDDEN", "forbidden"));
    }
    const inProject = model.repositories.filter((r) => r.projectId === project.id);
    if (segments.length === 3 && segments[2] === "repositories") {
      return respond(inProject, (r) => ({
        id: r.id,
        project_id: r.projectId,
        name: r.name,
        artifact_count: r.artifacts.length,
        pull_count: 0,
        creation_time: project.created.toISOString(),
        update_time: project.created.toISOString(),
      }));
    }
    if (segments.length === 5 && segments[2] === "repositories" && segments[4] === "artifacts") {
      const name = `${project.name}/${decodeURIComponent(segments[3] ?? "")}`;
      const repo = inProject.find((r) => r.name === name);
      if (!repo) return sendJson(res, 404, harborError("NOT_FOUND", `repository ${name} not found`));
      const withTag = url.searchParams.get("with_tag") !== "false";
      const q = url.searchParams.get("q") ?? "";
      const ascending = url.searchParams.get("sort") === "push_time";
      const artifacts = repo.artifacts
        .filter((a) => (q.includes("tags=*") ? a.tags.length > 0 : true))
        .sort((a, b) => (ascending ? 1 : -1) * (a.pushedAt.getTime() - b.pushedAt.getTime()) || a.id - b.id);
      return respond(artifacts, (a) => ({
        id: a.id,
        type: "IMAGE",
        media_type: a.mediaType,
        manifest_media_type: a.mediaType,
        project_id: project.id,
        repository_id: repo.id,
        digest: a.digest,
        push_time: a.pushedAt.toISOString(),
        pull_time: "0001-01-01T00:00:00.000Z",
        extra_attrs: a.extraAttrs,
        references: a.references,
        ...(withTag
          ? {
              tags: a.tags.map((t) => ({
                id: t.id,
                repository_id: repo.id,
                artifact_id: a.id,
                name: t.name,
                push_time: t.pushedAt.toISOString(),
                pull_time: "0001-01-01T00:00:00.000Z",
                immutable: false,
              })),
            }
          : {}),
      }));
    }
    sendJson(res, 404, harborError("NOT_FOUND", "not found"));
  };

  const server: Listening = await listen((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const user = caller(req);
    const record: HarborRequest = {
      method: req.method ?? "",
      path: url.pathname,
      user: user ?? undefined,
      status: 0,
    };
    requests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    if (url.pathname.startsWith("/v2/") || url.pathname === "/v2") {
      if (!registry) return sendJson(res, 503, harborError("UNAVAILABLE", "registry starting"));
      return proxy(req, res, registry.url, `${url.pathname}${url.search}`);
    }
    if (url.pathname === "/service/token") {
      // The token server checks the password itself and answers 401 with a Basic challenge.
      return proxy(req, res, tokens.realm.replace(/\/token$/, ""), `/token${url.search}`);
    }
    if (user === null) return sendJson(res, 401, harborError("UNAUTHORIZED", "unauthorized"));
    if (url.pathname.startsWith("/api/v2.0/")) return api(req, res, url, user);
    sendJson(res, 404, harborError("NOT_FOUND", "not found"));
  }, options.tls);

  try {
    registry = await startRegistry({
      storageDir: options.storageDir,
      readOnly: true,
      auth: { kind: "token", ...tokens, realm: `${server.url}/service/token` },
    });
  } catch (err) {
    await server.stop();
    await tokens.stop();
    throw err;
  }

  return {
    url: server.url,
    host: server.host,
    tags: model.tags,
    requests,
    async stop() {
      await server.stop();
      await registry?.stop();
      await tokens.stop();
    },
  };
}
