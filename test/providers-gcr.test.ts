/**
 * The Google provider (registry type `gcr`, registries.md 2.6) against the simulation in
 * test/harness/sim/gcr.ts (the OAuth2 token endpoint checking real RS256 assertions, the Artifact
 * Registry REST API, and a registry host whose tags/list has Google's extension, in front of the real
 * docker-registry). Project `acme-prod` is an Artifact Registry project served from the simulation's
 * host; `legacy-proj` has no Artifact Registry repository there, so it is walked through tags/list.
 * Expected repositories, tags and digests come from the seed, push times from the simulation.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Credential } from "../src/api/schemas.js";
import {
  AuthError,
  NotFoundError,
  PermissionError,
  RateLimitedError,
  UnsupportedError,
} from "../src/registry/errors.js";
import { gcrProvider, isGcrHost, locationOfHost, projectsOfPattern } from "../src/registry/providers/gcr.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import { ensureSeededStorage, type SeedContents, seedContents, seededDigestOf } from "./harness/seed.js";
import { type GcrSim, startGcrSim } from "./harness/sim/gcr.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const EMAIL = "scanner@acme-prod.iam.gserviceaccount.com";
const NAMES: Record<string, string> = {
  "acme-prod/containers/app": "team-01/service-01",
  "acme-prod/containers/tools/alpine": "alpine",
  "acme-prod/containers/multi": "alpine-multi",
  "acme-prod/eu-images/debian": "debian",
  "acme-prod/elsewhere/node-app": "node-app",
  "legacy-proj/app": "team-02/service-01",
  "legacy-proj/team/api": "team-02/service-02",
  "legacy-proj/many": "many-tags/alpine",
  "locked-proj/app": "debian",
};
const GAR_REPOSITORIES = [
  "acme-prod/containers/app",
  "acme-prod/containers/multi",
  "acme-prod/containers/tools/alpine",
  "acme-prod/eu-images/debian",
];
const LEGACY_REPOSITORIES = ["legacy-proj/app", "legacy-proj/many", "legacy-proj/team/api"];

const keyPair = () =>
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
const serviceAccountKey = keyPair();
const strangerKey = keyPair();

let seed: SeedContents;
let view: StorageView;
let sim: GcrSim;
const sessions: ProviderSession[] = [];
const savedApi = process.env.SHIPSHAPE_ARTIFACTREGISTRY_URL;

const keyJson = (privateKey = serviceAccountKey.privateKey) =>
  JSON.stringify({
    type: "service_account",
    project_id: "acme-prod",
    private_key_id: "0123456789abcdef",
    private_key: privateKey,
    client_email: EMAIL,
    client_id: "100000000000000000001",
    auth_uri: "https://accounts.google.com/o/oauth2/auth",
    token_uri: sim.tokenUri,
  });
const gcpCredential = (key = keyJson()): Credential =>
  ({ _id: "gcp", type: "gcp", secret: { encrypted: "", plain: key } }) as Credential;
const basicCredential = (user: string, secret: string): Credential =>
  ({
    _id: "gcp-basic",
    type: "basic",
    accountID: user,
    secret: { encrypted: "", plain: secret },
  }) as Credential;

async function connect(options: { repository?: string; credential?: Credential | null } = {}) {
  const session = await gcrProvider.connect({
    registry: sim.registryUrl,
    credential: options.credential === null ? undefined : (options.credential ?? gcpCredential()),
    spec: options.repository === undefined ? {} : { repository: options.repository },
  });
  sessions.push(session);
  return session;
}

const seededTags = (repository: string) =>
  seed.repositories.find((r) => r.name === NAMES[repository])?.tags ?? assert.fail(repository);
const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, NAMES, repository, tag);

async function assertTags(session: ProviderSession, repository: string) {
  const tags = await session.listTags(repository, { withTimes: true });
  assert.deepEqual(
    tags.map((t) => t.tag),
    [...seededTags(repository)].sort(),
    repository,
  );
  for (const t of tags) {
    assert.equal(t.digest, seededDigest(repository, t.tag), `${repository}:${t.tag}`);
    const image = sim.images.find((i) => i.repository === repository && i.tag === t.tag);
    assert.equal(t.pushedAt?.getTime(), image?.uploadedAt.getTime(), `${repository}:${t.tag}`);
  }
}

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    view = await createStorageView(storageDir, NAMES);
    sim = await startGcrSim({
      storageDir: view.dir,
      projects: ["acme-prod", "legacy-proj", "locked-proj"],
      locations: ["us-central1", "europe-west1", "us-east1"],
      serviceAccounts: {
        [EMAIL]: { publicKey: serviceAccountKey.publicKey, projects: ["acme-prod", "legacy-proj"] },
      },
      repositories: [
        { project: "acme-prod", location: "us-central1", repository: "containers", servedHere: true },
        {
          project: "acme-prod",
          location: "us-central1",
          repository: "jars",
          format: "MAVEN",
          servedHere: true,
        },
        { project: "acme-prod", location: "europe-west1", repository: "eu-images", servedHere: true },
        { project: "acme-prod", location: "us-east1", repository: "elsewhere", servedHere: false },
      ],
    });
    process.env.SHIPSHAPE_ARTIFACTREGISTRY_URL = sim.apiUrl;
  },
  { timeout: 120_000 },
);

after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await sim?.stop();
  await view?.remove();
  if (savedApi === undefined) delete process.env.SHIPSHAPE_ARTIFACTREGISTRY_URL;
  else process.env.SHIPSHAPE_ARTIFACTREGISTRY_URL = savedApi;
});

describe("gcr provider", () => {
  test("is registered for type gcr with the gcp and basic credentials", () => {
    assert.equal(providerFor("gcr"), gcrProvider);
    assert.deepEqual(gcrProvider.credentialTypes, ["gcp", "basic"]);
  });

  test("reads the registry host patterns and the pattern's projects", () => {
    assert.equal(locationOfHost("us-central1-docker.pkg.dev"), "us-central1");
    assert.equal(locationOfHost("europe-docker.pkg.dev:443"), "europe");
    assert.equal(locationOfHost("gcr.io"), undefined);
    assert.deepEqual(["gcr.io", "eu.gcr.io", "us-docker.pkg.dev", "notgcr.io"].map(isGcrHost), [
      true,
      true,
      false,
      false,
    ]);
    assert.deepEqual(projectsOfPattern("b-proj/app, a-proj/*, -a-proj/old"), ["a-proj", "b-proj"]);
    assert.equal(projectsOfPattern("*"), undefined);
    assert.equal(projectsOfPattern(""), undefined);
  });

  test("Artifact Registry: exactly the Docker repositories served from this host, over every page", async () => {
    const before = sim.requests.length;
    const session = await connect({ repository: "acme-prod/*" });
    assert.deepEqual(await session.listRepositories(), GAR_REPOSITORIES);
    const calls = sim.requests.slice(before).filter((r) => r.host === "api" && r.path.startsWith("/v1/"));
    // Three locations at two a page, and the containers repository's five images at two a page.
    assert.equal(calls.filter((r) => r.path === "/v1/projects/acme-prod/locations").length, 2);
    assert.equal(calls.filter((r) => r.path.endsWith("/repositories/containers/dockerImages")).length, 3);
    assert.ok(calls.every((r) => r.status === 200 && /pageSize=1000/.test(r.query)));
    // The repository served from another host is never listed.
    assert.ok(!calls.some((r) => r.path.includes("/repositories/elsewhere/")));
  });

  test("Artifact Registry: tags, digests and uploadTime of every repository", async () => {
    const session = await connect({ repository: "acme-prod/*" });
    for (const repository of GAR_REPOSITORIES) await assertTags(session, repository);
  });

  test("the project comes from the key's project_id when the pattern names none", async () => {
    const session = await connect({ repository: "*" });
    assert.deepEqual(await session.listRepositories(), GAR_REPOSITORIES);
  });

  test("a project with no repository on this host is walked through tags/list child[] with n=10000", async () => {
    const before = sim.requests.length;
    const session = await connect({ repository: "legacy-proj/*" });
    assert.deepEqual(await session.listRepositories(), LEGACY_REPOSITORIES);
    for (const repository of LEGACY_REPOSITORIES) await assertTags(session, repository);
    const tagLists = sim.requests
      .slice(before)
      .filter((r) => r.host === "registry" && r.path.endsWith("/tags/list"));
    assert.deepEqual(
      [...new Set(tagLists.map((r) => r.path))].sort(),
      [
        "/v2/legacy-proj/app/tags/list",
        "/v2/legacy-proj/many/tags/list",
        "/v2/legacy-proj/tags/list",
        "/v2/legacy-proj/team/api/tags/list",
        "/v2/legacy-proj/team/tags/list",
      ].sort(),
    );
    assert.ok(tagLists.every((r) => r.query === "?n=10000"));
    // Without n the answer stops at 100 entries: all 250 tags came only because n was given.
    assert.equal((await session.listTags("legacy-proj/many", { withTimes: false })).length, 250);
  });

  test("both kinds of project in one specification", async () => {
    const session = await connect({ repository: "acme-prod/*,legacy-proj/*" });
    assert.deepEqual(await session.listRepositories(), [...GAR_REPOSITORIES, ...LEGACY_REPOSITORIES].sort());
  });

  test("a cap keeps the newest tags by push time", async () => {
    const session = await connect({ repository: "acme-prod/*" });
    const tags = await session.listTags("acme-prod/containers/app", { withTimes: true });
    const times = new Set(tags.map((t) => t.pushedAt?.getTime()));
    assert.equal(times.size, tags.length, "every tag of app has its own push time");
    const newest = [...tags].sort((a, b) => (b.pushedAt?.getTime() ?? 0) - (a.pushedAt?.getTime() ?? 0));
    assert.deepEqual(
      selectTags(tags, { cap: 2 }).map((t) => t.tag),
      newest.slice(0, 2).map((t) => t.tag),
    );
  });

  test("pulls through session.client as oauth2accesstoken; digests are the seed's", async () => {
    const session = await connect({ repository: "acme-prod/*,legacy-proj/*" });
    for (const repository of ["acme-prod/containers/tools/alpine", "legacy-proj/team/api"]) {
      const [tag] = seededTags(repository);
      assert.ok(tag);
      const image = await session.client.resolveImage(repository, tag);
      assert.equal(image.digest, seededDigest(repository, tag));
    }
    assert.ok(sim.realmLogins.length > 0 && sim.realmLogins.every((l) => l.valid));
  });

  const credentialForms: { name: string; credential: () => Credential }[] = [
    { name: "_json_key", credential: () => basicCredential("_json_key", keyJson()) },
    {
      name: "_json_key_base64",
      credential: () => basicCredential("_json_key_base64", Buffer.from(keyJson()).toString("base64")),
    },
    {
      name: "oauth2accesstoken",
      credential: () => basicCredential("oauth2accesstoken", sim.issueToken(EMAIL)),
    },
  ];
  for (const form of credentialForms) {
    test(`a basic credential with user ${form.name}`, async () => {
      const session = await connect({ repository: "acme-prod/*", credential: form.credential() });
      assert.deepEqual(await session.listRepositories(), GAR_REPOSITORIES);
      await assertTags(session, "acme-prod/containers/app");
    });
  }

  const failures: {
    name: string;
    options: () => { repository?: string; credential?: Credential | null };
    error: new (...args: never[]) => Error;
    message: RegExp;
  }[] = [
    {
      name: "a key whose signature Google cannot verify fails at connect with invalid_grant",
      options: () => ({
        repository: "acme-prod/*",
        credential: gcpCredential(keyJson(strangerKey.privateKey)),
      }),
      error: AuthError,
      message: /Google refused an access token for scanner@.*invalid_grant: Invalid JWT Signature/,
    },
    {
      name: "a secret that is no JSON key",
      options: () => ({ repository: "acme-prod/*", credential: gcpCredential("not json") }),
      error: AuthError,
      message: /is not a service-account JSON key/,
    },
    {
      name: "an expired access token fails at connect",
      options: () => ({
        repository: "acme-prod/*",
        credential: basicCredential("oauth2accesstoken", "ya29.expired"),
      }),
      error: AuthError,
      message: /rejected the access token.*UNAUTHENTICATED/,
    },
    {
      name: "a project that does not exist is NOT_FOUND",
      options: () => ({ repository: "no-such-proj/*" }),
      error: NotFoundError,
      message: /Google Artifact Registry does not know it.*NOT_FOUND.*check the project ID/,
    },
    {
      name: "a project the service account may not read is PERMISSION_DENIED",
      options: () => ({ repository: "locked-proj/*" }),
      error: PermissionError,
      message: /PERMISSION_DENIED.*roles\/artifactregistry\.reader/,
    },
    {
      name: "a walked project the account may not read is denied at connect",
      options: () => ({ repository: "locked-proj/*", credential: null }),
      error: PermissionError,
      message: /listing tags: Google Artifact Registry denied anonymous access .*DENIED/,
    },
    {
      name: "no project anywhere",
      options: () => ({ credential: basicCredential("oauth2accesstoken", sim.issueToken(EMAIL)) }),
      error: UnsupportedError,
      message: /name the Google Cloud project/,
    },
    {
      name: "a credential of another kind",
      options: () => ({ repository: "acme-prod/*", credential: basicCredential("someone", "secret") }),
      error: UnsupportedError,
      message: /use type "gcp".*_json_key, _json_key_base64 or oauth2accesstoken/,
    },
  ];
  for (const failure of failures) {
    test(failure.name, async () => {
      await assert.rejects(connect(failure.options()), (err: Error) => {
        assert.ok(err instanceof failure.error, `${err.constructor.name}: ${err.message}`);
        assert.match(err.message, failure.message);
        return true;
      });
    });
  }

  test("RESOURCE_EXHAUSTED past the retries ends in a RateLimitedError naming the product", async () => {
    const session = await connect({ repository: "acme-prod/*" });
    sim.failNext(429, 50);
    try {
      await assert.rejects(session.listRepositories(), (err: Error) => {
        assert.ok(err instanceof RateLimitedError, err.message);
        assert.match(err.message, /Google Artifact Registry quota exhausted.*RESOURCE_EXHAUSTED/);
        return true;
      });
    } finally {
      sim.failNext(429, 0);
    }
  });

  test("a 503 is retried and then succeeds", async () => {
    const session = await connect({ repository: "acme-prod/*" });
    const failed = sim.requests.filter((r) => r.status === 503).length;
    sim.failNext(503, 1);
    assert.deepEqual(await session.listRepositories(), GAR_REPOSITORIES);
    assert.equal(sim.requests.filter((r) => r.status === 503).length, failed + 1);
  });

  test("a revoked access token is obtained anew once after the 401", async () => {
    const session = await connect({ repository: "acme-prod/*" });
    const issued = sim.issued;
    sim.revokeTokens();
    assert.deepEqual(await session.listRepositories(), GAR_REPOSITORIES);
    assert.equal(sim.issued, issued + 1);
  });

  test("short-lived access tokens are renewed ahead of expiry for the API and the registry", async () => {
    sim.tokenLifetimeSeconds = 4;
    try {
      const session = await connect({ repository: "acme-prod/*,legacy-proj/*" });
      const issued = sim.issued;
      const logins = sim.realmLogins.length;
      const apiRejections = () => sim.requests.filter((r) => r.status === 401 && r.host === "api").length;
      const rejectedBefore = apiRejections();
      // Renewal is due at 3 of the 4 seconds (a quarter of the lifetime ahead of expiry).
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      assert.deepEqual(
        await session.listRepositories(),
        [...GAR_REPOSITORIES, ...LEGACY_REPOSITORIES].sort(),
      );
      const [tag] = seededTags("acme-prod/eu-images/debian");
      assert.ok(tag);
      await session.client.resolveImage("acme-prod/eu-images/debian", tag);
      assert.ok(sim.issued >= issued + 2, `issued ${sim.issued - issued}`);
      assert.equal(apiRejections(), rejectedBefore);
      const later = sim.realmLogins.slice(logins);
      assert.ok(later.length > 0 && later.every((l) => l.valid));
    } finally {
      sim.tokenLifetimeSeconds = 3600;
    }
  });

  test("an unknown repository is a NotFoundError, never an empty list", async () => {
    const session = await connect({ repository: "acme-prod/*" });
    await assert.rejects(session.listTags("acme-prod/containers/none", { withTimes: true }), NotFoundError);
  });
});
