/**
 * The Harbor provider (registry type `harbor`, spec section 8, registries.md 2.8) against the Harbor
 * simulation in test/harness/sim/harbor.ts (written from Harbor's API v2.0 swagger and robot account
 * documentation, URLs at its top), which fronts the real docker-registry serving the seeded images
 * under Harbor project names. Page sizes are capped at 7 so every list of the seed spans pages.
 * Expected repositories, tags and digests come from the seed, push times from the simulation's own
 * records.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import type { Credential } from "../src/api/schemas.js";
import { digestOf } from "../src/registry/client.js";
import { AuthError, PermissionError, ProtocolError, UnsupportedError } from "../src/registry/errors.js";
import { harborProvider } from "../src/registry/providers/harbor.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderSession } from "../src/registry/providers/provider.js";
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
import { type HarborSim, startHarborSim } from "./harness/sim/harbor.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const ROBOT = "robot$scanner";
const ROBOT_SECRET = "Scanner-Secret-1";
const PULL_ONLY_ROBOT = "robot$team-01+puller";
const PAGE_CAP = 7;

let seed: SeedContents;
let view: StorageView;
let sim: HarborSim;
/** Harbor repository name → the seeded repository it serves. */
let names: Record<string, string>;
const sessions: ProviderSession[] = [];

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    names = {};
    for (const { name } of seed.repositories) {
      // Harbor names always start with a project; top-level images go to the default project.
      names[name.includes("/") ? name : `library/${name}`] = name;
    }
    names["platform/tools/alpine"] = "alpine";
    names["platform/base/images/debian"] = "debian";
    view = await createStorageView(storageDir, names);
    const projects = [...new Set(Object.keys(names).map((n) => n.split("/")[0] as string))];
    sim = await startHarborSim({
      storageDir: view.dir,
      maxPageSize: PAGE_CAP,
      publicProjects: ["library"],
      accounts: {
        admin: { password: "Harbor12345", admin: true },
        [ROBOT]: {
          password: ROBOT_SECRET,
          projects: Object.fromEntries(projects.map((p) => [p, ["list", "pull"]])),
        },
        [PULL_ONLY_ROBOT]: { password: "pull-only", projects: { "team-01": ["pull"] } },
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

const basic = (accountID: string, password: string): Credential => ({
  _id: "harbor-ro",
  type: "basic",
  accountID,
  secret: { plain: password },
});

async function connect(credential?: Credential): Promise<ProviderSession> {
  const session = await harborProvider.connect({ registry: sim.url, insecure: true, credential, spec: {} });
  sessions.push(session);
  return session;
}

const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, names, repository, tag);

function expectedTags(repository: string) {
  return sim.tags
    .filter((t) => t.repository === repository)
    .map((t) => ({ tag: t.tag, digest: t.digest, pushedAt: t.pushedAt }))
    .sort(byTag);
}

const apiPages = (pattern: RegExp) =>
  sim.requests.filter((r) => r.path.startsWith("/api/") && pattern.test(r.path));

describe("harbor provider", { timeout: 300_000 }, () => {
  test("is registered for type harbor with basic credentials", () => {
    assert.equal(providerFor("harbor"), harborProvider);
    assert.deepEqual(harborProvider.credentialTypes, ["basic"]);
  });

  test("a robot account discovers every repository of every project, across pages", async () => {
    const session = await connect(basic(ROBOT, ROBOT_SECRET));
    assert.equal(session.registryHost, sim.host);
    const before = apiPages(/^\/api\/v2\.0\/projects$/).length;
    const repositories = await session.listRepositories();
    assert.deepEqual(repositories, Object.keys(names).sort());
    assert.equal(repositories.length, seed.repositories.length + 2);
    // 24 projects in pages of 7, and the 80 repositories of project bulk in pages of 7.
    assert.equal(apiPages(/^\/api\/v2\.0\/projects$/).length - before, 4);
    assert.equal(apiPages(/^\/api\/v2\.0\/projects\/bulk\/repositories$/).length, 12);
  });

  test("every tag of every repository, with its digest and Harbor's push time", async () => {
    const session = await connect(basic(ROBOT, ROBOT_SECRET));
    for (const repository of Object.keys(names)) {
      const tags = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(tags, expectedTags(repository), repository);
      for (const tag of tags)
        assert.equal(tag.digest, seededDigest(repository, tag.tag), `${repository}:${tag.tag}`);
    }
  });

  test("250 tags of one artifact, and 80 one-tag repositories, all dated", async () => {
    const session = await connect(basic(ROBOT, ROBOT_SECRET));
    const tags = await session.listTags("many-tags/alpine", { withTimes: true });
    assert.equal(tags.length, 250);
    assert.ok(
      tags.every((t) => t.pushedAt instanceof Date && t.digest === seededDigest("many-tags/alpine", "t-000")),
    );
  });

  test("nested names go out encoded twice, as Harbor's router requires", async () => {
    const session = await connect(basic(ROBOT, ROBOT_SECRET));
    const tags = await session.listTags("platform/base/images/debian", { withTimes: true });
    assert.deepEqual(
      tags.map((t) => [t.tag, t.digest]),
      [["bookworm", seededDigest("platform/base/images/debian", "bookworm")]],
    );
    assert.ok(
      apiPages(/^\/api\/v2\.0\/projects\/platform\/repositories\/base%252Fimages%252Fdebian\/artifacts$/)
        .length > 0,
    );
    // The simulation is strict: encoded once, the name splits into path segments and is not found.
    const once = await request(
      `${sim.url}/api/v2.0/projects/platform/repositories/base%2Fimages%2Fdebian/artifacts`,
      {
        headers: { authorization: `Basic ${Buffer.from(`${ROBOT}:${ROBOT_SECRET}`).toString("base64")}` },
      },
    );
    assert.equal(once.statusCode, 404);
    await once.body.dump();
  });

  test("the cap keeps the tags Harbor pushed last", async () => {
    const session = await connect(basic(ROBOT, ROBOT_SECRET));
    for (const repository of ["team-01/service-01", "team-07/service-03", "library/alpine"]) {
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

  test("an image pulls through Harbor's token service and its manifest digest checks out", async () => {
    const session = await connect(basic(ROBOT, ROBOT_SECRET));
    const want = seededDigest("platform/tools/alpine", "3.10.3");
    const manifest = await session.client.getManifest("platform/tools/alpine", "3.10.3");
    assert.equal(manifest.digest, want);
    assert.equal(digestOf(manifest.bytes), want);
    const image = await session.client.resolveImage("platform/tools/alpine", "3.10.3");
    assert.equal(image.config.os, "linux");
    assert.ok(sim.requests.some((r) => r.path === "/service/token" && r.status === 200));
  });

  test("anonymous access sees the public project only", async () => {
    const session = await connect();
    const expected = Object.keys(names)
      .filter((n) => n.startsWith("library/"))
      .sort();
    assert.deepEqual(await session.listRepositories(), expected);
  });

  test("a wrong robot secret fails at connect with Harbor's 401", async () => {
    await assert.rejects(connect(basic(ROBOT, "wrong")), (e: unknown) => {
      return (
        e instanceof AuthError &&
        e.message ===
          `${sim.host}: checking access: Harbor rejected the credentials of robot account "robot$scanner" (HTTP 401 UNAUTHORIZED: unauthorized); a robot account signs in with its full name and its secret`
      );
    });
  });

  test('a robot name whose "$…" a shell expanded gets told so', async () => {
    await assert.rejects(connect(basic("robot", ROBOT_SECRET)), (e: unknown) => {
      return (
        e instanceof AuthError &&
        /HTTP 401 UNAUTHORIZED.*robot\$name: was the "\$…" expanded by a shell/.test(e.message)
      );
    });
  });

  test("a robot that may pull but not list: 403 names the project and the missing permissions", async () => {
    const session = await connect(basic(PULL_ONLY_ROBOT, "pull-only"));
    await assert.rejects(session.listRepositories(), (e: unknown) => {
      return (
        e instanceof PermissionError &&
        e.status === 403 &&
        e.message ===
          `${sim.host}: listing the repositories of project "team-01": robot account "robot$team-01+puller" is not allowed to (HTTP 403 FORBIDDEN: forbidden); a robot account needs the project permissions "List Repository", "List Artifact" and "Pull Repository"`
      );
    });
    // Pulling is what it may do.
    const manifest = await session.client.getManifest("team-01/service-01", "v1");
    assert.equal(manifest.digest, seededDigest("team-01/service-01", "v1"));
  });

  test("pages that end short of X-Total-Count are an error, not a short list", async () => {
    // A page answered empty and without Link, as a misbehaving proxy or a concurrent change may do.
    const proxy = await startFaultProxy(sim.url, {
      rules: [
        {
          match: { path: /^\/api\/v2\.0\/projects\?page=3&/ },
          fault: { kind: "status", status: 200, headers: { "content-type": "application/json" }, body: "[]" },
        },
      ],
    });
    try {
      const session = await harborProvider.connect({
        registry: proxy.url,
        insecure: true,
        credential: basic(ROBOT, ROBOT_SECRET),
        spec: {},
      });
      sessions.push(session);
      await assert.rejects(session.listRepositories(), (e: unknown) => {
        return (
          e instanceof ProtocolError &&
          e.message ===
            `${proxy.host}: listing projects: the pages ended after ${2 * PAGE_CAP} of the 24 items announced (x-total-count)`
        );
      });
    } finally {
      await proxy.stop();
    }
  });

  test("a credential of another type is refused before any request", async () => {
    await assert.rejects(
      connect({ _id: "cloud", type: "aws", accountID: "AKIA" }),
      (e: unknown) => e instanceof UnsupportedError && /Harbor accepts "basic"/.test(e.message),
    );
  });
});

describe("harbor over HTTPS with a private CA", { timeout: 120_000 }, () => {
  let tlsSim: HarborSim;
  let caCert: string;
  before(async () => {
    const certificates = await generateRegistryCertificates();
    caCert = certificates.caCert;
    tlsSim = await startHarborSim({
      storageDir: view.dir,
      tls: { cert: certificates.cert, key: certificates.key },
      accounts: { [ROBOT]: { password: ROBOT_SECRET, projects: { library: ["list", "pull"] } } },
    });
  });
  after(() => tlsSim?.stop());

  test("caCert is trusted for the API, the token service and /v2/", async () => {
    const session = await harborProvider.connect({
      registry: tlsSim.url,
      caCert,
      credential: basic(ROBOT, ROBOT_SECRET),
      spec: {},
    });
    sessions.push(session);
    const expected = Object.keys(names)
      .filter((n) => n.startsWith("library/"))
      .sort();
    assert.deepEqual(await session.listRepositories(), expected);
    const manifest = await session.client.getManifest("library/alpine", "3.20.3");
    assert.equal(manifest.digest, seededDigest("library/alpine", "3.20.3"));
  });

  test("without caCert the certificate is not trusted, and the error says what to give", async () => {
    await assert.rejects(
      harborProvider.connect({ registry: tlsSim.url, credential: basic(ROBOT, ROBOT_SECRET), spec: {} }),
      (e: unknown) => e instanceof Error && /TLS certificate not trusted .*caCert/.test(e.message),
    );
  });
});
