/**
 * GET /registry (spec 5.1), GET /registry/names (5.2) and GET /registry/download (5.3, 6.11).
 *
 * Filters `id`, `imageID`, `registry`, `repository`, `tag`, `name` (repeated or comma lists), the
 * `search` substring (the UI client's `\.` and `%253A` escapes undone), `sort`/`reverse`,
 * `offset`/`limit` (default 50, at most 250) with the `Total-Count` header, and the output options
 * `layers`, `normalizedSeverity`, `compact`, `fields`, applied in that order. `filterBaseImage` is
 * read (leniently, spec 1.6) and has no effect: no base images are configured. Collections, project
 * and cloud parameters are accepted and ignored.
 *
 * The download streams one page of results at a time through the CSV writer; without an explicit
 * `limit` it exports every matching image.
 */
import { Readable } from "node:stream";
import { Type } from "typebox";
import { registryCsv } from "../../report/prisma-csv.js";
import {
  compactResult,
  type ImageScanResult,
  normalizeSeverities,
  projectFields,
  withLayerVulnerabilities,
} from "../../report/prisma-result.js";
import type { ConsoleStore, ImageResultQuery, ImageResultSortKey } from "../../store/console-store.js";
import { badRequest } from "../errors.js";
import {
  MAX_LIMIT,
  queryBool,
  queryList,
  queryPage,
  queryString,
  type RawQuery,
  searchTerm,
} from "../query.js";
import { AnyJson } from "../responses.js";
import { ErrorBody } from "../schemas.js";
import type { RouteContext } from "../server.js";

/** Sort keys as clients name them (result fields and UI column keys) → the store's keys. */
const SORT_KEYS: Record<string, ImageResultSortKey> = {
  _id: "id",
  id: "id",
  name: "id",
  scanTime: "scanTime",
  vulnerabilityRiskScore: "vulnerabilityRiskScore",
  vulnerabilitiesCount: "vulnerabilitiesCount",
  registry: "registry",
  "repoTag.registry": "registry",
  repository: "repository",
  repo: "repository",
  "repoTag.repo": "repository",
  tag: "tag",
  "repoTag.tag": "tag",
};

const ACCEPTED = [
  "id",
  "imageID",
  "registry",
  "repository",
  "tag",
  "name",
  "search",
  "sort",
  "reverse",
  "offset",
  "limit",
  "compact",
  "fields",
  "layers",
  "normalizedSeverity",
  "filterBaseImage",
  "collections",
  "project",
  "accountIDs",
  "provider",
  "resourceIDs",
  "region",
  "uaiID",
  "hasCAASSpecReferences",
];
const ResultQuery = Type.Object(
  Object.fromEntries(ACCEPTED.map((name) => [name, Type.Optional(Type.Unknown())])),
);

function resultQuery(query: RawQuery): ImageResultQuery {
  const rawSort = queryString(query, "sort");
  let sort: ImageResultSortKey | undefined;
  if (rawSort !== undefined) {
    sort = SORT_KEYS[rawSort];
    if (!sort || !Object.hasOwn(SORT_KEYS, rawSort)) {
      throw badRequest(`sort must be one of ${Object.keys(SORT_KEYS).join(", ")}, got "${rawSort}"`);
    }
  }
  const filters: ImageResultQuery = { reverse: queryBool(query, "reverse"), ...queryPage(query) };
  const lists: [keyof ImageResultQuery, string][] = [
    ["ids", "id"],
    ["imageIds", "imageID"],
    ["registries", "registry"],
    ["repositories", "repository"],
    ["tags", "tag"],
    ["names", "name"],
  ];
  for (const [key, param] of lists) {
    const values = queryList(query, param);
    if (values) (filters as Record<string, unknown>)[key] = values;
  }
  const search = searchTerm(queryString(query, "search"));
  if (search !== undefined) filters.search = search;
  if (sort !== undefined) filters.sort = sort;
  return filters;
}

interface OutputOptions {
  layers: boolean;
  normalizedSeverity: boolean;
  compact: boolean;
  fields: string[] | undefined;
}

function outputOptions(query: RawQuery): OutputOptions {
  queryBool(query, "filterBaseImage");
  return {
    layers: queryBool(query, "layers"),
    normalizedSeverity: queryBool(query, "normalizedSeverity"),
    compact: queryBool(query, "compact"),
    fields: queryList(query, "fields"),
  };
}

function render(result: ImageScanResult, options: OutputOptions): ImageScanResult | Record<string, unknown> {
  let shown = result;
  if (options.layers) shown = withLayerVulnerabilities(shown);
  if (options.normalizedSeverity) shown = normalizeSeverities(shown);
  if (options.compact) shown = compactResult(shown);
  return options.fields ? projectFields(shown, options.fields) : shown;
}

/** CSV lines for every result the query selects, fetched a page at a time. */
async function* csvLines(
  store: ConsoleStore,
  query: ImageResultQuery,
  explicitLimit: boolean,
  options: OutputOptions,
) {
  let offset = query.offset ?? 0;
  let remaining = explicitLimit ? (query.limit ?? MAX_LIMIT) : Number.POSITIVE_INFINITY;
  let header = true;
  while (remaining > 0) {
    const limit = Math.min(MAX_LIMIT, remaining);
    const { results } = await store.queryResults({ ...query, offset, limit });
    let page = results.map((r) => r.result as unknown as ImageScanResult);
    if (options.layers) page = page.map(withLayerVulnerabilities);
    const lines = registryCsv(page);
    // registryCsv starts every call with the header line; it belongs only at the top of the file.
    if (!header) lines.next();
    header = false;
    yield* lines;
    if (results.length < limit) return;
    offset += results.length;
    remaining -= results.length;
  }
}

export function registerResultRoutes({ app, deps, registryRateLimit = false }: RouteContext): void {
  app.get(
    "/registry",
    {
      // Spec 5.1: Prisma SaaS allows 30 requests per 30 s; here only when the console is told to.
      config: { permission: "monitorImages", rateLimit: registryRateLimit },
      schema: {
        tags: ["results"],
        summary: "Scanned registry images (ImageScanResult[]), with the Total-Count header",
        querystring: ResultQuery,
        response: {
          200: Type.Array(AnyJson, { description: "ImageScanResult[] (spec 7.10)" }),
          400: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const query = request.query as RawQuery;
      const options = outputOptions(query);
      const { total, results } = await deps.store.queryResults(resultQuery(query));
      reply.header("Total-Count", String(total));
      return results.map((r) => render(r.result as unknown as ImageScanResult, options));
    },
  );

  app.get(
    "/registry/names",
    {
      config: { permission: "monitorImages" },
      schema: {
        tags: ["results"],
        summary: "Names of scanned registry images, with the Total-Count header",
        querystring: ResultQuery,
        response: { 200: Type.Array(Type.String()), 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const query = request.query as RawQuery;
      outputOptions(query);
      const { total, results } = await deps.store.queryResults(resultQuery(query));
      reply.header("Total-Count", String(total));
      return results.map((r) => r.id);
    },
  );

  app.get(
    "/registry/download",
    {
      config: { permission: "monitorImages" },
      schema: {
        tags: ["results"],
        summary: "CSV export: one row per vulnerability per image (spec 6.11)",
        querystring: ResultQuery,
        response: { 200: Type.Unknown({ description: "text/csv, streamed" }), 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const query = request.query as RawQuery;
      const options = outputOptions(query);
      const filters = resultQuery(query);
      // The first page is read before the answer starts, so a store failure is still a clean 500.
      await deps.store.queryResults({ ...filters, limit: 1 });
      const lines = csvLines(deps.store, filters, query.limit !== undefined, options);
      return reply
        .type("text/csv")
        .header("content-disposition", 'attachment; filename="registry_report.csv"')
        .send(Readable.from(lines));
    },
  );
}
