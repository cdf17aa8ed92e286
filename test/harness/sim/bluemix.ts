/**
 * An IBM Cloud Container Registry simulation on 127.0.0.1 (one host: the regional registry's API and
 * /v2/, as on us.icr.io) plus IBM Cloud IAM, written from IBM's documentation:
 * - Container Registry API: https://cloud.ibm.com/apidocs/container-registry (`GET /api/v1/namespaces`
 *   → array of names; `GET /api/v1/images?namespace=` → RemoteAPIImage: `Id`, `Created` (epoch
 *   seconds), `DigestTags`, `RepoTags`, `RepoDigests`, `Size`; the `Account` header is required;
 *   errors `{"code":"CRG0…","message":"…"}`)
 * - IAM: https://cloud.ibm.com/docs/account?topic=account-iamtoken_from_apikey (`POST /identity/token`
 *   form grant_type=urn:ibm:params:oauth:grant-type:apikey, apikey; answer access_token, token_type,
 *   expires_in, expiration; a wrong key is 400 `{"errorCode":"BXNIM0415E",…}`)
 * - Registry login: https://cloud.ibm.com/docs/Registry?topic=Registry-registry_access (`iamapikey`
 *   and the API key); here the real docker-registry with htpasswd behind this host's /v2/.
 */

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { type Listening, listen, proxy, sendJson } from "./http.js";
import { storedTags } from "./storage.js";

export interface BluemixSimOptions {
  storageDir: string;
  /** Account GUID → its API keys. */
  accounts: Record<string, { apiKeys: string[]; namespaces: string[]; readers: string[] }>;
  /** Lifetime of IAM access tokens in seconds (IAM's is 3600). */
  tokenLifetimeSeconds?: number;
}

export interface BluemixSimImage {
  repository: string;
  tag: string;
  digest: string;
  /** The `Created` the API reports for the tag's image. */
  created: Date;
}

export interface BluemixRequest {
  method: string;
  path: string;
  status: number;
}

export interface BluemixSim {
  url: string;
  host: string;
  /** IAM, `http://127.0.0.1:PORT/`. */
  iamUrl: string;
  images: BluemixSimImage[];
  requests: BluemixRequest[];
  /** Access tokens issued by IAM. */
  issued: number;
  /** Answers the next `count` API requests with `status` (429 with Retry-After, 5xx), replacing faults still pending. */
  failNext(status: number, count: number): void;
  /** Lifetime of the IAM access tokens issued from now on. */
  tokenLifetimeSeconds: number;
  /** Makes every access token issued so far invalid (as after a revocation). */
  revokeTokens(): void;
  stop(): Promise<void>;
}

const BASE_TIME = Date.UTC(2024, 0, 10, 8, 0, 0);

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startBluemixSim(options: BluemixSimOptions): Promise<BluemixSim> {
  let lifetime = options.tokenLifetimeSeconds ?? 3600;
  const allKeys = Object.values(options.accounts).flatMap((a) => a.apiKeys);
  // htpasswd has one password per user, and every registry login is the user `iamapikey`.
  if (allKeys.length !== 1) throw new Error("IBM simulation: the registry's htpasswd holds one API key");
  const registry: RunningRegistry = await startRegistry({
    storageDir: options.storageDir,
    readOnly: true,
    auth: { kind: "htpasswd", users: { iamapikey: allKeys[0] as string } },
  });
  const images: BluemixSimImage[] = (await storedTags(options.storageDir)).map((stored, index) => ({
    ...stored,
    // Distinct, not in name order, so ordering by push time differs from ordering by name.
    created: new Date(BASE_TIME + ((index * 7919) % 101) * 60_000),
  }));
  const tokens = new Map<string, { apiKey: string; expiresAt: number }>();
  const requests: BluemixRequest[] = [];
  const faults: number[] = [];
  let issued = 0;

  const iam: Listening = await listen(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://sim");
    const send = (status: number, body: unknown) => {
      requests.push({ method: req.method ?? "", path: `iam:${url.pathname}`, status });
      sendJson(res, status, body);
    };
    if (req.method !== "POST" || url.pathname !== "/identity/token")
      return send(404, { errorCode: "BXNIM0100E", errorMessage: "Not found" });
    const form = await readForm(req);
    if (form.get("grant_type") !== "urn:ibm:params:oauth:grant-type:apikey")
      return send(400, { errorCode: "BXNIM0109E", errorMessage: "Property missing or empty." });
    const apiKey = form.get("apikey") ?? "";
    if (!allKeys.includes(apiKey))
      return send(400, {
        errorCode: "BXNIM0415E",
        errorMessage: "Provided API key could not be found.",
        context: { requestId: randomUUID() },
      });
    const token = `iam-${randomUUID()}`;
    const expiration = Math.floor(Date.now() / 1000) + lifetime;
    tokens.set(token, { apiKey, expiresAt: expiration * 1000 });
    issued++;
    send(200, {
      access_token: token,
      refresh_token: "not_supported",
      token_type: "Bearer",
      expires_in: lifetime,
      expiration,
      scope: "ibm openid",
    });
  });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://sim");
    if (url.pathname === "/v2" || url.pathname.startsWith("/v2/")) {
      requests.push({ method: req.method ?? "", path: url.pathname, status: 0 });
      return proxy(req, res, registry.url, `${url.pathname}${url.search}`);
    }
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      requests.push({ method: req.method ?? "", path: url.pathname, status });
      sendJson(res, status, body, headers);
    };
    const fault = faults.shift();
    if (fault === 429)
      return send(429, { code: "CRG0119E", message: "Too many requests." }, { "retry-after": "1" });
    if (fault !== undefined) return send(fault, { code: "CRG0001E", message: "Internal error." });
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const token = bearer ? tokens.get(bearer) : undefined;
    if (!token || token.expiresAt <= Date.now())
      return send(401, {
        code: "CRG0011E",
        message: "You are not authorized to access the specified resource.",
      });
    const accountId = req.headers.account;
    const account = typeof accountId === "string" ? options.accounts[accountId] : undefined;
    if (!account)
      return send(400, { code: "CRG0020E", message: "The 'Account' header is missing or not valid." });
    if (!account.apiKeys.includes(token.apiKey))
      return send(403, {
        code: "CRG0012E",
        message: "You are not authorized to access the specified account.",
      });
    if (url.pathname === "/api/v1/namespaces") return send(200, account.namespaces);
    if (url.pathname === "/api/v1/images") {
      const namespace = url.searchParams.get("namespace");
      const visible = images.filter(
        (i) =>
          account.readers.some((ns) => i.repository.startsWith(`${ns}/`)) &&
          (namespace === null || i.repository.startsWith(`${namespace}/`)),
      );
      const byImage = new Map<string, BluemixSimImage[]>();
      for (const image of visible) {
        const key = `${image.repository}@${image.digest}`;
        byImage.set(key, [...(byImage.get(key) ?? []), image]);
      }
      return send(
        200,
        [...byImage.values()].map((group) => {
          const first = group[0] as BluemixSimImage;
          return {
            Id: first.digest,
            Created: Math.floor(Math.min(...group.map((g) => g.created.getTime())) / 1000),
            DigestTags: { [first.digest]: group.map((g) => `${server.host}/${g.repository}:${g.tag}`) },
            RepoTags: group.map((g) => `${server.host}/${g.repository}:${g.tag}`),
            RepoDigests: [`${server.host}/${first.repository}@${first.digest}`],
            Labels: {},
            Size: 0,
            ConfigurationIssueCount: 0,
            Vulnerable: "UNSCANNED",
          };
        }),
      );
    }
    send(404, { code: "CRG0002E", message: "The requested resource was not found." });
  };
  const server: Listening = await listen(handle);

  return {
    url: server.url,
    host: server.host,
    iamUrl: `${iam.url}/`,
    images,
    requests,
    get issued() {
      return issued;
    },
    get tokenLifetimeSeconds() {
      return lifetime;
    },
    set tokenLifetimeSeconds(seconds: number) {
      lifetime = seconds;
    },
    failNext(status, count) {
      faults.splice(0, faults.length, ...Array.from({ length: count }, () => status));
    },
    revokeTokens() {
      tokens.clear();
    },
    async stop() {
      await Promise.all([server.stop(), iam.stop(), registry.stop()]);
    },
  };
}
