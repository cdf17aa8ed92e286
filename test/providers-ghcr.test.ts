/**
 * The GitHub Container Registry provider (registry type `ghcr`, registries.md 2.16) against the
 * simulation in test/harness/sim/ghcr.ts (GitHub's REST packages API with Link pages and rate-limit
 * headers, ghcr.io's token endpoint in front of the real docker-registry). Expected repositories, tags
 * and digests come from the seed, push times from the simulation's package versions.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Credential } from "../src/api/schemas.js";
import {
  AuthError,
  NotFoundError,
  PermissionError,
  RateLimitedError,
  UnsupportedError,
} from "../src/registry/errors.js";
import { ghcrProvider } from "../src/registry/providers/ghcr.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderContext, ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import { ensureSeededStorage, type SeedContents, seedContents, seededDigestOf } from "./harness/seed.js";
import { type GhcrSim, startGhcrSim } from "./harness/sim/ghcr.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const TOKEN = "ghp_member0000000000000000000000000000";
const OUTSIDER_TOKEN = "ghp_outsider00000000000000000000000000";
const NO_PACKAGES_TOKEN = "ghp_repoonly00000000000000000000000000";
const NAMES: Record<string, string> = {
  "octo-org/app": "team-01/service-01",
  "octo-org/tools/alpine": "alpine",
  "octo-org/multi": "alpine-multi",
  "octo-org/secret": "debian",
  "octocat/node-app": "node-app",
  "hubot/debian": "debian",
};
const ORG_REPOSITORIES = ["octo-org/app", "octo-org/multi", "octo-org/secret", "octo-org/tools/alpine"];

let seed: SeedContents;
let view: StorageView;
let sim: GhcrSim;
const sessions: ProviderSession[] = [];
const savedApi = process.env.SHIPSHAPE_GITHUB_API_URL;

const tokenCredential = (token = TOKEN): Credential =>
  ({ _id: "github", type: "githubToken", apiToken: { encrypted: "", plain: token } }) as Credential;

async function connect(
  options: { namespace?: string; repository?: string; credential?: Credential | null } = {},
) {
  const context: ProviderContext = {
    registry: sim.registryUrl,
    namespace: options.namespace,
    credential: options.credential === null ? undefined : (options.credential ?? tokenCredential()),
    spec: options.repository === undefined ? {} : { repository: options.repository },
  };
  const session = await ghcrProvider.connect(context);
  sessions.push(session);
  return session;
}

const seededTags = (repository: string) =>
  seed.repositories.find((r) => r.name === NAMES[repository])?.tags ?? assert.fail(repository);
const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, NAMES, repository, tag);
const apiRequests = (path: RegExp) => sim.requests.filter((r) => path.test(r.path));

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    view = await createStorageView(storageDir, NAMES);
    sim = await startGhcrSim({
      storageDir: view.dir,
      accounts: { "Octo-Org": "Organization", octocat: "User", hubot: "User", stranger: "User" },
      publicRepositories: ["octo-org/app", "hubot/debian"],
      tokens: {
        [TOKEN]: { login: "octocat", scopes: ["read:packages", "repo"], memberOf: ["Octo-Org"] },
        [OUTSIDER_TOKEN]: { login: "stranger", scopes: ["read:packages"], memberOf: [] },
        [NO_PACKAGES_TOKEN]: { login: "octocat", scopes: ["repo"], memberOf: ["Octo-Org"] },
      },
    });
    process.env.SHIPSHAPE_GITHUB_API_URL = sim.apiUrl;
  },
  { timeout: 120_000 },
);

after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await sim?.stop();
  await view?.remove();
  if (savedApi === undefined) delete process.env.SHIPSHAPE_GITHUB_API_URL;
  else process.env.SHIPSHAPE_GITHUB_API_URL = savedApi;
});

describe("ghcr provider", () => {
  test("is registered for type ghcr with the githubToken and basic credentials", () => {
    assert.equal(providerFor("ghcr"), ghcrProvider);
    assert.deepEqual(ghcrProvider.credentialTypes, ["githubToken", "basic"]);
  });

  test("type 2 with registry ghcr.io goes through the GitHub packages API", async () => {
    // The wrong token is refused by the simulated GitHub API before ghcr.io itself is contacted.
    const before = apiRequests(/^\/user$/).length;
    await assert.rejects(
      providerFor("2")?.connect({
        registry: "ghcr.io",
        credential: {
          _id: "gh",
          type: "basic",
          accountID: "octocat",
          secret: { encrypted: "", plain: "ghp_wrong" },
        },
        spec: {},
      }) ?? assert.fail("no provider for type 2"),
      (err: unknown) => err instanceof AuthError && /GitHub rejected the token \(HTTP 401/.test(err.message),
    );
    assert.equal(apiRequests(/^\/user$/).length, before + 1);
  });

  const owners: {
    name: string;
    options: { namespace?: string; repository?: string };
    repositories: string[];
  }[] = [
    {
      name: "an organization named by namespace",
      options: { namespace: "Octo-Org" },
      repositories: ORG_REPOSITORIES,
    },
    {
      name: "an organization named by the repository pattern",
      options: { repository: "octo-org/*" },
      repositories: ORG_REPOSITORIES,
    },
    { name: "the token's own user (no owner named)", options: {}, repositories: ["octocat/node-app"] },
    {
      name: "the token's own user for the pattern *",
      options: { repository: "*" },
      repositories: ["octocat/node-app"],
    },
    { name: "another user's packages", options: { repository: "hubot/*" }, repositories: ["hubot/debian"] },
  ];
  for (const owner of owners) {
    test(`lists exactly the repositories of ${owner.name}`, async () => {
      const session = await connect(owner.options);
      assert.deepEqual(await session.listRepositories(), owner.repositories);
    });
  }

  test("an outsider's token sees only the organization's public packages", async () => {
    const session = await connect({ namespace: "octo-org", credential: tokenCredential(OUTSIDER_TOKEN) });
    assert.deepEqual(await session.listRepositories(), ["octo-org/app"]);
  });

  test("tags, digests and push times come from the package versions, every page read", async () => {
    const session = await connect({ namespace: "Octo-Org" });
    const before = sim.requests.length;
    for (const repository of ORG_REPOSITORIES) {
      const tags = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(
        tags.map((t) => t.tag),
        [...seededTags(repository)].sort(),
        repository,
      );
      for (const t of tags) {
        assert.equal(t.digest, seededDigest(repository, t.tag));
        const version = sim.versions.find((v) => v.repository === repository && v.tags.includes(t.tag));
        assert.equal(t.pushedAt?.getTime(), version?.createdAt.getTime(), `${repository}:${t.tag}`);
      }
    }
    const versionCalls = sim.requests.slice(before).filter((r) => r.path.endsWith("/versions"));
    // The package name "tools/alpine" goes URL-encoded as one path segment.
    assert.ok(
      versionCalls.some((r) => r.path === "/orgs/Octo-Org/packages/container/tools%2Falpine/versions"),
    );
    assert.ok(versionCalls.every((r) => /per_page=100/.test(r.query) && r.status === 200));
    // The multi-arch package has untagged platform versions: more than one page to read.
    const multiPages = versionCalls.filter((r) => r.path.includes("/multi/"));
    assert.ok(multiPages.length >= 2, `multi read in ${multiPages.length} pages`);
  });

  test("package listings follow the Link pages to the end", async () => {
    const before = sim.requests.length;
    const session = await connect({ namespace: "Octo-Org" });
    assert.deepEqual(await session.listRepositories(), ORG_REPOSITORIES);
    const pages = sim.requests.slice(before).filter((r) => r.path === "/orgs/Octo-Org/packages");
    assert.equal(pages.length, 2);
    assert.ok(pages.every((r) => /package_type=container/.test(r.query)));
  });

  test("a cap keeps the newest tags by the versions' created_at", async () => {
    const session = await connect({ namespace: "Octo-Org" });
    const tags = await session.listTags("octo-org/app", { withTimes: true });
    const times = new Set(tags.map((t) => t.pushedAt?.getTime()));
    assert.equal(times.size, tags.length, "every tag of app has its own push time");
    const newest = [...tags].sort((a, b) => (b.pushedAt?.getTime() ?? 0) - (a.pushedAt?.getTime() ?? 0));
    assert.deepEqual(
      selectTags(tags, { cap: 2 }).map((t) => t.tag),
      newest.slice(0, 2).map((t) => t.tag),
    );
  });

  test("pulls a private image with the token; its digest is the seed's", async () => {
    const session = await connect({ namespace: "Octo-Org" });
    const [tag] = seededTags("octo-org/secret");
    assert.ok(tag);
    const image = await session.client.resolveImage("octo-org/secret", tag);
    assert.equal(image.digest, seededDigest("octo-org/secret", tag));
  });

  test("anonymous access scans exactly named public repositories through the registry", async () => {
    const session = await connect({ credential: null, repository: "octo-org/app" });
    assert.deepEqual(await session.listRepositories(), ["octo-org/app"]);
    const tags = await session.listTags("octo-org/app", { withTimes: false });
    assert.deepEqual(
      tags.map((t) => t.tag),
      [...seededTags("octo-org/app")].sort(),
    );
  });

  const failures: {
    name: string;
    options: () => { namespace?: string; repository?: string; credential?: Credential | null };
    error: new (...args: never[]) => Error;
    message: RegExp;
  }[] = [
    {
      name: "a wrong token fails at connect",
      options: () => ({ credential: tokenCredential("ghp_wrong") }),
      error: AuthError,
      message: /GitHub rejected the token \(HTTP 401: Bad credentials\)/,
    },
    {
      name: "a token without read:packages is a permission error naming the scope",
      options: () => ({ namespace: "Octo-Org", credential: tokenCredential(NO_PACKAGES_TOKEN) }),
      error: PermissionError,
      message: /GitHub token of octocat has the scopes "repo" but not read:packages/,
    },
    {
      name: "an owner GitHub does not know",
      options: () => ({ namespace: "no-such-org" }),
      error: NotFoundError,
      message: /GitHub has no organization or user "no-such-org"/,
    },
    {
      name: "a pattern naming two owners",
      options: () => ({ repository: "octo-org/*,hubot/*" }),
      error: UnsupportedError,
      message: /names no single GitHub owner/,
    },
    {
      name: "anonymous access with a wildcard pattern",
      options: () => ({ credential: null, repository: "octo-org/*" }),
      error: UnsupportedError,
      message: /GitHub lists packages only to a token/,
    },
    {
      name: "a credential of another type",
      options: () => ({ credential: { ...tokenCredential(), type: "aws" } as Credential }),
      error: UnsupportedError,
      message: /accepts "githubToken" or "basic"/,
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

  test("a repository that is no package of the owner is a NotFoundError, never an empty list", async () => {
    const session = await connect({ namespace: "Octo-Org" });
    await assert.rejects(session.listTags("octo-org/none", { withTimes: true }), NotFoundError);
  });

  test("a secondary rate limit (403 with retry-after) is waited out and the call repeated", async () => {
    const session = await connect({ namespace: "Octo-Org" });
    const limited = apiRequests(/^\/orgs\/Octo-Org\/packages$/).filter((r) => r.status === 403).length;
    sim.failNext("secondary", 1);
    assert.deepEqual(await session.listRepositories(), ORG_REPOSITORIES);
    assert.equal(
      apiRequests(/^\/orgs\/Octo-Org\/packages$/).filter((r) => r.status === 403).length,
      limited + 1,
    );
  });

  test("a spent primary budget (X-RateLimit-Remaining 0) is waited out until X-RateLimit-Reset", async () => {
    const session = await connect({ namespace: "Octo-Org" });
    sim.failNext("primary", 1);
    assert.deepEqual(await session.listRepositories(), ORG_REPOSITORIES);
  });

  test("a budget renewed only in an hour ends in a RateLimitedError naming GitHub", async () => {
    const session = await connect({ namespace: "Octo-Org" });
    sim.failNext("primary-far", 1);
    await assert.rejects(session.listRepositories(), (err: Error) => {
      assert.ok(err instanceof RateLimitedError, err.message);
      assert.match(err.message, /GitHub API rate limit \(HTTP 403: API rate limit exceeded.*retry in \d+ s/);
      assert.ok((err.retryAfterMs ?? 0) > 60_000);
      return true;
    });
  });

  test("a 5xx is retried and then succeeds", async () => {
    const session = await connect({ namespace: "Octo-Org" });
    const failed = apiRequests(/^\/orgs\/Octo-Org\/packages$/).filter((r) => r.status === 502).length;
    sim.failNext(502, 1);
    assert.deepEqual(await session.listRepositories(), ORG_REPOSITORIES);
    assert.equal(
      apiRequests(/^\/orgs\/Octo-Org\/packages$/).filter((r) => r.status === 502).length,
      failed + 1,
    );
  });
});
