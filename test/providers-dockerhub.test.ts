/**
 * The Docker Hub provider (registry type `2` with registry "", spec section 8, registries.md 2.2)
 * against the Docker Hub simulation in test/harness/sim/dockerhub.ts: a simulation of the Docker Hub
 * API as https://docs.docker.com/reference/api/hub/latest/ documents it (auth token, namespace
 * repositories, tags, next pages, rate limits; what it leaves out is listed at its top), a token
 * service on its own port, and the real docker-registry behind a front that counts manifest GETs as
 * pulls and sends Docker Hub's pull-limit headers. Page sizes are capped at 7 so lists span pages.
 * Expected repositories, tags and digests come from the seed, push times from the simulation's
 * records.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
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
import { dockerV2Provider } from "../src/registry/providers/docker-v2.js";
import {
  dockerHubProvider,
  hubRepositoryPattern,
  hubSelection,
} from "../src/registry/providers/dockerhub.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { DiscoveredTag, ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import {
  byTag,
  ensureSeededStorage,
  type SeedContents,
  seedContents,
  seededDigestOf,
} from "./harness/seed.js";
import { type DockerHubSim, startDockerHubSim } from "./harness/sim/dockerhub.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const PAT_USER = "acmebot";
const PAT = "dckr_pat_acme-0123456789abcdef";
const OUTSIDER = "outsider";
const OUTSIDER_PASSWORD = "outsider-password-1";
const PAGE_CAP = 7;
const LEGACY_TAG = "library/alpine:3.10.3";

let seed: SeedContents;
let view: StorageView;
let sim: DockerHubSim;
/** Docker Hub repository name → the seeded repository it serves. */
const names: Record<string, string> = {
  "library/alpine": "alpine",
  "library/debian": "debian",
  "library/alpine-multi": "alpine-multi",
  "acme/service-01": "team-01/service-01",
  "acme/service-02": "team-01/service-02",
  "acme/service-03": "team-01/service-03",
  "acme/private-app": "node-app",
  "many/alpine": "many-tags/alpine",
};
const sessions: ProviderSession[] = [];
const saved = {
  api: process.env.SHIPSHAPE_DOCKERHUB_API_URL,
  registry: process.env.SHIPSHAPE_DOCKERHUB_REGISTRY_URL,
};

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    for (const { name } of seed.repositories) if (name.startsWith("bulk/")) names[name] = name;
    view = await createStorageView(storageDir, names);
    sim = await startDockerHubSim({
      storageDir: view.dir,
      accounts: {
        [PAT_USER]: { secret: PAT, namespaces: ["acme"] },
        [OUTSIDER]: { secret: OUTSIDER_PASSWORD, namespaces: [] },
      },
      privateRepositories: ["acme/private-app"],
      maxPageSize: PAGE_CAP,
      legacyTags: [LEGACY_TAG],
    });
    process.env.SHIPSHAPE_DOCKERHUB_API_URL = sim.apiUrl;
    process.env.SHIPSHAPE_DOCKERHUB_REGISTRY_URL = sim.registryUrl;
  },
  { timeout: 20 * 60_000 },
);

after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await sim?.stop();
  await view?.remove();
  for (const [key, value] of [
    ["SHIPSHAPE_DOCKERHUB_API_URL", saved.api],
    ["SHIPSHAPE_DOCKERHUB_REGISTRY_URL", saved.registry],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const basic = (accountID: string, password: string): Credential => ({
  _id: "dockerhub",
  type: "basic",
  accountID,
  secret: { plain: password },
});

async function connect(
  repository: string,
  credential?: Credential,
  namespace?: string,
): Promise<ProviderSession> {
  const session = await dockerHubProvider.connect({
    registry: "",
    namespace,
    credential,
    spec: { repository },
  });
  sessions.push(session);
  return session;
}

const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, names, repository, tag);

/** What the provider should report: the seed's digest, `tag_last_pushed` or else `last_updated`. */
function expectedTags(repository: string): DiscoveredTag[] {
  return sim.tags
    .filter((t) => t.repository === repository)
    .map((t) => ({
      tag: t.tag,
      digest: seededDigest(repository, t.tag),
      pushedAt: t.pushedAt ?? t.updatedAt,
    }))
    .sort(byTag);
}

const apiCalls = (path: string) => sim.apiRequests.filter((r) => r.path === path);
const manifestRequests = (method: string) =>
  sim.registryRequests.filter((r) => r.method === method && /\/manifests\//.test(r.path));

describe("dockerhub provider", { timeout: 300_000 }, () => {
  test('type 2 with registry "" (or docker.io) is Docker Hub, through its API', async () => {
    assert.equal(providerFor("2"), dockerV2Provider);
    assert.deepEqual(dockerHubProvider.credentialTypes, ["basic"]);
    for (const registry of ["", "docker.io", "https://index.docker.io/v1/"]) {
      const before = apiCalls("/v2/namespaces/acme/repositories").length;
      const session = await dockerV2Provider.connect({ registry, spec: { repository: "acme/*" } });
      sessions.push(session);
      assert.equal(session.registryHost, "docker.io");
      assert.deepEqual(await session.listRepositories(), [
        "acme/service-01",
        "acme/service-02",
        "acme/service-03",
      ]);
      assert.equal(apiCalls("/v2/namespaces/acme/repositories").length, before + 2, registry);
    }
  });

  const patterns: [pattern: string, want: string][] = [
    ["ubuntu", "library/ubuntu"],
    ["Ubuntu, library/debian", "library/ubuntu,library/debian"],
    ["ubuntu*", "library/ubuntu*"],
    ["myorg/*,-myorg/old*", "myorg/*,-myorg/old*"],
    ["*,-nginx", "*,-library/nginx"],
    ["", ""],
  ];
  for (const [pattern, want] of patterns) {
    test(`pattern ${JSON.stringify(pattern)} reads as ${JSON.stringify(want)} on Docker Hub`, () => {
      assert.equal(hubRepositoryPattern(pattern), want);
    });
  }

  const noCatalog = /^Docker Hub has no catalog: name a namespace/;
  const selections: [pattern: string, namespace: string | undefined, want: unknown][] = [
    ["library/ubuntu,alpine", undefined, { exact: ["library/alpine", "library/ubuntu"], namespaces: [] }],
    ["myorg/*,ubuntu*", undefined, { exact: [], namespaces: ["library", "myorg"] }],
    ["myorg/app*,myorg/web", undefined, { exact: ["myorg/web"], namespaces: ["myorg"] }],
    ["*", "Acme", { exact: [], namespaces: ["acme"] }],
    ["", "acme", { exact: [], namespaces: ["acme"] }],
    ["-acme/old", "acme", { exact: [], namespaces: ["acme"] }],
    ["*", undefined, { exact: [], namespaces: [], unlisted: noCatalog }],
    ["", undefined, { exact: [], namespaces: [], unlisted: noCatalog }],
    ["-acme/old", undefined, { exact: [], namespaces: [], unlisted: noCatalog }],
    [
      "my*/app,library/debian",
      undefined,
      {
        exact: ["library/debian"],
        namespaces: [],
        unlisted: /^the repository pattern "my\*\/app" has a wildcard in its namespace/,
      },
    ],
  ];
  for (const [pattern, namespace, want] of selections) {
    test(`selection of ${JSON.stringify(pattern)} with namespace ${String(namespace)}`, () => {
      const { unlisted, ...rest } = hubSelection(pattern, namespace);
      const { unlisted: wantUnlisted, ...wantRest } = want as { unlisted?: RegExp };
      assert.deepEqual(rest, wantRest);
      if (wantUnlisted === undefined) assert.equal(unlisted, undefined);
      else assert.match(unlisted ?? "", wantUnlisted);
    });
  }

  for (const pattern of ["*", "my*/app"]) {
    test(`${JSON.stringify(pattern)} without a namespace: listing is refused, single images still pull`, async () => {
      const before = sim.apiRequests.length;
      const session = await connect(pattern);
      await assert.rejects(session.listRepositories(), (e: unknown) => {
        assert.ok(e instanceof UnsupportedError, String(e));
        assert.match(
          e.message,
          pattern === "my*/app"
            ? /^docker\.io: the repository pattern "my\*\/app" has a wildcard in its namespace/
            : /^docker\.io: Docker Hub has no catalog: name a namespace/,
        );
        return true;
      });
      // Nothing was asked of the Hub API: no namespace to list, no credential to sign in with.
      assert.equal(sim.apiRequests.length, before);
      // An on-demand scan of one image needs no listing.
      const manifest = await session.client.getManifest("library/debian", "bookworm");
      assert.equal(manifest.digest, seededDigest("library/debian", "bookworm"));
    });
  }

  test("anonymous access lists a namespace's public repositories only, without signing in", async () => {
    const signIns = apiCalls("/v2/auth/token").length;
    const session = await connect("acme/*");
    assert.deepEqual(await session.listRepositories(), [
      "acme/service-01",
      "acme/service-02",
      "acme/service-03",
    ]);
    assert.equal(apiCalls("/v2/auth/token").length, signIns);
  });

  test("a Docker ID with a personal access token signs in and sees its private repositories", async () => {
    const issued = sim.accessTokensIssued;
    const session = await connect("acme/*", basic(PAT_USER, PAT));
    assert.equal(sim.accessTokensIssued, issued + 1);
    assert.deepEqual(await session.listRepositories(), [
      "acme/private-app",
      "acme/service-01",
      "acme/service-02",
      "acme/service-03",
    ]);
    assert.deepEqual(
      await session.listTags("acme/private-app", { withTimes: true }),
      expectedTags("acme/private-app"),
    );
    const manifest = await session.client.getManifest("acme/private-app", "1.0");
    assert.equal(manifest.digest, seededDigest("acme/private-app", "1.0"));
    assert.equal(digestOf(manifest.bytes), manifest.digest);
  });

  test("official images: names without a namespace are library/ names", async () => {
    const session = await connect("alpine, debian");
    assert.deepEqual(await session.listRepositories(), ["library/alpine", "library/debian"]);
    assert.deepEqual(
      await session.listTags("library/debian", { withTimes: true }),
      expectedTags("library/debian"),
    );
    // A bare name asked for directly is the official image as well.
    assert.deepEqual(await session.listTags("debian", { withTimes: true }), expectedTags("library/debian"));
  });

  test("a namespace's repositories across next pages", async () => {
    const before = apiCalls("/v2/namespaces/bulk/repositories").length;
    const session = await connect("bulk/*");
    const expected = Object.keys(names)
      .filter((n) => n.startsWith("bulk/"))
      .sort();
    assert.equal(expected.length, 80);
    assert.deepEqual(await session.listRepositories(), expected);
    const pages = apiCalls("/v2/namespaces/bulk/repositories").slice(before);
    // The connect check, then 80 repositories in pages of 7, each asked for with page_size=100.
    assert.equal(pages.length, 1 + Math.ceil(80 / PAGE_CAP));
    assert.ok(pages.slice(1).every((p) => new URLSearchParams(p.query).get("page_size") === "100"));
  });

  test("250 tags across next pages, each with the seed's digest", async () => {
    const session = await connect("many/*");
    const before = apiCalls("/v2/namespaces/many/repositories/alpine/tags").length;
    const tags = await session.listTags("many/alpine", { withTimes: true });
    assert.deepEqual(tags, expectedTags("many/alpine"));
    assert.equal(tags.length, 250);
    assert.equal(
      apiCalls("/v2/namespaces/many/repositories/alpine/tags").length - before,
      Math.ceil(250 / PAGE_CAP),
    );
  });

  test("every tag with its digest and tag_last_pushed, and no manifest GET (no pull) on the way", async () => {
    const session = await connect("library/*,acme/*", basic(PAT_USER, PAT));
    const pulls = sim.pulls;
    const gets = manifestRequests("GET").length;
    const repositories = await session.listRepositories();
    assert.deepEqual(repositories, [
      "acme/private-app",
      "acme/service-01",
      "acme/service-02",
      "acme/service-03",
      "library/alpine",
      "library/alpine-multi",
      "library/debian",
    ]);
    for (const repository of repositories) {
      assert.deepEqual(
        await session.listTags(repository, { withTimes: true }),
        expectedTags(repository),
        repository,
      );
    }
    assert.equal(sim.pulls, pulls);
    assert.equal(manifestRequests("GET").length, gets);
  });

  test("a tag the listing gives no digest or push time: a manifest HEAD (not a pull) and last_updated", async () => {
    const session = await connect("library/alpine");
    const heads = manifestRequests("HEAD").filter(
      (r) => r.path === "/v2/library/alpine/manifests/3.10.3",
    ).length;
    const pulls = sim.pulls;
    const legacy = sim.tags.find((t) => `${t.repository}:${t.tag}` === LEGACY_TAG);
    assert.ok(legacy && legacy.pushedAt === null && !legacy.listedDigest);
    const tags = await session.listTags("library/alpine", { withTimes: true });
    assert.deepEqual(tags, expectedTags("library/alpine"));
    assert.deepEqual(tags.find((t) => t.tag === "3.10.3")?.pushedAt, legacy.updatedAt);
    assert.equal(
      manifestRequests("HEAD").filter((r) => r.path === "/v2/library/alpine/manifests/3.10.3").length,
      heads + 1,
    );
    assert.equal(sim.pulls, pulls);
  });

  test("without times, names and digests only", async () => {
    const session = await connect("acme/*");
    assert.deepEqual(
      await session.listTags("acme/service-02", { withTimes: false }),
      expectedTags("acme/service-02").map(({ tag, digest }) => ({ tag, digest })),
    );
  });

  test("the cap keeps the tags Docker Hub says were pushed last, not those updated last", async () => {
    const session = await connect("acme/*");
    let differs = 0;
    for (const repository of ["acme/service-01", "acme/service-02", "acme/service-03"]) {
      const records = sim.tags.filter((t) => t.repository === repository);
      const newest = (key: "pushedAt" | "updatedAt") =>
        [...records].sort((a, b) => (b[key]?.getTime() ?? 0) - (a[key]?.getTime() ?? 0))[0]?.tag;
      if (newest("pushedAt") !== newest("updatedAt")) differs++;
      const kept = selectTags(await session.listTags(repository, { withTimes: true }), { cap: 1 });
      assert.deepEqual(
        kept.map((t) => t.tag),
        [newest("pushedAt")],
        repository,
      );
    }
    // The two orders differ somewhere, so a provider dating tags by last_updated fails here.
    assert.ok(differs > 0);
  });

  test("a pull is a counted manifest GET, with the seed's digest", async () => {
    const session = await connect("library/alpine-multi");
    const pulls = sim.pulls;
    const want = seededDigest("library/alpine-multi", "3.10.3");
    const manifest = await session.client.getManifest("library/alpine-multi", "3.10.3");
    assert.equal(manifest.digest, want);
    assert.equal(digestOf(manifest.bytes), want);
    assert.equal(sim.pulls, pulls + 1);
    const image = await session.client.resolveImage("library/alpine-multi", "3.10.3");
    assert.equal(image.indexDigest, want);
  });

  test("with the pull budget spent, discovery still works and a pull is a RateLimitedError", async () => {
    const spent = await startDockerHubSim({
      storageDir: view.dir,
      accounts: {},
      legacyTags: [LEGACY_TAG],
      pullLimit: { limit: 0, windowSeconds: 1 },
    });
    process.env.SHIPSHAPE_DOCKERHUB_API_URL = spent.apiUrl;
    process.env.SHIPSHAPE_DOCKERHUB_REGISTRY_URL = spent.registryUrl;
    try {
      const session = await connect("library/alpine");
      // The legacy tag's digest comes from a HEAD, which the pull limit does not count.
      assert.deepEqual(
        (await session.listTags("library/alpine", { withTimes: true })).map(({ tag, digest }) => ({
          tag,
          digest,
        })),
        expectedTags("library/alpine").map(({ tag, digest }) => ({ tag, digest })),
      );
      await assert.rejects(session.client.getManifest("library/alpine", "3.20.3"), (e: unknown) => {
        assert.ok(e instanceof RateLimitedError, String(e));
        assert.match(e.message, /HTTP 429 \(TOOMANYREQUESTS: You have reached your pull rate limit\./);
        return true;
      });
      const gets = spent.registryRequests.filter((r) => r.method === "GET" && /\/manifests\//.test(r.path));
      // The transport's retries, every one refused.
      assert.ok(gets.length > 1 && gets.every((r) => r.status === 429));
      assert.equal(spent.pulls, 0);
    } finally {
      process.env.SHIPSHAPE_DOCKERHUB_API_URL = sim.apiUrl;
      process.env.SHIPSHAPE_DOCKERHUB_REGISTRY_URL = sim.registryUrl;
      await spent.stop();
    }
  });

  test("a private repository without a login: the API answers 404, the registry 401", async () => {
    const session = await connect("acme/private-app");
    assert.deepEqual(await session.listRepositories(), ["acme/private-app"]);
    await assert.rejects(session.listTags("acme/private-app", { withTimes: true }), (e: unknown) => {
      assert.ok(e instanceof NotFoundError, String(e));
      assert.equal(
        e.message,
        "docker.io/acme/private-app: listing tags: not found on Docker Hub (HTTP 404: object not found); private repositories are hidden from anonymous callers, so give a credential that can read it",
      );
      return true;
    });
    await assert.rejects(session.client.getManifest("acme/private-app", "1.0"), AuthError);
  });

  test("another account's private repository is not found either", async () => {
    const session = await connect("acme/private-app", basic(OUTSIDER, OUTSIDER_PASSWORD));
    await assert.rejects(session.listTags("acme/private-app", { withTimes: true }), (e: unknown) => {
      assert.ok(e instanceof NotFoundError, String(e));
      assert.match(e.message, /not visible to Docker ID "outsider" \(HTTP 404: object not found\)/);
      return true;
    });
  });

  const refusals: {
    name: string;
    repository: string;
    credential?: Credential;
    error: new (...args: never[]) => Error;
    message: string | RegExp;
  }[] = [
    {
      name: "a wrong secret fails at connect with the API's 401",
      repository: "acme/*",
      credential: basic(PAT_USER, "dckr_pat_wrong"),
      error: AuthError,
      message:
        'docker.io: signing in to the Docker Hub API as Docker ID "acmebot": Docker Hub rejected the credentials of Docker ID "acmebot" (HTTP 401: incorrect username or password); a personal access token is needed where the organisation enforces SSO',
    },
    {
      name: "an unknown namespace fails at connect",
      repository: "nobody-here/*",
      error: NotFoundError,
      message:
        /^docker\.io: listing the repositories of namespace "nobody-here": not found on Docker Hub \(HTTP 404: object not found\)/,
    },
    {
      name: "a credential of another type is refused",
      repository: "acme/*",
      credential: { _id: "gh", type: "githubToken", apiToken: { plain: "ghp_x" } } as Credential,
      error: UnsupportedError,
      message: /credential "gh" is of type "githubToken"; Docker Hub accepts "basic"/,
    },
    {
      name: "a basic credential without a secret is refused",
      repository: "acme/*",
      credential: basic(PAT_USER, ""),
      error: AuthError,
      message: /needs a Docker ID \(accountID\) and a password or access token \(secret\)/,
    },
  ];
  for (const refusal of refusals) {
    test(refusal.name, async () => {
      await assert.rejects(connect(refusal.repository, refusal.credential), (e: unknown) => {
        assert.ok(e instanceof refusal.error, String(e));
        if (typeof refusal.message === "string") assert.equal(e.message, refusal.message);
        else assert.match(e.message, refusal.message);
        return true;
      });
    });
  }

  test("the specification's namespace is listed for the pattern *", async () => {
    const session = await connect("*", basic(PAT_USER, PAT), "acme");
    assert.deepEqual(await session.listRepositories(), [
      "acme/private-app",
      "acme/service-01",
      "acme/service-02",
      "acme/service-03",
    ]);
  });

  const faults: {
    name: string;
    fault: Parameters<DockerHubSim["failNext"]>[0];
    count: number;
    error: new (...args: never[]) => Error;
    message: RegExp;
  }[] = [
    {
      name: "429s past the transport's retries are a RateLimitedError",
      fault: 429,
      count: 50,
      error: RateLimitedError,
      message: /listing tags: Docker Hub API rate limit \(HTTP 429: Rate limit exceeded\); retry in \d+ s$/,
    },
    {
      name: "a 5xx past the retries is a ProtocolError",
      fault: 500,
      count: 50,
      error: ProtocolError,
      message: /listing tags: the Docker Hub API answered HTTP 500: simulated HTTP 500$/,
    },
    {
      name: "a 403 is a PermissionError",
      fault: 403,
      count: 1,
      error: PermissionError,
      message: /listing tags: Docker Hub refused anonymous access \(HTTP 403: simulated HTTP 403\)$/,
    },
    {
      name: "an answer that is not JSON is a ProtocolError",
      fault: "malformed",
      count: 1,
      error: ProtocolError,
      message: /^docker\.io\/acme\/service-01: listing tags: the Docker Hub API's answer is not JSON$/,
    },
  ];
  for (const fault of faults) {
    test(fault.name, async () => {
      const session = await connect("acme/*");
      sim.failNext(fault.fault, fault.count);
      try {
        await assert.rejects(session.listTags("acme/service-01", { withTimes: true }), (e: unknown) => {
          assert.ok(e instanceof fault.error, String(e));
          assert.match(e.message, fault.message);
          return true;
        });
      } finally {
        sim.failNext(0, 0);
      }
    });
  }

  test("a 503 is retried and then answered", async () => {
    const session = await connect("acme/*");
    const before = sim.apiRequests.filter((r) => r.status === 503).length;
    sim.failNext(503, 1);
    assert.deepEqual(
      await session.listTags("acme/service-03", { withTimes: true }),
      expectedTags("acme/service-03"),
    );
    assert.equal(sim.apiRequests.filter((r) => r.status === 503).length, before + 1);
  });

  test("a revoked access token is obtained anew once after the 401", async () => {
    const session = await connect("acme/*", basic(PAT_USER, PAT));
    const issued = sim.accessTokensIssued;
    sim.revokeAccessTokens();
    assert.deepEqual(
      await session.listTags("acme/private-app", { withTimes: true }),
      expectedTags("acme/private-app"),
    );
    assert.equal(sim.accessTokensIssued, issued + 1);
  });

  test("a short-lived access token is renewed ahead of its expiry, before any 401", async () => {
    sim.accessTokenLifetimeSeconds = 4;
    try {
      const session = await connect("acme/*", basic(PAT_USER, PAT));
      const issued = sim.accessTokensIssued;
      const unauthorized = sim.apiRequests.filter((r) => r.status === 401).length;
      // Renewal is due at three quarters of the lifetime, 3 s at most after the sign-in.
      await new Promise((resolve) => setTimeout(resolve, 3_200));
      assert.deepEqual(
        await session.listTags("acme/private-app", { withTimes: true }),
        expectedTags("acme/private-app"),
      );
      assert.equal(sim.accessTokensIssued, issued + 1);
      assert.equal(sim.apiRequests.filter((r) => r.status === 401).length, unauthorized);
    } finally {
      sim.accessTokenLifetimeSeconds = 600;
    }
  });

  test("an unknown repository of a listed namespace is a NotFoundError", async () => {
    const session = await connect("acme/*");
    await assert.rejects(session.listTags("acme/missing", { withTimes: true }), NotFoundError);
    await assert.rejects(session.listTags("acme/a/b", { withTimes: true }), /is named namespace\/name/);
  });
});
