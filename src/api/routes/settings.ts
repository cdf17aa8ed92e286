/**
 * GET/POST/PUT /settings/registry (spec 3.1–3.3) and GET/POST /settings/scan (4.7).
 *
 * Saving with `scanLater` false (the default) starts a regular scan after the save — of the new
 * entry for POST, of every entry for PUT — through ScanControl. The save stands whatever the scan
 * does: a regular scan already running (or no entry left to scan) is logged and the answer is
 * still 200, because the settings were stored.
 */

import type { FastifyBaseLogger } from "fastify";
import { Type } from "typebox";
import { ScanRequestError } from "../../scan/control.js";
import type { StoredSpec } from "../../store/console-store.js";
import { badRequest } from "../errors.js";
import { queryBool, type RawQuery } from "../query.js";
import { checkSpec, freshSpec, MAX_SPECIFICATIONS, replacementSpecs } from "../registry-settings.js";
import { EmptyBody, emptyBodyAsObject } from "../responses.js";
import { ErrorBody, RegistrySettings, RegistrySpecification, ScanSettings } from "../schemas.js";
import type { ApiDeps, RouteContext } from "../server.js";

const HOUR_MS = 3_600_000;
const ScanLaterQuery = Type.Object({ scanLater: Type.Optional(Type.Unknown()) });
const PERIOD_FIELDS = Object.keys(ScanSettings.properties).filter((k) => k.endsWith("PeriodMs"));

async function scanAfterSave(deps: ApiDeps, log: FastifyBaseLogger, specIds?: string[]): Promise<void> {
  try {
    await deps.scans.startRegularScan(specIds ? { specIds } : {});
  } catch (err) {
    if (err instanceof ScanRequestError)
      log.info({ reason: err.message }, "settings saved; scan not started");
    else log.error({ err }, "settings saved; starting the scan failed");
  }
}

async function credentialsById(deps: ApiDeps) {
  return new Map((await deps.store.listCredentials()).map((c) => [c._id, c]));
}

export function registerSettingsRoutes({ app, deps, v1Base }: RouteContext): void {
  app.get(
    "/settings/registry",
    {
      config: { permission: "policyContainers" },
      schema: {
        tags: ["settings"],
        summary: "Registry scan specifications",
        response: { 200: RegistrySettings },
      },
    },
    async () => ({
      specifications: await deps.store.listSpecs(),
      webhookUrlSuffix: `${v1Base}/registry/webhook/webhook`,
      harborScannerUrlSuffix: "",
    }),
  );

  app.post(
    "/settings/registry",
    {
      config: { permission: "policyContainers" },
      schema: {
        tags: ["settings"],
        summary: "Add one specification (scanned right away unless scanLater=true)",
        querystring: ScanLaterQuery,
        body: RegistrySpecification,
        response: { 200: EmptyBody, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const scanLater = queryBool(request.query as RawQuery, "scanLater");
      checkSpec(request.body, await credentialsById(deps), "specification");
      if ((await deps.store.listSpecs()).length >= MAX_SPECIFICATIONS) {
        throw badRequest(`at most ${MAX_SPECIFICATIONS} registry specifications can be stored`);
      }
      const spec = freshSpec(request.body);
      await deps.store.appendSpec(spec);
      if (!scanLater) await scanAfterSave(deps, request.log, [spec.id]);
      return reply.code(200).send();
    },
  );

  app.put(
    "/settings/registry",
    {
      preValidation: emptyBodyAsObject,
      config: { permission: "policyContainers" },
      schema: {
        tags: ["settings"],
        summary: "Replace every specification (an empty array or body removes all)",
        querystring: ScanLaterQuery,
        body: Type.Optional(
          Type.Object({ specifications: Type.Optional(Type.Array(RegistrySpecification)) }),
        ),
        response: { 200: EmptyBody, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const scanLater = queryBool(request.query as RawQuery, "scanLater");
      const incoming = request.body?.specifications ?? [];
      if (incoming.length > MAX_SPECIFICATIONS) {
        throw badRequest(
          `at most ${MAX_SPECIFICATIONS} registry specifications can be stored, got ${incoming.length}`,
        );
      }
      const credentials = await credentialsById(deps);
      for (const [i, spec] of incoming.entries()) checkSpec(spec, credentials, `specifications[${i}]`);
      const specs: StoredSpec[] = replacementSpecs(incoming, await deps.store.listSpecs());
      await deps.store.replaceSpecs(specs);
      if (specs.length > 0 && !scanLater) {
        await scanAfterSave(deps, request.log);
      }
      return reply.code(200).send();
    },
  );

  app.get(
    "/settings/scan",
    {
      config: { permission: "systemOperations" },
      schema: { tags: ["settings"], summary: "Scan schedule and options", response: { 200: ScanSettings } },
    },
    async () => deps.store.getScanSettings(),
  );

  app.post(
    "/settings/scan",
    {
      config: { permission: "systemOperations" },
      schema: {
        tags: ["settings"],
        summary: "Set the scan schedule; fields left out keep their current values",
        body: Type.Partial(ScanSettings),
        response: { 200: EmptyBody, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const settings = { ...(await deps.store.getScanSettings()) };
      for (const key of Object.keys(ScanSettings.properties) as (keyof ScanSettings)[]) {
        const value = request.body[key];
        if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
      }
      for (const field of PERIOD_FIELDS) {
        const value = settings[field as keyof ScanSettings] as number;
        if (!Number.isInteger(value) || value < 0)
          throw badRequest(`${field} must be a non-negative integer (ms)`);
      }
      const period = settings.registryScanPeriodMs;
      if (period !== 0 && period < HOUR_MS) {
        throw badRequest(
          `registryScanPeriodMs must be 0 (off) or at least ${HOUR_MS} (1 hour), got ${period}`,
        );
      }
      if (!Number.isInteger(settings.registryScanRetentionDays) || settings.registryScanRetentionDays < 1) {
        throw badRequest("registryScanRetentionDays must be an integer >= 1");
      }
      await deps.store.putScanSettings(settings);
      await deps.reschedule();
      return reply.code(200).send();
    },
  );
}
