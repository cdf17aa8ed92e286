/**
 * POST /registry/scan (spec 4.1, three modes), POST /registry/scan/select (4.2), POST /registry/stop
 * and /registry/stop/{id} (4.3, 4.4), GET /registry/progress (4.5). A ScanControl refusal
 * (ScanRequestError: a regular scan already running, an image outside every specification) is 400.
 */
import { Type } from "typebox";
import { ScanRequestError } from "../../scan/control.js";
import { badRequest, notFound } from "../errors.js";
import { queryBool, queryString, type RawQuery } from "../query.js";
import { EmptyBody, emptyBodyAsObject } from "../responses.js";
import { ErrorBody, RegistryScanProgress, RegistryScanRequest } from "../schemas.js";
import type { RouteContext } from "../server.js";

const ON_DEMAND_PARAMS = ["registry", "repo", "tag", "digest"] as const;

async function refusalsAs400<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof ScanRequestError) throw badRequest(err.message);
    throw err;
  }
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === "" ? undefined : value);

export function registerScanRoutes({ app, deps }: RouteContext): void {
  app.post(
    "/registry/scan",
    {
      preValidation: emptyBodyAsObject,
      config: { permission: "monitorImages" },
      schema: {
        tags: ["scan"],
        summary: "Start a regular scan, rescan one image, or scan one image on demand",
        body: Type.Optional(RegistryScanRequest),
        response: { 200: EmptyBody, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const tag = body.tag;
      await refusalsAs400(async () => {
        if (body.onDemandScan === true) {
          if (!tag?.repo) throw badRequest("an on-demand scan needs tag.repo");
          if (!nonEmpty(tag.tag) && !nonEmpty(tag.digest))
            throw badRequest("an on-demand scan needs tag.tag or tag.digest");
          await deps.scans.startOnDemandScan({
            registry: tag.registry,
            repo: tag.repo,
            tag: nonEmpty(tag.tag),
            digest: nonEmpty(tag.digest),
          });
        } else if (tag !== undefined) {
          if (!tag.repo) throw badRequest("a single-image rescan needs tag.repo");
          await deps.scans.rescanImage(tag);
        } else {
          await deps.scans.startRegularScan();
        }
      });
      return reply.code(200).send();
    },
  );

  app.post(
    "/registry/scan/select",
    {
      // Before validation: the validator's array coercion would turn no body into [null] and
      // answer "body[0] must be an object".
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null)
          throw badRequest("body must be a non-empty array of scan requests");
      },
      config: { permission: "monitorImages" },
      schema: {
        tags: ["scan"],
        summary: "Scan the given specifications (each element's `settings`)",
        body: Type.Array(RegistryScanRequest),
        response: { 200: EmptyBody, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const requests = request.body ?? [];
      if (requests.length === 0) throw badRequest("body must be a non-empty array of scan requests");
      const settings = requests.map((r, i) => {
        if (!r.settings) throw badRequest(`[${i}].settings is required: the registry specification to scan`);
        return r.settings;
      });
      await refusalsAs400(async () => {
        const specIds = await deps.scans.selectSpecs(settings);
        await deps.scans.startRegularScan({ specIds: [...new Set(specIds)] });
      });
      return reply.code(200).send();
    },
  );

  app.post(
    "/registry/stop",
    {
      config: { permission: "monitorImages" },
      schema: { tags: ["scan"], summary: "Stop the regular scan (on-demand scans go on)" },
    },
    async (_request, reply) => {
      await deps.scans.stop();
      return reply.code(200).send();
    },
  );

  app.post(
    "/registry/stop/:id",
    {
      config: { permission: "monitorImages" },
      schema: {
        tags: ["scan"],
        summary: "Stop (or dequeue) one specification's part of the regular scan",
        params: Type.Object({ apiVersion: Type.String(), id: Type.String() }),
        response: { 200: EmptyBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      if (!(await deps.store.getSpec(request.params.id))) {
        throw notFound(`registry specification ${request.params.id} not found`);
      }
      await deps.scans.stop(request.params.id);
      return reply.code(200).send();
    },
  );

  app.get(
    "/registry/progress",
    {
      config: { permission: "monitorImages" },
      schema: {
        tags: ["scan"],
        summary: "Progress of the regular scan, or (onDemand=true) of one on-demand scan",
        querystring: Type.Object({
          onDemand: Type.Optional(Type.Unknown()),
          registry: Type.Optional(Type.Unknown()),
          repo: Type.Optional(Type.Unknown()),
          tag: Type.Optional(Type.Unknown()),
          digest: Type.Optional(Type.Unknown()),
        }),
        response: { 200: Type.Array(RegistryScanProgress), 400: ErrorBody },
      },
    },
    async (request) => {
      const query = request.query as RawQuery;
      const onDemand = queryBool(query, "onDemand");
      if (!onDemand) {
        const given = ON_DEMAND_PARAMS.filter((p) => query[p] !== undefined);
        if (given.length > 0) throw badRequest(`${given.join(", ")} may only be given with onDemand=true`);
        return deps.scans.regularProgress();
      }
      const repo = queryString(query, "repo");
      if (!repo) throw badRequest("onDemand=true needs repo");
      const tag = queryString(query, "tag");
      const digest = queryString(query, "digest");
      if (!tag && !digest) throw badRequest("onDemand=true needs tag or digest");
      return deps.scans.onDemandProgress({ registry: queryString(query, "registry"), repo, tag, digest });
    },
  );
}
