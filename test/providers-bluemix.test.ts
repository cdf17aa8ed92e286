/**
 * The IBM Cloud Container Registry provider (registry type `bluemix`, registries.md 2.13) against the
 * simulation in test/harness/sim/bluemix.ts (IAM API-key tokens, the Container Registry API with its
 * Account header, /v2/ on the same host in front of the real docker-registry). Expected repositories,
 * tags and digests come from the seed, push times from the simulation's records.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Credential } from "../src/api/schemas.js";
import { digestOf } from "../src/registry/client.js";
import {
  AuthError,
  NotFoundError,
  PermissionError,
  RateLimitedError,
  UnsupportedError,
} from "../src/registry/errors.js";
import { bluemixProvider } from "../src/registry/providers/bluemix.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import { ensureSeededStorage, type SeedContents, seedContents, seededDigestOf } from "./harness/seed.js";
import { type BluemixSim, startBluemixSim } from "./harness/sim/bluemix.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const ACCOUNT = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const OTHER_ACCOUNT = "ffffeeeeddddccccbbbbaaaa99998888";
const API_KEY = "ibm-api-key-0123456789";
const NAMES: Record<string, string> = {
  "prod-ns/debian": "debian",
  "prod-ns/alpine": "alpine",
  "prod-ns/multi": "alpine-multi",
  "other-ns/node-app": "node-app",
};

let seed: SeedContents;
let view: StorageView;
let sim: BluemixSim;
const sessions: ProviderSession[] = [];
const savedIam = process.env.SHIPSHAPE_IBMCLOUD_IAM_URL;

const credential = (overrides: Partial<Credential> = {}): Credential =>
  ({
    _id: "ibm",
    type: "ibmCloud",
    accountGUID: ACCOUNT,
    apiToken: { encrypted: "", plain: API_KEY },
    ...overrides,
  }) as Credential;

async function connect(options: { namespace?: string; credential?: Credential } = {}) {
  const session = await bluemixProvider.connect({
    registry: sim.url,
    namespace: options.namespace ?? "prod-ns",
    credential: options.credential ?? credential(),
    spec: {},
  });
  sessions.push(session);
  return session;
}

const seededTags = (repository: string) =>
  seed.repositories.find((r) => r.name === NAMES[repository])?.tags ?? assert.fail(repository);
const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, NAMES, repository, tag);

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    view = await createStorageView(storageDir, NAMES);
    sim = await startBluemixSim({
      storageDir: view.dir,
      accounts: {
        [ACCOUNT]: {
          apiKeys: [API_KEY],
          namespaces: ["prod-ns", "other-ns"],
          readers: ["prod-ns", "other-ns"],
        },
        [OTHER_ACCOUNT]: { apiKeys: [], namespaces: ["theirs"], readers: ["theirs"] },
      },
    });
    process.env.SHIPSHAPE_IBMCLOUD_IAM_URL = sim.iamUrl;
  },
  { timeout: 120_000 },
);

after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await sim?.stop();
  await view?.remove();
  if (savedIam === undefined) delete process.env.SHIPSHAPE_IBMCLOUD_IAM_URL;
  else process.env.SHIPSHAPE_IBMCLOUD_IAM_URL = savedIam;
});

describe("bluemix provider", () => {
  test("is registered for type bluemix with the ibmCloud credential", () => {
    assert.equal(providerFor("bluemix"), bluemixProvider);
    assert.deepEqual(bluemixProvider.credentialTypes, ["ibmCloud"]);
  });

  test("lists exactly the namespace's repositories, tags, digests and Created times", async () => {
    const session = await connect();
    assert.deepEqual(await session.listRepositories(), ["prod-ns/alpine", "prod-ns/debian", "prod-ns/multi"]);
    for (const repository of ["prod-ns/alpine", "prod-ns/debian", "prod-ns/multi"]) {
      const tags = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(
        tags.map((t) => t.tag),
        [...seededTags(repository)].sort(),
      );
      for (const t of tags) {
        assert.equal(t.digest, seededDigest(repository, t.tag));
        const record = sim.images.find((i) => i.repository === repository && i.tag === t.tag);
        const sameImage = sim.images.filter((i) => i.repository === repository && i.digest === t.digest);
        const created = Math.floor(Math.min(...sameImage.map((i) => i.created.getTime())) / 1000) * 1000;
        assert.ok(record);
        assert.equal(t.pushedAt?.getTime(), created);
      }
    }
  });

  test("a cap keeps the newest tags by the API's Created time", async () => {
    const session = await connect();
    const tags = await session.listTags("prod-ns/alpine", { withTimes: true });
    assert.ok(tags.length >= 2);
    const newest = [...tags].sort((a, b) => (b.pushedAt?.getTime() ?? 0) - (a.pushedAt?.getTime() ?? 0));
    assert.deepEqual(
      selectTags(tags, { cap: 1 }).map((t) => t.tag),
      [newest[0]?.tag],
    );
  });

  test("pulls an image with iamapikey and the API key; its digest is the seed's", async () => {
    const session = await connect();
    const [tag] = seededTags("prod-ns/debian");
    assert.ok(tag);
    const manifest = await session.client.getManifest("prod-ns/debian", tag);
    assert.equal(manifest.digest, seededDigest("prod-ns/debian", tag));
    assert.equal(digestOf(manifest.bytes), manifest.digest);
  });

  const failures: {
    name: string;
    options: () => { namespace?: string; credential?: Credential };
    error: new (...args: never[]) => Error;
    message: RegExp;
  }[] = [
    {
      name: "a wrong API key fails at connect, from IAM",
      options: () => ({
        credential: credential({ apiToken: { encrypted: "", plain: "wrong" } } as Partial<Credential>),
      }),
      error: AuthError,
      message: /IBM Cloud IAM refused the API key.*BXNIM0415E/,
    },
    {
      name: "an account the key's identity is not in is a permission error",
      options: () => ({ credential: credential({ accountGUID: OTHER_ACCOUNT }) }),
      error: PermissionError,
      message: /IBM Cloud Container Registry.*CRG0012E.*accountGUID/,
    },
    {
      name: "a namespace not in the account or region is named with the account's namespaces",
      options: () => ({ namespace: "missing-ns" }),
      error: NotFoundError,
      message: /namespace "missing-ns" is not in account .*namespaces: prod-ns, other-ns/,
    },
    {
      name: "a missing namespace is a clear error",
      options: () => ({ namespace: " " }),
      error: UnsupportedError,
      message: /needs the specification's namespace/,
    },
    {
      name: "a credential of another type is refused",
      options: () => ({ credential: credential({ type: "basic" }) }),
      error: UnsupportedError,
      message: /needs an "ibmCloud" credential.*not "basic"/,
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

  test("429s past the retries end in a RateLimitedError naming the product", async () => {
    const session = await connect();
    sim.failNext(429, 50);
    try {
      await assert.rejects(session.listRepositories(), (err: Error) => {
        assert.ok(err instanceof RateLimitedError, err.message);
        assert.match(err.message, /IBM Cloud Container Registry rate limit.*CRG0119E/);
        return true;
      });
    } finally {
      sim.failNext(429, 0);
    }
  });

  test("a 5xx is retried and then succeeds", async () => {
    const session = await connect();
    const before = sim.requests.filter((r) => r.path === "/api/v1/images" && r.status === 503).length;
    sim.failNext(503, 1);
    assert.deepEqual(await session.listRepositories(), ["prod-ns/alpine", "prod-ns/debian", "prod-ns/multi"]);
    assert.equal(
      sim.requests.filter((r) => r.path === "/api/v1/images" && r.status === 503).length,
      before + 1,
    );
  });

  test("a revoked IAM token is obtained anew once after the 401", async () => {
    const session = await connect();
    const issued = sim.issued;
    sim.revokeTokens();
    assert.deepEqual(await session.listRepositories(), ["prod-ns/alpine", "prod-ns/debian", "prod-ns/multi"]);
    assert.equal(sim.issued, issued + 1);
  });

  test("a short-lived IAM token is renewed ahead of its expiry, before any 401", async () => {
    sim.tokenLifetimeSeconds = 4;
    try {
      const session = await connect();
      const issued = sim.issued;
      const unauthorized = sim.requests.filter((r) => r.status === 401).length;
      // Renewal is due at 3 of the 4 seconds (a quarter of the lifetime ahead of expiry).
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      assert.deepEqual(await session.listRepositories(), [
        "prod-ns/alpine",
        "prod-ns/debian",
        "prod-ns/multi",
      ]);
      assert.ok(sim.issued >= issued + 1);
      assert.equal(sim.requests.filter((r) => r.status === 401).length, unauthorized);
    } finally {
      sim.tokenLifetimeSeconds = 3600;
    }
  });

  test("an unknown repository is a NotFoundError, never an empty list", async () => {
    const session = await connect();
    await assert.rejects(session.listTags("other-ns/node-app", { withTimes: false }), NotFoundError);
  });
});
