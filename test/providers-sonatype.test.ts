/**
 * The Nexus provider (registry type `sonatype`, spec section 8, registries.md 2.11) against the Nexus
 * 3 simulation in test/harness/sim/nexus.ts (written from Sonatype's repositories, search and Docker
 * documentation, URLs at its top), which fronts the real docker-registry serving the seeded images
 * under `<repository>/<image>` names, with one connector port per repository and path-based routing
 * on the main port. Search pages hold 7 components and carry `null` items (Nexus 3.58).
 * Repositories, tags and digests are checked against the seed, push times against the simulation.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Credential } from "../src/api/schemas.js";
import { AuthError, NotFoundError, PermissionError, RateLimitedError } from "../src/registry/errors.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderSession } from "../src/registry/providers/provider.js";
import { sonatypeProvider } from "../src/registry/providers/sonatype.js";
import { selectTags } from "../src/scan/tag-selection.js";
import { byTag, ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { type NexusSim, type NexusSimOptions, startNexusSim } from "./harness/sim/nexus.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const PAGE_SIZE = 7;
const USER = "scanner";
const PASSWORD = "Nexus-Scanner-1";

let seed: SeedContents;
let view: StorageView;
let sim: NexusSim;
/** `<repository>/<image>` → the seeded repository it serves. */
let names: Record<string, string>;
const sessions: ProviderSession[] = [];
const extraSims: NexusSim[] = [];

function simOptions(overrides: Partial<NexusSimOptions> = {}): NexusSimOptions {
  return {
    storageDir: view.dir,
    repositories: [
      { name: "docker-hosted", type: "hosted", connector: true },
      { name: "docker-proxy", type: "proxy", connector: true },
      { name: "docker-group", type: "group", connector: true, members: ["docker-hosted", "docker-proxy"] },
      { name: "docker-private", type: "hosted", connector: true },
    ],
    accounts: {
      [USER]: { password: PASSWORD, repositories: ["docker-hosted", "docker-proxy", "docker-group"] },
    },
    anonymous: ["docker-proxy"],
    pageSize: PAGE_SIZE,
    nullItems: true,
    ...overrides,
  };
}

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    names = {};
    for (const { name } of seed.repositories) {
      if (!name.startsWith("bulk/")) names[`docker-hosted/${name}`] = name;
    }
    names["docker-proxy/library/alpine"] = "alpine";
    names["docker-proxy/library/debian"] = "debian";
    names["docker-private/alpine"] = "alpine";
    view = await createStorageView(storageDir, names);
    sim = await startNexusSim(simOptions());
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await Promise.all([sim, ...extraSims].map((s) => s?.stop()));
  await view?.remove();
});

const basic = (accountID: string, password: string): Credential => ({
  _id: "nexus-ro",
  type: "basic",
  accountID,
  secret: { plain: password },
});

async function connect(registry: string, credential?: Credential): Promise<ProviderSession> {
  const session = await sonatypeProvider.connect({ registry, insecure: true, credential, spec: {} });
  sessions.push(session);
  return session;
}

const seededDigest = (repository: string, image: string, tag: string) => {
  const found = seed.images.find((i) => i.repository === names[`${repository}/${image}`] && i.tag === tag);
  assert.ok(found, `${repository}/${image}:${tag} is seeded`);
  return found.digest;
};

function expectedTags(repository: string, image: string) {
  return sim.tags
    .filter((t) => t.repository === repository && t.image === image)
    .map((t) => ({ tag: t.tag, digest: seededDigest(repository, image, t.tag), pushedAt: t.pushedAt }))
    .sort(byTag);
}

const imagesOf = (repository: string) =>
  Object.keys(names)
    .filter((n) => n.startsWith(`${repository}/`))
    .map((n) => n.slice(repository.length + 1))
    .sort();

const connectorUrl = (repository: string) => sim.connectors[repository] as string;

describe("sonatype provider", { timeout: 300_000 }, () => {
  test("is registered for type sonatype with basic credentials", () => {
    assert.equal(providerFor("sonatype"), sonatypeProvider);
    assert.deepEqual(sonatypeProvider.credentialTypes, ["basic"]);
  });

  const forms = [
    { form: "connector port", registry: () => connectorUrl("docker-hosted") },
    { form: "path-based routing", registry: () => `${sim.url}/repository/docker-hosted` },
  ];
  for (const { form, registry } of forms) {
    test(`${form}: every image of the repository across continuationToken pages, null items dropped`, async () => {
      const session = await connect(registry(), basic(USER, PASSWORD));
      const before = sim.requests.length;
      assert.deepEqual(await session.listRepositories(), imagesOf("docker-hosted"));
      const searches = sim.requests.slice(before).filter((r) => r.path === "/service/rest/v1/search");
      const components = sim.tags.filter((t) => t.repository === "docker-hosted").length;
      assert.equal(searches.length, Math.ceil(components / PAGE_SIZE));
      assert.ok(searches.slice(1).every((r) => r.search.includes("continuationToken=")));
    });

    test(`${form}: tags with digests and push times; an image pulls with the seed's digest`, async () => {
      const session = await connect(registry(), basic(USER, PASSWORD));
      for (const image of ["many-tags/alpine", "alpine-multi", "alpine"]) {
        assert.deepEqual(
          await session.listTags(image, { withTimes: true }),
          expectedTags("docker-hosted", image),
        );
      }
      assert.deepEqual(
        await session.listTags("alpine", { withTimes: false }),
        expectedTags("docker-hosted", "alpine").map((t) => ({ tag: t.tag })),
      );
      const resolved = await session.client.resolveImage("alpine", "3.10.3");
      assert.equal(resolved.digest, seededDigest("docker-hosted", "alpine", "3.10.3"));
    });
  }

  test("the cap keeps the most recently pushed tags", async () => {
    const session = await connect(connectorUrl("docker-hosted"), basic(USER, PASSWORD));
    const discovered = await session.listTags("many-tags/alpine", { withTimes: true });
    const newest = expectedTags("docker-hosted", "many-tags/alpine")
      .sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime())
      .slice(0, 4)
      .map((t) => t.tag);
    assert.deepEqual(
      selectTags(discovered, { cap: 4 }).map((t) => t.tag),
      newest,
    );
  });

  test("a group repository is searched through its members and pulls through the group", async () => {
    const session = await connect(connectorUrl("docker-group"), basic(USER, PASSWORD));
    assert.deepEqual(
      await session.listRepositories(),
      [...new Set([...imagesOf("docker-hosted"), ...imagesOf("docker-proxy")])].sort(),
    );
    assert.deepEqual(
      await session.listTags("library/debian", { withTimes: true }),
      expectedTags("docker-proxy", "library/debian"),
    );
    const resolved = await session.client.resolveImage("library/alpine", "3.10.3");
    assert.equal(resolved.digest, seededDigest("docker-proxy", "library/alpine", "3.10.3"));
  });

  test("anonymous access reads a repository open to it", async () => {
    const session = await connect(connectorUrl("docker-proxy"));
    assert.deepEqual(await session.listRepositories(), imagesOf("docker-proxy"));
    const resolved = await session.client.resolveImage("library/debian", "bookworm");
    assert.equal(resolved.digest, seededDigest("docker-proxy", "library/debian", "bookworm"));
  });

  test("a wrong password fails at connect", async () => {
    await assert.rejects(connect(connectorUrl("docker-hosted"), basic(USER, "wrong")), (err: unknown) => {
      assert.ok(err instanceof AuthError, String(err));
      assert.match(err.message, /Nexus rejected the credentials of user "scanner"/);
      return true;
    });
  });

  test("anonymous access to a closed repository asks for credentials", async () => {
    await assert.rejects(connect(connectorUrl("docker-hosted")), (err: unknown) => {
      assert.ok(err instanceof NotFoundError, String(err));
      assert.match(
        err.message,
        /visible to anonymous access has its connector.*docker-proxy: \d+.*-browse privilege/,
      );
      return true;
    });
  });

  test("a repository the user may not read is not found at connect, naming the connector ports", async () => {
    await assert.rejects(connect(connectorUrl("docker-private"), basic(USER, PASSWORD)), (err: unknown) => {
      assert.ok(err instanceof NotFoundError, String(err));
      assert.match(
        err.message,
        /no Nexus docker repository visible to user "scanner" has its connector on port \d+.*docker-hosted: \d+/,
      );
      return true;
    });
  });

  test("the main port (no connector) and an unknown path-routed repository fail at connect", async () => {
    await assert.rejects(connect(sim.url, basic(USER, PASSWORD)), (err: unknown) => {
      assert.ok(err instanceof NotFoundError, String(err));
      assert.match(err.message, /has its connector on port \d+; use the repository's connector port/);
      return true;
    });
    await assert.rejects(connect(`${sim.url}/repository/nope`, basic(USER, PASSWORD)), (err: unknown) => {
      assert.ok(err instanceof NotFoundError, String(err));
      assert.match(err.message, /Nexus has no docker repository "nope".*docker-hosted/);
      return true;
    });
  });

  test("an image the repository does not hold is not found", async () => {
    const session = await connect(connectorUrl("docker-hosted"), basic(USER, PASSWORD));
    await assert.rejects(session.listTags("nope", { withTimes: false }), NotFoundError);
  });

  test("with the Docker Bearer Token Realm, short-lived /v2 tokens are obtained again once expired", async () => {
    const realm = await startNexusSim(simOptions({ bearerTokenSeconds: 1 }));
    extraSims.push(realm);
    for (const registry of [
      realm.connectors["docker-hosted"] as string,
      `${realm.url}/repository/docker-hosted`,
    ]) {
      const session = await connect(registry, basic(USER, PASSWORD));
      const first = await session.client.resolveImage("alpine", "3.10.3");
      assert.equal(first.digest, seededDigest("docker-hosted", "alpine", "3.10.3"));
      const issued = realm.tokensIssued();
      assert.ok(issued > 0);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const second = await session.client.resolveImage("alpine", "3.10.3");
      assert.equal(second.digest, first.digest);
      assert.ok(realm.tokensIssued() > issued);
    }
    await assert.rejects(
      connect(realm.connectors["docker-hosted"] as string, basic(USER, "wrong")),
      AuthError,
    );
  });

  test("503 and 429 are retried; a lasting 429 or a 403 is a typed error", async () => {
    let failures = 0;
    const flaky = await startNexusSim(
      simOptions({
        fault: (_req, path) => {
          if (path !== "/service/rest/v1/search") return undefined;
          failures++;
          if (failures === 1) return { status: 503 };
          if (failures === 2) return { status: 429, headers: { "retry-after": "1" } };
          return undefined;
        },
      }),
    );
    extraSims.push(flaky);
    const session = await connect(flaky.connectors["docker-hosted"] as string, basic(USER, PASSWORD));
    assert.deepEqual(
      await session.listTags("alpine", { withTimes: false }),
      expectedTags("docker-hosted", "alpine").map((t) => ({ tag: t.tag })),
    );
    assert.ok(failures >= 3);

    const limited = await startNexusSim(
      simOptions({
        fault: (_req, path) => {
          if (path !== "/service/rest/v1/search") return undefined;
          return { status: 429, headers: { "retry-after": "1" } };
        },
      }),
    );
    extraSims.push(limited);
    const limitedSession = await connect(
      limited.connectors["docker-hosted"] as string,
      basic(USER, PASSWORD),
    );
    await assert.rejects(limitedSession.listRepositories(), (err: unknown) => {
      assert.ok(err instanceof RateLimitedError, String(err));
      assert.equal(err.retryAfterMs, 1000);
      return true;
    });

    const forbidden = await startNexusSim(
      simOptions({
        fault: (_req, path) => (path === "/service/rest/v1/search" ? { status: 403 } : undefined),
      }),
    );
    extraSims.push(forbidden);
    const forbiddenSession = await connect(
      forbidden.connectors["docker-hosted"] as string,
      basic(USER, PASSWORD),
    );
    await assert.rejects(forbiddenSession.listRepositories(), (err: unknown) => {
      assert.ok(err instanceof PermissionError, String(err));
      assert.match(err.message, /nx-repository-view-docker/);
      return true;
    });
  });
});
