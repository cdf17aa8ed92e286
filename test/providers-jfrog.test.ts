/**
 * The Artifactory provider (registry type `jfrog`, spec section 8, registries.md 2.10) against the
 * Artifactory simulation in test/harness/sim/artifactory.ts (written from JFrog's REST API
 * documentation, URLs at its top), which fronts the real docker-registry serving the seeded images
 * under `<repo-key>/<image>` names (the repository-path method). Pages are capped at 7 entries, and
 * the simulation's next-page Links have Artifactory's RTFACT-18971 form (no repository prefix, no
 * `n`). Repositories, tags and digests are checked against the seed, push times against the
 * simulation's records.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";
import { type AddressInfo, connect as connectSocket } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Credential } from "../src/api/schemas.js";
import {
  AuthError,
  NotFoundError,
  PermissionError,
  RateLimitedError,
  UnsupportedError,
} from "../src/registry/errors.js";
import { providerFor } from "../src/registry/providers/index.js";
import { jfrogProvider } from "../src/registry/providers/jfrog.js";
import type { ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import { byTag, ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import {
  type ArtifactorySim,
  type ArtifactorySimOptions,
  startArtifactorySim,
} from "./harness/sim/artifactory.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const PAGE_CAP = 7;
const USER = "scanner";
const PASSWORD = "cmVmdGtuOjAxOjE3MzI-access-token";

let seed: SeedContents;
let view: StorageView;
let sim: ArtifactorySim;
/** `<key>/<image>` → the seeded repository it serves. */
let names: Record<string, string>;
const sessions: ProviderSession[] = [];
const extraSims: ArtifactorySim[] = [];

const repositories: ArtifactorySimOptions["repositories"] = [
  { key: "docker-local", type: "LOCAL" },
  { key: "docker-remote", type: "REMOTE" },
  { key: "docker-virtual", type: "VIRTUAL", members: ["docker-remote", "docker-local"] },
  { key: "secret-local", type: "LOCAL" },
];

function simOptions(overrides: Partial<ArtifactorySimOptions> = {}): ArtifactorySimOptions {
  return {
    storageDir: view.dir,
    repositories,
    maxPageSize: PAGE_CAP,
    brokenLinks: true,
    digestsInTags: true,
    anonymousRead: ["docker-remote"],
    portKeys: ["docker-remote", "secret-local"],
    accounts: {
      [USER]: { password: PASSWORD, read: ["docker-local", "docker-remote", "docker-virtual"] },
      admin: { password: "password" },
    },
    ...overrides,
  };
}

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    names = {};
    for (const { name } of seed.repositories) names[`docker-local/${name}`] = name;
    // A remote repository caches Docker Hub official images under library/.
    names["docker-remote/library/alpine"] = "alpine";
    names["docker-remote/library/debian"] = "debian";
    names["secret-local/alpine"] = "alpine";
    view = await createStorageView(storageDir, names);
    sim = await startArtifactorySim(simOptions());
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await Promise.all([sim, ...extraSims].map((s) => s?.stop()));
  await view?.remove();
});

const basic = (accountID: string, password: string): Credential => ({
  _id: "artifactory-ro",
  type: "basic",
  accountID,
  secret: { plain: password },
});

async function connect(
  options: {
    credential?: Credential;
    spec?: Record<string, unknown>;
    on?: ArtifactorySim;
    registry?: string;
  } = {},
): Promise<ProviderSession> {
  const target = options.on ?? sim;
  const session = await jfrogProvider.connect({
    registry: options.registry ?? target.url,
    insecure: true,
    credential: options.credential,
    spec: options.spec ?? {},
  });
  sessions.push(session);
  return session;
}

const seededImage = (repository: string, tag: string) => {
  const image = seed.images.find((i) => i.repository === names[repository] && i.tag === tag);
  assert.ok(image, `${repository}:${tag} is seeded`);
  return image;
};

function expectedTags(repository: string) {
  return sim.tags
    .filter((t) => t.repository === repository)
    .map((t) => ({ tag: t.tag, digest: seededImage(repository, t.tag).digest, pushedAt: t.pushedAt }))
    .sort(byTag);
}

const requestsTo = (on: ArtifactorySim, pattern: RegExp) => on.requests.filter((r) => pattern.test(r.path));

describe("jfrog provider", { timeout: 300_000 }, () => {
  test("is registered for type jfrog with basic credentials", () => {
    assert.equal(providerFor("jfrog"), jfrogProvider);
    assert.deepEqual(jfrogProvider.credentialTypes, ["basic"]);
  });

  const discovery: { name: string; types?: string[]; keys: string[] }[] = [
    { name: "local and remote", types: ["local", "remote"], keys: ["docker-local", "docker-remote"] },
    { name: "local only", types: ["local"], keys: ["docker-local"] },
    { name: "remote only", types: ["remote"], keys: ["docker-remote"] },
  ];
  for (const { name, types, keys } of discovery) {
    test(`jfrogRepoTypes ${name}: every image of those keys, across broken-Link pages`, async () => {
      const session = await connect({ credential: basic(USER, PASSWORD), spec: { jfrogRepoTypes: types } });
      assert.equal(session.registryHost, sim.host);
      const listed = await session.listRepositories();
      const expected = Object.keys(names)
        .filter((n) => keys.includes(n.split("/")[0] as string))
        .sort();
      assert.deepEqual(listed, expected);
    });
  }

  test("a virtual repository lists the union of its members; pages are rebuilt from the Link's last", async () => {
    const session = await connect({
      credential: basic(USER, PASSWORD),
      spec: { jfrogRepoTypes: ["virtual"] },
    });
    const before = requestsTo(sim, /^\/artifactory\/api\/docker\/docker-virtual\/v2\/_catalog$/).length;
    const listed = await session.listRepositories();
    const members = Object.keys(names)
      .filter((n) => n.startsWith("docker-local/") || n.startsWith("docker-remote/"))
      .map((n) => n.slice(n.indexOf("/") + 1));
    assert.deepEqual(listed, [...new Set(members)].map((n) => `docker-virtual/${n}`).sort());
    const pages = requestsTo(sim, /^\/artifactory\/api\/docker\/docker-virtual\/v2\/_catalog$/).slice(before);
    assert.equal(pages.length, Math.ceil(new Set(members).size / PAGE_CAP));
    // The Link names /v2/_catalog (the bare registry); it must never be followed as is.
    assert.equal(requestsTo(sim, /^\/v2\/_catalog$/).length, 0);
    assert.ok(pages.slice(1).every((p) => /[?&]n=\d+/.test(p.search) && /[?&]last=/.test(p.search)));
  });

  test("tags with digests and push times from the Storage API, digest entries dropped", async () => {
    const session = await connect({ credential: basic(USER, PASSWORD) });
    for (const repository of [
      "docker-local/many-tags/alpine",
      "docker-local/alpine-multi",
      "docker-remote/library/alpine",
    ]) {
      const tags = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(tags, expectedTags(repository), repository);
    }
    const names = await session.listTags("docker-local/many-tags/alpine", { withTimes: false });
    assert.deepEqual(
      names,
      expectedTags("docker-local/many-tags/alpine").map((t) => ({ tag: t.tag })),
    );
  });

  test("the cap keeps the most recently pushed tags", async () => {
    const session = await connect({ credential: basic(USER, PASSWORD) });
    const repository = "docker-local/many-tags/alpine";
    const discovered = await session.listTags(repository, { withTimes: true });
    const newest = expectedTags(repository)
      .sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime())
      .slice(0, 3)
      .map((t) => t.tag);
    assert.deepEqual(
      selectTags(discovered, { cap: 3 }).map((t) => t.tag),
      newest,
    );
  });

  test("scanning reads metadata only: no manifest or blob of a local repository is downloaded", async () => {
    const session = await connect({ credential: basic(USER, PASSWORD) });
    const before = sim.requests.length;
    await session.listTags("docker-local/alpine", { withTimes: true });
    const made = sim.requests.slice(before);
    assert.ok(made.length > 0);
    assert.ok(
      made.every((r) => r.path.startsWith("/artifactory/api/")),
      JSON.stringify(made.map((r) => r.path)),
    );
  });

  test("an image pulls through the repository-path method with the seed's digest", async () => {
    const session = await connect({ credential: basic(USER, PASSWORD) });
    const image = await session.client.resolveImage("docker-remote/library/alpine", "3.10.3");
    assert.equal(image.digest, seededImage("docker-remote/library/alpine", "3.10.3").digest);
  });

  test("anonymous access reads the keys open to it; catalogs need a user", async () => {
    const session = await connect({ spec: { jfrogRepoTypes: ["remote"] } });
    const tags = await session.listTags("docker-remote/library/debian", { withTimes: true });
    assert.deepEqual(tags, expectedTags("docker-remote/library/debian"));
    await assert.rejects(session.listRepositories(), (err: unknown) => {
      assert.ok(err instanceof AuthError, String(err));
      assert.match(err.message, /Artifactory requires credentials.*basic credential/);
      return true;
    });
  });

  test("a wrong password fails at connect", async () => {
    await assert.rejects(connect({ credential: basic(USER, "wrong") }), (err: unknown) => {
      assert.ok(err instanceof AuthError, String(err));
      assert.match(err.message, /Artifactory rejected the credentials of user "scanner".*Bad credentials/);
      return true;
    });
  });

  test("a key the user may not read is a permission error naming the Read permission", async () => {
    const session = await connect({ credential: basic(USER, PASSWORD), spec: { jfrogRepoTypes: ["local"] } });
    await assert.rejects(session.listTags("secret-local/alpine", { withTimes: false }), (err: unknown) => {
      assert.ok(err instanceof PermissionError, String(err));
      assert.match(err.message, /user "scanner" is not allowed to.*Read permission/);
      return true;
    });
    // Artifactory lists only the keys the user may read, so discovery never meets secret-local.
    assert.ok((await session.listRepositories()).every((n) => n.startsWith("docker-local/")));
  });

  test("an unknown repository key or image is not found; a wrong repo type setting is refused", async () => {
    const session = await connect({ credential: basic(USER, PASSWORD) });
    await assert.rejects(session.listTags("docker-nope/alpine", { withTimes: false }), (err: unknown) => {
      assert.ok(err instanceof NotFoundError, String(err));
      assert.match(err.message, /Repository docker-nope not found.*check the repository key/);
      return true;
    });
    await assert.rejects(session.listTags("docker-local/nope", { withTimes: false }), NotFoundError);
    await assert.rejects(
      connect({ credential: basic(USER, PASSWORD), spec: { jfrogRepoTypes: ["federated"] } }),
      (err: unknown) => {
        assert.ok(err instanceof UnsupportedError, String(err));
        assert.match(err.message, /jfrogRepoTypes has "federated"/);
        return true;
      },
    );
  });

  test("a registry value with /artifactory works the same", async () => {
    const session = await connect({
      credential: basic(USER, PASSWORD),
      registry: `${sim.url}/artifactory`,
      spec: { jfrogRepoTypes: ["remote"] },
    });
    assert.deepEqual(await session.listRepositories(), [
      "docker-remote/library/alpine",
      "docker-remote/library/debian",
    ]);
  });

  test("a registry value <host>/<key> scans that key only; an unknown key fails at connect", async () => {
    const session = await connect({
      credential: basic(USER, PASSWORD),
      registry: `${sim.url}/docker-remote`,
    });
    assert.deepEqual(await session.listRepositories(), [
      "docker-remote/library/alpine",
      "docker-remote/library/debian",
    ]);
    assert.deepEqual(
      await session.listTags("docker-remote/library/alpine", { withTimes: true }),
      expectedTags("docker-remote/library/alpine"),
    );
    await assert.rejects(
      connect({ credential: basic(USER, PASSWORD), registry: `${sim.url}/docker-nope` }),
      (err: unknown) => {
        assert.ok(err instanceof NotFoundError, String(err));
        assert.match(
          err.message,
          /no Docker repository "docker-nope" readable by user "scanner".*docker-local/,
        );
        return true;
      },
    );
  });

  test("the subdomain method (<key>.<host>): that key alone, images without the key, pulls by that host", async () => {
    // `docker-remote.artifactory.test` resolves nowhere: an HTTP proxy on 127.0.0.1 (the environment's
    // HTTP_PROXY, which the Transport honours) carries every request to the simulation, Host kept.
    const port = new URL(sim.url).port;
    const hosts: string[] = [];
    const forward = createServer((req, res) => {
      const target = new URL(req.url ?? "/");
      hosts.push(target.host);
      const upstream = httpRequest(
        {
          host: "127.0.0.1",
          port: target.port,
          path: `${target.pathname}${target.search}`,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    // undici's proxy agent tunnels with CONNECT, also to http:// targets.
    forward.on("connect", (req, client, head) => {
      const [host, targetPort] = (req.url ?? "").split(":");
      hosts.push(req.url ?? "");
      const upstream = connectSocket(Number(targetPort), "127.0.0.1", () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      assert.equal(host, "docker-remote.artifactory.test");
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => forward.listen(0, "127.0.0.1", resolve));
    const saved = process.env.HTTP_PROXY;
    process.env.HTTP_PROXY = `http://127.0.0.1:${(forward.address() as AddressInfo).port}`;
    try {
      const session = await connect({
        credential: basic(USER, PASSWORD),
        registry: `http://docker-remote.artifactory.test:${port}`,
      });
      assert.equal(session.registryHost, `docker-remote.artifactory.test:${port}`);
      assert.deepEqual(await session.listRepositories(), ["library/alpine", "library/debian"]);
      assert.deepEqual(
        await session.listTags("library/alpine", { withTimes: true }),
        expectedTags("docker-remote/library/alpine"),
      );
      const image = await session.client.resolveImage("library/alpine", "3.10.3");
      assert.equal(image.digest, seededImage("docker-remote/library/alpine", "3.10.3").digest);
      assert.ok(
        hosts.length > 0 && hosts.every((h) => h === `docker-remote.artifactory.test:${port}`),
        hosts.join(" "),
      );
    } finally {
      if (saved === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = saved;
      forward.closeAllConnections();
      await new Promise((resolve) => forward.close(resolve));
    }
  });

  test("the port method (<host>:<port>): the key the reverse proxy configuration gives that port alone, images without the key, pulled through that port", async () => {
    const portUrl = sim.portUrls["docker-remote"] as string;
    const session = await connect({ credential: basic(USER, PASSWORD), registry: portUrl });
    assert.equal(session.registryHost, new URL(portUrl).host);
    assert.deepEqual(await session.listRepositories(), ["library/alpine", "library/debian"]);
    assert.deepEqual(
      await session.listTags("library/debian", { withTimes: true }),
      expectedTags("docker-remote/library/debian"),
    );
    const before = sim.requests.length;
    const image = await session.client.resolveImage("library/alpine", "3.10.3");
    assert.equal(image.digest, seededImage("docker-remote/library/alpine", "3.10.3").digest);
    const pulls = sim.requests.slice(before).filter((r) => r.path.includes("/manifests/"));
    assert.ok(pulls.length > 0);
    assert.ok(
      pulls.every((r) => r.portKey === "docker-remote" && r.path === "/v2/library/alpine/manifests/3.10.3"),
    );
  });

  test("the port method: a key of any type, for a user who may read it; Artifactory's own port stays the repository-path method", async () => {
    const admin = await connect({
      credential: basic("admin", "password"),
      registry: sim.portUrls["secret-local"],
    });
    assert.deepEqual(await admin.listRepositories(), ["alpine"]);
    const tags = await admin.listTags("alpine", { withTimes: false });
    assert.deepEqual(
      tags.map((t) => t.tag),
      expectedTags("secret-local/alpine").map((t) => t.tag),
    );
    // The main port is in no key's reverse proxy entry.
    const main = await connect({ credential: basic("admin", "password") });
    assert.ok((await main.listRepositories()).includes("secret-local/alpine"));
  });

  test("the port method unknown where the reverse proxy configuration cannot be read: the repository-path method", async () => {
    const closed = await startArtifactorySim(simOptions({ webServerStatus: 404 }));
    extraSims.push(closed);
    const session = await connect({ credential: basic(USER, PASSWORD), on: closed });
    const names = await session.listRepositories();
    assert.ok(names.includes("docker-remote/library/alpine") && names.includes("docker-local/alpine"));
    assert.equal(requestsTo(closed, /\/api\/system\/configuration\/webServer$/).length, 1);
  });

  test("a failing reverse proxy configuration is an error at connect, not a guess", async () => {
    const failing = await startArtifactorySim(simOptions({ webServerStatus: 500 }));
    extraSims.push(failing);
    await assert.rejects(
      connect({
        credential: basic(USER, PASSWORD),
        on: failing,
        registry: failing.portUrls["docker-remote"],
      }),
      /reading the reverse proxy configuration \(Docker access method\): Artifactory answered HTTP 500/,
    );
  });

  test("429 with Retry-After and 503 are retried; a lasting 429 is a rate-limit error", async () => {
    let failures = 0;
    const flaky = await startArtifactorySim(
      simOptions({
        fault: (_req, path) => {
          if (!path.includes("/tags/list")) return undefined;
          failures++;
          if (failures === 1) return { status: 429, headers: { "retry-after": "1" } };
          if (failures === 2) return { status: 503 };
          return undefined;
        },
      }),
    );
    extraSims.push(flaky);
    const session = await connect({ credential: basic(USER, PASSWORD), on: flaky });
    const tags = await session.listTags("docker-local/alpine", { withTimes: false });
    assert.deepEqual(
      tags,
      expectedTags("docker-local/alpine").map((t) => ({ tag: t.tag })),
    );
    assert.ok(failures >= 3);

    const limited = await startArtifactorySim(
      simOptions({
        fault: (_req, path) =>
          path.includes("/tags/list") ? { status: 429, headers: { "retry-after": "1" } } : undefined,
      }),
    );
    extraSims.push(limited);
    const limitedSession = await connect({ credential: basic(USER, PASSWORD), on: limited });
    await assert.rejects(
      limitedSession.listTags("docker-local/alpine", { withTimes: false }),
      (err: unknown) => {
        assert.ok(err instanceof RateLimitedError, String(err));
        assert.equal(err.retryAfterMs, 1000);
        assert.match(err.message, /Artifactory kept answering HTTP 429/);
        return true;
      },
    );
  });

  test("short-lived /v2 tokens are obtained again once expired", async () => {
    const shortLived = await startArtifactorySim(simOptions({ tokenSeconds: 1 }));
    extraSims.push(shortLived);
    const session = await connect({ credential: basic(USER, PASSWORD), on: shortLived });
    const first = await session.client.resolveImage("docker-local/alpine", "3.10.3");
    const issued = shortLived.tokens.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const second = await session.client.resolveImage("docker-local/alpine", "3.10.3");
    assert.equal(second.digest, first.digest);
    assert.ok(shortLived.tokens.requests.length > issued);
  });
});
