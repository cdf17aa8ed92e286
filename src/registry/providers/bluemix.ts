/**
 * Registry type `bluemix` (spec section 8; registries.md 2.13): IBM Cloud Container Registry.
 *
 * Follows IBM's documentation: the Container Registry API
 * (https://cloud.ibm.com/apidocs/container-registry: `GET /api/v1/namespaces`, `GET /api/v1/images`
 * with `namespace`, the `Account` header, an IAM bearer token) and IAM API-key tokens
 * (https://cloud.ibm.com/docs/account?topic=account-iamtoken_from_apikey: `POST /identity/token`,
 * grant_type `urn:ibm:params:oauth:grant-type:apikey`, answer `access_token`, `expires_in`,
 * `expiration`), registry login `iamapikey` + API key
 * (https://cloud.ibm.com/docs/Registry?topic=Registry-registry_access).
 *
 * - `registry`: a regional host (us.icr.io, de.icr.io, icr.io, …) or a URL; the API lives on the same
 *   host. `namespace` is mandatory: images of that namespace only.
 * - Credentials: `ibmCloud` with `accountGUID` and the API key in `apiToken` (or `secret`). The IAM
 *   access token is obtained at connect (a wrong key fails there) and renewed ahead of expiry and once
 *   after a 401 (ExpiringValue). The IAM endpoint is `SHIPSHAPE_IBMCLOUD_IAM_URL`
 *   (default https://iam.cloud.ibm.com/).
 * - Repositories and tags from `/api/v1/images?namespace=…`: `RepoTags` (`host/ns/repo:tag`),
 *   `DigestTags` (digest → tags) and `Created` (epoch seconds, the push time the API reports).
 */

import { RegistryClient } from "../client.js";
import {
  AuthError,
  NotFoundError,
  ProtocolError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { ExpiringValue } from "../expiring.js";
import { v2AddressOf } from "./docker-v2.js";
import { serviceEndpoint } from "./endpoints.js";
import type { DiscoveredTag, ProviderContext, ProviderSession, RegistryProvider } from "./provider.js";
import { type ApiResponse, apiFailure, RestApi } from "./rest.js";

const APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey";

interface IbmImage {
  RepoTags?: string[] | null;
  DigestTags?: Record<string, string[]> | null;
  Created?: number | null;
}

function answerOf(res: ApiResponse): string {
  try {
    const body = JSON.parse(res.text) as Record<string, unknown>;
    const text = [body.code, body.message, body.errorMessage].filter((p) => typeof p === "string").join(": ");
    if (text) return `HTTP ${res.status}: ${text}`;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}

function failure(res: ApiResponse, what: string, ctx: RegistryErrorContext): Error {
  const answer = answerOf(res);
  const retryAfterSeconds = Number(res.headers["retry-after"]);
  return apiFailure(res, what, ctx, {
    401: `IBM Cloud Container Registry rejected the IAM token (${answer})`,
    403: `IBM Cloud Container Registry refused the API key's identity access to this account's registry (${answer}); grant it the Reader role on Container Registry and check accountGUID`,
    404: `not found in IBM Cloud Container Registry (${answer})`,
    429: {
      message: `IBM Cloud Container Registry rate limit (${answer}); retry later`,
      retryAfterMs: Number.isFinite(retryAfterSeconds) ? retryAfterSeconds * 1000 : undefined,
    },
    other: `IBM Cloud Container Registry answered ${answer}`,
  });
}

/** An IAM access token for an API key; an IAM refusal names IAM and the key. */
async function iamToken(iam: RestApi, apiKey: string, ctx: RegistryErrorContext, signal?: AbortSignal) {
  const res = await iam.request("POST", "identity/token", {
    form: new URLSearchParams({ grant_type: APIKEY_GRANT, apikey: apiKey }),
    signal,
  });
  const text = res.text;
  if (res.status !== 200) {
    let detail = `HTTP ${res.status}`;
    try {
      const body = JSON.parse(text) as { errorCode?: unknown; errorMessage?: unknown };
      detail += `: ${[body.errorCode, body.errorMessage].filter((p) => typeof p === "string").join(" ")}`;
    } catch {
      // not JSON
    }
    throw new AuthError(
      ctx,
      `IBM Cloud IAM refused the API key (${detail}); check the credential's API key`,
      {
        status: res.status,
      },
    );
  }
  let body: { access_token?: unknown; expires_in?: unknown; expiration?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    throw new ProtocolError(ctx, "IBM Cloud IAM's token answer is not JSON");
  }
  if (typeof body.access_token !== "string")
    throw new ProtocolError(ctx, "IBM Cloud IAM sent no access_token");
  const expiresAt =
    typeof body.expiration === "number"
      ? body.expiration * 1000
      : typeof body.expires_in === "number"
        ? Date.now() + body.expires_in * 1000
        : undefined;
  return { value: `Bearer ${body.access_token}`, expiresAt };
}

class BluemixSession implements ProviderSession {
  private images: Map<string, DiscoveredTag[]> | undefined;

  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly api: RestApi,
    /** IAM, where the API's token is renewed. */
    private readonly iam: RestApi,
    private readonly namespace: string,
  ) {}

  private async load(signal?: AbortSignal): Promise<Map<string, DiscoveredTag[]>> {
    const ctx = { registry: this.registryHost };
    const what = `listing the images of namespace ${this.namespace}`;
    const res = await this.api.get(`images?namespace=${encodeURIComponent(this.namespace)}`, signal);
    if (res.status !== 200) throw failure(res, what, ctx);
    const byRepo = new Map<string, DiscoveredTag[]>();
    for (const image of this.api.array<IbmImage>(res, what)) {
      const digestOf = new Map<string, string>();
      for (const [digest, tags] of Object.entries(image.DigestTags ?? {}))
        for (const tag of tags) digestOf.set(tag, digest);
      const pushedAt = typeof image.Created === "number" ? new Date(image.Created * 1000) : undefined;
      for (const repoTag of image.RepoTags ?? []) {
        const colon = repoTag.lastIndexOf(":");
        const slash = repoTag.indexOf("/");
        if (colon < 0 || slash < 0) continue;
        const repository = repoTag.slice(slash + 1, colon);
        const tag = repoTag.slice(colon + 1);
        if (!repository.startsWith(`${this.namespace}/`)) continue;
        const list = byRepo.get(repository) ?? [];
        list.push({ tag, digest: digestOf.get(repoTag), pushedAt });
        byRepo.set(repository, list);
      }
    }
    this.images = byRepo;
    return byRepo;
  }

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    return [...(await this.load(signal)).keys()].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const images = this.images ?? (await this.load(options.signal));
    const tags = images.get(repository);
    if (!tags) {
      throw new NotFoundError(
        { registry: this.registryHost, repository },
        `not among the images of namespace ${this.namespace}`,
      );
    }
    const sorted = [...tags].sort((a, b) => a.tag.localeCompare(b.tag));
    return options.withTimes ? sorted : sorted.map(({ tag, digest }) => ({ tag, digest }));
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.api.close(), this.iam.close()]);
  }
}

export const bluemixProvider: RegistryProvider = {
  type: "bluemix",
  credentialTypes: ["ibmCloud"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    if (context.registry.trim() === "") {
      throw new UnsupportedError(
        { registry: "" },
        "an IBM Cloud registry needs its regional host (e.g. us.icr.io)",
      );
    }
    const address = v2AddressOf(context.registry, context.insecure ?? false);
    const ctx = { registry: address.registryHost };
    const namespace = context.namespace?.trim() ?? "";
    if (namespace === "") {
      throw new UnsupportedError(
        ctx,
        "IBM Cloud Container Registry needs the specification's namespace (the registry namespace to scan)",
      );
    }
    const credential = context.credential;
    if (credential === undefined || credential.type !== "ibmCloud") {
      throw new UnsupportedError(
        ctx,
        `IBM Cloud Container Registry needs an "ibmCloud" credential (accountGUID and API key)${credential ? `, not "${credential.type}"` : ""}`,
      );
    }
    const apiKey = credential.apiToken?.plain || credential.secret?.plain || "";
    const account = credential.accountGUID?.trim() ?? "";
    if (apiKey === "" || account === "") {
      throw new AuthError(
        ctx,
        `credential "${credential._id}" needs both accountGUID and the API key (apiToken)`,
      );
    }
    const iam = new RestApi(
      serviceEndpoint("SHIPSHAPE_IBMCLOUD_IAM_URL", "https://iam.cloud.ibm.com/"),
      ctx,
      {
        insecure: false,
      },
    );
    const token = new ExpiringValue((signal) => iamToken(iam, apiKey, ctx, signal));
    const scheme = address.insecure && /^http:\/\//i.test(context.registry.trim()) ? "http" : "https";
    const base = new URL(`${scheme}://${address.registryHost}/api/v1/`);
    const ca = context.caCert?.trim() || undefined;
    // Every call of the Container Registry API names the account in an `Account` header.
    const api = new RestApi(base, ctx, {
      insecure: address.insecure,
      ca,
      authorization: token,
      headers: { account },
    });
    const client = new RegistryClient({
      registry: address.address,
      credentials: { kind: "basic", username: "iamapikey", password: apiKey },
      insecure: address.insecure,
      ca,
    });
    try {
      await token.get();
      const res = await api.get("namespaces");
      if (res.status !== 200) throw failure(res, `listing the namespaces of account ${account}`, ctx);
      const namespaces = api.array<string>(res, "listing namespaces");
      if (!namespaces.includes(namespace)) {
        throw new NotFoundError(
          ctx,
          `namespace "${namespace}" is not in account ${account} in this region (${address.registryHost}); namespaces: ${namespaces.join(", ") || "none"}`,
        );
      }
      await client.login();
    } catch (err) {
      await Promise.all([api.close(), iam.close(), client.close()]);
      throw err;
    }
    return new BluemixSession(client, address.registryHost, api, iam, namespace);
  },
};
