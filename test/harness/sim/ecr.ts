/**
 * An Amazon ECR simulation on 127.0.0.1: the ECR API, STS and the registry's /v2/, each on its own
 * port (as ecr.<region>.amazonaws.com, sts.<region>.amazonaws.com and <account>.dkr.ecr.<region>.
 * amazonaws.com are separate hosts), written from AWS's documentation:
 * - ECR API reference (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/): the AWS JSON 1.1
 *   protocol (POST /, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`, content type
 *   application/x-amz-json-1.1, timestamps as epoch seconds, errors HTTP 400 `{"__type","message"}`,
 *   500 for ServerException); `GetAuthorizationToken` (`authorizationData[]`: `authorizationToken` =
 *   base64 of `AWS:<password>`, `expiresAt`, `proxyEndpoint`), `DescribeRepositories` and
 *   `DescribeImages` (`registryId`, `repositoryName`, `filter.tagStatus`, `maxResults` 1–1000, default
 *   100, opaque `nextToken`; `imageDetails[]` with `imageDigest`, `imageTags`, `imagePushedAt`,
 *   `imageManifestMediaType`, `imageStatus`); RepositoryNotFoundException, AccessDeniedException,
 *   ThrottlingException, InvalidParameterException.
 * - STS AssumeRole (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html): the
 *   query protocol (form POST Action=AssumeRole&Version=2011-06-15, RoleArn, RoleSessionName,
 *   DurationSeconds), the XML `AssumeRoleResponse/AssumeRoleResult/Credentials` answer and the XML
 *   `ErrorResponse/Error/{Type,Code,Message}` errors (HTTP 403 AccessDenied, InvalidClientTokenId,
 *   SignatureDoesNotMatch, ExpiredToken).
 * - Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4-create-
 *   signed-request.html): every API request's signature is recomputed here with the caller's secret
 *   (canonical request, credential scope date/region/service/aws4_request, signing key chain), the
 *   payload hash checked against the body, temporary credentials' x-amz-security-token required.
 * - Registry authentication (https://docs.aws.amazon.com/AmazonECR/latest/userguide/
 *   registry_auth.html; registries.md 2.3): /v2/ answers the challenge
 *   `Basic realm="https://<host>/",service="ecr.amazonaws.com"` and `Not Authorized`, and admits
 *   Basic `AWS:<token>` while the token is valid, in front of the real docker-registry.
 *
 * Left out: IAM policy documents (a principal has a flat list of allowed actions), resource policies
 * and cross-account access (any other registryId is refused), repository filters besides names,
 * image scanning, lifecycle and replication data, ECR's other operations, chunked SigV4 payloads and
 * query-string (presigned) signatures.
 */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RunningRegistry, startRegistry } from "../registry.js";
import { basicCredentials, type Listening, listen, proxy } from "./http.js";
import { readBlobJson, storedTags } from "./storage.js";

const TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921.";
const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
const MAX_CLOCK_SKEW_MS = 15 * 60_000;
const BASE_TIME = Date.UTC(2024, 2, 4, 9, 30, 0);

/** A principal's allowed actions, e.g. "ecr:DescribeImages", "sts:AssumeRole". */
export interface EcrSimUser {
  name: string;
  secretAccessKey: string;
  actions: string[];
}

export interface EcrSimRole {
  actions: string[];
  /** Access key ids of the users the role's trust policy lets assume it. */
  trustedKeys: string[];
}

export interface EcrSimOptions {
  storageDir: string;
  account: string;
  region: string;
  /** IAM users by access key id. */
  users: Record<string, EcrSimUser>;
  /** Roles by ARN (arn:aws:iam::<account>:role/<name>). */
  roles?: Record<string, EcrSimRole>;
  /** The most entries a page holds however many `maxResults` asks for (ECR may return fewer). */
  maxPageSize?: number;
  /** Lifetime of authorization tokens in seconds (ECR's is 12 hours). */
  tokenLifetimeSeconds?: number;
}

export interface EcrSimImage {
  repository: string;
  digest: string;
  /** Empty for an untagged image (the platform manifests of a multi-platform index). */
  tags: string[];
  mediaType: string;
  pushedAt: Date;
}

export interface EcrSimRequest {
  service: "ecr" | "sts" | "registry";
  /** ECR operation, STS action, or the /v2/ path. */
  operation: string;
  /** Access key id the request was signed with. */
  accessKeyId?: string | undefined;
  /** The request's `registryId`, when it had one. */
  registryId?: string | undefined;
  /** Whether a /v2/ request carried an Authorization header. */
  authorized?: boolean;
  status: number;
  error?: string | undefined;
}

export type EcrSimFault = "ThrottlingException" | "ServerException" | "malformed";

export interface EcrSim {
  /** The ECR API endpoint, `http://127.0.0.1:PORT/`. */
  apiUrl: string;
  /** STS, `http://127.0.0.1:PORT/`. */
  stsUrl: string;
  /** The registry (`/v2/`), `http://127.0.0.1:PORT`. */
  registryUrl: string;
  registryHost: string;
  /** What `proxyEndpoint` names: the registry's ECR host. */
  proxyEndpoint: string;
  images: EcrSimImage[];
  /** Repository names in creation order. */
  repositories: string[];
  requests: EcrSimRequest[];
  /** Authorization tokens issued. */
  issued: number;
  /** Temporary credentials issued by AssumeRole, by access key id. */
  assumed: Map<string, { roleArn: string; sessionName: string }>;
  tokenLifetimeSeconds: number;
  /** Answers the next `count` ECR API requests with `fault`, replacing faults still pending. */
  failNext(fault: EcrSimFault, count: number): void;
  /** Makes every authorization token issued so far invalid. */
  revokeTokens(): void;
  stop(): Promise<void>;
}

interface Principal {
  arn: string;
  actions: string[];
}

interface SigningKey {
  secretAccessKey: string;
  sessionToken?: string;
  expiresAt?: number;
  principal: Principal;
  /** For AssumeRole: the user's own key id, checked against trust policies. */
  userKeyId?: string;
}

type SignatureFailure = "missing" | "unknown-key" | "expired" | "bad-signature" | "bad-scope";

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Recomputes a SigV4 Authorization header (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). */
function verifySignature(
  req: IncomingMessage,
  body: Buffer,
  expected: { service: string; region: string },
  keyOf: (accessKeyId: string) => SigningKey | undefined,
): { key: SigningKey; accessKeyId: string } | { failure: SignatureFailure; accessKeyId?: string } {
  const header = req.headers.authorization ?? "";
  const parsed =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      header,
    );
  if (!parsed) return { failure: "missing" };
  const [, accessKeyId = "", date = "", region = "", service = "", signedHeaders = "", signature = ""] =
    parsed;
  const key = keyOf(accessKeyId);
  if (!key) return { failure: "unknown-key", accessKeyId };
  if (key.sessionToken !== undefined && req.headers["x-amz-security-token"] !== key.sessionToken)
    return { failure: "unknown-key", accessKeyId };
  if (key.expiresAt !== undefined && key.expiresAt <= Date.now()) return { failure: "expired", accessKeyId };
  if (service !== expected.service || region !== expected.region)
    return { failure: "bad-scope", accessKeyId };
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!stamp || !amzDate.startsWith(date)) return { failure: "bad-signature", accessKeyId };
  const [, y, mo, d, h, mi, s] = stamp.map(Number) as number[];
  const signedAt = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  if (Math.abs(Date.now() - signedAt) > MAX_CLOCK_SKEW_MS) return { failure: "bad-signature", accessKeyId };
  const names = signedHeaders.split(";");
  if (!names.includes("host") || !names.includes("x-amz-date"))
    return { failure: "bad-signature", accessKeyId };
  const payloadHash = sha256Hex(body);
  const declared = req.headers["x-amz-content-sha256"];
  if (declared !== undefined && declared !== payloadHash) return { failure: "bad-signature", accessKeyId };
  const url = new URL(req.url ?? "/", "http://sim");
  const query = [...url.searchParams]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort(([a = ""], [b = ""]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalHeaders = names
    .map((name) => {
      const value = req.headers[name];
      const text = Array.isArray(value) ? value.join(",") : (value ?? "");
      return `${name}:${text.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const canonicalRequest = [
    req.method ?? "",
    url.pathname,
    query,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${key.secretAccessKey}`, date), region), service),
    "aws4_request",
  );
  const computed = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  if (computed !== signature) return { failure: "bad-signature", accessKeyId };
  return { key, accessKeyId };
}

const ECR_SIGNATURE_ERRORS: Record<SignatureFailure, [string, string]> = {
  missing: ["MissingAuthenticationTokenException", "Missing Authentication Token"],
  "unknown-key": ["UnrecognizedClientException", "The security token included in the request is invalid."],
  expired: ["ExpiredTokenException", "The security token included in the request is expired"],
  "bad-scope": ["InvalidSignatureException", "Credential should be scoped to a valid region and service."],
  "bad-signature": [
    "InvalidSignatureException",
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  ],
};

const STS_SIGNATURE_ERRORS: Record<SignatureFailure, [string, string]> = {
  missing: ["MissingAuthenticationToken", "Request is missing Authentication Token"],
  "unknown-key": ["InvalidClientTokenId", "The security token included in the request is invalid."],
  expired: ["ExpiredToken", "The security token included in the request is expired"],
  "bad-scope": ["SignatureDoesNotMatch", "Credential should be scoped to a valid region."],
  "bad-signature": [
    "SignatureDoesNotMatch",
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
  ],
};

const xmlEscape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const epochSeconds = (date: Date) => date.getTime() / 1000;

export async function startEcrSim(options: EcrSimOptions): Promise<EcrSim> {
  const { account, region } = options;
  let lifetime = options.tokenLifetimeSeconds ?? 12 * 3600;
  const registry: RunningRegistry = await startRegistry({ storageDir: options.storageDir, readOnly: true });
  const stored = await storedTags(options.storageDir);
  const byImage = new Map<string, EcrSimImage>();
  for (const entry of stored) {
    const key = `${entry.repository}@${entry.digest}`;
    const image = byImage.get(key);
    if (image) {
      image.tags.push(entry.tag);
      continue;
    }
    const manifest = await readBlobJson(options.storageDir, entry.digest);
    byImage.set(key, {
      repository: entry.repository,
      digest: entry.digest,
      tags: [entry.tag],
      mediaType: String(manifest.mediaType ?? "application/vnd.oci.image.manifest.v1+json"),
      // Distinct, not in name order, so ordering by push time differs from ordering by name.
      pushedAt: new Date(BASE_TIME + ((byImage.size * 7919) % 1009) * 60_000 + 123),
    });
    // ECR lists the platform manifests of a multi-platform index as untagged images of their own.
    for (const child of (manifest.manifests as { digest: string; mediaType: string }[] | undefined) ?? []) {
      byImage.set(`${entry.repository}@${child.digest}`, {
        repository: entry.repository,
        digest: child.digest,
        tags: [],
        mediaType: child.mediaType,
        pushedAt: new Date(BASE_TIME),
      });
    }
  }
  const images = [...byImage.values()];
  const repositories = [...new Set(images.map((i) => i.repository))];
  const repositoryCreatedAt = new Date(BASE_TIME - 86_400_000);

  const keys = new Map<string, SigningKey>();
  for (const [accessKeyId, user] of Object.entries(options.users)) {
    keys.set(accessKeyId, {
      secretAccessKey: user.secretAccessKey,
      principal: { arn: `arn:aws:iam::${account}:user/${user.name}`, actions: user.actions },
      userKeyId: accessKeyId,
    });
  }
  const assumed = new Map<string, { roleArn: string; sessionName: string }>();
  const tokens = new Map<string, number>();
  const requests: EcrSimRequest[] = [];
  const faults: EcrSimFault[] = [];
  let issued = 0;
  let registryListening: Listening | undefined;
  const proxyEndpoint = `https://${account}.dkr.ecr.${region}.amazonaws.com`;

  const ecrApi: Listening = await listen(async (req, res) => {
    const body = await readBody(req);
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const record: EcrSimRequest = { service: "ecr", operation, status: 0 };
    requests.push(record);
    const send = (status: number, answer: unknown) => {
      record.status = status;
      res.writeHead(status, {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-requestid": randomUUID(),
      });
      res.end(JSON.stringify(answer));
    };
    const fail = (type: string, message: string, status = 400) => {
      record.error = type;
      send(status, { __type: type, message });
    };
    if (req.method !== "POST" || !target.startsWith(TARGET_PREFIX))
      return fail("UnknownOperationException", "Unknown operation");
    if (!String(req.headers["content-type"] ?? "").startsWith("application/x-amz-json-1.1"))
      return fail("SerializationException", "Unexpected content type");
    const signed = verifySignature(req, body, { service: "ecr", region }, (id) => keys.get(id));
    record.accessKeyId = signed.accessKeyId;
    if ("failure" in signed) {
      const [type, message] = ECR_SIGNATURE_ERRORS[signed.failure];
      return fail(type, message, signed.failure === "missing" ? 403 : 400);
    }
    const fault = faults.shift();
    if (fault === "ThrottlingException") return fail("ThrottlingException", "Rate exceeded");
    if (fault === "ServerException") return fail("ServerException", "Internal service error", 500);
    if (fault === "malformed") {
      record.status = 200;
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end('{"repositories": [{"repositoryName": ');
      return;
    }
    let input: Record<string, unknown>;
    try {
      input = body.length === 0 ? {} : (JSON.parse(body.toString("utf8")) as Record<string, unknown>);
    } catch {
      return fail("SerializationException", "Start of structure or map found where not expected.");
    }
    const principal = signed.key.principal;
    if (!principal.actions.includes(`ecr:${operation}`)) {
      const resource =
        operation === "GetAuthorizationToken"
          ? "*"
          : `arn:aws:ecr:${region}:${account}:repository/${String(input.repositoryName ?? "*")}`;
      return fail(
        "AccessDeniedException",
        `User: ${principal.arn} is not authorized to perform: ecr:${operation} on resource: ${resource} because no identity-based policy allows the ecr:${operation} action`,
      );
    }
    if (typeof input.registryId === "string") {
      record.registryId = input.registryId;
      if (input.registryId !== account)
        return fail(
          "AccessDeniedException",
          `User: ${principal.arn} is not authorized to perform: ecr:${operation} on resource: arn:aws:ecr:${region}:${input.registryId}:repository/* because no resource-based policy allows the ecr:${operation} action`,
        );
    }
    const page = <T>(items: T[]): { items: T[]; nextToken?: string } | string => {
      const maxResults = input.maxResults ?? 100;
      if (
        typeof maxResults !== "number" ||
        !Number.isInteger(maxResults) ||
        maxResults < 1 ||
        maxResults > 1000
      )
        return "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000";
      let offset = 0;
      if (input.nextToken !== undefined) {
        const decoded = /^offset:(\d+)$/.exec(
          Buffer.from(String(input.nextToken), "base64").toString("utf8"),
        );
        if (!decoded)
          return "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'";
        offset = Number(decoded[1]);
      }
      const size = Math.min(maxResults, options.maxPageSize ?? maxResults);
      const end = offset + size;
      return end < items.length
        ? { items: items.slice(offset, end), nextToken: Buffer.from(`offset:${end}`).toString("base64") }
        : { items: items.slice(offset, end) };
    };

    switch (operation) {
      case "GetAuthorizationToken": {
        const token = randomBytes(48).toString("base64url");
        const expiresAt = Date.now() + lifetime * 1000;
        tokens.set(token, expiresAt);
        issued++;
        return send(200, {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${token}`).toString("base64"),
              expiresAt: expiresAt / 1000,
              proxyEndpoint,
            },
          ],
        });
      }
      case "DescribeRepositories": {
        let names = repositories;
        if (Array.isArray(input.repositoryNames)) {
          const missing = (input.repositoryNames as string[]).find((n) => !repositories.includes(n));
          if (missing !== undefined)
            return fail(
              "RepositoryNotFoundException",
              `The repository with name '${missing}' does not exist in the registry with id '${account}'`,
            );
          names = input.repositoryNames as string[];
        }
        const paged = page(names);
        if (typeof paged === "string") return fail("InvalidParameterException", paged);
        return send(200, {
          repositories: paged.items.map((name) => ({
            repositoryArn: `arn:aws:ecr:${region}:${account}:repository/${name}`,
            registryId: account,
            repositoryName: name,
            repositoryUri: `${account}.dkr.ecr.${region}.amazonaws.com/${name}`,
            createdAt: epochSeconds(repositoryCreatedAt),
            imageTagMutability: "MUTABLE",
            imageScanningConfiguration: { scanOnPush: false },
            encryptionConfiguration: { encryptionType: "AES256" },
          })),
          ...(paged.nextToken ? { nextToken: paged.nextToken } : {}),
        });
      }
      case "DescribeImages": {
        const name = input.repositoryName;
        if (typeof name !== "string" || !repositories.includes(name))
          return fail(
            "RepositoryNotFoundException",
            `The repository with name '${String(name)}' does not exist in the registry with id '${account}'`,
          );
        const tagStatus = (input.filter as { tagStatus?: string } | undefined)?.tagStatus ?? "ANY";
        const listed = images.filter(
          (i) =>
            i.repository === name && (tagStatus === "ANY" || (tagStatus === "TAGGED") === i.tags.length > 0),
        );
        const paged = page(listed);
        if (typeof paged === "string") return fail("InvalidParameterException", paged);
        return send(200, {
          imageDetails: paged.items.map((image) => ({
            registryId: account,
            repositoryName: image.repository,
            imageDigest: image.digest,
            ...(image.tags.length > 0 ? { imageTags: image.tags } : {}),
            imageSizeInBytes: 2_811_478,
            imagePushedAt: epochSeconds(image.pushedAt),
            imageManifestMediaType: image.mediaType,
            imageStatus: "ACTIVE",
          })),
          ...(paged.nextToken ? { nextToken: paged.nextToken } : {}),
        });
      }
      default:
        return fail("UnknownOperationException", `Unknown operation ${operation}`);
    }
  });

  const sts: Listening = await listen(async (req, res) => {
    const body = await readBody(req);
    const form = new URLSearchParams(body.toString("utf8"));
    const record: EcrSimRequest = { service: "sts", operation: form.get("Action") ?? "", status: 0 };
    requests.push(record);
    const sendXml = (status: number, xml: string) => {
      record.status = status;
      res.writeHead(status, { "content-type": "text/xml" });
      res.end(xml);
    };
    const fail = (code: string, message: string, status = 403) => {
      record.error = code;
      sendXml(
        status,
        `<ErrorResponse xmlns="${STS_NAMESPACE}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    };
    const signed = verifySignature(req, body, { service: "sts", region }, (id) => keys.get(id));
    record.accessKeyId = signed.accessKeyId;
    if ("failure" in signed) {
      const [code, message] = STS_SIGNATURE_ERRORS[signed.failure];
      return fail(code, message);
    }
    if (form.get("Action") !== "AssumeRole" || form.get("Version") !== "2011-06-15")
      return fail(
        "InvalidAction",
        `Could not find operation ${form.get("Action")} for version ${form.get("Version")}`,
        400,
      );
    const roleArn = form.get("RoleArn") ?? "";
    const sessionName = form.get("RoleSessionName") ?? "";
    const role = options.roles?.[roleArn];
    const caller = signed.key;
    if (
      !role ||
      !caller.principal.actions.includes("sts:AssumeRole") ||
      caller.userKeyId === undefined ||
      !role.trustedKeys.includes(caller.userKeyId)
    )
      return fail(
        "AccessDenied",
        `User: ${caller.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName))
      return fail(
        "ValidationError",
        "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint",
        400,
      );
    const duration = Number(form.get("DurationSeconds") ?? 3600);
    const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString("base64");
    const sessionToken = randomBytes(96).toString("base64");
    const expiresAt = Date.now() + duration * 1000;
    const roleName = roleArn.slice(roleArn.lastIndexOf("/") + 1);
    const assumedArn = `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`;
    keys.set(accessKeyId, {
      secretAccessKey,
      sessionToken,
      expiresAt,
      principal: { arn: assumedArn, actions: role.actions },
    });
    assumed.set(accessKeyId, { roleArn, sessionName });
    sendXml(
      200,
      `<AssumeRoleResponse xmlns="${STS_NAMESPACE}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROA${randomBytes(8).toString("hex").toUpperCase()}:${xmlEscape(sessionName)}</AssumedRoleId>
      <Arn>${xmlEscape(assumedArn)}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>${xmlEscape(secretAccessKey)}</SecretAccessKey>
      <SessionToken>${xmlEscape(sessionToken)}</SessionToken>
      <Expiration>${new Date(expiresAt).toISOString()}</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>`,
    );
  });

  const handleRegistry = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://sim");
    const record: EcrSimRequest = {
      service: "registry",
      operation: url.pathname,
      authorized: req.headers.authorization !== undefined,
      status: 0,
    };
    requests.push(record);
    const login = basicCredentials(req);
    const expiresAt = login?.username === "AWS" ? tokens.get(login.password) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      record.status = 401;
      res.writeHead(401, {
        "content-type": "text/plain; charset=utf-8",
        "www-authenticate": `Basic realm="https://${registryListening?.host ?? ""}/",service="ecr.amazonaws.com"`,
      });
      res.end("Not Authorized\n");
      return;
    }
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    const { authorization: _dropped, ...headers } = req.headers;
    proxy(req, res, registry.url, `${url.pathname}${url.search}`, headers);
  };
  registryListening = await listen(handleRegistry);
  const registryServer = registryListening;

  return {
    apiUrl: `${ecrApi.url}/`,
    stsUrl: `${sts.url}/`,
    registryUrl: registryServer.url,
    registryHost: registryServer.host,
    proxyEndpoint,
    images,
    repositories,
    requests,
    get issued() {
      return issued;
    },
    assumed,
    get tokenLifetimeSeconds() {
      return lifetime;
    },
    set tokenLifetimeSeconds(seconds: number) {
      lifetime = seconds;
    },
    failNext(fault, count) {
      faults.splice(0, faults.length, ...Array.from({ length: count }, () => fault));
    },
    revokeTokens() {
      tokens.clear();
    },
    async stop() {
      await Promise.all([ecrApi.stop(), sts.stop(), registryServer.stop(), registry.stop()]);
    },
  };
}
