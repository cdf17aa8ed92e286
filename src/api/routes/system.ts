/**
 * GET /_ping and GET /version (spec 5.5), GET /statuses/registry (4.6), and
 * GET /statuses/intelligence: the vulnerability database's state (when it was built, and per feed
 * source what it holds), the compatible counterpart of the vendor's intelligence-stream status.
 */
import { Type } from "typebox";
import { ErrorBody, ScanStatus, ZERO_TIME } from "../schemas.js";
import type { RouteContext } from "../server.js";

const IntelligenceSource = Type.Object({
  name: Type.String(),
  available: Type.Boolean(),
  records: Type.Number(),
  newest: Type.String(),
  fetchedAt: Type.String(),
  origin: Type.String(),
});

export const IntelligenceStatus = Type.Object({
  available: Type.Boolean(),
  lastUpdate: Type.String(),
  sources: Type.Array(IntelligenceSource),
});

export function registerSystemRoutes({ app, deps }: RouteContext): void {
  app.get(
    "/_ping",
    { config: { permission: "none" }, schema: { tags: ["system"], summary: "Liveness", security: [] } },
    async (_request, reply) => reply.code(200).send(),
  );

  app.get(
    "/version",
    {
      config: { permission: "user" },
      schema: {
        tags: ["system"],
        summary: "The console version, as a JSON string",
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => reply.type("application/json").send(JSON.stringify(deps.version)),
  );

  app.get(
    "/statuses/registry",
    {
      config: { permission: "monitorImages" },
      schema: {
        tags: ["scan"],
        summary: "State of the regular registry scan",
        response: { 200: ScanStatus, 403: ErrorBody },
      },
    },
    async () => deps.scans.status(),
  );

  app.get(
    "/statuses/intelligence",
    {
      config: { permission: "monitorImages" },
      schema: {
        tags: ["system"],
        summary: "Vulnerability database state",
        response: { 200: IntelligenceStatus },
      },
    },
    async () => {
      const database = deps.database();
      if (!database) return { available: false, lastUpdate: ZERO_TIME, sources: [] };
      return {
        available: true,
        lastUpdate: database.builtAt() ?? ZERO_TIME,
        sources: database.sources().map((s) => ({
          name: s.name,
          available: s.available,
          records: s.records,
          newest: s.newest ?? ZERO_TIME,
          fetchedAt: s.fetchedAt,
          origin: s.origin,
        })),
      };
    },
  );
}
