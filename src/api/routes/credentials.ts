/**
 * GET/POST /credentials, DELETE /credentials/{id}, GET /credentials/{id}/usages (spec 3.5–3.8).
 * Secrets are sealed (src/auth/secrets.ts) before the store sees them; reads show `encrypted` only.
 */
import { Type } from "typebox";
import { SecretError } from "../../auth/secrets.js";
import type { StoredCredential } from "../../store/console-store.js";
import { badRequest, notFound } from "../errors.js";
import { queryBool, queryList, queryPage, queryString, type RawQuery } from "../query.js";
import { EmptyBody } from "../responses.js";
import { CREDENTIAL_TYPES, Credential, CredentialUsage, ErrorBody } from "../schemas.js";
import type { ApiDeps, RouteContext } from "../server.js";

const CLOUD_TYPES = new Set(["aws", "azure", "gcp", "oci"]);
const CREDENTIAL_FIELDS = Object.keys(Credential.properties) as (keyof Credential)[];
const SORT_KEYS = new Set(["_id", "type", "description", "created", "lastModified", "owner", "accountID"]);

const IdParams = Type.Object({ apiVersion: Type.String(), id: Type.String() });
const ListQuery = Type.Object({
  offset: Type.Optional(Type.Unknown()),
  limit: Type.Optional(Type.Unknown()),
  sort: Type.Optional(Type.Unknown()),
  reverse: Type.Optional(Type.Unknown()),
  ids: Type.Optional(Type.Unknown()),
  cloud: Type.Optional(Type.Unknown()),
  external: Type.Optional(Type.Unknown()),
});

async function usagesOf(deps: ApiDeps, id: string) {
  return (await deps.store.listSpecs())
    .filter((spec) => spec.credentialID === id)
    .map((spec) => ({ type: "Registry Scan", description: spec.repository || spec.registry || spec.id }));
}

/** Only the schema's fields, and `plain` never: what a read may show. */
function visible(credential: StoredCredential): Credential {
  const shown: Record<string, unknown> = {};
  for (const field of CREDENTIAL_FIELDS)
    if (credential[field] !== undefined) shown[field] = credential[field];
  for (const field of ["secret", "apiToken"] as const) {
    const encrypted = credential[field]?.encrypted;
    shown[field] = encrypted ? { encrypted } : {};
  }
  return shown as Credential;
}

export function registerCredentialRoutes({ app, deps }: RouteContext): void {
  app.get(
    "/credentials",
    {
      config: { permission: "manageCreds" },
      schema: {
        tags: ["credentials"],
        summary: "Stored credentials (secrets encrypted)",
        querystring: ListQuery,
        response: { 200: Type.Array(Credential), 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const query = request.query as RawQuery;
      const { offset, limit } = queryPage(query);
      const ids = queryList(query, "ids");
      const sort = queryString(query, "sort") ?? "_id";
      if (!SORT_KEYS.has(sort)) throw badRequest(`sort must be one of ${[...SORT_KEYS].join(", ")}`);
      let credentials = await deps.store.listCredentials();
      if (ids) credentials = credentials.filter((c) => ids.includes(c._id));
      if (query.cloud !== undefined) {
        const cloud = queryBool(query, "cloud");
        credentials = credentials.filter((c) => CLOUD_TYPES.has(c.type) === cloud);
      }
      if (query.external !== undefined) {
        const external = queryBool(query, "external");
        credentials = credentials.filter((c) => (c.external ?? false) === external);
      }
      const key = (c: StoredCredential) => String(c[sort as keyof StoredCredential] ?? "");
      credentials.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      if (queryBool(query, "reverse")) credentials.reverse();
      reply.header("Total-Count", String(credentials.length));
      return credentials.slice(offset, offset + limit).map(visible);
    },
  );

  app.post(
    "/credentials",
    {
      config: { permission: "manageCreds" },
      schema: {
        tags: ["credentials"],
        summary: "Create or update a credential by _id; plain secrets are encrypted and discarded",
        body: Credential,
        response: { 200: EmptyBody, 400: ErrorBody },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body === undefined) throw badRequest("body must be a credential");
      if (body._id.trim() === "") throw badRequest("credential _id must not be empty");
      if (!(CREDENTIAL_TYPES as readonly string[]).includes(body.type)) {
        throw badRequest(
          `unknown credential type "${body.type}"; expected one of ${CREDENTIAL_TYPES.join(", ")}`,
        );
      }
      const previous = await deps.store.getCredential(body._id);
      const known: Record<string, unknown> = {};
      for (const field of CREDENTIAL_FIELDS) if (body[field] !== undefined) known[field] = body[field];
      let sealed: Credential;
      try {
        sealed = deps.secrets.sealCredential(known as Credential, previous);
      } catch (err) {
        if (err instanceof SecretError) throw badRequest(`credential ${body._id}: ${err.message}`);
        throw err;
      }
      const now = new Date().toISOString();
      await deps.store.putCredential({
        ...sealed,
        created: previous?.created ?? now,
        lastModified: now,
        owner: request.user?.username ?? "",
      });
      return reply.code(200).send();
    },
  );

  app.delete(
    "/credentials/:id",
    {
      config: { permission: "manageCreds" },
      schema: {
        tags: ["credentials"],
        summary: "Delete a credential no specification uses",
        params: IdParams,
        response: { 200: EmptyBody, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const usages = await usagesOf(deps, id);
      if (usages.length > 0) {
        throw badRequest(
          `credential ${id} is in use by ${usages.length} registry specification(s): ${usages.map((u) => u.description).join(", ")}`,
        );
      }
      if (!(await deps.store.deleteCredential(id))) throw notFound(`credential ${id} not found`);
      return reply.code(200).send();
    },
  );

  app.get(
    "/credentials/:id/usages",
    {
      config: { permission: "manageCreds" },
      schema: {
        tags: ["credentials"],
        summary: "Where a credential is used",
        params: IdParams,
        response: { 200: Type.Array(CredentialUsage), 404: ErrorBody },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await deps.store.getCredential(id))) throw notFound(`credential ${id} not found`);
      return usagesOf(deps, id);
    },
  );
}
