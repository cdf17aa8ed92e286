/**
 * A GitLab simulation on 127.0.0.1 (the GitLab host: REST API v4 and the registry's `/jwt/auth`
 * realm), written from GitLab's documentation:
 * - Container registry API: https://docs.gitlab.com/api/container_registry/ (project and group
 *   repository lists, tag list, tag details with `digest`, `revision`, `created_at`, `total_size`)
 * - Pagination: https://docs.gitlab.com/api/rest/#pagination (`page`, `per_page` ≤ 100, headers
 *   `X-Page`, `X-Per-Page`, `X-Next-Page`, `X-Prev-Page`, `X-Total`, `X-Total-Pages`, `Link`)
 * - Authentication and status codes: https://docs.gitlab.com/api/rest/authentication/ (`PRIVATE-TOKEN`
 *   or `Authorization: Bearer`; `{"message":"401 Unauthorized"}`, `insufficient_scope` 403) and
 *   https://docs.gitlab.com/api/rest/troubleshooting/ (`404 Project Not Found`)
 * - Users' projects: https://docs.gitlab.com/api/projects/#list-a-users-projects; groups:
 *   https://docs.gitlab.com/api/groups/#get-a-single-group
 * - Registry auth: https://docs.gitlab.com/user/packages/container_registry/authenticate_with_container_registry/
 *   (personal, project and group access tokens and deploy tokens with `read_registry`; deploy tokens
 *   do not work on the REST API: https://docs.gitlab.com/user/project/deploy_tokens/)
 *
 * The registry is the real docker-registry on its own port (as a self-managed GitLab's registry on
 * :5050), with token auth whose realm is this host's `/jwt/auth`, service `container_registry`;
 * `/jwt/auth` checks the token and its scopes, then has the harness token server sign the JWT.
 * Container repositories are the served repositories, each in the project whose path is its longest
 * prefix; a repository's `created_at` and a tag's are the image config's `created`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { type RunningTokenServer, startTokenServer } from "../token-server.js";
import {
  basicCredentials,
  basicHeader,
  intParam,
  type Listening,
  listen,
  pageOf,
  proxy,
  sendJson,
} from "./http.js";
import { readBlob, readBlobJson, storedTags } from "./storage.js";

export interface GitlabToken {
  kind: "personal" | "project" | "group" | "deploy";
  /** The user (personal), the bot user (project, group) or the deploy token's username. */
  username: string;
  /** `api`, `read_api`, `read_registry`. */
  scopes: string[];
  /** Full paths of the groups and projects the identity is a member of (sub-groups included). */
  access: string[];
}

export interface GitlabSimOptions {
  storageDir: string;
  /** Group full paths; a sub-group's parents must be listed too. */
  groups: string[];
  /** Usernames; each has a namespace for personal projects. */
  users: string[];
  /** Project full paths (`group/sub/project`, `username/project`). */
  projects: { path: string; visibility?: "public" | "private" }[];
  /** Token value → what it is. */
  tokens: Record<string, GitlabToken>;
  /** GitLab caps `per_page` at 100; a smaller cap makes short lists span pages. */
  maxPerPage?: number;
  /** Repository paths listed with `status: "delete_scheduled"` (a cleanup in progress). */
  deleteScheduled?: string[];
}

export interface GitlabSimTag {
  repository: string;
  tag: string;
  digest: string;
  /** The tag details' `created_at` (config build time); undefined for an index. */
  createdAt: Date | undefined;
}

export interface GitlabRequest {
  method: string;
  /** The path as sent (still encoded). */
  path: string;
  query: string;
  status: number;
}

export interface GitlabSim {
  /** The GitLab host, `http://127.0.0.1:PORT` (API and /jwt/auth). */
  url: string;
  /** The registry, `http://127.0.0.1:PORT`, and its host as in `location`. */
  registryUrl: string;
  registryHost: string;
  groupId(path: string): number;
  projectId(path: string): number;
  userId(username: string): number;
  tags: GitlabSimTag[];
  requests: GitlabRequest[];
  stop(): Promise<void>;
}

const SERVICE = "container_registry";
const PER_PAGE_LIMIT = 100;
const DEFAULT_PER_PAGE = 20;

interface Group {
  id: number;
  path: string;
}
interface Project {
  id: number;
  path: string;
  public: boolean;
}
interface Repository {
  id: number;
  project: Project;
  path: string;
  tags: GitlabSimTag[];
  createdAt: Date | undefined;
}
interface TagDetails {
  revision: string | null;
  totalSize: number;
  createdAt: Date | undefined;
}

const message = (text: string) => ({ message: text });
const gitlabTime = (time: Date | undefined) => (time ? time.toISOString().replace("Z", "+00:00") : null);
const under = (path: string, parent: string) => path === parent || path.startsWith(`${parent}/`);

async function tagDetails(storageDir: string, digest: string): Promise<TagDetails> {
  const manifest = await readBlobJson(storageDir, digest);
  if (Array.isArray(manifest.manifests)) return { revision: null, totalSize: 0, createdAt: undefined };
  const config = manifest.config as { digest: string; size: number };
  const layers = (manifest.layers ?? []) as { size: number }[];
  const created = (await readBlobJson(storageDir, config.digest)).created;
  return {
    revision: config.digest.split(":")[1] ?? null,
    totalSize:
      config.size + layers.reduce((sum, l) => sum + l.size, 0) + (await readBlob(storageDir, digest)).length,
    createdAt: typeof created === "string" ? new Date(created) : undefined,
  };
}

export async function startGitlabSim(options: GitlabSimOptions): Promise<GitlabSim> {
  const maxPerPage = Math.min(options.maxPerPage ?? PER_PAGE_LIMIT, PER_PAGE_LIMIT);
  let nextId = 1;
  const groups: Group[] = options.groups.map((path) => ({ id: nextId++, path }));
  const users = options.users.map((username) => ({ id: nextId++, username }));
  const projects: Project[] = options.projects.map((p) => ({
    id: nextId++,
    path: p.path,
    public: p.visibility === "public",
  }));
  const tokens = Object.entries(options.tokens).map(([value, token], index) => ({
    value,
    token,
    // The identity the harness token server knows this token by.
    internal: { user: `token-${index}`, password: `internal-${index}` },
    botId: nextId++,
  }));

  const repositories: Repository[] = [];
  const details = new Map<string, TagDetails>();
  const tags: GitlabSimTag[] = [];
  for (const stored of await storedTags(options.storageDir)) {
    const project = projects
      .filter((p) => under(stored.repository, p.path))
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (!project) throw new Error(`GitLab simulation: ${stored.repository} is in no project`);
    let repository = repositories.find((r) => r.path === stored.repository);
    if (!repository) {
      repository = { id: nextId++, project, path: stored.repository, tags: [], createdAt: undefined };
      repositories.push(repository);
    }
    if (!details.has(stored.digest))
      details.set(stored.digest, await tagDetails(options.storageDir, stored.digest));
    const createdAt = details.get(stored.digest)?.createdAt;
    const tag = { repository: stored.repository, tag: stored.tag, digest: stored.digest, createdAt };
    repository.tags.push(tag);
    tags.push(tag);
    if (createdAt && (!repository.createdAt || createdAt < repository.createdAt))
      repository.createdAt = createdAt;
  }

  type Caller = (typeof tokens)[number] | undefined;
  const canSee = (caller: Caller, path: string, isPublic: boolean) =>
    isPublic || (caller?.token.access.some((a) => under(path, a)) ?? false);
  const projectVisible = (caller: Caller, p: Project) => canSee(caller, p.path, p.public);
  // Members of a sub-group or of a project in it see the group too.
  const groupVisible = (caller: Caller, g: Group) =>
    canSee(caller, g.path, false) ||
    (caller?.token.access.some((a) => under(a, g.path)) ?? false) ||
    projects.some((p) => p.public && under(p.path, g.path));

  const grantTokens: RunningTokenServer = await startTokenServer({
    service: SERVICE,
    users: Object.fromEntries(tokens.map((t) => [t.internal.user, t.internal.password])),
    grant: (user, scope) => {
      if (scope.type !== "repository") return [];
      const caller = tokens.find((t) => t.internal.user === user);
      const repository = repositories.find((r) => r.path === scope.name);
      return repository && projectVisible(caller, repository.project) ? ["pull"] : [];
    },
  });
  let registry: RunningRegistry | undefined;
  const requests: GitlabRequest[] = [];

  const paginate = <T>(res: ServerResponse, url: URL, items: readonly T[], render: (item: T) => unknown) => {
    const page = intParam(url.searchParams, "page", 1);
    const perPage = Math.min(intParam(url.searchParams, "per_page", DEFAULT_PER_PAGE), maxPerPage);
    const { items: slice, pages } = pageOf(items, page, perPage);
    const linkTo = (target: number) => {
      const query = new URLSearchParams(url.searchParams);
      query.set("page", String(target));
      query.set("per_page", String(perPage));
      return `${server.url}${url.pathname}?${query}`;
    };
    const links = [
      ...(page > 1 ? [`<${linkTo(page - 1)}>; rel="prev"`] : []),
      ...(page < pages ? [`<${linkTo(page + 1)}>; rel="next"`] : []),
      `<${linkTo(1)}>; rel="first"`,
      `<${linkTo(pages)}>; rel="last"`,
    ];
    sendJson(res, 200, slice.map(render), {
      "x-page": String(page),
      "x-per-page": String(perPage),
      "x-next-page": page < pages ? String(page + 1) : "",
      "x-prev-page": page > 1 ? String(page - 1) : "",
      "x-total": String(items.length),
      "x-total-pages": String(pages),
      link: links.join(", "),
    });
  };

  const repositoryJson = (r: Repository) => ({
    id: r.id,
    name: r.path === r.project.path ? "" : r.path.slice(r.project.path.length + 1),
    path: r.path,
    project_id: r.project.id,
    location: `${registry?.host}/${r.path}`,
    created_at: gitlabTime(r.createdAt),
    cleanup_policy_started_at: null,
    status: options.deleteScheduled?.includes(r.path) ? "delete_scheduled" : null,
  });
  const projectJson = (p: Project) => ({
    id: p.id,
    name: p.path.split("/").at(-1),
    path: p.path.split("/").at(-1),
    path_with_namespace: p.path,
    visibility: p.public ? "public" : "private",
  });
  const byIdOrPath = <T extends { id: number; path: string }>(list: T[], key: string) =>
    list.find((item) => String(item.id) === key || item.path === key);

  const api = (res: ServerResponse, url: URL, segments: string[], caller: Caller) => {
    const [kind, key = "", sub, ...rest] = segments;
    if (kind === "user" && segments.length === 1) {
      if (!caller) return sendJson(res, 401, message("401 Unauthorized"));
      const user = users.find((u) => u.username === caller.token.username);
      return sendJson(res, 200, {
        id: user?.id ?? caller.botId,
        username: caller.token.username,
        name: caller.token.username,
        state: "active",
        bot: caller.token.kind !== "personal",
      });
    }
    if (kind === "users") {
      const user = users.find((u) => String(u.id) === key || u.username === key);
      if (!user) return sendJson(res, 404, message("404 User Not Found"));
      if (sub !== "projects" || rest.length > 0) return sendJson(res, 404, message("404 Not Found"));
      const owned = projects.filter((p) => under(p.path, user.username) && projectVisible(caller, p));
      return paginate(res, url, owned, projectJson);
    }
    if (kind === "groups") {
      const group = byIdOrPath(groups, key);
      if (!group || !groupVisible(caller, group)) return sendJson(res, 404, message("404 Group Not Found"));
      if (sub === undefined) {
        return sendJson(res, 200, {
          id: group.id,
          name: group.path.split("/").at(-1),
          path: group.path.split("/").at(-1),
          full_path: group.path,
          parent_id:
            groups.find(
              (g) =>
                group.path.startsWith(`${g.path}/`) && !group.path.slice(g.path.length + 1).includes("/"),
            )?.id ?? null,
        });
      }
      if (sub !== "registry" || rest.join("/") !== "repositories")
        return sendJson(res, 404, message("404 Not Found"));
      const inGroup = repositories.filter(
        (r) => under(r.project.path, group.path) && projectVisible(caller, r.project),
      );
      return paginate(res, url, inGroup, repositoryJson);
    }
    if (kind === "projects") {
      const project = byIdOrPath(projects, key);
      if (!project || !projectVisible(caller, project))
        return sendJson(res, 404, message("404 Project Not Found"));
      if (sub !== "registry" || rest[0] !== "repositories")
        return sendJson(res, 404, message("404 Not Found"));
      const own = repositories.filter((r) => r.project === project);
      if (rest.length === 1) return paginate(res, url, own, repositoryJson);
      const repository = own.find((r) => String(r.id) === rest[1]);
      if (!repository || rest[2] !== "tags") return sendJson(res, 404, message("404 Repository Not Found"));
      const listed = [...repository.tags].sort((a, b) => (a.tag < b.tag ? -1 : 1));
      const short = (t: GitlabSimTag) => ({
        name: t.tag,
        path: `${t.repository}:${t.tag}`,
        location: `${registry?.host}/${t.repository}:${t.tag}`,
      });
      if (rest.length === 3) return paginate(res, url, listed, short);
      const tag = rest.length === 4 ? listed.find((t) => t.tag === rest[3]) : undefined;
      if (!tag) return sendJson(res, 404, message("404 Tag Not Found"));
      const d = details.get(tag.digest) as TagDetails;
      return sendJson(res, 200, {
        ...short(tag),
        revision: d.revision,
        short_revision: d.revision?.slice(0, 9) ?? null,
        digest: tag.digest,
        created_at: gitlabTime(d.createdAt),
        total_size: d.totalSize,
      });
    }
    sendJson(res, 404, message("404 Not Found"));
  };

  const jwtAuth = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const credentials = basicCredentials(req);
    const upstream = grantTokens.realm.replace(/\/token$/, "");
    if (credentials === undefined) return proxy(req, res, upstream, `/token${url.search}`, {});
    const match = tokens.find((t) => t.value === credentials.password);
    const registryScope = match?.token.scopes.some((s) => s === "read_registry" || s === "api") ?? false;
    // Personal and deploy tokens are bound to their username; project and group tokens take any name.
    const nameFits =
      match !== undefined &&
      credentials.username !== "" &&
      (match.token.kind === "project" ||
        match.token.kind === "group" ||
        credentials.username === match.token.username);
    if (!match || !registryScope || !nameFits) {
      return sendJson(res, 401, {
        errors: [
          {
            code: "UNAUTHORIZED",
            message:
              "HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped.",
          },
        ],
      });
    }
    proxy(req, res, upstream, `/token${url.search}`, {
      authorization: basicHeader(match.internal.user, match.internal.password),
    });
  };

  const server: Listening = await listen((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const record: GitlabRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.search,
      status: 0,
    };
    requests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    if (url.pathname === "/jwt/auth" && req.method === "GET") return jwtAuth(req, res, url);
    if (!url.pathname.startsWith("/api/v4/")) return sendJson(res, 404, message("404 Not Found"));
    if (req.method !== "GET") return sendJson(res, 405, message("405 Method Not Allowed"));
    const bearer = /^bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const presented = (req.headers["private-token"] as string | undefined) ?? bearer;
    let caller: Caller;
    if (presented !== undefined) {
      caller = tokens.find((t) => t.value === presented);
      // Deploy tokens are no API credential: GitLab does not recognise them there.
      if (!caller || caller.token.kind === "deploy") return sendJson(res, 401, message("401 Unauthorized"));
      if (!caller.token.scopes.some((s) => s === "api" || s === "read_api")) {
        return sendJson(res, 403, {
          error: "insufficient_scope",
          error_description: "The request requires higher privileges than provided by the access token.",
          scope: "api read_api",
        });
      }
    }
    // Grape routes on encoded segments: a project path as :id arrives as group%2Fproject.
    const segments = url.pathname.split("/").slice(3).map(decodeURIComponent);
    api(res, url, segments, caller);
  });

  try {
    registry = await startRegistry({
      storageDir: options.storageDir,
      readOnly: true,
      auth: { kind: "token", ...grantTokens, realm: `${server.url}/jwt/auth` },
    });
  } catch (err) {
    await server.stop();
    await grantTokens.stop();
    throw err;
  }
  const running = registry;
  const idOf = (kind: string, list: { id: number; key: string }[], key: string) => {
    const found = list.find((item) => item.key === key);
    if (!found) throw new Error(`GitLab simulation has no ${kind} ${key}`);
    return found.id;
  };
  return {
    url: server.url,
    registryUrl: running.url,
    registryHost: running.host,
    groupId: (path) =>
      idOf(
        "group",
        groups.map((g) => ({ id: g.id, key: g.path })),
        path,
      ),
    projectId: (path) =>
      idOf(
        "project",
        projects.map((p) => ({ id: p.id, key: p.path })),
        path,
      ),
    userId: (username) =>
      idOf(
        "user",
        users.map((u) => ({ id: u.id, key: u.username })),
        username,
      ),
    tags,
    requests,
    async stop() {
      await server.stop();
      await running.stop();
      await grantTokens.stop();
    },
  };
}
