/**
 * The Amazon ECR provider (registry type `aws`, registries.md 2.3) against the simulation in
 * test/harness/sim/ecr.ts, which follows AWS's ECR API reference (AWS JSON 1.1: GetAuthorizationToken,
 * DescribeRepositories, DescribeImages with nextToken pages), STS AssumeRole (query protocol, XML)
 * and Signature Version 4 (every request's signature recomputed with the caller's secret), with the
 * registry's /v2/ admitting Basic `AWS:<token>` in front of the real docker-registry. It is a
 * simulation: IAM policies are flat action lists and cross-account access is not modelled.
 * Expected repositories, tags and digests come from the seed, push times from the simulation's
 * records.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Credential } from "../src/api/schemas.js";
import { digestOf } from "../src/registry/client.js";
import {
  AuthError,
  NotFoundError,
  PermissionError,
  ProtocolError,
  RateLimitedError,
  UnsupportedError,
} from "../src/registry/errors.js";
import { awsProvider, ecrHostOf } from "../src/registry/providers/aws.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import { ensureSeededStorage, type SeedContents, seedContents, seededDigestOf } from "./harness/seed.js";
import { type EcrSim, startEcrSim } from "./harness/sim/ecr.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/scanner-role`;
const READ_ACTIONS = ["ecr:GetAuthorizationToken", "ecr:DescribeRepositories", "ecr:DescribeImages"];
const KEYS = {
  reader: { id: "AKIAREADER0000000001", secret: "reader/secret/key+0123456789abcdefABCDEF" },
  assumer: { id: "AKIAASSUMER000000002", secret: "assumer/secret/key+0123456789abcdefABCD" },
  stranger: { id: "AKIASTRANGER00000003", secret: "stranger/secret/key+0123456789abcdefABC" },
  tokenOnly: { id: "AKIATOKENONLY0000004", secret: "token-only/secret/key+0123456789abcdefA" },
  nothing: { id: "AKIANOTHING000000005", secret: "nothing/secret/key+0123456789abcdefABCD" },
};
const NAMES: Record<string, string> = {
  "prod/debian": "debian",
  "prod/alpine": "alpine",
  "prod/multi": "alpine-multi",
  "prod/service": "team-20/service-01",
  "tools/many-tags": "many-tags/alpine",
};
const REPOSITORIES = Object.keys(NAMES).sort();
const MAX_PAGE_SIZE = 2;
const ENV = [
  "SHIPSHAPE_AWS_ECR_URL",
  "SHIPSHAPE_AWS_STS_URL",
  "AWS_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
];

let seed: SeedContents;
let view: StorageView;
let sim: EcrSim;
const sessions: ProviderSession[] = [];
const savedEnv = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));

const credential = (key: { id: string; secret: string } = KEYS.reader, overrides: Partial<Credential> = {}) =>
  ({
    _id: "ecr",
    type: "aws",
    accountID: key.id,
    secret: { encrypted: "", plain: key.secret },
    ...overrides,
  }) as Credential;

async function connect(cred: Credential = credential()) {
  const session = await awsProvider.connect({ registry: sim.registryUrl, credential: cred, spec: {} });
  sessions.push(session);
  return session;
}

const seededTags = (repository: string) =>
  seed.repositories.find((r) => r.name === NAMES[repository])?.tags ?? assert.fail(repository);
const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, NAMES, repository, tag);
/** The simulation's record of the image a tag is on. */
const simImage = (repository: string, tag: string) =>
  sim.images.find((i) => i.repository === repository && i.tags.includes(tag)) ??
  assert.fail(`${repository}:${tag}`);
const ecrRequestsSince = (start: number) => sim.requests.slice(start).filter((r) => r.service === "ecr");

async function rejectsWith(
  promise: Promise<unknown>,
  error: new (...args: never[]) => Error,
  message: RegExp,
) {
  await assert.rejects(promise, (err: Error) => {
    assert.ok(err instanceof error, `${err.constructor.name}: ${err.message}`);
    assert.match(err.message, message);
    return true;
  });
}

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    view = await createStorageView(storageDir, NAMES);
    sim = await startEcrSim({
      storageDir: view.dir,
      account: ACCOUNT,
      region: REGION,
      maxPageSize: MAX_PAGE_SIZE,
      users: {
        [KEYS.reader.id]: { name: "reader", secretAccessKey: KEYS.reader.secret, actions: READ_ACTIONS },
        [KEYS.assumer.id]: {
          name: "assumer",
          secretAccessKey: KEYS.assumer.secret,
          actions: ["sts:AssumeRole"],
        },
        [KEYS.stranger.id]: {
          name: "stranger",
          secretAccessKey: KEYS.stranger.secret,
          actions: ["sts:AssumeRole"],
        },
        [KEYS.tokenOnly.id]: {
          name: "token-only",
          secretAccessKey: KEYS.tokenOnly.secret,
          actions: ["ecr:GetAuthorizationToken"],
        },
        [KEYS.nothing.id]: { name: "nothing", secretAccessKey: KEYS.nothing.secret, actions: [] },
      },
      roles: { [ROLE_ARN]: { actions: READ_ACTIONS, trustedKeys: [KEYS.assumer.id] } },
    });
    process.env.SHIPSHAPE_AWS_ECR_URL = sim.apiUrl;
    process.env.SHIPSHAPE_AWS_STS_URL = sim.stsUrl;
    process.env.AWS_REGION = REGION;
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
  },
  { timeout: 120_000 },
);

after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await sim?.stop();
  await view?.remove();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe("aws provider", () => {
  test("is the provider of type aws and accepts the aws credential type", () => {
    assert.equal(providerFor("aws"), awsProvider);
    assert.deepEqual(awsProvider.credentialTypes, ["aws"]);
  });

  const hosts: [string, ReturnType<typeof ecrHostOf>][] = [
    [
      "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      { account: "123456789012", region: "us-east-1", fips: false },
    ],
    [
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com:443",
      { account: "123456789012", region: "eu-west-1", fips: false },
    ],
    [
      "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn",
      { account: "210987654321", region: "cn-north-1", fips: false },
    ],
    [
      "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
      { account: "123456789012", region: "us-gov-west-1", fips: true },
    ],
    [
      "123456789012.dkr-ecr.ap-south-1.on.aws",
      { account: "123456789012", region: "ap-south-1", fips: false },
    ],
    [
      "123456789012.DKR.ECR.US-EAST-2.AMAZONAWS.COM",
      { account: "123456789012", region: "us-east-2", fips: false },
    ],
    ["12345678901.dkr.ecr.us-east-1.amazonaws.com", undefined],
    ["public.ecr.aws", undefined],
    ["123456789012.dkr.ecr.us-east-1.amazonaws.com.example.org", undefined],
    ["127.0.0.1:5000", undefined],
  ];
  for (const [host, expected] of hosts) {
    test(`ecrHostOf(${host})`, () => {
      assert.deepEqual(ecrHostOf(host), expected);
    });
  }

  test("lists exactly the repositories, tags, digests and imagePushedAt times, all pages", async () => {
    const start = sim.requests.length;
    const session = await connect();
    assert.deepEqual(await session.listRepositories(), REPOSITORIES);
    for (const repository of REPOSITORIES) {
      const tags = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(
        tags.map((t) => t.tag),
        [...seededTags(repository)].sort(),
        repository,
      );
      for (const t of tags) {
        assert.equal(t.digest, seededDigest(repository, t.tag));
        assert.equal(t.pushedAt?.getTime(), simImage(repository, t.tag).pushedAt.getTime());
      }
    }
    const ecr = ecrRequestsSince(start);
    // Five repositories in pages of two; prod/service's three images in pages of two.
    assert.equal(ecr.filter((r) => r.operation === "DescribeRepositories").length, 3);
    const imagePages = ecr.filter((r) => r.operation === "DescribeImages").length;
    assert.equal(imagePages, REPOSITORIES.length + 1);
    // Signed with the credential's key, for the registry proxyEndpoint names.
    assert.deepEqual([...new Set(ecr.map((r) => r.accessKeyId))], [KEYS.reader.id]);
    assert.deepEqual(
      [...new Set(ecr.filter((r) => r.operation !== "GetAuthorizationToken").map((r) => r.registryId))],
      [ACCOUNT],
    );
    assert.ok(ecr.every((r) => r.status === 200));
  });

  test("the multi-platform index is one tag; its untagged platform manifests are not", async () => {
    const session = await connect();
    const untagged = sim.images.filter((i) => i.repository === "prod/multi" && i.tags.length === 0);
    assert.ok(untagged.length >= 2, "the simulation lists the index's platform manifests as untagged images");
    const tags = await session.listTags("prod/multi", { withTimes: true });
    assert.deepEqual(
      tags.map((t) => [t.tag, t.digest]),
      seededTags("prod/multi").map((tag) => [tag, seededDigest("prod/multi", tag)]),
    );
  });

  test("every tag of one image carries that image's push time", async () => {
    const session = await connect();
    const tags = await session.listTags("tools/many-tags", { withTimes: true });
    const image = simImage("tools/many-tags", "t-000");
    assert.equal(tags.length, seededTags("tools/many-tags").length);
    assert.deepEqual([...new Set(tags.map((t) => t.pushedAt?.getTime()))], [image.pushedAt.getTime()]);
    assert.deepEqual([...new Set(tags.map((t) => t.digest))], [image.digest]);
  });

  test("without withTimes the tags carry digests but no times", async () => {
    const session = await connect();
    const tags = await session.listTags("prod/alpine", { withTimes: false });
    assert.deepEqual(
      tags,
      [...seededTags("prod/alpine")].sort().map((tag) => ({ tag, digest: seededDigest("prod/alpine", tag) })),
    );
  });

  test("a cap keeps the newest tags by imagePushedAt", async () => {
    const session = await connect();
    const tags = await session.listTags("prod/service", { withTimes: true });
    const newest = [...seededTags("prod/service")].sort(
      (a, b) =>
        simImage("prod/service", b).pushedAt.getTime() - simImage("prod/service", a).pushedAt.getTime(),
    );
    assert.notDeepEqual(
      newest,
      [...seededTags("prod/service")].sort().reverse(),
      "push order is not name order",
    );
    assert.deepEqual(
      selectTags(tags, { cap: 2 }).map((t) => t.tag),
      newest.slice(0, 2),
    );
  });

  test("pulls with AWS and the authorization token; the digest is the seed's", async () => {
    const session = await connect();
    const tag = seededTags("prod/debian")[0] as string;
    const manifest = await session.client.getManifest("prod/debian", tag);
    assert.equal(manifest.digest, seededDigest("prod/debian", tag));
    assert.equal(digestOf(manifest.bytes), manifest.digest);
  });

  test("with roleArn every ECR call is signed with the assumed role's credentials", async () => {
    const start = sim.requests.length;
    const session = await connect(credential(KEYS.assumer, { roleArn: ROLE_ARN }));
    assert.deepEqual(await session.listRepositories(), REPOSITORIES);
    const tags = await session.listTags("prod/alpine", { withTimes: true });
    assert.deepEqual(
      tags.map((t) => t.tag),
      [...seededTags("prod/alpine")].sort(),
    );
    const since = sim.requests.slice(start);
    const stsCalls = since.filter((r) => r.service === "sts");
    assert.deepEqual(
      stsCalls.map((r) => [r.operation, r.accessKeyId, r.status]),
      [["AssumeRole", KEYS.assumer.id, 200]],
    );
    const ecr = since.filter((r) => r.service === "ecr");
    const signers = [...new Set(ecr.map((r) => r.accessKeyId))];
    assert.equal(signers.length, 1);
    assert.deepEqual(sim.assumed.get(signers[0] as string), { roleArn: ROLE_ARN, sessionName: "shipshape" });
    assert.ok(ecr.every((r) => r.status === 200));
  });

  test("the machine's credential chain (useAWSRole) signs with the environment's keys", async () => {
    process.env.AWS_ACCESS_KEY_ID = KEYS.reader.id;
    process.env.AWS_SECRET_ACCESS_KEY = KEYS.reader.secret;
    try {
      const start = sim.requests.length;
      const session = await connect({ _id: "IAM Role", type: "aws", useAWSRole: true } as Credential);
      assert.deepEqual(await session.listRepositories(), REPOSITORIES);
      assert.deepEqual([...new Set(ecrRequestsSince(start).map((r) => r.accessKeyId))], [KEYS.reader.id]);
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  const connectFailures: {
    name: string;
    credential: () => Credential;
    error: new (...args: never[]) => Error;
    message: RegExp;
  }[] = [
    {
      name: "an unknown access key fails at connect",
      credential: () => credential({ id: "AKIAUNKNOWN000000009", secret: KEYS.reader.secret }),
      error: AuthError,
      message: /AWS refused the credentials of access key AKIAUNKNOWN000000009 \(UnrecognizedClientException/,
    },
    {
      name: "a wrong secret key fails at connect (the signature does not match)",
      credential: () => credential({ id: KEYS.reader.id, secret: "wrong-secret" }),
      error: AuthError,
      message: /AWS refused the credentials of access key AKIAREADER0000000001 \(InvalidSignatureException/,
    },
    {
      name: "a role that does not trust the caller is refused by STS",
      credential: () => credential(KEYS.stranger, { roleArn: ROLE_ARN }),
      error: PermissionError,
      message:
        /role arn:aws:iam::123456789012:role\/scanner-role .* is not allowed \(AccessDenied: User: arn:aws:iam::123456789012:user\/stranger is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role\/scanner-role\); the role's trust policy/,
    },
    {
      name: "a principal without ecr:GetAuthorizationToken is a permission error at connect",
      credential: () => credential(KEYS.nothing),
      error: PermissionError,
      message:
        /getting an ECR authorization token: access key AKIANOTHING000000005 is not allowed \(AccessDeniedException: .*ecr:GetAuthorizationToken/,
    },
    {
      name: "a credential of another type is refused",
      credential: () => ({ _id: "b", type: "basic", accountID: "AWS", secret: { plain: "x" } }) as Credential,
      error: UnsupportedError,
      message: /needs an "aws" credential.*not "basic"/,
    },
    {
      name: "access keys without the secret are refused before any request",
      credential: () => credential({ id: KEYS.reader.id, secret: "" }),
      error: AuthError,
      message: /needs the access key id \(accountID\) and the secret access key/,
    },
  ];
  for (const failure of connectFailures) {
    test(failure.name, async () => {
      await rejectsWith(connect(failure.credential()), failure.error, failure.message);
    });
  }

  test("an empty registry is refused", async () => {
    await rejectsWith(
      awsProvider.connect({ registry: "", credential: credential(), spec: {} }),
      UnsupportedError,
      /needs its host/,
    );
  });

  test("ecr:DescribeRepositories denied is a PermissionError naming the action", async () => {
    const session = await connect(credential(KEYS.tokenOnly));
    await rejectsWith(
      session.listRepositories(),
      PermissionError,
      /listing the repositories of registry 123456789012: access key AKIATOKENONLY0000004 is not allowed \(AccessDeniedException: .*ecr:DescribeRepositories/,
    );
    await rejectsWith(
      session.listTags("prod/alpine", { withTimes: true }),
      PermissionError,
      /ecr:DescribeImages/,
    );
  });

  test("an unknown repository is a NotFoundError naming it", async () => {
    const session = await connect();
    await assert.rejects(session.listTags("prod/missing", { withTimes: true }), (err: Error) => {
      assert.ok(err instanceof NotFoundError, err.message);
      assert.equal(err.repository, "prod/missing");
      assert.match(
        err.message,
        /prod\/missing: listing the images: .*RepositoryNotFoundException: The repository with name 'prod\/missing' does not exist/,
      );
      return true;
    });
  });

  test("throttling past the SDK's retries is a RateLimitedError", async () => {
    const session = await connect();
    const start = sim.requests.length;
    sim.failNext("ThrottlingException", 50);
    try {
      await rejectsWith(
        session.listRepositories(),
        RateLimitedError,
        /Amazon ECR throttled the requests \(ThrottlingException: Rate exceeded\)/,
      );
      // The SDK's standard retry mode with the project's five attempts.
      assert.equal(ecrRequestsSince(start).filter((r) => r.error === "ThrottlingException").length, 5);
    } finally {
      sim.failNext("ThrottlingException", 0);
    }
  });

  test("one ServerException is retried by the SDK and the listing succeeds", async () => {
    const session = await connect();
    const start = sim.requests.length;
    sim.failNext("ServerException", 1);
    assert.deepEqual(await session.listRepositories(), REPOSITORIES);
    assert.equal(ecrRequestsSince(start).filter((r) => r.error === "ServerException").length, 1);
  });

  test("ServerException past the retries is a ProtocolError with the AWS code", async () => {
    const session = await connect();
    sim.failNext("ServerException", 50);
    try {
      await rejectsWith(
        session.listRepositories(),
        ProtocolError,
        /Amazon ECR answered ServerException: Internal service error/,
      );
    } finally {
      sim.failNext("ServerException", 0);
    }
  });

  test("a malformed JSON answer is a ProtocolError", async () => {
    const session = await connect();
    sim.failNext("malformed", 1);
    await rejectsWith(
      session.listRepositories(),
      ProtocolError,
      /listing the repositories of registry 123456789012: Amazon ECR's answer could not be read \(SyntaxError: [^\n]*\)$/,
    );
  });

  test("a revoked authorization token is obtained anew after the registry's 401", async () => {
    const session = await connect();
    const issued = sim.issued;
    sim.revokeTokens();
    const tag = seededTags("prod/alpine")[0] as string;
    const manifest = await session.client.getManifest("prod/alpine", tag);
    assert.equal(manifest.digest, seededDigest("prod/alpine", tag));
    assert.equal(sim.issued, issued + 1);
  });

  test("a short-lived authorization token is renewed ahead of its expiry, before any 401", async () => {
    sim.tokenLifetimeSeconds = 4;
    try {
      const session = await connect();
      const tag = seededTags("prod/debian")[0] as string;
      await session.client.getManifest("prod/debian", tag);
      const issued = sim.issued;
      const start = sim.requests.length;
      // Renewal is due at 3 of the 4 seconds (a quarter of the lifetime ahead of expiry).
      await sleep(3_500);
      const manifest = await session.client.getManifest("prod/debian", tag);
      assert.equal(manifest.digest, seededDigest("prod/debian", tag));
      assert.equal(sim.issued, issued + 1);
      const refused = sim.requests
        .slice(start)
        .filter((r) => r.service === "registry" && r.authorized && r.status === 401);
      assert.deepEqual(refused, []);
    } finally {
      sim.tokenLifetimeSeconds = 12 * 3600;
    }
  });
});
