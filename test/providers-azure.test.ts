/**
 * The Azure Container Registry provider (registry type `azure`, registries.md 2.5, spec section 8)
 * against the simulation in test/harness/sim/acr.ts: Microsoft Entra ID (client credentials over
 * HTTPS with a private CA made here, reached by the real @azure/identity / MSAL), the ACR token
 * exchange and token service, the /acr/v1/ catalog and tag listings with ACR's relative Link pages
 * (two entries per page here), and /v2/ in front of the real docker-registry. It is a simulation of
 * Microsoft's documented API (ACR data-plane swagger 2021-07-01, AAD-OAuth.md, Entra ID v2.0 client
 * credentials), not Azure. Expected repositories, tags and digests come from the seed, push times
 * (lastUpdateTime) from the simulation's records.
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
import { azureProvider } from "../src/registry/providers/azure.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import { generateRegistryCertificates, type RegistryCertificates } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents, seededDigestOf } from "./harness/seed.js";
import { type AcrGrants, type AcrSim, startAcrSim } from "./harness/sim/acr.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const SECRET = "sp~secret.0123456789";
const NO_ROLE_CLIENT = "11111111-2222-4333-8444-555555555555";
/** A tenant Entra ID knows, but not the registry's: its tokens are refused by the exchange. */
const OTHER_TENANT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const ADMIN = "shipshapeacr";
const ADMIN_PASSWORD = "admin-password-0123";
const SCOPED_TOKEN = "debian-reader";
const SCOPED_PASSWORD = "scoped-token-password";
const NAMES: Record<string, string> = {
  "team/debian": "debian",
  "team/alpine": "alpine",
  "team/multi": "alpine-multi",
  "apps/node-app": "node-app",
  "apps/service": "team-01/service-01",
};
const ALL_REPOSITORIES = Object.keys(NAMES).sort();
/** The alpine tag whose readEnabled is false: listed by ACR, but not pullable. */
const UNREADABLE = { repository: "team/alpine", tag: "3.10.3" };
const everything: AcrGrants = { catalog: true, repositories: { "*": ["pull", "metadata_read"] } };
const nothing: AcrGrants = { catalog: false, repositories: {} };

let seed: SeedContents;
let certs: RegistryCertificates;
let view: StorageView;
let sim: AcrSim;
const sessions: ProviderSession[] = [];
const savedAuthority = process.env.SHIPSHAPE_AZURE_AUTHORITY_HOST;

const servicePrincipal = (fields: Record<string, string> = {}): Credential =>
  ({
    _id: "acr-sp",
    type: "azure",
    secret: {
      encrypted: "",
      plain: JSON.stringify({
        clientId: CLIENT,
        clientSecret: SECRET,
        subscriptionId: "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
        tenantId: TENANT,
        ...fields,
      }),
    },
  }) as Credential;

const basic = (username: string, password: string): Credential =>
  ({
    _id: "acr-basic",
    type: "basic",
    accountID: username,
    secret: { encrypted: "", plain: password },
  }) as Credential;

async function connect(credential: Credential, spec: Record<string, unknown> = {}) {
  const session = await azureProvider.connect({
    registry: sim.host,
    credential,
    caCert: certs.caCert,
    spec,
  });
  sessions.push(session);
  return session;
}

const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, NAMES, repository, tag);

/** What the provider should list for a repository: readable tags, by name, with lastUpdateTime. */
const expectedTags = (repository: string) =>
  sim.tags
    .filter((t) => t.repository === repository && t.readEnabled)
    .map((t) => ({ tag: t.tag, digest: seededDigest(repository, t.tag), pushedAt: t.lastUpdateTime }))
    .sort((a, b) => (a.tag < b.tag ? -1 : 1));

const count = (path: string | RegExp, status?: number) =>
  sim.requests.filter(
    (r) =>
      (typeof path === "string" ? r.path === path : path.test(r.path)) &&
      (status === undefined || r.status === status),
  ).length;

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    certs = await generateRegistryCertificates();
    view = await createStorageView(storageDir, NAMES);
    sim = await startAcrSim({
      storageDir: view.dir,
      tls: { cert: certs.cert, key: certs.key },
      tenants: {
        [TENANT]: {
          [CLIENT]: { secret: SECRET, grants: everything },
          [NO_ROLE_CLIENT]: { secret: SECRET, grants: nothing },
        },
        [OTHER_TENANT]: { [CLIENT]: { secret: SECRET, grants: everything } },
      },
      registryTenants: [TENANT],
      basicUsers: {
        [ADMIN]: { password: ADMIN_PASSWORD, grants: everything },
        [SCOPED_TOKEN]: {
          password: SCOPED_PASSWORD,
          grants: { catalog: false, repositories: { "team/debian": ["pull", "metadata_read"] } },
        },
      },
      maxPageSize: 2,
    });
    const unreadable = sim.tags.find(
      (t) => t.repository === UNREADABLE.repository && t.tag === UNREADABLE.tag,
    );
    assert.ok(unreadable);
    unreadable.readEnabled = false;
    process.env.SHIPSHAPE_AZURE_AUTHORITY_HOST = sim.authorityHost;
  },
  { timeout: 120_000 },
);

after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await sim?.stop();
  await view?.remove();
  if (savedAuthority === undefined) delete process.env.SHIPSHAPE_AZURE_AUTHORITY_HOST;
  else process.env.SHIPSHAPE_AZURE_AUTHORITY_HOST = savedAuthority;
});

describe("azure provider", () => {
  test("is type azure and takes azure (service principal) and basic credentials", () => {
    assert.equal(providerFor("azure"), azureProvider);
    assert.deepEqual(azureProvider.credentialTypes, ["azure", "basic"]);
  });

  test("a service principal lists exactly the repositories, tags, digests and lastUpdateTimes, over Link pages", async () => {
    const catalogPages = count("/acr/v1/_catalog", 200);
    const servicePages = count("/acr/v1/apps/service/_tags", 200);
    const session = await connect(servicePrincipal());
    assert.deepEqual(await session.listRepositories(), ALL_REPOSITORIES);
    // Five repositories at two per page.
    assert.equal(count("/acr/v1/_catalog", 200), catalogPages + 3);
    for (const repository of ALL_REPOSITORIES) {
      assert.deepEqual(await session.listTags(repository, { withTimes: true }), expectedTags(repository));
    }
    assert.deepEqual(
      expectedTags("apps/service").map((t) => t.tag),
      ["v1", "v2", "v3"],
    );
    // Three tags at two per page.
    assert.equal(count("/acr/v1/apps/service/_tags", 200), servicePages + 2);
  });

  test("a tag with readEnabled false is left out; the others keep their times", async () => {
    const session = await connect(servicePrincipal());
    assert.deepEqual(
      (await session.listTags(UNREADABLE.repository, { withTimes: true })).map((t) => t.tag),
      ["3.20.3"],
    );
  });

  test("without times, tags carry names and digests only", async () => {
    const session = await connect(servicePrincipal());
    assert.deepEqual(
      await session.listTags("apps/service", { withTimes: false }),
      expectedTags("apps/service").map(({ tag, digest }) => ({ tag, digest })),
    );
  });

  test("a cap keeps the newest tags by lastUpdateTime", async () => {
    const session = await connect(servicePrincipal());
    const tags = await session.listTags("apps/service", { withTimes: true });
    const newest = [...expectedTags("apps/service")].sort(
      (a, b) => b.pushedAt.getTime() - a.pushedAt.getTime(),
    );
    assert.deepEqual(
      selectTags(tags, { cap: 2 })
        .map((t) => t.tag)
        .sort(),
      newest
        .slice(0, 2)
        .map((t) => t.tag)
        .sort(),
    );
  });

  const pulls: { name: string; credential: () => Credential }[] = [
    { name: "the service principal's refresh token", credential: () => servicePrincipal() },
    { name: "the admin user (Basic on the token service)", credential: () => basic(ADMIN, ADMIN_PASSWORD) },
  ];
  for (const pull of pulls) {
    test(`pulls through /v2/ with ${pull.name}; digests are the seed's`, async () => {
      const session = await connect(pull.credential());
      for (const repository of ["team/debian", "apps/node-app"]) {
        const [tag] = expectedTags(repository);
        assert.ok(tag);
        const manifest = await session.client.getManifest(repository, tag.tag);
        assert.equal(manifest.digest, seededDigest(repository, tag.tag));
        assert.equal(digestOf(manifest.bytes), manifest.digest);
      }
    });
  }

  test("the admin user lists like the service principal", async () => {
    const session = await connect(basic(ADMIN, ADMIN_PASSWORD));
    assert.deepEqual(await session.listRepositories(), ALL_REPOSITORIES);
    assert.deepEqual(await session.listTags("team/alpine", { withTimes: true }), expectedTags("team/alpine"));
  });

  test("a repository-scoped token reads its repository only; the catalog falls back to the named ones", async () => {
    const unnamed = await connect(basic(SCOPED_TOKEN, SCOPED_PASSWORD));
    await assert.rejects(unnamed.listRepositories(), (err: Error) => {
      assert.ok(err instanceof UnsupportedError, `${err.constructor.name}: ${err.message}`);
      assert.match(err.message, /user "debian-reader" may not list .*registry:catalog:\*.*name them exactly/);
      return true;
    });
    const session = await connect(basic(SCOPED_TOKEN, SCOPED_PASSWORD), { repository: "team/debian" });
    assert.deepEqual(await session.listRepositories(), ["team/debian"]);
    assert.deepEqual(await session.listTags("team/debian", { withTimes: true }), expectedTags("team/debian"));
    const [tag] = expectedTags("team/debian");
    assert.ok(tag);
    assert.equal(
      (await session.client.getManifest("team/debian", tag.tag)).digest,
      seededDigest("team/debian", tag.tag),
    );
    await assert.rejects(session.listTags("team/alpine", { withTimes: true }), (err: Error) => {
      assert.ok(err instanceof PermissionError, `${err.constructor.name}: ${err.message}`);
      assert.match(
        err.message,
        /team\/alpine: user "debian-reader" is not authorised for repository:team\/alpine:metadata_read/,
      );
      return true;
    });
    await assert.rejects(session.client.getManifest("team/alpine", "3.20.3"), PermissionError);
  });

  test("a service principal without a role signs in, but may neither list nor pull", async () => {
    const session = await connect(servicePrincipal({ clientId: NO_ROLE_CLIENT }));
    await assert.rejects(session.listRepositories(), UnsupportedError);
    await assert.rejects(session.listTags("team/debian", { withTimes: true }), (err: Error) => {
      assert.ok(err instanceof PermissionError, `${err.constructor.name}: ${err.message}`);
      assert.match(
        err.message,
        new RegExp(`service principal ${NO_ROLE_CLIENT} of tenant ${TENANT} is not authorised`),
      );
      return true;
    });
    await assert.rejects(session.client.getManifest("team/debian", "bookworm"), PermissionError);
  });

  const failures: {
    name: string;
    credential: () => Credential;
    error: new (...args: never[]) => Error;
    message: RegExp;
  }[] = [
    {
      name: "a wrong client secret fails at connect, from Entra ID, naming the client and tenant",
      credential: () => servicePrincipal({ clientSecret: "wrong" }),
      error: AuthError,
      message: new RegExp(
        `Entra ID .*refused service principal ${CLIENT} of tenant ${TENANT}: .*AADSTS7000215`,
      ),
    },
    {
      name: "an unknown application fails at connect",
      credential: () => servicePrincipal({ clientId: "99999999-9999-4999-8999-999999999999" }),
      error: AuthError,
      message: /Entra ID .*refused service principal 99999999-.*AADSTS700016/,
    },
    {
      name: "an unknown tenant fails at connect",
      credential: () => servicePrincipal({ tenantId: "00000000-1111-4222-8333-444444444444" }),
      error: AuthError,
      message: /Entra ID .*refused service principal .*of tenant 00000000-1111-4222-8333-444444444444/,
    },
    {
      name: "an Entra token of a tenant the registry is not in is refused by the exchange",
      credential: () => servicePrincipal({ tenantId: OTHER_TENANT }),
      error: AuthError,
      message: new RegExp(
        `exchanging the Entra token of service principal ${CLIENT} of tenant ${OTHER_TENANT} for an ACR refresh token: Azure Container Registry refused the token \\(HTTP 401: UNAUTHORIZED`,
      ),
    },
    {
      name: "a wrong admin password fails at connect",
      credential: () => basic(ADMIN, "wrong"),
      error: AuthError,
      message:
        /token server .*rejected user "shipshapeacr" \(HTTP 401: UNAUTHORIZED: authentication required/,
    },
    {
      name: "a secret that is not the service principal's JSON is refused",
      credential: () =>
        ({ ...servicePrincipal(), secret: { encrypted: "", plain: "not json" } }) as Credential,
      error: AuthError,
      message: /credential "acr-sp": the secret is not the service principal's JSON/,
    },
    {
      name: "a service principal without a client secret is unsupported",
      credential: () =>
        ({
          _id: "acr-cert",
          type: "azure",
          azureSPInfo: { clientId: CLIENT, tenantId: TENANT },
        }) as Credential,
      error: UnsupportedError,
      message: /credential "acr-cert" has no clientSecret/,
    },
    {
      name: "a credential of another type is refused",
      credential: () => ({ ...servicePrincipal(), type: "gcp" }) as Credential,
      error: UnsupportedError,
      message: /needs an "azure" \(service principal\) or "basic" .*not "gcp"/,
    },
  ];
  for (const failure of failures) {
    test(failure.name, async () => {
      await assert.rejects(connect(failure.credential()), (err: Error) => {
        assert.ok(err instanceof failure.error, `${err.constructor.name}: ${err.message}`);
        assert.match(err.message, failure.message);
        assert.match(err.message, new RegExp(`^${sim.host.replace(/\./g, "\\.")}: `));
        return true;
      });
    });
  }

  test("an unknown repository is a NotFoundError (NAME_UNKNOWN), never an empty list", async () => {
    const session = await connect(servicePrincipal());
    await assert.rejects(session.listTags("team/missing", { withTimes: true }), (err: Error) => {
      assert.ok(err instanceof NotFoundError, `${err.constructor.name}: ${err.message}`);
      assert.match(
        err.message,
        /team\/missing: listing tags: not found in Azure Container Registry.*NAME_UNKNOWN/,
      );
      return true;
    });
  });

  test("429s past the retries end in a RateLimitedError naming the product", async () => {
    const session = await connect(servicePrincipal());
    sim.failNext(429, 50);
    try {
      await assert.rejects(session.listRepositories(), (err: Error) => {
        assert.ok(err instanceof RateLimitedError, `${err.constructor.name}: ${err.message}`);
        assert.match(err.message, /Azure Container Registry rate limit.*TOOMANYREQUESTS/);
        return true;
      });
    } finally {
      sim.failNext(429, 0);
    }
  });

  test("a 5xx is retried and then succeeds", async () => {
    const session = await connect(servicePrincipal());
    const failed = count("/acr/v1/_catalog", 503);
    sim.failNext(503, 1);
    assert.deepEqual(await session.listRepositories(), ALL_REPOSITORIES);
    assert.equal(count("/acr/v1/_catalog", 503), failed + 1);
  });

  test("an answer that is not JSON is a ProtocolError", async () => {
    const session = await connect(servicePrincipal());
    sim.failNext("malformed", 1);
    await assert.rejects(session.listRepositories(), (err: Error) => {
      assert.ok(err instanceof ProtocolError, `${err.constructor.name}: ${err.message}`);
      assert.match(err.message, /listing repositories: Azure Container Registry's answer is not JSON/);
      return true;
    });
  });

  test("revoked ACR tokens are obtained anew once after the 401: a new exchange, a new access token", async () => {
    const session = await connect(servicePrincipal());
    assert.deepEqual(await session.listRepositories(), ALL_REPOSITORIES);
    const refresh = sim.issued.refresh;
    const access = sim.issued.access;
    sim.revokeTokens();
    assert.deepEqual(await session.listRepositories(), ALL_REPOSITORIES);
    assert.equal(sim.issued.refresh, refresh + 1);
    assert.equal(sim.issued.access, access + 1);
    // A pull after another revocation: the token server's 401 makes the Authenticator renew the
    // refresh token once, through a new exchange.
    const [tag] = expectedTags("team/debian");
    assert.ok(tag);
    const refreshBeforePull = sim.issued.refresh;
    sim.revokeTokens();
    assert.equal(
      (await session.client.getManifest("team/debian", tag.tag)).digest,
      seededDigest("team/debian", tag.tag),
    );
    assert.equal(sim.issued.refresh, refreshBeforePull + 1);
  });

  test("short-lived Entra, refresh and access tokens are renewed ahead of expiry, before any 401", async () => {
    sim.lifetimes.entra = 4;
    sim.lifetimes.refresh = 4;
    sim.lifetimes.access = 4;
    try {
      const session = await connect(servicePrincipal());
      assert.deepEqual(await session.listRepositories(), ALL_REPOSITORIES);
      const issued = { ...sim.issued };
      const unauthorized = count(/^\/(acr|oauth2)\//, 401);
      // Renewal is due at 3 of the 4 seconds (a quarter of the lifetime ahead of expiry).
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      assert.deepEqual(await session.listRepositories(), ALL_REPOSITORIES);
      assert.deepEqual(sim.issued, {
        entra: issued.entra + 1,
        refresh: issued.refresh + 1,
        access: issued.access + 1,
      });
      assert.equal(count(/^\/(acr|oauth2)\//, 401), unauthorized);
    } finally {
      sim.lifetimes.entra = 3600;
      sim.lifetimes.refresh = 3 * 3600;
      sim.lifetimes.access = 75 * 60;
    }
  });

  test("within their lifetimes, the Entra token and the refresh token are reused", async () => {
    const session = await connect(servicePrincipal());
    const issued = { ...sim.issued };
    assert.deepEqual(await session.listRepositories(), ALL_REPOSITORIES);
    assert.deepEqual(await session.listTags("team/debian", { withTimes: true }), expectedTags("team/debian"));
    // One access token per scope (catalog, the repository's metadata_read), nothing else.
    assert.deepEqual(sim.issued, { entra: issued.entra, refresh: issued.refresh, access: issued.access + 2 });
  });
});
