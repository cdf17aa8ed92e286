/**
 * The Quay provider (registry type `coreos`, spec section 8, registries.md 2.9) against the Quay
 * simulation in test/harness/sim/quay.ts: a simulation written from Quay's API documentation and its
 * implementation in quay/quay (listRepos with next_page, listRepoTags with onlyActiveTags / limit /
 * page / has_additional, problem+json errors, /v2/auth, the caller-filtered /v2/_catalog; what it
 * leaves out is listed at its top), which fronts the real docker-registry serving the seeded images
 * under Quay namespaces. Repository pages are capped at 2 so namespaces and the catalog span pages;
 * tag pages are Quay's own 100, so the 250 tags of acme/many-tags take three. Expected repositories,
 * tags and digests come from the seed and the storage, push times from the simulation's records.
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
  type RegistryError,
  UnsupportedError,
} from "../src/registry/errors.js";
import { coreosProvider } from "../src/registry/providers/coreos.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { DiscoveredTag, ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import { startFaultProxy } from "./harness/fault-proxy.js";
import { generateRegistryCertificates } from "./harness/registry.js";
import {
  byTag,
  ensureSeededStorage,
  type SeedContents,
  seedContents,
  seededDigestOf,
} from "./harness/seed.js";
import { type QuaySim, startQuaySim } from "./harness/sim/quay.js";
import { createStorageView, readBlobJson, type StorageView } from "./harness/sim/storage.js";

const ROBOT = "acme+scanner";
const ROBOT_TOKEN = "ROBOT-TOKEN-0123456789";
const OAUTH = "oauth-alice-repo-read";
const OAUTH_NO_SCOPE = "oauth-alice-user-read";
const OAUTH_BOB = "oauth-bob-repo-read";
const NOW_S = Math.floor(Date.now() / 1000);

/** Quay repository name → the seeded repository it serves. */
const names: Record<string, string> = {
  "acme/alpine": "alpine",
  "acme/alpine-multi": "alpine-multi",
  "acme/debian": "debian",
  "acme/many-tags": "many-tags/alpine",
  "acme/node-app": "node-app",
  "team-01/service-01": "team-01/service-01",
  "team-01/service-02": "team-01/service-02",
  "team-02/service-01": "team-02/service-01",
  "public/node-app": "node-app",
};

let seed: SeedContents;
let view: StorageView;
let sim: QuaySim;
const sessions: ProviderSession[] = [];

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    view = await createStorageView(storageDir, names);
    const digest = (repository: string, tag: string) => seededDigest(repository, tag);
    sim = await startQuaySim({
      storageDir: view.dir,
      repositoryPage: 2,
      publicRepositories: ["public/node-app"],
      accounts: {
        [ROBOT]: { password: ROBOT_TOKEN, namespaces: ["acme", "team-01"] },
        alice: { password: "alice-password", namespaces: ["acme", "team-01", "team-02"] },
        bob: { password: "bob-password", namespaces: ["acme"] },
      },
      oauthTokens: {
        [OAUTH]: { account: "alice", scopes: ["repo:read"] },
        [OAUTH_NO_SCOPE]: { account: "alice", scopes: ["user:read"] },
        [OAUTH_BOB]: { account: "bob", scopes: ["repo:read"] },
      },
      history: [
        // 3.20.3 pointed at 3.10.3's manifest before it was pushed again; "nightly" was deleted.
        {
          repository: "acme/alpine",
          tag: "3.20.3",
          digest: digest("acme/alpine", "3.10.3"),
          startTs: 1_690_000_000,
          endTs: 1_700_000_000,
        },
        {
          repository: "acme/alpine",
          tag: "nightly",
          digest: digest("acme/alpine", "3.10.3"),
          startTs: 1_800_000_000,
          endTs: NOW_S - 60,
        },
      ],
      // Still active: set to expire in a day.
      expiration: { "acme/debian:bookworm": NOW_S + 86_400 },
    });
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await sim?.stop();
  await view?.remove();
});

const basic = (accountID: string, password: string): Credential => ({
  _id: "quay-basic",
  type: "basic",
  accountID,
  secret: { plain: password },
});
const apiToken = (token: string): Credential => ({
  _id: "quay-oauth",
  type: "apiToken",
  apiToken: { plain: token },
});

async function connect(
  credential: Credential | undefined,
  spec: { namespace?: string; repository?: string } = {},
  registry = sim.url,
): Promise<ProviderSession> {
  const session = await coreosProvider.connect({
    registry,
    insecure: true,
    credential,
    namespace: spec.namespace,
    spec: { ...spec },
  });
  sessions.push(session);
  return session;
}

/** The seed's digest of a Quay repository's tag. */
const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, names, repository, tag);

/** What Quay's API holds as active for a repository: digest and start time. */
function activeTags(repository: string): DiscoveredTag[] {
  return sim.tags
    .filter((t) => t.repository === repository && (t.endTs === undefined || t.endTs > NOW_S))
    .map((t) => ({ tag: t.tag, digest: t.digest, pushedAt: new Date(t.startTs * 1000) }))
    .sort(byTag);
}

/** The image config's `created` of a tag for linux/amd64 (the index's child for a manifest list). */
async function buildTime(digest: string): Promise<Date> {
  let manifest = await readBlobJson(view.dir, digest);
  if (Array.isArray(manifest.manifests)) {
    const children = manifest.manifests as {
      digest: string;
      platform?: { os?: string; architecture?: string };
    }[];
    const child = children.find((c) => c.platform?.os === "linux" && c.platform.architecture === "amd64");
    assert.ok(child, `${digest} has a linux/amd64 image`);
    manifest = await readBlobJson(view.dir, child.digest);
  }
  const config = await readBlobJson(view.dir, (manifest.config as { digest: string }).digest);
  return new Date(String(config.created));
}

const apiRequests = (pattern: RegExp) =>
  sim.requests.filter((r) => r.path.startsWith("/api/") && pattern.test(r.url));

describe("coreos (Quay) provider", { timeout: 300_000 }, () => {
  test("accepts basic and apiToken credentials", () => {
    assert.equal(providerFor("coreos"), coreosProvider);
    assert.deepEqual(coreosProvider.credentialTypes, ["basic", "apiToken"]);
  });

  test("an OAuth token lists the namespaces through the API, following next_page", async () => {
    const session = await connect(apiToken(OAUTH), { namespace: "acme, team-01" });
    assert.equal(session.registryHost, sim.host);
    const before = apiRequests(/^\/api\/v1\/repository\?/).length;
    assert.deepEqual(await session.listRepositories(), [
      "acme/alpine",
      "acme/alpine-multi",
      "acme/debian",
      "acme/many-tags",
      "acme/node-app",
      "team-01/service-01",
      "team-01/service-02",
    ]);
    // Pages of 2: acme's five repositories take three, team-01's two take one.
    const pages = apiRequests(/^\/api\/v1\/repository\?/).slice(before);
    assert.deepEqual(
      pages.map((r) => [
        new URL(r.url, sim.url).searchParams.get("namespace"),
        new URL(r.url, sim.url).searchParams.has("next_page"),
      ]),
      [
        ["acme", false],
        ["acme", true],
        ["acme", true],
        ["team-01", false],
      ],
    );
    assert.ok(pages.every((r) => new URL(r.url, sim.url).searchParams.get("public") === "true"));
  });

  test("every tag of every repository, with Quay's manifest digest and start_ts push time", async () => {
    const session = await connect(apiToken(OAUTH), { namespace: "acme,team-01" });
    for (const repository of await session.listRepositories()) {
      const tags = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(tags, activeTags(repository), repository);
      for (const tag of tags)
        assert.equal(tag.digest, seededDigest(repository, tag.tag), `${repository}:${tag.tag}`);
    }
  });

  test("history is not scanned: the deleted tag and the overwritten version are left out", async () => {
    const session = await connect(apiToken(OAUTH), { namespace: "acme" });
    const tags = await session.listTags("acme/alpine", { withTimes: true });
    assert.deepEqual(
      tags.map((t) => [t.tag, t.digest]),
      [
        ["3.10.3", seededDigest("acme/alpine", "3.10.3")],
        ["3.20.3", seededDigest("acme/alpine", "3.20.3")],
      ],
    );
    assert.ok(
      apiRequests(/^\/api\/v1\/repository\/acme\/alpine\/tag\/\?onlyActiveTags=true&limit=100&page=1$/)
        .length > 0,
    );
    // A tag set to expire later is still active, and its end_ts is on the wire.
    const debian = await session.listTags("acme/debian", { withTimes: true });
    assert.deepEqual(debian, activeTags("acme/debian"));
    assert.equal(debian.length, 1);
  });

  test("an older Quay that ignores onlyActiveTags: tags whose end_ts has passed are dropped", async () => {
    const proxy = await startFaultProxy(sim.url);
    try {
      // Rewrites the query so the simulation answers the full history, as such a server does.
      proxy.rules.push({
        match: { path: /^\/api\/v1\/repository\/acme\/alpine\/tag\/\?onlyActiveTags=true/ },
        fault: {
          kind: "status",
          status: 200,
          headers: { "content-type": "application/json" },
          body: await (
            await fetch(`${sim.url}/api/v1/repository/acme/alpine/tag/?limit=100`, {
              headers: { authorization: `Bearer ${OAUTH}` },
            })
          ).text(),
        },
      });
      const session = await connect(apiToken(OAUTH), { namespace: "acme" }, proxy.url);
      assert.deepEqual(await session.listTags("acme/alpine", { withTimes: true }), activeTags("acme/alpine"));
    } finally {
      await proxy.stop();
    }
  });

  test("250 tags arrive over three pages of 100 until has_additional is false", async () => {
    const session = await connect(apiToken(OAUTH), { namespace: "acme" });
    const before = apiRequests(/^\/api\/v1\/repository\/acme\/many-tags\/tag\//).length;
    const tags = await session.listTags("acme/many-tags", { withTimes: true });
    assert.deepEqual(tags, activeTags("acme/many-tags"));
    assert.equal(tags.length, 250);
    assert.deepEqual(
      apiRequests(/^\/api\/v1\/repository\/acme\/many-tags\/tag\//)
        .slice(before)
        .map((r) => new URL(r.url, sim.url).searchParams.get("page")),
      ["1", "2", "3"],
    );
  });

  test("a manifest list is one tag with the list's digest", async () => {
    const session = await connect(apiToken(OAUTH), { namespace: "acme" });
    const tags = await session.listTags("acme/alpine-multi", { withTimes: true });
    assert.deepEqual(tags, [
      {
        tag: "3.10.3",
        digest: seededDigest("acme/alpine-multi", "3.10.3"),
        pushedAt: activeTags("acme/alpine-multi")[0]?.pushedAt,
      },
    ]);
    const manifest = await session.client.getManifest("acme/alpine-multi", "3.10.3");
    assert.equal(manifest.digest, seededDigest("acme/alpine-multi", "3.10.3"));
    assert.ok("manifests" in manifest.manifest);
  });

  test("the cap keeps the tags Quay says were pushed last", async () => {
    const session = await connect(apiToken(OAUTH), { namespace: "acme" });
    const newest = activeTags("acme/many-tags")
      .sort((a, b) => (b.pushedAt?.getTime() ?? 0) - (a.pushedAt?.getTime() ?? 0) || byTag(b, a))
      .slice(0, 3)
      .map((t) => t.tag);
    const discovered = await session.listTags("acme/many-tags", { withTimes: true });
    assert.deepEqual(
      selectTags(discovered, { cap: 3 }).map((t) => t.tag),
      newest,
    );
  });

  test("basic $oauthtoken is the same OAuth token: API listing, pulls as $oauthtoken", async () => {
    const session = await connect(basic("$oauthtoken", OAUTH), { namespace: "team-01" });
    assert.deepEqual(await session.listRepositories(), ["team-01/service-01", "team-01/service-02"]);
    assert.deepEqual(
      await session.listTags("team-01/service-02", { withTimes: true }),
      activeTags("team-01/service-02"),
    );
    const manifest = await session.client.getManifest("team-01/service-02", "v2");
    assert.equal(digestOf(manifest.bytes), seededDigest("team-01/service-02", "v2"));
  });

  test("without namespace, the namespaces a repository pattern names literally are listed through the API", async () => {
    const cases: { repository: string; namespaces: string[] }[] = [
      { repository: "team-01/*", namespaces: ["team-01"] },
      { repository: "Team-01/service-01, acme/*, -acme/many-tags", namespaces: ["team-01", "acme"] },
      // The namespace is left open: the catalog lists what the token's user may read.
      { repository: "*/service-01", namespaces: [] },
      { repository: "acme/*,t*m-01/*", namespaces: [] },
    ];
    for (const { repository, namespaces } of cases) {
      const apiBefore = apiRequests(/^\/api\/v1\/repository\?/).length;
      const catalogBefore = sim.requests.filter((r) => r.path === "/v2/_catalog").length;
      const session = await connect(apiToken(OAUTH), { repository });
      const listed = await session.listRepositories();
      const pages = apiRequests(/^\/api\/v1\/repository\?/).slice(apiBefore);
      assert.deepEqual(
        [...new Set(pages.map((r) => new URL(r.url, sim.url).searchParams.get("namespace")))],
        namespaces,
        repository,
      );
      const catalogPages = sim.requests.filter((r) => r.path === "/v2/_catalog").length - catalogBefore;
      assert.equal(catalogPages > 0, namespaces.length === 0, repository);
      // Otherwise the catalog: every repository alice may read (the public catalog is off).
      const catalogued = Object.keys(names)
        .filter((n) => !n.startsWith("public/"))
        .sort();
      const expected =
        namespaces.length === 0
          ? catalogued
          : catalogued.filter((n) => namespaces.includes(n.split("/")[0] ?? ""));
      assert.deepEqual(listed, expected, repository);
    }
  });

  test("an OAuth token without a namespace lists what its user may read from /v2/_catalog", async () => {
    const session = await connect(apiToken(OAUTH_BOB));
    assert.deepEqual(await session.listRepositories(), [
      "acme/alpine",
      "acme/alpine-multi",
      "acme/debian",
      "acme/many-tags",
      "acme/node-app",
    ]);
  });

  test("a robot account uses the registry only: the filtered catalog over Link pages, tags dated by build time", async () => {
    const apiBefore = sim.requests.filter((r) => r.path.startsWith("/api/")).length;
    const catalogBefore = sim.requests.filter((r) => r.path === "/v2/_catalog").length;
    const session = await connect(basic(ROBOT, ROBOT_TOKEN));
    assert.deepEqual(await session.listRepositories(), [
      "acme/alpine",
      "acme/alpine-multi",
      "acme/debian",
      "acme/many-tags",
      "acme/node-app",
      "team-01/service-01",
      "team-01/service-02",
    ]);
    // Seven repositories in pages of 2, each next page by Link with Quay's opaque next_page.
    const catalog = sim.requests.filter((r) => r.path === "/v2/_catalog").slice(catalogBefore);
    assert.equal(catalog.length, 4);
    assert.ok(catalog.slice(1).every((r) => new URL(r.url, sim.url).searchParams.has("next_page")));
    for (const repository of ["acme/alpine", "acme/alpine-multi", "team-01/service-01"]) {
      const expected: DiscoveredTag[] = [];
      for (const { tag } of activeTags(repository)) {
        const digest = seededDigest(repository, tag);
        expected.push({ tag, digest, pushedAt: await buildTime(digest) });
      }
      assert.deepEqual(await session.listTags(repository, { withTimes: true }), expected, repository);
    }
    // The specification's namespace bounds the catalog.
    const team01 = await connect(basic(ROBOT, ROBOT_TOKEN), { namespace: "team-01" });
    assert.deepEqual(await team01.listRepositories(), ["team-01/service-01", "team-01/service-02"]);
    assert.equal(sim.requests.filter((r) => r.path.startsWith("/api/")).length, apiBefore, "no API request");
    const manifest = await session.client.getManifest("acme/debian", "bookworm");
    assert.equal(manifest.digest, seededDigest("acme/debian", "bookworm"));
  });

  test("anonymous access: public repositories of a namespace through the API, with push times", async () => {
    const session = await connect(undefined, { namespace: "public" });
    assert.deepEqual(await session.listRepositories(), ["public/node-app"]);
    assert.deepEqual(
      await session.listTags("public/node-app", { withTimes: true }),
      activeTags("public/node-app"),
    );
    const manifest = await session.client.getManifest("public/node-app", "1.0");
    assert.equal(manifest.digest, seededDigest("public/node-app", "1.0"));
  });

  test("anonymous access without a namespace: exact repository names, else a clear refusal", async () => {
    const named = await connect(undefined, { repository: "public/node-app" });
    assert.deepEqual(await named.listRepositories(), ["public/node-app"]);
    const patterned = await connect(undefined, { repository: "public/*" });
    assert.deepEqual(await patterned.listRepositories(), ["public/node-app"]);
    const unnamed = await connect(undefined, { repository: "*node-app" });
    await assert.rejects(
      unnamed.listRepositories(),
      (e: unknown) =>
        e instanceof UnsupportedError &&
        e.message ===
          `${sim.host}: Quay does not list repositories to anonymous callers; give the specification a namespace, name the repositories exactly in \`repository\`, or give it a credential`,
    );
  });

  test("wrong credentials fail at connect, naming the account", async () => {
    const cases: { credential: Credential; message: string }[] = [
      {
        credential: basic(ROBOT, "wrong"),
        message: `${sim.host}: checking access to /v2/: Quay's /v2/auth rejected robot account "${ROBOT}"`,
      },
      {
        credential: basic("alice", "wrong"),
        message: `${sim.host}: checking access to /v2/: Quay's /v2/auth rejected user "alice"; a robot account signs in as namespace+robot with its token`,
      },
      {
        credential: apiToken("not-a-token"),
        message: `${sim.host}: checking access to /v2/: Quay's /v2/auth rejected the OAuth access token`,
      },
    ];
    for (const { credential, message } of cases) {
      await assert.rejects(connect(credential, { namespace: "acme" }), (e: unknown) => {
        assert.ok(e instanceof AuthError, String(e));
        assert.equal(e.message, message);
        assert.equal(e.status, 401);
        return true;
      });
    }
  });

  test("an OAuth token without repo:read: 403 insufficient_scope is a PermissionError", async () => {
    const session = await connect(apiToken(OAUTH_NO_SCOPE), { namespace: "acme" });
    await assert.rejects(session.listRepositories(), (e: unknown) => {
      return (
        e instanceof PermissionError &&
        e.status === 403 &&
        e.message ===
          `${sim.host}: listing the repositories of namespace "acme": the OAuth access token is not allowed to (HTTP 403 insufficient_scope: Unauthorized); the OAuth token needs the repo:read scope, and its user read permission on the repository`
      );
    });
  });

  test("a namespace the token's user may not read lists nothing (NotFound), and its tags are forbidden", async () => {
    const session = await connect(apiToken(OAUTH_BOB), { namespace: "team-02" });
    await assert.rejects(session.listRepositories(), (e: unknown) => {
      return (
        e instanceof NotFoundError &&
        e.message ===
          `${sim.host}: listing the repositories of namespace "team-02": Quay lists no repositories there to the OAuth access token; the namespace does not exist, holds no repositories, or the OAuth access token may read none of them`
      );
    });
    await assert.rejects(session.listTags("team-02/service-01", { withTimes: true }), (e: unknown) => {
      return (
        e instanceof PermissionError &&
        e.repository === "team-02/service-01" &&
        /^127\.0\.0\.1:\d+\/team-02\/service-01: listing tags: the OAuth access token is not allowed to \(HTTP 403 insufficient_scope: Unauthorized\)/.test(
          e.message,
        )
      );
    });
  });

  test("an unknown repository in a readable namespace is a NotFoundError naming it", async () => {
    const session = await connect(apiToken(OAUTH), { namespace: "acme" });
    await assert.rejects(session.listTags("acme/missing", { withTimes: true }), (e: unknown) => {
      return (
        e instanceof NotFoundError &&
        e.message === `${sim.host}/acme/missing: listing tags: not found (HTTP 404 not_found: Not Found)`
      );
    });
  });

  test("API failures after the transport's retries: 429, 5xx, malformed answers", async () => {
    const cases: { name: string; status: number; body: string; check: (e: RegistryError) => boolean }[] = [
      {
        name: "429",
        status: 429,
        body: JSON.stringify({ error_type: "rate_limited", detail: "slow down" }),
        check: (e) =>
          e instanceof RateLimitedError &&
          e.message ===
            `${proxyHost}/acme/alpine: listing tags: Quay's rate limit (HTTP 429 rate_limited: slow down); retries exhausted`,
      },
      {
        name: "503",
        status: 503,
        body: "<html><body>upstream unavailable</body></html>",
        check: (e) =>
          e instanceof ProtocolError &&
          e.message === `${proxyHost}/acme/alpine: listing tags: Quay answered HTTP 503`,
      },
      {
        name: "not JSON",
        status: 200,
        body: "<html>login</html>",
        check: (e) =>
          e instanceof ProtocolError &&
          e.message === `${proxyHost}/acme/alpine: listing tags: Quay's answer is not JSON`,
      },
      {
        name: "no tags list",
        status: 200,
        body: JSON.stringify({ page: 1, has_additional: false }),
        check: (e) =>
          e instanceof ProtocolError &&
          e.message === `${proxyHost}/acme/alpine: listing tags: Quay's answer has no "tags" list`,
      },
    ];
    let proxyHost = "";
    const proxy = await startFaultProxy(sim.url);
    proxyHost = proxy.host;
    try {
      const session = await connect(apiToken(OAUTH), { namespace: "acme" }, proxy.url);
      for (const { name, status, body, check } of cases) {
        proxy.reset();
        proxy.rules.push({
          match: { path: /^\/api\/v1\/repository\/acme\/alpine\/tag\// },
          fault: {
            kind: "status",
            status,
            headers: { "content-type": "application/json", "retry-after": "0" },
            body,
          },
        });
        await assert.rejects(session.listTags("acme/alpine", { withTimes: true }), (e: unknown) => {
          assert.ok(check(e as RegistryError), `${name}: ${String(e)}`);
          return true;
        });
        const attempts = proxy.hits.filter((h) =>
          h.path.startsWith("/api/v1/repository/acme/alpine/tag/"),
        ).length;
        assert.equal(attempts, status === 200 ? 1 : 5, `${name}: attempts`);
      }
    } finally {
      await proxy.stop();
    }
  });

  test("quay.io is the default registry, and a credential of another type is refused before any request", async () => {
    for (const registry of ["", "quay.io"]) {
      await assert.rejects(
        coreosProvider.connect({
          registry,
          credential: { _id: "cloud", type: "aws", accountID: "AKIA" },
          spec: {},
        }),
        (e: unknown) =>
          e instanceof UnsupportedError && e.registry === "quay.io" && /Quay accepts "basic"/.test(e.message),
      );
    }
  });
});

describe("coreos (Quay) over HTTPS with a private CA", { timeout: 120_000 }, () => {
  let tlsSim: QuaySim;
  let caCert: string;
  before(async () => {
    const certificates = await generateRegistryCertificates();
    caCert = certificates.caCert;
    tlsSim = await startQuaySim({
      storageDir: view.dir,
      tls: { cert: certificates.cert, key: certificates.key },
      accounts: { alice: { password: "alice-password", namespaces: ["team-01"] } },
      oauthTokens: { [OAUTH]: { account: "alice", scopes: ["repo:read"] } },
    });
  });
  after(() => tlsSim?.stop());

  test("caCert is trusted for the API, /v2/auth and /v2/", async () => {
    const session = await coreosProvider.connect({
      registry: tlsSim.host,
      caCert,
      credential: apiToken(OAUTH),
      namespace: "team-01",
      spec: {},
    });
    sessions.push(session);
    assert.deepEqual(await session.listRepositories(), ["team-01/service-01", "team-01/service-02"]);
    const tags = await session.listTags("team-01/service-01", { withTimes: true });
    assert.deepEqual(
      tags.map((t) => t.tag),
      ["v1", "v2", "v3"],
    );
    const manifest = await session.client.getManifest("team-01/service-01", "v1");
    assert.equal(manifest.digest, seededDigest("team-01/service-01", "v1"));
  });

  test("without caCert the certificate is not trusted, and the error says what to give", async () => {
    await assert.rejects(
      coreosProvider.connect({ registry: tlsSim.host, credential: apiToken(OAUTH), spec: {} }),
      (e: unknown) => e instanceof Error && /TLS certificate not trusted .*caCert/.test(e.message),
    );
  });
});
