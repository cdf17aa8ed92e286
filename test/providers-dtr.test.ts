/**
 * The Mirantis Secure Registry / Docker Trusted Registry provider (registry type `dtr`, spec section 8,
 * registries.md 2.12) against the DTR simulation in test/harness/sim/dtr.ts, which follows the DTR/MSR
 * 2.x API v0 (repositories, per-namespace repositories, tags; `pageSize`/`pageStart` paging by
 * `X-Next-Page-Start`), MSR's access-token documentation and the distribution token flow at
 * `/auth/token`, and fronts the real docker-registry serving the seeded images under DTR
 * `namespace/name` names (what it leaves out is listed at its top). Page sizes are capped at 7 so
 * every list spans pages. Expected repositories, tags and digests come from the seed, push times from
 * the simulation's records.
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
import { dtrProvider } from "../src/registry/providers/dtr.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import {
  byTag,
  ensureSeededStorage,
  type SeedContents,
  seedContents,
  seededDigestOf,
} from "./harness/seed.js";
import { type DtrSim, startDtrSim } from "./harness/sim/dtr.js";
import { startHarborSim } from "./harness/sim/harbor.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const USER = "scanner";
const PASSWORD = "Scanner-Password-1";
const ACCESS_TOKEN = "6f1c2a9e-3b7d-4c55-9a0e-2d8b41f0c7aa";
const PAGE_CAP = 7;
const BULK = 80;

/** DTR repository name → the seeded repository it serves. */
const NAMES: Record<string, string> = {
  "library/alpine": "alpine",
  "library/debian": "debian",
  "platform/alpine-multi": "alpine-multi",
  "platform/node-app": "node-app",
  "scanner/alpine-arm64": "alpine-arm64",
  "secret/node-app-zstd": "node-app-zstd",
  "team-01/service-01": "team-01/service-01",
  "team-01/service-02": "team-01/service-02",
  "team-01/service-03": "team-01/service-03",
  "many-tags/alpine": "many-tags/alpine",
};
for (let i = 1; i <= BULK; i++) {
  const name = `bulk/repo-${String(i).padStart(3, "0")}`;
  NAMES[name] = name;
}
/** What the scanner user sees: public repositories, its own namespace and the organizations it reads. */
const VISIBLE = Object.keys(NAMES)
  .filter((n) => !n.startsWith("secret/"))
  .sort();

let storageDir: string;
let seed: SeedContents;
let view: StorageView;
let sim: DtrSim;
const sessions: ProviderSession[] = [];

before(
  async () => {
    storageDir = await ensureSeededStorage();
    seed = await seedContents();
    view = await createStorageView(storageDir, NAMES);
    sim = await startDtrSim({
      storageDir: view.dir,
      maxPageSize: PAGE_CAP,
      publicRepositories: ["library/alpine", "library/debian"],
      accounts: {
        [USER]: {
          password: PASSWORD,
          accessTokens: [ACCESS_TOKEN],
          reads: ["platform", "team-01", "bulk", "many-tags"],
        },
        admin: { password: "Admin-Password-1", admin: true },
      },
    });
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await sim?.stop();
  await view?.remove();
});

const credentialOf = (type: string, accountID: string, secret: string): Credential =>
  ({ _id: "dtr-scanner", type, accountID, secret: { plain: secret } }) as Credential;
const withPassword = () => credentialOf("basic", USER, PASSWORD);

async function connect(
  options: { credential?: Credential; namespace?: string } = {},
): Promise<ProviderSession> {
  const session = await dtrProvider.connect({
    registry: sim.url,
    insecure: true,
    credential: options.credential,
    namespace: options.namespace,
    spec: {},
  });
  sessions.push(session);
  return session;
}

const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, NAMES, repository, tag);

/** The simulation's tags of a repository as the provider should report them: last push = updatedAt. */
function expectedTags(repository: string) {
  return sim.tags
    .filter((t) => t.repository === repository)
    .map((t) => ({ tag: t.tag, digest: t.digest, pushedAt: t.updatedAt }))
    .sort(byTag);
}

/** API requests to exactly `path` made while `run` ran. */
async function requestsDuring(path: string, run: () => Promise<unknown>) {
  const from = sim.requests.length;
  await run();
  return sim.requests.slice(from).filter((r) => r.path === path);
}

/** Asserts `promise` rejects with an instance of `type` whose message matches `message`. */
async function rejectsWith(
  promise: Promise<unknown>,
  type: new (...args: never[]) => Error,
  message: RegExp,
) {
  await assert.rejects(promise, (err: Error) => {
    assert.ok(err instanceof type, `${err.constructor.name}: ${err.message}`);
    assert.match(err.message, message);
    return true;
  });
}

describe("dtr provider", { timeout: 300_000 }, () => {
  test("is the provider of type dtr and takes basic and dtr credentials", () => {
    assert.equal(providerFor("dtr"), dtrProvider);
    assert.deepEqual(dtrProvider.credentialTypes, ["basic", "dtr"]);
  });

  const signIns = [
    { name: "a basic credential with the password", credential: () => withPassword() },
    {
      name: "a basic credential with an access token",
      credential: () => credentialOf("basic", USER, ACCESS_TOKEN),
    },
    {
      name: "a dtr credential with an access token",
      credential: () => credentialOf("dtr", USER, ACCESS_TOKEN),
    },
  ];
  for (const signIn of signIns) {
    test(`${signIn.name}: every visible repository across namespaces, page by page`, async () => {
      const session = await connect({ credential: signIn.credential() });
      assert.equal(session.registryHost, sim.host);
      let repositories: string[] = [];
      const pages = await requestsDuring("/api/v0/repositories", async () => {
        repositories = await session.listRepositories();
      });
      assert.deepEqual(repositories, VISIBLE);
      // 89 repositories in pages of 7; every page after the first asked from the header's start.
      assert.equal(pages.length, Math.ceil(VISIBLE.length / PAGE_CAP));
      assert.ok(
        pages.every((p, i) => p.query.includes("pageSize=100") && p.query.includes("pageStart=") === i > 0),
      );
      assert.ok(pages.every((p) => p.user === USER && p.status === 200));
    });
  }

  test("a specification's namespace lists that namespace only, from /repositories/{namespace}", async () => {
    const session = await connect({ credential: withPassword(), namespace: "platform" });
    const pages = await requestsDuring("/api/v0/repositories/platform", async () => {
      assert.deepEqual(await session.listRepositories(), ["platform/alpine-multi", "platform/node-app"]);
    });
    assert.equal(pages.length, 1);
  });

  test("every tag of every repository, with its digest and its last push time (updatedAt)", async () => {
    const session = await connect({ credential: withPassword() });
    for (const repository of VISIBLE) {
      const tags = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(tags, expectedTags(repository), repository);
      for (const tag of tags)
        assert.equal(tag.digest, seededDigest(repository, tag.tag), `${repository}:${tag.tag}`);
    }
    // The tags pushed twice are where createdAt and updatedAt differ: the push time is the last.
    const repushed = sim.tags.filter((t) => t.createdAt.getTime() !== t.updatedAt.getTime());
    assert.ok(repushed.length > 100);
  });

  test("250 tags of one repository arrive over pages of 7, every one dated", async () => {
    const session = await connect({ credential: withPassword() });
    let tags: Awaited<ReturnType<ProviderSession["listTags"]>> = [];
    const pages = await requestsDuring("/api/v0/repositories/many-tags/alpine/tags", async () => {
      tags = await session.listTags("many-tags/alpine", { withTimes: true });
    });
    assert.deepEqual(
      tags.map((t) => t.tag),
      seed.repositories.find((r) => r.name === "many-tags/alpine")?.tags,
    );
    assert.equal(pages.length, Math.ceil(250 / PAGE_CAP));
    // DTR's page start for tags is the next tag's name.
    assert.equal(pages[1]?.query, "?pageSize=100&pageStart=t-007");
  });

  test("the cap keeps the tags pushed last", async () => {
    const session = await connect({ credential: withPassword() });
    for (const repository of ["team-01/service-01", "team-01/service-03", "library/alpine"]) {
      const newest = expectedTags(repository)
        .sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime())
        .slice(0, 2)
        .map((t) => t.tag);
      const discovered = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(
        selectTags(discovered, { cap: 2 }).map((t) => t.tag),
        newest,
        repository,
      );
    }
  });

  test("an image pulls through DTR's /auth/token with the access token; its digest is the seed's", async () => {
    const session = await connect({ credential: credentialOf("dtr", USER, ACCESS_TOKEN) });
    const want = seededDigest("platform/node-app", "1.0");
    const manifest = await session.client.getManifest("platform/node-app", "1.0");
    assert.equal(manifest.digest, want);
    assert.equal(digestOf(manifest.bytes), want);
    const image = await session.client.resolveImage("platform/node-app", "1.0");
    assert.equal(image.config.os, "linux");
    assert.ok(sim.requests.some((r) => r.path === "/auth/token" && r.user === USER && r.status === 200));
  });

  test("anonymous access sees the public repositories only", async () => {
    const session = await connect();
    assert.deepEqual(await session.listRepositories(), ["library/alpine", "library/debian"]);
    assert.deepEqual(
      await session.listTags("library/debian", { withTimes: true }),
      expectedTags("library/debian"),
    );
  });

  const refusals = [
    {
      name: "a wrong password fails at connect with DTR's 401",
      options: () => ({ credential: credentialOf("basic", USER, "wrong") }),
      error: AuthError,
      message:
        /^127\.0\.0\.1:\d+: checking access: DTR rejected the credentials of user "scanner" \(HTTP 401 NOT_AUTHENTICATED: The client is not authenticated\.\); check the username and the password or access token$/,
    },
    {
      name: "a revoked or mistyped access token in a dtr credential fails the same way",
      options: () => ({ credential: credentialOf("dtr", USER, "6f1c2a9e-0000") }),
      error: AuthError,
      message: /DTR rejected the credentials of user "scanner" \(HTTP 401 NOT_AUTHENTICATED/,
    },
    {
      name: "an unknown user fails at connect",
      options: () => ({ credential: credentialOf("basic", "nobody", PASSWORD) }),
      error: AuthError,
      message: /user "nobody" \(HTTP 401 NOT_AUTHENTICATED/,
    },
    {
      name: "a credential without its secret is refused before any request",
      options: () => ({ credential: credentialOf("basic", USER, "") }),
      error: AuthError,
      message: /needs the DTR username \(accountID\) and its password or access token/,
    },
    {
      name: "a credential of another type is refused",
      options: () => ({ credential: credentialOf("aws", USER, PASSWORD) }),
      error: UnsupportedError,
      message: /is of type "aws"; DTR accepts "basic" or "dtr"/,
    },
    {
      name: "an unknown namespace fails at connect with DTR's NO_SUCH_ACCOUNT",
      options: () => ({ credential: withPassword(), namespace: "no-such-org" }),
      error: NotFoundError,
      message:
        /checking access to namespace "no-such-org": not found \(HTTP 404 NO_SUCH_ACCOUNT: An account with the given name does not exist\. \({"name":"no-such-org"}\)\)/,
    },
  ];
  for (const refusal of refusals) {
    test(refusal.name, async () => {
      await rejectsWith(connect(refusal.options()), refusal.error, refusal.message);
    });
  }

  test("a registry without its URL is refused", async () => {
    await rejectsWith(dtrProvider.connect({ registry: " ", spec: {} }), UnsupportedError, /needs its URL/);
  });

  test("a private repository the user may not read is a PermissionError naming it", async () => {
    const session = await connect({ credential: withPassword() });
    await assert.rejects(session.listTags("secret/node-app-zstd", { withTimes: true }), (err: Error) => {
      assert.ok(err instanceof PermissionError, err.message);
      assert.equal(err.status, 403);
      assert.equal(err.repository, "secret/node-app-zstd");
      assert.match(
        err.message,
        /secret\/node-app-zstd: listing tags: user "scanner" is not allowed to \(HTTP 403 NOT_AUTHORIZED: The client is not authorized\.\)/,
      );
      return true;
    });
    // Nor may it pull there: the token service grants no pull scope.
    await assert.rejects(session.client.getManifest("secret/node-app-zstd", "1.0"), PermissionError);
  });

  test("a private repository asked for anonymously is an AuthError asking for credentials", async () => {
    const session = await connect();
    await rejectsWith(
      session.listTags("platform/node-app", { withTimes: false }),
      AuthError,
      /DTR requires credentials \(HTTP 401 NOT_AUTHENTICATED/,
    );
  });

  test("an unknown repository is a NotFoundError, never an empty list", async () => {
    const session = await connect({ credential: withPassword() });
    await rejectsWith(
      session.listTags("platform/missing", { withTimes: true }),
      NotFoundError,
      /platform\/missing: listing tags: not found \(HTTP 404 NO_SUCH_REPOSITORY: A repository with the given name does not exist\./,
    );
    await rejectsWith(session.listTags("alpine", { withTimes: true }), NotFoundError, /namespace\/name/);
  });

  test("429s past the transport's retries end in a RateLimitedError", async () => {
    const session = await connect({ credential: withPassword() });
    const body = JSON.stringify({ errors: [{ code: "TOO_MANY_REQUESTS", message: "slow down" }] });
    sim.failNext({ status: 429, body, headers: { "retry-after": "0" } }, 50);
    try {
      await rejectsWith(
        session.listRepositories(),
        RateLimitedError,
        /listing repositories: DTR kept answering HTTP 429 TOO_MANY_REQUESTS: slow down after the retries/,
      );
    } finally {
      sim.failNext({ status: 429 }, 0);
    }
  });

  test("a 5xx is retried and then succeeds; a lasting one is a ProtocolError with DTR's answer", async () => {
    const session = await connect({ credential: withPassword() });
    sim.failNext({ status: 503, headers: { "retry-after": "0" } }, 1);
    assert.deepEqual(await session.listRepositories(), VISIBLE);
    sim.failNext({ status: 500, headers: { "retry-after": "0" } }, 50);
    try {
      await assert.rejects(session.listTags("platform/node-app", { withTimes: true }), (err: Error) => {
        assert.ok(err instanceof ProtocolError, err.message);
        assert.equal(err.status, 500);
        assert.match(err.message, /DTR answered HTTP 500 INTERNAL_ERROR: An internal error occurred\./);
        return true;
      });
    } finally {
      sim.failNext({ status: 500 }, 0);
    }
  });

  const malformed = [
    {
      name: "a body that is not JSON",
      body: "<html>upstream gone</html>",
      message: /is not JSON \(upstream gone\)/,
    },
    { name: "a list in the wrong shape", body: '{"repos":[]}', message: /unexpected shape/ },
    {
      name: "a repository without a name",
      body: '{"repositories":[{"namespace":"x"}]}',
      message: /a repository without namespace or name/,
    },
  ];
  for (const answer of malformed) {
    test(`${answer.name} is a ProtocolError`, async () => {
      const session = await connect({ credential: withPassword() });
      sim.failNext({ status: 200, body: answer.body }, 1);
      await rejectsWith(session.listRepositories(), ProtocolError, answer.message);
    });
  }

  test("a page start that comes back again is a ProtocolError, not an endless walk", async () => {
    const session = await connect({ credential: withPassword() });
    const page = { status: 200, body: '{"repositories":[]}', headers: { "x-next-page-start": "same" } };
    sim.failNext(page, 3);
    try {
      await rejectsWith(
        session.listRepositories(),
        ProtocolError,
        /pagination does not end \(pageStart same\)/,
      );
    } finally {
      sim.failNext(page, 0);
    }
  });

  test("an MSR 4 registry (Harbor: no /api/v0, /api/v2.0/systeminfo answers) goes to the Harbor provider", async () => {
    const harborNames = { "platform/node-app": "node-app", "platform/alpine": "alpine" };
    const harborView = await createStorageView(storageDir, harborNames);
    const harbor = await startHarborSim({
      storageDir: harborView.dir,
      accounts: { [USER]: { password: PASSWORD, projects: { platform: ["list", "pull"] } } },
    });
    try {
      const session = await dtrProvider.connect({
        registry: harbor.url,
        insecure: true,
        credential: credentialOf("dtr", USER, PASSWORD),
        spec: {},
      });
      try {
        assert.deepEqual(await session.listRepositories(), ["platform/alpine", "platform/node-app"]);
        const expected = harbor.tags
          .filter((t) => t.repository === "platform/alpine")
          .map((t) => ({ tag: t.tag, digest: t.digest, pushedAt: t.pushedAt }))
          .sort(byTag);
        assert.deepEqual(await session.listTags("platform/alpine", { withTimes: true }), expected);
        const manifest = await session.client.getManifest("platform/node-app", "1.0");
        assert.equal(manifest.digest, seededDigest("platform/node-app", "1.0"));
      } finally {
        await session.close();
      }
      const probes = harbor.requests.filter(
        (r) => r.path === "/api/v0/repositories" || r.path === "/api/v2.0/systeminfo",
      );
      assert.deepEqual(
        probes.map((r) => [r.path, r.status]),
        [
          ["/api/v0/repositories", 404],
          ["/api/v2.0/systeminfo", 200],
        ],
      );
    } finally {
      await harbor.stop();
      await harborView.remove();
    }
  });

  test("a 404 for /api/v0 from something that is not Harbor either is a NotFoundError", async () => {
    sim.failNext({ status: 404, body: '{"errors":[{"code":"NOT_FOUND","message":"Not found."}]}' }, 1);
    await rejectsWith(
      connect({ credential: withPassword() }),
      NotFoundError,
      /checking access: not found \(HTTP 404 NOT_FOUND: Not found\.\)/,
    );
    assert.equal(sim.requests.at(-1)?.path, "/api/v2.0/systeminfo");
  });
});
