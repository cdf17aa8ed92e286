/**
 * POST and DELETE /api/v1/registry/webhook/webhook (spec 3.9; only under v1, no authentication).
 * A push notification starts an on-demand scan of the pushed image when some registry specification
 * covers it (spec 6.9); anything else — other events, images outside every scope — is answered 200
 * with nothing done, as registries resend on errors.
 *
 * Payloads read: Docker Registry notifications (`events[]` with action "push", a manifest target,
 * the registry host from `request.host` or the target URL) and Docker Hub (`push_data.tag`,
 * `repository.repo_name`; official images without a namespace are `library/<name>`).
 */
import { Type } from "typebox";
import type { OnDemandTarget } from "../../scan/control.js";
import { ScanRequestError } from "../../scan/control.js";
import type { RouteContext } from "../server.js";

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

function hostOf(event: Json): string | undefined {
  const request = isObject(event.request) ? event.request : {};
  const target = isObject(event.target) ? event.target : {};
  const fromRequest = text(request.host);
  if (fromRequest) return fromRequest;
  const url = text(target.url);
  if (!url) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** The images a webhook body says were pushed. */
export function pushedImages(body: unknown): OnDemandTarget[] {
  if (!isObject(body)) return [];
  const targets: OnDemandTarget[] = [];
  if (Array.isArray(body.events)) {
    for (const event of body.events) {
      if (!isObject(event) || event.action !== "push" || !isObject(event.target)) continue;
      const target = event.target;
      const mediaType = text(target.mediaType) ?? "";
      const repo = text(target.repository);
      const tag = text(target.tag);
      // Layer pushes come before the manifest; only a manifest push names a scannable image.
      if (!repo || (!tag && !/manifest|image\.index/.test(mediaType))) continue;
      const digest = tag ? undefined : text(target.digest);
      if (!tag && !digest) continue;
      targets.push({ registry: hostOf(event), repo, tag, digest });
    }
  }
  if (isObject(body.push_data) && isObject(body.repository)) {
    const name = text(body.repository.repo_name);
    const tag = text(body.push_data.tag);
    if (name && tag) targets.push({ registry: "", repo: name.includes("/") ? name : `library/${name}`, tag });
  }
  return targets;
}

export function registerWebhookRoutes({ app, deps }: RouteContext): void {
  const schema = {
    tags: ["webhook"],
    summary: "Registry push notifications (Docker Registry events, Docker Hub)",
    security: [],
    body: Type.Optional(Type.Unknown()),
  };
  app.post(
    "/registry/webhook/webhook",
    { config: { permission: "none" }, schema },
    async (request, reply) => {
      for (const target of pushedImages(request.body)) {
        try {
          await deps.scans.startOnDemandScan(target);
          request.log.info({ target }, "webhook: scanning pushed image");
        } catch (err) {
          if (!(err instanceof ScanRequestError)) throw err;
          request.log.info({ target, reason: err.message }, "webhook: pushed image not scanned");
        }
      }
      return reply.code(200).send();
    },
  );
  app.delete(
    "/registry/webhook/webhook",
    { config: { permission: "none" }, schema },
    async (_request, reply) => reply.code(200).send(),
  );
}
