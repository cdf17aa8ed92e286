/**
 * An OpenShift simulation on 127.0.0.1: the cluster's API server (image streams and the current
 * user) and the integrated image registry in front of the real docker-registry, written from:
 * - ImageStream [image.openshift.io/v1] (OpenShift Container Platform "Image APIs", and the openshift/api
 *   image/v1 types): `GET /apis/image.openshift.io/v1/imagestreams`,
 *   `/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams[/{name}]`; ImageStreamList
 *   `{kind, apiVersion, metadata: {resourceVersion, continue, remainingItemCount}, items}`; an image
 *   stream's `status.tags[]` = `{tag, items: [{created, dockerImageReference, image, generation}],
 *   conditions}`, newest event first, `items` null for a tag whose import never succeeded.
 * - Kubernetes API concepts, "Retrieving large results sets in chunks": `limit` and `continue`, a
 *   continue token expiring into `410` reason `Expired`; a page may hold fewer items than `limit`.
 *   Errors are `Status` objects `{kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure",
 *   message, reason, details, code}` with RBAC's "… is forbidden: User "…" cannot list resource …"
 *   messages; an unknown namespace lists as empty to a caller allowed at the cluster scope.
 * - `GET /apis/user.openshift.io/v1/users/~` (what `oc whoami` asks): the token's identity,
 *   `system:serviceaccount:<namespace>:<name>` for a service account.
 * - openshift/image-registry pkg/dockerregistry/server auth.go and token.go: `/v2/` without
 *   credentials challenges `Bearer realm="<registry>/openshift/token"`; the token endpoint answers
 *   `{token, access_token}` = the Basic password once it is a valid API token, `anonymous` without
 *   credentials, 401 otherwise; Bearer or Basic API tokens are accepted on /v2/; pulling needs `get`
 *   on `imagestreams/layers` in the namespace, `/v2/_catalog` cluster-wide `list` on imagestreams;
 *   a refusal is a 401 with `Basic realm=…,error="access denied"`.
 *
 * Left out: watches, label and field selectors, `resourceVersion` semantics, image stream imports,
 * pull-through of external images, and the registry's own catalog paging (the real registry pages
 * the catalog by image stream continue tokens; here the docker-registry's `last` pages are passed on).
 * Image streams are the served repositories (every name is `<namespace>/<name>`); tags and digests
 * come from the storage, push times from `pushTime`, and each tag has one older event before it.
 */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { spreadPushTime } from "./harbor.js";
import { basicCredentials, type Listening, listen, proxy, sendJson } from "./http.js";
import { storedTags } from "./storage.js";

export interface OpenShiftToken {
  /** The identity: `system:serviceaccount:<namespace>:<name>`, or a user's name. */
  user: string;
  /** Namespaces where it may get and list image streams; "*": all, including the cluster-scope list. */
  list?: string[] | "*";
  /** Namespaces it may pull from (`get imagestreams/layers`, system:image-puller); default: `list`. */
  pull?: string[] | "*";
}

export interface OpenShiftSimOptions {
  /** Storage root to serve; every repository name is `<namespace>/<image stream>`. */
  storageDir: string;
  /** API token → what it is. */
  tokens: Record<string, OpenShiftToken>;
  /** Most image streams the API server puts on one page, whatever the `limit`. */
  maxPageItems?: number;
  /** Tags whose import never succeeded (no image): `<namespace>/<name>` → tag names. */
  pendingTags?: Record<string, string[]>;
  /** When each tag was pushed; default: a fixed spread over 2024 derived from the name. */
  pushTime?: (repository: string, tag: string) => Date;
  /** Serve the API server and the registry over HTTPS with this certificate. */
  tls?: { cert: string; key: string };
}

export interface OpenShiftTag {
  repository: string;
  tag: string;
  /** The tag's current image (`items[0].image`). */
  digest: string;
  /** `items[0].created`. */
  pushedAt: Date;
}

export interface OpenShiftRequest {
  server: "api" | "registry";
  method: string;
  path: string;
  query: URLSearchParams;
  user: string | undefined;
  status: number;
}

export interface OpenShiftSim {
  /** The API server, `http(s)://127.0.0.1:PORT`. */
  apiUrl: string;
  /** The integrated registry, `http(s)://127.0.0.1:PORT`, and its host. */
  registryUrl: string;
  registryHost: string;
  /** Every tag with an image, by repository then tag. */
  tags: OpenShiftTag[];
  requests: OpenShiftRequest[];
  /** Answers the next `count` API server requests with `status` and `body`, replacing faults pending. */
  failNext(status: number, count: number, body?: string): void;
  /** Answers the next `count` requests that carry a continue token 410 Expired, as after compaction. */
  expireContinues(count: number): void;
  stop(): Promise<void>;
}

interface Stream {
  namespace: string;
  name: string;
  uid: string;
  created: Date;
  tags: { tag: string; events: { created: Date; image: string }[] }[];
}

const GROUP = "image.openshift.io";
/** A metav1.Time: RFC 3339 with whole seconds. */
const time = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

const allows = (scope: string[] | "*" | undefined, namespace: string) =>
  scope === "*" || (scope?.includes(namespace) ?? false);

function buildStreams(
  stored: Awaited<ReturnType<typeof storedTags>>,
  options: OpenShiftSimOptions,
): { streams: Stream[]; tags: OpenShiftTag[] } {
  const pushTime = options.pushTime ?? spreadPushTime;
  const streams = new Map<string, Stream>();
  const tags: OpenShiftTag[] = [];
  for (const { repository, tag, digest } of stored) {
    const [namespace, name, ...rest] = repository.split("/");
    if (!namespace || !name || rest.length > 0) {
      throw new Error(`OpenShift repository ${repository} is not <namespace>/<image stream>`);
    }
    let stream = streams.get(repository);
    if (!stream) {
      stream = { namespace, name, uid: randomUUID(), created: new Date(Date.UTC(2023, 11, 1)), tags: [] };
      streams.set(repository, stream);
    }
    const pushedAt = pushTime(repository, tag);
    // The image the tag pointed at a week earlier: history, after the current event.
    const previous = `sha256:${createHash("sha256").update(`${repository}:${tag}:previous`).digest("hex")}`;
    stream.tags.push({
      tag,
      events: [
        { created: pushedAt, image: digest },
        { created: new Date(pushedAt.getTime() - 7 * 86_400_000), image: previous },
      ],
    });
    tags.push({ repository, tag, digest, pushedAt });
  }
  for (const [repository, pending] of Object.entries(options.pendingTags ?? {})) {
    const stream = streams.get(repository);
    if (!stream) throw new Error(`pending tags for ${repository}, which is not served`);
    for (const tag of pending) stream.tags.push({ tag, events: [] });
  }
  for (const stream of streams.values()) stream.tags.sort((a, b) => (a.tag < b.tag ? -1 : 1));
  // The API server lists by storage key: namespace, then name.
  const sorted = [...streams.values()].sort((a, b) =>
    a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1,
  );
  return { streams: sorted, tags };
}

export async function startOpenShiftSim(options: OpenShiftSimOptions): Promise<OpenShiftSim> {
  const { streams, tags } = buildStreams(await storedTags(options.storageDir), options);
  const requests: OpenShiftRequest[] = [];
  const resourceVersion = "48213";
  /** Continue token → the list it continues and where. */
  const continues = new Map<string, { scope: string; start: number }>();
  let expiring = 0;
  let fault: { status: number; count: number; body: string | undefined } = {
    status: 0,
    count: 0,
    body: undefined,
  };
  let registryHost = "";

  const record = (
    server: OpenShiftRequest["server"],
    req: IncomingMessage,
    res: ServerResponse,
    user?: string,
  ) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const entry: OpenShiftRequest = {
      server,
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      user,
      status: 0,
    };
    requests.push(entry);
    res.on("finish", () => {
      entry.status = res.statusCode;
    });
    return url;
  };

  const render = (stream: Stream) => ({
    metadata: {
      name: stream.name,
      namespace: stream.namespace,
      uid: stream.uid,
      resourceVersion,
      generation: 2,
      creationTimestamp: time(stream.created),
    },
    spec: { lookupPolicy: { local: false } },
    status: {
      dockerImageRepository: `${registryHost}/${stream.namespace}/${stream.name}`,
      tags: stream.tags.map(({ tag, events }) =>
        events.length === 0
          ? {
              tag,
              items: null,
              conditions: [
                {
                  type: "ImportSuccess",
                  status: "False",
                  lastTransitionTime: time(stream.created),
                  reason: "NotFound",
                  message: `unable to find the image for tag ${tag}`,
                  generation: 2,
                },
              ],
            }
          : {
              tag,
              items: events.map((event, index) => ({
                created: time(event.created),
                dockerImageReference: `${registryHost}/${stream.namespace}/${stream.name}@${event.image}`,
                image: event.image,
                generation: 2 - index,
              })),
            },
      ),
    },
  });

  const forbidden = (user: string, verb: string, namespace: string | undefined, name?: string) =>
    status(
      403,
      "Forbidden",
      `imagestreams.${GROUP}${name ? ` "${name}"` : ""} is forbidden: User "${user}" cannot ${verb} resource "imagestreams" in API group "${GROUP}" ${
        namespace === undefined ? "at the cluster scope" : `in the namespace "${namespace}"`
      }`,
      { ...(name ? { name } : {}), group: GROUP, kind: "imagestreams" },
    );

  const list = (res: ServerResponse, url: URL, scope: string, selected: Stream[]) => {
    const limit = Number(url.searchParams.get("limit") ?? "0");
    const token = url.searchParams.get("continue");
    let start = 0;
    if (token) {
      const issued = continues.get(token);
      if (!issued || issued.scope !== scope) {
        return sendJson(
          res,
          400,
          status(400, "BadRequest", "continue key is not valid: not a continue token"),
        );
      }
      if (expiring > 0) {
        expiring--;
        return sendJson(
          res,
          410,
          status(
            410,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
          ),
        );
      }
      start = issued.start;
    }
    let size = Number.isInteger(limit) && limit > 0 ? limit : selected.length;
    if (options.maxPageItems !== undefined) size = Math.min(size, options.maxPageItems);
    const page = selected.slice(start, start + size);
    const end = start + page.length;
    const metadata: Record<string, unknown> = { resourceVersion };
    if (end < selected.length) {
      const next = Buffer.from(
        JSON.stringify({ v: "meta.k8s.io/v1", rv: Number(resourceVersion), start: `${scope}/${end}\u0000` }),
      ).toString("base64url");
      continues.set(next, { scope, start: end });
      metadata.continue = next;
      metadata.remainingItemCount = selected.length - end;
    }
    sendJson(res, 200, {
      kind: "ImageStreamList",
      apiVersion: `${GROUP}/v1`,
      metadata,
      items: page.map(render),
    });
  };

  const bearerToken = (req: IncomingMessage): string | undefined => {
    const header = req.headers.authorization;
    return header !== undefined && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
  };

  const api: Listening = await listen((req, res) => {
    const token = bearerToken(req);
    const account = token === undefined ? undefined : options.tokens[token];
    const url = record("api", req, res, account?.user);
    if (fault.count > 0) {
      fault.count--;
      if (fault.body !== undefined) {
        res.writeHead(fault.status, { "content-type": "application/json", "retry-after": "0" });
        res.end(fault.body);
        return;
      }
      const [reason, message] =
        fault.status === 429
          ? ["TooManyRequests", "Too many requests, please try again later."]
          : ["InternalError", "Internal error occurred: etcdserver: request timed out"];
      return sendJson(res, fault.status, status(fault.status, reason, message), { "retry-after": "0" });
    }
    if (!account) return sendJson(res, 401, status(401, "Unauthorized", "Unauthorized"));
    if (req.method !== "GET") return sendJson(res, 405, status(405, "MethodNotAllowed", "not allowed"));
    if (url.pathname === "/apis/user.openshift.io/v1/users/~") {
      const serviceAccount = /^system:serviceaccount:([^:]+):/.exec(account.user);
      return sendJson(res, 200, {
        kind: "User",
        apiVersion: "user.openshift.io/v1",
        metadata: { name: account.user, creationTimestamp: null },
        groups: serviceAccount
          ? ["system:serviceaccounts", `system:serviceaccounts:${serviceAccount[1]}`, "system:authenticated"]
          : ["system:authenticated", "system:authenticated:oauth"],
      });
    }
    if (url.pathname === `/apis/${GROUP}/v1/imagestreams`) {
      if (account.list !== "*") return sendJson(res, 403, forbidden(account.user, "list", undefined));
      return list(res, url, "", streams);
    }
    const namespaced =
      /^\/apis\/image\.openshift\.io\/v1\/namespaces\/([^/]+)\/imagestreams(?:\/([^/]+))?$/.exec(
        url.pathname,
      );
    if (namespaced) {
      const namespace = decodeURIComponent(namespaced[1] ?? "");
      const name = namespaced[2] === undefined ? undefined : decodeURIComponent(namespaced[2]);
      if (!allows(account.list, namespace)) {
        return sendJson(res, 403, forbidden(account.user, name ? "get" : "list", namespace, name));
      }
      const inNamespace = streams.filter((s) => s.namespace === namespace);
      if (name === undefined) return list(res, url, namespace, inNamespace);
      const stream = inNamespace.find((s) => s.name === name);
      if (!stream) {
        return sendJson(
          res,
          404,
          status(404, "NotFound", `imagestreams.${GROUP} "${name}" not found`, {
            name,
            group: GROUP,
            kind: "imagestreams",
          }),
        );
      }
      return sendJson(res, 200, { kind: "ImageStream", apiVersion: `${GROUP}/v1`, ...render(stream) });
    }
    sendJson(res, 404, status(404, "NotFound", "the server could not find the requested resource"));
  }, options.tls);

  let upstream: RunningRegistry | undefined;
  const unauthorized = (res: ServerResponse, challenge: string) =>
    sendJson(
      res,
      401,
      { errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }] },
      { "www-authenticate": challenge, "docker-distribution-api-version": "registry/2.0" },
    );

  const registry: Listening = await listen((req, res) => {
    // The API token: a Bearer token (from /openshift/token, or sent directly), or the Basic password.
    const credentials = basicCredentials(req);
    const token = credentials?.password ?? bearerToken(req);
    const account = token === undefined || token === "anonymous" ? undefined : options.tokens[token];
    const url = record("registry", req, res, account?.user);
    if (url.pathname === "/openshift/token") {
      if (req.headers.authorization === undefined) {
        return sendJson(res, 200, { token: "anonymous", access_token: "anonymous" });
      }
      if (!credentials || !account) {
        res.writeHead(401, { "content-type": "application/json" });
        res.end();
        return;
      }
      return sendJson(res, 200, { token: credentials.password, access_token: credentials.password });
    }
    if (!url.pathname.startsWith("/v2/")) return sendJson(res, 404, { errors: [{ code: "NOT_FOUND" }] });
    if (req.headers.authorization === undefined) {
      return unauthorized(res, `Bearer realm="${registry.url}/openshift/token"`);
    }
    const denied = () => unauthorized(res, 'Basic realm=openshift,error="access denied"');
    if (token !== "anonymous" && !account) return denied();
    if (url.pathname === "/v2/_catalog") {
      if (account?.list !== "*") return denied();
    } else if (url.pathname !== "/v2/") {
      const namespace = url.pathname.split("/")[2] ?? "";
      if (!account || !allows(account.pull ?? account.list, namespace)) return denied();
    }
    if (!upstream) return sendJson(res, 503, { errors: [{ code: "UNAVAILABLE", message: "starting" }] });
    // The registry behind serves anonymously: access was decided here.
    const headers = { ...req.headers };
    delete headers.authorization;
    proxy(req, res, upstream.url, `${url.pathname}${url.search}`, headers);
  }, options.tls);
  registryHost = registry.host;

  try {
    upstream = await startRegistry({ storageDir: options.storageDir, readOnly: true });
  } catch (err) {
    await Promise.all([api.stop(), registry.stop()]);
    throw err;
  }

  return {
    apiUrl: api.url,
    registryUrl: registry.url,
    registryHost: registry.host,
    tags,
    requests,
    failNext(statusCode, count, body) {
      fault = { status: statusCode, count, body };
    },
    expireContinues(count) {
      expiring = count;
    },
    async stop() {
      await Promise.all([api.stop(), registry.stop()]);
      await upstream?.stop();
    },
  };
}
