/**
 * The OpenShift integrated registry provider (registry type `redhat`, spec section 8, registries.md
 * 2.14) against the OpenShift simulation in test/harness/sim/openshift.ts: a simulated API server
 * (image streams with Kubernetes list chunking and Status errors, users/~) and a simulated registry
 * front (the /openshift/token flow, per-namespace pull checks) before the real docker-registry, both
 * over HTTPS with a private CA made here. The simulation follows the OpenShift ImageStream API
 * reference, openshift/api's image/v1 types, the Kubernetes API concepts on chunked lists, and
 * openshift/image-registry's auth.go and token.go; it leaves out watches, selectors, imports and
 * pull-through (see its header).
 *
 * Seeded repositories serve as image streams `<namespace>/<name>`: top-level images in namespace
 * `openshift`, the rest under their own first segment. The API server puts at most 25 image streams
 * on a page, so listings span pages. Expected repositories, tags and digests come from the seed,
 * push times from the simulation's records.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Agent, request } from "undici";
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
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderContext, ProviderSession } from "../src/registry/providers/provider.js";
import { redhatProvider } from "../src/registry/providers/redhat.js";
import { readLayoutImage } from "./harness/image-kit.js";
import { generateRegistryCertificates } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents, seededDigestOf } from "./harness/seed.js";
import { type OpenShiftSim, startOpenShiftSim } from "./harness/sim/openshift.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";
import { ensureTestbedLayout } from "./harness/testbed.js";

const PAGE_ITEMS = 25;
const CLUSTER_READER = "sha256~cluster-reader-token";
const TEAM_02 = "sha256~team-02-viewer-token";
const PULLER = "sha256~team-03-puller-token";
const PENDING_TAG = "v4-import-failed";

let seed: SeedContents;
let view: StorageView;
let sim: OpenShiftSim;
let caCert: string;
/** Image stream repository name → the seeded repository it serves. */
let names: Record<string, string>;
const sessions: ProviderSession[] = [];
const previousApiUrl = process.env.SHIPSHAPE_OPENSHIFT_API_URL;

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    names = {};
    for (const { name } of seed.repositories) names[name.includes("/") ? name : `openshift/${name}`] = name;
    view = await createStorageView(storageDir, names);
    const certificates = await generateRegistryCertificates();
    caCert = certificates.caCert;
    sim = await startOpenShiftSim({
      storageDir: view.dir,
      maxPageItems: PAGE_ITEMS,
      pendingTags: { "team-01/service-01": [PENDING_TAG] },
      tls: { cert: certificates.cert, key: certificates.key },
      tokens: {
        [CLUSTER_READER]: { user: "system:serviceaccount:shipshape:scanner", list: "*" },
        [TEAM_02]: { user: "system:serviceaccount:team-02:scanner", list: ["team-02"] },
        [PULLER]: { user: "system:serviceaccount:ci:puller", list: [], pull: ["team-03"] },
      },
    });
    process.env.SHIPSHAPE_OPENSHIFT_API_URL = sim.apiUrl;
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  if (previousApiUrl === undefined) delete process.env.SHIPSHAPE_OPENSHIFT_API_URL;
  else process.env.SHIPSHAPE_OPENSHIFT_API_URL = previousApiUrl;
  await Promise.all(sessions.map((s) => s.close()));
  await sim?.stop();
  await view?.remove();
});

const serviceAccount = (token: string, extra: Partial<Credential> = {}): Credential => ({
  _id: "openshift-scanner",
  type: "basic",
  accountID: "scanner",
  secret: { plain: token },
  ...extra,
});

async function connect(options: Partial<ProviderContext> = {}): Promise<ProviderSession> {
  const session = await redhatProvider.connect({
    registry: sim.registryHost,
    caCert,
    credential: serviceAccount(CLUSTER_READER),
    spec: {},
    ...options,
  });
  sessions.push(session);
  return session;
}

const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, names, repository, tag);

function expectedTags(repository: string) {
  return sim.tags
    .filter((t) => t.repository === repository)
    .map((t) => ({ tag: t.tag, digest: t.digest, pushedAt: t.pushedAt }));
}

const inNamespace = (namespace: string) =>
  Object.keys(names)
    .filter((n) => n.startsWith(`${namespace}/`))
    .sort();

/** API server requests to `path` since `from` (an index into sim.requests). */
const apiRequests = (path: string, from = 0) =>
  sim.requests.slice(from).filter((r) => r.server === "api" && r.path === path);

describe("redhat provider", { timeout: 300_000 }, () => {
  test("is the redhat type with basic credentials", () => {
    assert.equal(providerFor("redhat"), redhatProvider);
    assert.deepEqual(redhatProvider.credentialTypes, ["basic"]);
  });

  test("all namespaces: every image stream, page by page through metadata.continue", async () => {
    const session = await connect();
    assert.equal(session.registryHost, sim.registryHost);
    const from = sim.requests.length;
    const repositories = await session.listRepositories();
    assert.deepEqual(repositories, Object.keys(names).sort());
    assert.equal(repositories.length, seed.repositories.length);
    const pages = apiRequests("/apis/image.openshift.io/v1/imagestreams", from);
    assert.equal(pages.length, Math.ceil(repositories.length / PAGE_ITEMS));
    assert.deepEqual(
      pages.map((p) => [p.query.get("limit"), p.query.has("continue"), p.status]),
      pages.map((_, i) => ["500", i > 0, 200]),
    );
  });

  test("every tag's current image and tag-event time, for every image stream", async () => {
    const session = await connect();
    await session.listRepositories();
    for (const repository of Object.keys(names)) {
      const tags = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(tags, expectedTags(repository), repository);
      for (const tag of tags) assert.equal(tag.digest, seededDigest(repository, tag.tag));
    }
  });

  test("a tag without any image (an import that never succeeded) is skipped", async () => {
    // The API server does list the tag, with `items: null`.
    const dispatcher = new Agent({ connect: { ca: caCert } });
    try {
      const raw = await request(
        `${sim.apiUrl}/apis/image.openshift.io/v1/namespaces/team-01/imagestreams/service-01`,
        { headers: { authorization: `Bearer ${CLUSTER_READER}` }, dispatcher },
      );
      const stream = (await raw.body.json()) as { status: { tags: { tag: string; items: unknown }[] } };
      assert.deepEqual(
        stream.status.tags.map((t) => [t.tag, t.items === null]),
        [
          ["v1", false],
          ["v2", false],
          ["v3", false],
          [PENDING_TAG, true],
        ],
      );
    } finally {
      await dispatcher.close();
    }
    const session = await connect();
    for (const listFirst of [false, true]) {
      if (listFirst) await session.listRepositories();
      assert.deepEqual(
        await session.listTags("team-01/service-01", { withTimes: true }),
        expectedTags("team-01/service-01"),
      );
    }
    assert.deepEqual(
      expectedTags("team-01/service-01").map((t) => t.tag),
      ["v1", "v2", "v3"],
    );
  });

  test("one namespace: the specification's namespace with a token allowed there only", async () => {
    const session = await connect({ namespace: "team-02", credential: serviceAccount(TEAM_02) });
    const from = sim.requests.length;
    assert.deepEqual(await session.listRepositories(), inNamespace("team-02"));
    assert.deepEqual(
      sim.requests.slice(from).map((r) => `${r.server} ${r.path} ${r.status}`),
      ["api /apis/image.openshift.io/v1/namespaces/team-02/imagestreams 200"],
    );
    assert.deepEqual(
      await session.listTags("team-02/service-03", { withTimes: true }),
      expectedTags("team-02/service-03"),
    );
  });

  test("one namespace across pages: 80 image streams of namespace bulk", async () => {
    const session = await connect({ namespace: "bulk" });
    const from = sim.requests.length;
    const repositories = await session.listRepositories();
    assert.deepEqual(repositories, inNamespace("bulk"));
    assert.equal(repositories.length, 80);
    assert.equal(
      apiRequests("/apis/image.openshift.io/v1/namespaces/bulk/imagestreams", from).length,
      Math.ceil(80 / PAGE_ITEMS),
    );
  });

  test("without times, tags carry their digest only", async () => {
    const session = await connect();
    assert.deepEqual(
      await session.listTags("openshift/alpine", { withTimes: false }),
      expectedTags("openshift/alpine").map(({ tag, digest }) => ({ tag, digest })),
    );
  });

  test("a repository not listed before is read as one image stream", async () => {
    const session = await connect();
    const from = sim.requests.length;
    assert.deepEqual(
      await session.listTags("team-05/service-02", { withTimes: true }),
      expectedTags("team-05/service-02"),
    );
    assert.deepEqual(
      sim.requests.slice(from).map((r) => `${r.path} ${r.status}`),
      ["/apis/image.openshift.io/v1/namespaces/team-05/imagestreams/service-02 200"],
    );
  });

  const unknownRepositories: { repository: string; message: RegExp }[] = [
    {
      repository: "team-05/no-such-stream",
      message: /reading image stream "no-such-stream" in project "team-05": not found .*HTTP 404 NotFound/,
    },
    { repository: "platform/tools/alpine", message: /exactly two path segments/ },
  ];
  for (const { repository, message } of unknownRepositories) {
    test(`unknown repository ${repository} is a NotFoundError naming it`, async () => {
      const session = await connect();
      await assert.rejects(session.listTags(repository, { withTimes: true }), (err: Error) => {
        assert.ok(err instanceof NotFoundError, err.message);
        assert.ok(err.message.startsWith(`${sim.registryHost}/${repository}: `), err.message);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test("an image pulls through /openshift/token and its manifest digest checks out", async () => {
    const session = await connect({ credential: serviceAccount(TEAM_02) });
    const from = sim.requests.length;
    const want = seededDigest("team-02/service-01", "v2");
    const manifest = await session.client.getManifest("team-02/service-01", "v2");
    assert.equal(manifest.digest, want);
    assert.equal(digestOf(manifest.bytes), want);
    const image = await session.client.resolveImage("openshift/alpine", "3.20.3").catch((e: Error) => e);
    // Namespace openshift is not the token's: the registry refuses the pull.
    assert.ok(image instanceof PermissionError, String(image));
    assert.equal(
      image.message,
      `${sim.registryHost}/openshift/alpine:3.20.3: user "scanner" is not authorised for repository:openshift/alpine:pull (HTTP 401 after a fresh token)`,
    );
    const registry = sim.requests.slice(from).filter((r) => r.server === "registry");
    assert.ok(registry.some((r) => r.path === "/openshift/token" && r.status === 200));
    assert.ok(
      registry.some(
        (r) =>
          r.path === "/v2/team-02/service-01/manifests/v2" &&
          r.status === 200 &&
          r.user === "system:serviceaccount:team-02:scanner",
      ),
    );
  });

  test("a wrong token fails at connect with the API server's 401", async () => {
    await assert.rejects(connect({ credential: serviceAccount("sha256~revoked") }), (err: Error) => {
      assert.ok(err instanceof AuthError, err.message);
      assert.equal(
        err.message,
        `${sim.registryHost}: checking the token: the OpenShift API server at ${sim.apiUrl} rejected the token (HTTP 401 Unauthorized: Unauthorized); the credential's password must be a valid service-account or user token (oc create token <service account>, or oc whoami -t)`,
      );
      return true;
    });
  });

  const forbidden: { name: string; options: () => Partial<ProviderContext>; message: string }[] = [
    {
      name: "a namespace the token may not read",
      options: () => ({ namespace: "team-03", credential: serviceAccount(TEAM_02) }),
      message:
        'listing image streams in project "team-03": "system:serviceaccount:team-02:scanner" is not allowed to (HTTP 403 Forbidden: imagestreams.image.openshift.io is forbidden: User "system:serviceaccount:team-02:scanner" cannot list resource "imagestreams" in API group "image.openshift.io" in the namespace "team-03"); the registry\'s /v2/_catalog is refused too; grant it "get" and "list" on imagestreams.image.openshift.io in project "team-03" (oc policy add-role-to-user registry-viewer "system:serviceaccount:team-02:scanner" -n team-03), or name the repositories exactly in `repository`',
    },
    {
      name: "all namespaces with a token allowed in one",
      options: () => ({ credential: serviceAccount(TEAM_02) }),
      message:
        'listing image streams at the cluster scope: "system:serviceaccount:team-02:scanner" is not allowed to (HTTP 403 Forbidden: imagestreams.image.openshift.io is forbidden: User "system:serviceaccount:team-02:scanner" cannot list resource "imagestreams" in API group "image.openshift.io" at the cluster scope); the registry\'s /v2/_catalog is refused too; grant it "list" on imagestreams.image.openshift.io at the cluster scope (oc adm policy add-cluster-role-to-user registry-viewer "system:serviceaccount:team-02:scanner"), or set the specification\'s namespace to one project it may read, or name the repositories exactly in `repository`',
    },
  ];
  for (const { name, options, message } of forbidden) {
    test(`${name}: a PermissionError naming the permission to grant`, async () => {
      const session = await connect(options());
      await assert.rejects(session.listRepositories(), (err: Error) => {
        assert.ok(err instanceof PermissionError, err.message);
        assert.equal(err.status, 403);
        assert.equal(err.message, `${sim.registryHost}: ${message}`);
        return true;
      });
    });
  }

  test("a pull-only token with exactly named repositories: the registry's tags, dated by the image config", async () => {
    const layout = await ensureTestbedLayout();
    const wanted = ["team-03/service-01", "team-03/service-02"];
    const session = await connect({
      namespace: "team-03",
      credential: serviceAccount(PULLER),
      spec: { repository: wanted.join(",") },
    });
    assert.deepEqual(await session.listRepositories(), wanted);
    for (const repository of wanted) {
      const expected = [];
      for (const tag of ["v1", "v2", "v3"]) {
        const image = await readLayoutImage(layout, `${repository}--${tag}`);
        expected.push({
          tag,
          digest: seededDigest(repository, tag),
          pushedAt: new Date(String(image.config.created)),
        });
      }
      assert.deepEqual(await session.listTags(repository, { withTimes: true }), expected, repository);
    }
  });

  test("an unknown namespace lists as empty on the API server, and is a NotFoundError here", async () => {
    const session = await connect({ namespace: "no-such-project" });
    await assert.rejects(session.listRepositories(), (err: Error) => {
      assert.ok(err instanceof NotFoundError, err.message);
      assert.equal(
        err.message,
        `${sim.registryHost}: project "no-such-project" has no image streams, or does not exist (the API server lists an unknown namespace as empty)`,
      );
      return true;
    });
  });

  test("an expired continue token starts the list again, once", async () => {
    const session = await connect();
    const from = sim.requests.length;
    sim.expireContinues(1);
    assert.deepEqual(await session.listRepositories(), Object.keys(names).sort());
    const pages = apiRequests("/apis/image.openshift.io/v1/imagestreams", from);
    assert.deepEqual(
      pages.slice(0, 3).map((p) => [p.query.has("continue"), p.status]),
      [
        [false, 200],
        [true, 410],
        [false, 200],
      ],
    );
    sim.expireContinues(2);
    await assert.rejects(session.listRepositories(), (err: Error) => {
      assert.ok(err instanceof ProtocolError, err.message);
      assert.match(
        err.message,
        /listing image streams at the cluster scope: .*HTTP 410 Expired: The provided continue parameter is too old/,
      );
      return true;
    });
    sim.expireContinues(0);
  });

  const faults: {
    name: string;
    status: number;
    count: number;
    body?: string;
    check: (err: Error) => void;
  }[] = [
    {
      name: "429s past the transport's retries are a RateLimitedError",
      status: 429,
      count: 50,
      check: (err) => {
        assert.ok(err instanceof RateLimitedError, err.message);
        assert.match(err.message, /throttling requests \(HTTP 429 TooManyRequests: Too many requests/);
      },
    },
    {
      name: "500s past the retries are a ProtocolError with the API server's Status",
      status: 500,
      count: 50,
      check: (err) => {
        assert.ok(err instanceof ProtocolError, err.message);
        assert.match(err.message, /answered HTTP 500 InternalError: Internal error occurred/);
      },
    },
    {
      name: "an answer that is not JSON is a ProtocolError",
      status: 200,
      count: 1,
      body: "<html>proxy</html>",
      check: (err) => {
        assert.ok(err instanceof ProtocolError, err.message);
        assert.match(err.message, /listing image streams at the cluster scope: .*not JSON/);
      },
    },
    {
      name: "JSON that is not an ImageStreamList is a ProtocolError",
      status: 200,
      count: 1,
      body: '{"kind":"Status","items":{}}',
      check: (err) => {
        assert.ok(err instanceof ProtocolError, err.message);
        assert.match(err.message, /the answer is not an ImageStreamList/);
      },
    },
  ];
  for (const fault of faults) {
    test(fault.name, async () => {
      const session = await connect();
      sim.failNext(fault.status, fault.count, fault.body);
      try {
        await assert.rejects(session.listRepositories(), (err: Error) => {
          fault.check(err);
          assert.ok(err.message.startsWith(`${sim.registryHost}: `), err.message);
          return true;
        });
      } finally {
        sim.failNext(0, 0);
      }
    });
  }

  test("a 503 is retried and the listing completes", async () => {
    const session = await connect({ namespace: "team-02" });
    const from = sim.requests.length;
    sim.failNext(503, 1);
    assert.deepEqual(await session.listRepositories(), inNamespace("team-02"));
    assert.deepEqual(
      apiRequests("/apis/image.openshift.io/v1/namespaces/team-02/imagestreams", from).map((r) => r.status),
      [503, 200],
    );
  });

  test("the credential's url names the API server before the environment", async () => {
    process.env.SHIPSHAPE_OPENSHIFT_API_URL = "https://127.0.0.1:9/";
    try {
      const session = await connect({
        namespace: "team-02",
        credential: serviceAccount(TEAM_02, { url: sim.apiUrl }),
      });
      assert.deepEqual(await session.listRepositories(), inNamespace("team-02"));
    } finally {
      process.env.SHIPSHAPE_OPENSHIFT_API_URL = sim.apiUrl;
    }
  });

  test("without caCert the private CA is not trusted, and the error says what to give", async () => {
    await assert.rejects(connect({ caCert: undefined }), (err: Error) => {
      assert.match(err.message, /TLS certificate not trusted .*caCert/);
      return true;
    });
  });

  const refused: {
    name: string;
    options: () => Partial<ProviderContext>;
    error: typeof UnsupportedError | typeof AuthError;
    message: RegExp;
  }[] = [
    {
      name: "no credential",
      options: () => ({ credential: undefined }),
      error: UnsupportedError,
      message: /needs a basic credential whose password is a service-account or user token/,
    },
    {
      name: "a credential of another type",
      options: () => ({ credential: { _id: "cloud", type: "aws", accountID: "AKIA" } }),
      error: UnsupportedError,
      message: /OpenShift accepts "basic"/,
    },
    {
      name: "a credential without a token",
      options: () => ({ credential: serviceAccount("") }),
      error: AuthError,
      message: /needs the token as its password/,
    },
    {
      name: "no registry",
      options: () => ({ registry: "" }),
      error: UnsupportedError,
      message: /needs its host/,
    },
  ];
  for (const { name, options, error, message } of refused) {
    test(`${name} is refused before any request`, async () => {
      const from = sim.requests.length;
      await assert.rejects(connect(options()), (err: Error) => {
        assert.ok(err instanceof error, `${err.constructor.name}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
      assert.equal(sim.requests.length, from);
    });
  }
});

describe("redhat provider over plain HTTP", { timeout: 120_000 }, () => {
  let plain: OpenShiftSim;
  before(async () => {
    plain = await startOpenShiftSim({
      storageDir: view.dir,
      tokens: { [TEAM_02]: { user: "system:serviceaccount:team-02:scanner", list: ["team-02"] } },
    });
  });
  after(() => plain?.stop());

  test("an http:// registry URL and an http:// API server: listing, tags and a pull", async () => {
    const session = await redhatProvider.connect({
      registry: plain.registryUrl,
      namespace: "team-02",
      credential: serviceAccount(TEAM_02, { url: plain.apiUrl }),
      spec: {},
    });
    sessions.push(session);
    assert.equal(session.registryHost, plain.registryHost);
    assert.deepEqual(await session.listRepositories(), inNamespace("team-02"));
    assert.deepEqual(
      await session.listTags("team-02/service-02", { withTimes: true }),
      plain.tags
        .filter((t) => t.repository === "team-02/service-02")
        .map(({ tag, digest, pushedAt }) => ({ tag, digest, pushedAt })),
    );
    const manifest = await session.client.getManifest("team-02/service-02", "v3");
    assert.equal(manifest.digest, seededDigest("team-02/service-02", "v3"));
  });
});
