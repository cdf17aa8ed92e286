/**
 * Registry type `aws` (spec section 8; registries.md 2.3): Amazon ECR private registries, through the
 * official AWS SDK for JavaScript v3 and the ECR API reference
 * (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/): `GetAuthorizationToken`
 * (`authorizationData[].authorizationToken` = base64 of `AWS:<password>`, `expiresAt` 12 hours out,
 * `proxyEndpoint`), `DescribeRepositories` and `DescribeImages` (`imageDigest`, `imageTags`,
 * `imagePushedAt`; `maxResults` ≤ 1000 and `nextToken` pages), and STS `AssumeRole`
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
 *
 * - `registry`: `<account>.dkr.ecr.<region>.amazonaws.com` (also `.amazonaws.com.cn`, FIPS
 *   `dkr.ecr-fips`, dual-stack `dkr-ecr.<region>.on.aws`, the isolated partitions) or a URL. The
 *   account is the registryId of the describe calls and the region the API's. Any other host (a
 *   proxy, a private endpoint, the tests' simulation) takes the region from `AWS_REGION` /
 *   `AWS_DEFAULT_REGION` or the SDK's shared config, and the registryId from the authorization
 *   token's `proxyEndpoint` (the caller's default registry); without either the describe calls go
 *   without registryId, which ECR reads as the caller's own registry.
 * - Credentials: type `aws` with the access key id in `accountID` and the secret key in `secret`, or
 *   `useAWSRole` for the machine's own credential chain (environment, shared config/SSO, web
 *   identity, ECS/EC2 metadata: fromNodeProviderChain). With `roleArn`, those credentials assume the
 *   role through STS (fromTemporaryCredentials, renewed by the SDK before they expire) and every ECR
 *   call is signed with the role's. Bad keys fail at connect, where the first authorization token is
 *   obtained.
 * - The authorization token is the registry's Basic password for user `AWS`: renewed ahead of its
 *   expiry and once after a 401 (ExpiringValue, the `refreshing` credentials of auth.ts).
 * - Repositories: every DescribeRepositories page (the scan applies the `repository` pattern). Tags:
 *   every DescribeImages page with `tagStatus` TAGGED, one tag per entry of `imageTags` with the
 *   image's digest and `imagePushedAt` (it belongs to the digest: every tag of an image shares it);
 *   untagged images are left out (archived ones, which cannot be pulled, ECR leaves out by default).
 * - Endpoints: `SHIPSHAPE_AWS_ECR_URL` and `SHIPSHAPE_AWS_STS_URL` move the ECR API and STS (the
 *   tests' simulation); otherwise the SDK's own endpoint resolution applies, including its
 *   `AWS_ENDPOINT_URL_ECR` / `AWS_ENDPOINT_URL_STS`.
 * - Errors: UnrecognizedClientException, InvalidSignatureException, InvalidClientTokenId,
 *   SignatureDoesNotMatch, ExpiredToken(Exception) → AuthError; AccessDenied(Exception) →
 *   PermissionError; RepositoryNotFoundException → NotFoundError; throttling still refused after the
 *   SDK's retries → RateLimitedError; anything else → ProtocolError with the AWS error code and message.
 */
import type { AuthorizationData, ECRClient, ECRClientConfig } from "@aws-sdk/client-ecr";
import type { StaticCredentials } from "../auth.js";
import { defaultRetryPolicy } from "../backoff.js";
import { RegistryClient } from "../client.js";
import {
  AuthError,
  NetworkError,
  NotFoundError,
  PermissionError,
  ProtocolError,
  RateLimitedError,
  type RegistryError,
  type RegistryErrorContext,
  UnsupportedError,
} from "../errors.js";
import { type Expiring, ExpiringValue } from "../expiring.js";
import { v2AddressOf } from "./docker-v2.js";
import { serviceEndpoint } from "./endpoints.js";
import type {
  DiscoveredTag,
  ProviderContext,
  ProviderSession,
  RegistryProvider,
  ResolvedCredential,
} from "./provider.js";

/** The largest page ECR serves (DescribeRepositories and DescribeImages `maxResults`). */
const PAGE_SIZE = 1000;
/** A guard against a service that keeps answering with a next page. */
const MAX_PAGES = 10_000;
const ROLE_SESSION_NAME = "shipshape";
const PRODUCT = "Amazon ECR";

const ECR_HOST =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9-]+)\.(amazonaws\.com(\.cn)?|on\.aws|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

export interface EcrHost {
  account: string;
  region: string;
  fips: boolean;
}

/** Account and region of an ECR registry host name (a port is ignored), or undefined for other hosts. */
export function ecrHostOf(host: string): EcrHost | undefined {
  const match = ECR_HOST.exec(host.toLowerCase().replace(/:\d+$/, ""));
  if (!match) return undefined;
  return { account: match[1] as string, region: match[3] as string, fips: match[2] !== undefined };
}

/** Keys, or a provider of them that the SDK calls again before they expire. */
type AwsCredentials = NonNullable<ECRClientConfig["credentials"]>;
// The SDK is loaded when an ECR registry is connected, not with every command (it is a large
// share of the CLI bundle).
type EcrSdk = typeof import("@aws-sdk/client-ecr");
type CredentialProviders = typeof import("@aws-sdk/credential-providers");

/** The URL in `envName`, or undefined to leave the endpoint to the SDK. */
function endpointFrom(envName: string): string | undefined {
  if (!process.env[envName]?.trim()) return undefined;
  return serviceEndpoint(envName, "").href;
}

/** How the credential signs: its own keys or the machine's chain, then optionally an assumed role. */
function awsCredentialsOf(
  credential: ResolvedCredential | undefined,
  ctx: RegistryErrorContext,
  sts: { region: string | undefined; endpoint: string | undefined },
  { fromNodeProviderChain, fromTemporaryCredentials }: CredentialProviders,
): { provider: AwsCredentials; describe: string } {
  if (credential === undefined || credential.type !== "aws") {
    throw new UnsupportedError(
      ctx,
      `Amazon ECR needs an "aws" credential (access key id and secret key, or useAWSRole)${credential ? `, not "${credential.type}"` : ""}`,
    );
  }
  let base: AwsCredentials;
  let describe: string;
  if (credential.useAWSRole === true) {
    base = fromNodeProviderChain();
    describe = "the machine's AWS credentials";
  } else {
    const accessKeyId = credential.accountID?.trim() ?? "";
    const secretAccessKey = credential.secret?.plain ?? "";
    if (accessKeyId === "" || secretAccessKey === "") {
      throw new AuthError(
        ctx,
        `credential "${credential._id}" needs the access key id (accountID) and the secret access key (secret), or useAWSRole`,
      );
    }
    base = { accessKeyId, secretAccessKey };
    describe = `access key ${accessKeyId}`;
  }
  const roleArn = credential.roleArn?.trim() ?? "";
  if (roleArn === "") return { provider: base, describe };
  return {
    provider: fromTemporaryCredentials({
      masterCredentials: base,
      params: { RoleArn: roleArn, RoleSessionName: ROLE_SESSION_NAME },
      clientConfig: {
        region: sts.region,
        maxAttempts: defaultRetryPolicy.maxAttempts,
        ...(sts.endpoint ? { endpoint: sts.endpoint } : {}),
      },
    }),
    describe: `role ${roleArn} (assumed with ${describe})`,
  };
}

interface AwsFailure {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const AUTH_CODES = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "ExpiredToken",
  "ExpiredTokenException",
  "CredentialsProviderError",
]);
const THROTTLING_CODES = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
]);
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE"]);

/** An AWS SDK failure as the typed registry error it means; `who` names the signing identity. */
function awsFailure(err: unknown, what: string, ctx: RegistryErrorContext, who: string): RegistryError {
  const failure = (err ?? {}) as AwsFailure;
  const name = failure.name ?? "Error";
  // The SDK appends a multi-line hint on reading failures; the first line says what went wrong.
  const message = (failure.message ?? String(err)).split("\n")[0]?.trim() ?? "";
  const status = failure.$metadata?.httpStatusCode;
  const answer = `${name}: ${message}`;
  const opts = { cause: err, ...(status === undefined ? {} : { status }) };
  if (AUTH_CODES.has(name))
    return new AuthError(ctx, `${what}: AWS refused the credentials of ${who} (${answer})`, opts);
  // STS says AccessDenied, ECR AccessDeniedException.
  if (name === "AccessDenied")
    return new PermissionError(
      ctx,
      `${what}: ${who} is not allowed (${answer}); the role's trust policy must name the caller, who needs sts:AssumeRole on it`,
      opts,
    );
  if (name === "AccessDeniedException")
    return new PermissionError(
      ctx,
      `${what}: ${who} is not allowed (${answer}); the AmazonEC2ContainerRegistryReadOnly policy grants what a scan needs`,
      opts,
    );
  if (name === "RepositoryNotFoundException")
    return new NotFoundError(ctx, `${what}: ${PRODUCT} has no such repository (${answer})`, opts);
  if (THROTTLING_CODES.has(name) || status === 429)
    return new RateLimitedError(
      ctx,
      `${what}: ${PRODUCT} throttled the requests (${answer}); retry later`,
      undefined,
    );
  if (/region is missing/i.test(message))
    return new UnsupportedError(
      ctx,
      `${what}: the registry is not an ECR host name (<account>.dkr.ecr.<region>.amazonaws.com), so the region must come from AWS_REGION or the AWS config`,
      opts,
    );
  if (NETWORK_CODES.has(failure.code ?? "") || name === "TimeoutError")
    return new NetworkError(ctx, `${what}: AWS is unreachable (${answer})`, { cause: err });
  if (name === "SyntaxError" || /deserialization error/i.test(failure.message ?? ""))
    return new ProtocolError(ctx, `${what}: ${PRODUCT}'s answer could not be read (${answer})`, opts);
  return new ProtocolError(ctx, `${what}: ${PRODUCT} answered ${answer}`, opts);
}

/** `AWS:<password>` out of an authorization token, with its expiry. */
function registryLogin(
  data: AuthorizationData | undefined,
  ctx: RegistryErrorContext,
): Expiring<StaticCredentials> {
  const decoded = Buffer.from(data?.authorizationToken ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0)
    throw new ProtocolError(ctx, `${PRODUCT} sent an authorization token that is not user:password`);
  return {
    value: { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1) },
    expiresAt: data?.expiresAt?.getTime(),
  };
}

/** Whether an ECR failure is an abort the caller asked for, which is passed on as is. */
const isAbort = (err: unknown, signal?: AbortSignal) =>
  signal?.aborted === true || (err as { name?: string } | undefined)?.name === "AbortError";

class EcrSession implements ProviderSession {
  constructor(
    readonly client: RegistryClient,
    readonly registryHost: string,
    private readonly ecr: ECRClient,
    private readonly sdk: EcrSdk,
    private readonly registryId: string | undefined,
    private readonly who: string,
  ) {}

  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    const ctx = { registry: this.registryHost };
    const what = `listing the repositories${this.registryId ? ` of registry ${this.registryId}` : ""}`;
    const names: string[] = [];
    try {
      const pages = this.sdk.paginateDescribeRepositories(
        { client: this.ecr, pageSize: PAGE_SIZE, stopOnSameToken: true },
        { registryId: this.registryId },
        { abortSignal: signal },
      );
      let count = 0;
      for await (const page of pages) {
        if (++count > MAX_PAGES) throw new ProtocolError(ctx, `${what}: more than ${MAX_PAGES} pages`);
        for (const repository of page.repositories ?? [])
          if (repository.repositoryName) names.push(repository.repositoryName);
      }
    } catch (err) {
      if (isAbort(err, signal) || err instanceof ProtocolError) throw err;
      throw awsFailure(err, what, ctx, this.who);
    }
    return [...new Set(names)].sort();
  }

  async listTags(
    repository: string,
    options: { withTimes: boolean; signal?: AbortSignal },
  ): Promise<DiscoveredTag[]> {
    const ctx = { registry: this.registryHost, repository };
    const what = "listing the images";
    const tags: DiscoveredTag[] = [];
    try {
      const pages = this.sdk.paginateDescribeImages(
        { client: this.ecr, pageSize: PAGE_SIZE, stopOnSameToken: true },
        { registryId: this.registryId, repositoryName: repository, filter: { tagStatus: "TAGGED" } },
        { abortSignal: options.signal },
      );
      let count = 0;
      for await (const page of pages) {
        if (++count > MAX_PAGES) throw new ProtocolError(ctx, `${what}: more than ${MAX_PAGES} pages`);
        for (const image of page.imageDetails ?? []) {
          for (const tag of image.imageTags ?? []) {
            tags.push({
              tag,
              digest: image.imageDigest,
              ...(options.withTimes ? { pushedAt: image.imagePushedAt } : {}),
            });
          }
        }
      }
    } catch (err) {
      if (isAbort(err, options.signal) || err instanceof ProtocolError) throw err;
      throw awsFailure(err, what, ctx, this.who);
    }
    return tags.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  }

  async close(): Promise<void> {
    this.ecr.destroy();
    await this.client.close();
  }
}

export const awsProvider: RegistryProvider = {
  type: "aws",
  credentialTypes: ["aws"],

  async connect(context: ProviderContext): Promise<ProviderSession> {
    if (context.registry.trim() === "") {
      throw new UnsupportedError(
        { registry: "" },
        "an Amazon ECR registry needs its host (<account>.dkr.ecr.<region>.amazonaws.com)",
      );
    }
    const address = v2AddressOf(context.registry, context.insecure ?? false);
    const ctx = { registry: address.registryHost };
    const host = ecrHostOf(address.registryHost);
    const region =
      host?.region ?? (process.env.AWS_REGION?.trim() || process.env.AWS_DEFAULT_REGION?.trim() || undefined);
    const ecrEndpoint = endpointFrom("SHIPSHAPE_AWS_ECR_URL");
    // CommonJS packages: `default` is their module.exports both under Node.js and in the bundle.
    const [sdk, credentialProviders] = await Promise.all([
      import("@aws-sdk/client-ecr").then((m) => m.default),
      import("@aws-sdk/credential-providers").then((m) => m.default),
    ]);
    const { provider, describe } = awsCredentialsOf(
      context.credential,
      ctx,
      { region, endpoint: endpointFrom("SHIPSHAPE_AWS_STS_URL") },
      credentialProviders,
    );
    const ecr = new sdk.ECRClient({
      region,
      // The SDK's own backoff (longer for throttling), as many attempts as the registry transport makes.
      maxAttempts: defaultRetryPolicy.maxAttempts,
      credentials: provider,
      ...(ecrEndpoint ? { endpoint: ecrEndpoint } : {}),
      ...(host?.fips ? { useFipsEndpoint: true } : {}),
    });
    let proxyEndpoint: string | undefined;
    const token = new ExpiringValue<StaticCredentials>(async (signal) => {
      let data: AuthorizationData | undefined;
      try {
        const answer = await ecr.send(new sdk.GetAuthorizationTokenCommand({}), { abortSignal: signal });
        data = answer.authorizationData?.[0];
      } catch (err) {
        if (isAbort(err, signal)) throw err;
        throw awsFailure(err, "getting an ECR authorization token", ctx, describe);
      }
      proxyEndpoint = data?.proxyEndpoint;
      return registryLogin(data, ctx);
    });
    const client = new RegistryClient({
      registry: address.address,
      credentials: {
        kind: "refreshing",
        describe: `the ECR authorization token of ${describe}`,
        source: token,
      },
      insecure: address.insecure,
      ca: context.caCert?.trim() || undefined,
    });
    try {
      await token.get();
      await client.login();
    } catch (err) {
      ecr.destroy();
      await client.close();
      throw err;
    }
    const registryId =
      host?.account ?? (proxyEndpoint ? ecrHostOf(hostOf(proxyEndpoint))?.account : undefined);
    return new EcrSession(client, address.registryHost, ecr, sdk, registryId, describe);
  },
};

/** The host of a `proxyEndpoint` URL ("https://<account>.dkr.ecr.<region>.amazonaws.com"). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
