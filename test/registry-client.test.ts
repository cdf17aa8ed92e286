/**
 * The registry client against Debian's real docker-registry (CNCF distribution 2.8) serving the
 * testbed images, in its three auth modes: anonymous, htpasswd Basic, and token auth backed by the
 * harness token server that signs real JWTs.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { MediaTypes } from "../src/image/manifest.js";
import type { StaticCredentials } from "../src/registry/auth.js";
import { RegistryClient, type RegistryClientOptions } from "../src/registry/client.js";
import {
  AuthError,
  DigestMismatchError,
  NotFoundError,
  ProtocolError,
  UnsupportedError,
} from "../src/registry/errors.js";
import { ExpiringValue } from "../src/registry/expiring.js";
import { startFaultProxy } from "./harness/fault-proxy.js";
import { pushImage } from "./harness/push.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { startTagsPagination } from "./harness/tags-pagination.js";
import { ensureTestbedLayout } from "./harness/testbed.js";
import {
  DISTRIBUTION_TOKEN_LEEWAY_SECONDS,
  type RunningTokenServer,
  startTokenServer,
} from "./harness/token-server.js";

let storageDir: string;
let seed: SeedContents;
const clients: RegistryClient[] = [];

function client(registry: string, options: Partial<RegistryClientOptions> = {}): RegistryClient {
  const c = new RegistryClient({ registry, insecure: true, ...options });
  clients.push(c);
  return c;
}

function seedImage(repository: string, tag: string) {
  const image = seed.images.find((i) => i.repository === repository && i.tag === tag);
  assert.ok(image, `${repository}:${tag} is in the seed`);
  return image;
}

async function sha256OfStream(stream: AsyncIterable<Buffer>): Promise<{ digest: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { digest: `sha256:${hash.digest("hex")}`, bytes };
}

before(
  async () => {
    storageDir = await ensureSeededStorage();
    seed = await seedContents();
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

describe("anonymous registry", { timeout: 120_000 }, () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry({ storageDir, readOnly: true });
  });
  after(() => registry.stop());

  test("the ping finds an open registry over plain HTTP once --insecure allows it", async () => {
    const ping = await client(registry.host).ping();
    assert.equal(ping.auth, "none");
    assert.equal(ping.baseUrl, `${registry.url}/`);
    assert.equal(ping.apiVersion, "registry/2.0");
    assert.throws(() => new RegistryClient({ registry: registry.url }), /needs --insecure/);
  });

  test("the catalog of 120+ repositories is read 10 at a time to the end", async () => {
    const proxy = await startFaultProxy(registry.url);
    try {
      const repositories = await client(proxy.host).listRepositories({ pageSize: 10 });
      const expected = seed.repositories.map((r) => r.name);
      assert.ok(expected.length >= 120, `seed has ${expected.length} repositories`);
      assert.deepEqual(repositories, expected);
      const pages = proxy.hits.filter((h) => h.path.startsWith("/v2/_catalog"));
      assert.ok(pages.length >= Math.ceil(expected.length / 10), `${pages.length} catalog pages`);
      assert.ok(pages.every((h) => /[?&]n=10\b/.test(h.path)));
      assert.ok(
        pages.slice(1).every((h) => /[?&]last=/.test(h.path)),
        "later pages follow Link with last=",
      );
    } finally {
      await proxy.stop();
    }
  });

  test("a page size above the registry's maxentries is stepped down instead of failing", async () => {
    const small = await startRegistry({ storageDir, readOnly: true, maxEntries: 50 });
    try {
      const repositories = await client(small.host).listRepositories({ pageSize: 400 });
      assert.deepEqual(
        repositories,
        seed.repositories.map((r) => r.name),
      );
    } finally {
      await small.stop();
    }
  });

  test("tags of every seeded repository match the seed", async () => {
    const c = client(registry.host);
    for (const repo of seed.repositories) assert.deepEqual(await c.listTags(repo.name), repo.tags, repo.name);
  });

  test("HEAD resolves each testbed tag to the digest pushed", async () => {
    const c = client(registry.host);
    for (const image of seed.images.filter((i) => !i.repository.startsWith("bulk/"))) {
      const head = await c.headManifest(image.repository, image.tag);
      assert.equal(head.digest, image.digest, `${image.repository}:${image.tag}`);
      assert.equal(head.mediaType, image.mediaType);
    }
  });

  test("an image index resolves to amd64 and to arm64, each with its own config and verified layers", async () => {
    const c = client(registry.host);
    const index = await c.getManifest("alpine-multi", "3.10.3");
    assert.equal(index.manifest.kind, "index");
    assert.equal(index.digest, seedImage("alpine-multi", "3.10.3").digest);
    const amd64 = await c.resolveImage("alpine-multi", "3.10.3");
    const arm64 = await c.resolveImage("alpine-multi", "3.10.3", {
      platform: { os: "linux", architecture: "arm64" },
    });
    assert.equal(amd64.indexDigest, index.digest);
    assert.equal(amd64.digest, seedImage("alpine", "3.10.3").digest);
    assert.equal(arm64.digest, seedImage("alpine-arm64", "3.10.3").digest);
    assert.equal(amd64.config.architecture, "amd64");
    assert.equal(arm64.config.architecture, "arm64");
    assert.notEqual(amd64.manifest.layers[0]?.digest, arm64.manifest.layers[0]?.digest);
    for (const image of [amd64, arm64]) {
      const layer = image.manifest.layers[0];
      assert.ok(layer);
      const got = await sha256OfStream(c.openBlob("alpine-multi", layer));
      assert.deepEqual(got, { digest: layer.digest, bytes: layer.size });
    }
    await assert.rejects(
      c.resolveImage("alpine-multi", "3.10.3", { platform: { os: "linux", architecture: "s390x" } }),
      (err: unknown) =>
        err instanceof NotFoundError &&
        /linux\/s390x.*available: linux\/amd64, linux\/arm64/.test(err.message),
    );
  });

  test("the image config gives created, os, architecture, history and diff_ids", async () => {
    const image = await client(registry.host).resolveImage("node-app", "1.0");
    assert.equal(image.manifest.layers.length, 4);
    assert.equal(image.config.diffIds.length, 4);
    assert.equal(image.config.created, "2026-10-01T00:00:00Z");
    assert.equal(image.config.os, "linux");
    assert.equal(image.config.architecture, "amd64");
    assert.deepEqual(
      image.config.history.map((h) => h.createdBy),
      [
        "debootstrap --variant=minbase bookworm",
        "COPY node-v14.15.0-linux-x64 /usr/local",
        "COPY app /app (npm install)",
        "RUN rm -rf /app/node_modules/tree-kill",
      ],
    );
  });

  test("a manifest pulled by digest is verified and keeps its exact bytes", async () => {
    const c = client(registry.host);
    const digest = seedImage("debian", "bookworm").digest;
    const fetched = await c.getManifest("debian", digest);
    assert.equal(fetched.digest, digest);
    assert.equal(`sha256:${createHash("sha256").update(fetched.bytes).digest("hex")}`, digest);
    assert.equal(fetched.mediaType, MediaTypes.ociManifest);
  });

  test("unknown repositories, tags and blobs are NotFoundError naming what was asked for", async () => {
    const c = client(registry.host);
    await assert.rejects(c.getManifest("alpine", "9.9.9"), (e: unknown) => {
      return (
        e instanceof NotFoundError &&
        e.repository === "alpine" &&
        /alpine:9\.9\.9.*MANIFEST_UNKNOWN/.test(e.message)
      );
    });
    await assert.rejects(c.listTags("no/such-repo"), NotFoundError);
    const missing = `sha256:${"0".repeat(64)}`;
    await assert.rejects(
      sha256OfStream(c.openBlob("alpine", { digest: missing, size: 10 })),
      (e: unknown) => {
        return e instanceof NotFoundError && e.message.includes(missing);
      },
    );
  });
});

describe("tags pagination (simulated OCI paging in front of the real registry)", { timeout: 60_000 }, () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry({ storageDir, readOnly: true });
  });
  after(() => registry.stop());
  const expected = () => seed.repositories.find((r) => r.name === "many-tags/alpine")?.tags ?? [];

  test("250 tags read 7 at a time through Link headers", async () => {
    const paging = await startTagsPagination(registry.url);
    try {
      const tags = await client(paging.host).listTags("many-tags/alpine", { pageSize: 7 });
      assert.equal(tags.length, 250);
      assert.deepEqual(tags, expected());
      assert.equal(paging.requests.length, Math.ceil(250 / 7));
    } finally {
      await paging.stop();
    }
  });

  test("relative links, unsorted pages, duplicates, nulls and digest-like entries are tolerated", async () => {
    const paging = await startTagsPagination(registry.url, {
      relativeLinks: true,
      unsortedWithDuplicates: true,
      junkEntries: true,
    });
    try {
      assert.deepEqual(await client(paging.host).listTags("many-tags/alpine", { pageSize: 20 }), expected());
    } finally {
      await paging.stop();
    }
  });

  test("a link to another origin is refused; a link that loops ends the listing", async () => {
    const foreign = await startTagsPagination(registry.url, { foreignOrigin: "http://127.0.0.2:9" });
    const looping = await startTagsPagination(registry.url, { loop: true });
    try {
      await assert.rejects(
        client(foreign.host).listTags("many-tags/alpine", { pageSize: 50 }),
        (e: unknown) => e instanceof ProtocolError && /another origin/.test(e.message),
      );
      const tags = await client(looping.host).listTags("many-tags/alpine", { pageSize: 50 });
      assert.deepEqual(tags, expected().slice(0, 100));
      assert.equal(looping.requests.length, 2, "page 2 links back to page 1, which is not fetched again");
    } finally {
      await foreign.stop();
      await looping.stop();
    }
  });
});

describe("htpasswd Basic auth", { timeout: 60_000 }, () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry({
      storageDir,
      readOnly: true,
      auth: { kind: "htpasswd", users: { alice: "s3cret-pass" } },
    });
  });
  after(() => registry.stop());

  test("the right password lists and pulls", async () => {
    const c = client(registry.host, {
      credentials: { kind: "basic", username: "alice", password: "s3cret-pass" },
    });
    assert.equal((await c.ping()).auth, "basic");
    assert.equal((await c.listRepositories()).length, seed.repositories.length);
    const image = await c.resolveImage("alpine", "3.10.3");
    assert.equal(image.digest, seedImage("alpine", "3.10.3").digest);
  });

  test("a wrong password is rejected with a clear message", async () => {
    const c = client(registry.host, { credentials: { kind: "basic", username: "alice", password: "wrong" } });
    await assert.rejects(c.listRepositories(), (e: unknown) => {
      return e instanceof AuthError && /rejected the credentials of user "alice"/.test(e.message);
    });
  });

  test("expiring credentials are renewed ahead of expiry, and once after a 401", async () => {
    // What the source hands out in turn: a password the registry no longer takes (rotated, as an ECR
    // token past its 12 hours), then the current one with a lifetime the fake clock runs out.
    const handedOut = ["expired-pass", "s3cret-pass", "s3cret-pass"];
    let now = Date.parse("2026-01-01T00:00:00Z");
    const source = new ExpiringValue<StaticCredentials>(
      async () => ({
        value: { kind: "basic", username: "alice", password: handedOut.shift() ?? "exhausted" },
        expiresAt: now + 12 * 3600_000,
      }),
      { now: () => now },
    );
    const c = client(registry.host, {
      credentials: { kind: "refreshing", describe: "alice's token", source },
    });
    assert.equal((await c.listRepositories()).length, seed.repositories.length);
    assert.equal(source.obtained, 2, "the rejected password was renewed once");
    assert.deepEqual(await c.listTags("alpine"), ["3.10.3", "3.20.3"]);
    assert.equal(source.obtained, 2, "a valid one is reused");
    now += 12 * 3600_000 - 4 * 60_000;
    assert.deepEqual(await c.listTags("alpine"), ["3.10.3", "3.20.3"]);
    assert.equal(source.obtained, 3, "renewed within five minutes of expiry, before any 401");
  });

  test("expiring credentials rejected also after renewal are an AuthError naming them", async () => {
    const source = new ExpiringValue<StaticCredentials>(async () => ({
      value: { kind: "basic", username: "alice", password: "revoked" },
    }));
    const c = client(registry.host, {
      credentials: { kind: "refreshing", describe: "alice's token", source },
    });
    await assert.rejects(c.listTags("alpine"), (e: unknown) => {
      return (
        e instanceof AuthError &&
        /rejected alice's token \(HTTP 401, also after renewing it\)/.test(e.message)
      );
    });
    assert.equal(source.obtained, 2);
  });

  test("no credentials at all asks for them", async () => {
    await assert.rejects(client(registry.host).listTags("alpine"), (e: unknown) => {
      return e instanceof AuthError && /requires authentication.*--username/.test(e.message);
    });
  });
});

describe("token auth with real JWTs", { timeout: 90_000 }, () => {
  let tokens: RunningTokenServer;
  let registry: RunningRegistry;
  const users = { bob: "bob-pass", reader: "reader-pass" };
  before(async () => {
    tokens = await startTokenServer({
      users,
      // reader may pull but not read the catalog
      grant: (user, scope) =>
        user === undefined ? [] : user === "reader" && scope.type === "registry" ? [] : scope.actions,
    });
    registry = await startRegistry({ storageDir, readOnly: true, auth: { kind: "token", ...tokens } });
  });
  after(async () => {
    await registry.stop();
    await tokens.stop();
  });

  test("lists and pulls with one token per scope, fetched once", async () => {
    const c = client(registry.host, {
      credentials: { kind: "basic", username: "bob", password: "bob-pass" },
    });
    assert.equal((await c.ping()).auth, "bearer");
    const repos = await c.listRepositories({ pageSize: 50 });
    assert.equal(repos.length, seed.repositories.length);
    const teams = repos.filter((r) => r.startsWith("team-")).slice(0, 3);
    for (const repo of teams) await c.listTags(repo);
    // One token for the catalog (reused over its pages) and one per repository.
    assert.equal(c.tokenFetches, 1 + teams.length);
    const image = await c.resolveImage("alpine", "3.10.3");
    const layer = image.manifest.layers[0];
    assert.ok(layer);
    assert.equal((await sha256OfStream(c.openBlob("alpine", layer))).digest, layer.digest);
    assert.equal(c.tokenFetches, 2 + teams.length);
  });

  test("concurrent requests needing the same token share one fetch", async () => {
    const c = client(registry.host, {
      credentials: { kind: "basic", username: "bob", password: "bob-pass" },
    });
    const before = tokens.requests.length;
    const heads = await Promise.all(Array.from({ length: 12 }, () => c.headManifest("debian", "bookworm")));
    assert.ok(heads.every((h) => h.digest === seedImage("debian", "bookworm").digest));
    assert.equal(tokens.requests.length - before, 1);
  });

  test("a wrong password is rejected by the token server with a clear message", async () => {
    const c = client(registry.host, { credentials: { kind: "basic", username: "bob", password: "nope" } });
    await assert.rejects(c.listTags("alpine"), (e: unknown) => {
      return (
        e instanceof AuthError &&
        /token server http:\/\/127\.0\.0\.1:\d+ rejected user "bob" \(HTTP 401/.test(e.message)
      );
    });
  });

  test("anonymous callers get a token without rights and a clear refusal", async () => {
    await assert.rejects(client(registry.host).listTags("alpine"), (e: unknown) => {
      return (
        e instanceof AuthError &&
        /anonymous access is not authorised for repository:alpine:pull/.test(e.message)
      );
    });
  });

  test("a user without the catalog grant is told to name repositories", async () => {
    const c = client(registry.host, {
      credentials: { kind: "basic", username: "reader", password: "reader-pass" },
    });
    await assert.rejects(c.listRepositories(), (e: unknown) => {
      return (
        e instanceof UnsupportedError && /does not offer its catalog to user "reader".*--repo/.test(e.message)
      );
    });
    assert.deepEqual(await c.listTags("alpine"), ["3.10.3", "3.20.3"]);
  });

  test("an identity token is exchanged with the OAuth2 POST form", async () => {
    const res = await request(tokens.realm, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "password",
        username: "bob",
        password: "bob-pass",
        service: tokens.service,
        client_id: "test",
        access_type: "offline",
      }).toString(),
    });
    const { refresh_token } = (await res.body.json()) as { refresh_token: string };
    assert.ok(refresh_token);
    const c = client(registry.host, { credentials: { kind: "identity-token", token: refresh_token } });
    assert.deepEqual(await c.listTags("alpine"), ["3.10.3", "3.20.3"]);
    const last = tokens.requests.at(-1);
    assert.equal(last?.method, "POST");
    assert.deepEqual(last?.fields.grant_type, ["refresh_token"]);
  });
});

describe("expired tokens", { timeout: 60_000 }, () => {
  test("a token the registry rejects as expired is refreshed once and the request succeeds", async () => {
    // The JWT expires 2 s after issue (backdated past distribution's 60 s leeway), while the response
    // claims the 60 s minimum lifetime: the client's cache still holds it when the registry refuses it.
    const tokens = await startTokenServer({
      users: { bob: "bob-pass" },
      expiresIn: 2,
      responseExpiresIn: 60,
      backdateSeconds: DISTRIBUTION_TOKEN_LEEWAY_SECONDS,
    });
    const registry = await startRegistry({ storageDir, readOnly: true, auth: { kind: "token", ...tokens } });
    try {
      const c = client(registry.host, {
        credentials: { kind: "basic", username: "bob", password: "bob-pass" },
      });
      assert.deepEqual(await c.listTags("alpine"), ["3.10.3", "3.20.3"]);
      assert.equal(c.tokenFetches, 1);
      await sleep(3500);
      assert.deepEqual(await c.listTags("alpine"), ["3.10.3", "3.20.3"]);
      assert.equal(c.tokenFetches, 2, "exactly one refresh");
    } finally {
      await registry.stop();
      await tokens.stop();
    }
  });
});

describe("corrupted storage", { timeout: 60_000 }, () => {
  let storage: string;
  let registry: RunningRegistry;
  before(async () => {
    storage = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-corrupt-"));
    registry = await startRegistry({ storageDir: storage });
    await pushImage(
      await ensureTestbedLayout(),
      "alpine--3.10.3",
      { url: registry.url },
      { repository: "alpine", tag: "3.10.3" },
    );
  });
  after(async () => {
    await registry.stop();
    await fs.rm(storage, { recursive: true, force: true });
  });

  const blobFile = (digest: string) => {
    const hex = digest.slice("sha256:".length);
    return path.join(storage, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
  };
  async function flipByte(file: string, at: (size: number) => number) {
    const bytes = await fs.readFile(file);
    const i = at(bytes.length);
    bytes[i] = (bytes[i] ?? 0) ^ 0xff;
    await fs.writeFile(file, bytes);
  }

  test("a corrupted layer blob is detected and the error names its digest", async () => {
    const c = client(registry.host);
    const image = await c.resolveImage("alpine", "3.10.3");
    const layer = image.manifest.layers[0];
    assert.ok(layer);
    await flipByte(blobFile(layer.digest), (n) => Math.floor(n / 2));
    await assert.rejects(sha256OfStream(c.openBlob("alpine", layer)), (e: unknown) => {
      return (
        e instanceof DigestMismatchError && e.expected === layer.digest && e.message.includes(layer.digest)
      );
    });
  });

  test("a corrupted manifest is detected whether pulled by tag or by digest", async () => {
    const c = client(registry.host);
    const digest = (await c.headManifest("alpine", "3.10.3")).digest;
    // Keep it valid JSON so that only the digest check can catch it: change one hex digit of a digest.
    const file = blobFile(digest);
    const text = await fs.readFile(file, "utf8");
    await fs.writeFile(
      file,
      text.replace(/sha256:([0-9a-f])/, (_m, d: string) => `sha256:${d === "0" ? "1" : "0"}`),
    );
    await assert.rejects(c.getManifest("alpine", digest), DigestMismatchError);
    await assert.rejects(c.getManifest("alpine", "3.10.3"), DigestMismatchError);
  });

  test("signature and attestation tags are left out of tag listings", async () => {
    const layout = await ensureTestbedLayout();
    const sig = `sha256-${"a".repeat(64)}.sig`;
    await pushImage(layout, "alpine--3.20.3", { url: registry.url }, { repository: "alpine", tag: sig });
    const c = client(registry.host);
    assert.deepEqual(await c.listTags("alpine"), ["3.10.3"]);
    assert.deepEqual(await c.listTags("alpine", { includeArtifacts: true }), ["3.10.3", sig]);
  });
});

describe("not a registry", { timeout: 30_000 }, () => {
  test("an HTTP server without /v2/ gets a clear protocol error; a closed port a network error", async () => {
    const tokens = await startTokenServer();
    try {
      await assert.rejects(client(new URL(tokens.realm).host).listRepositories(), (e: unknown) => {
        return e instanceof ProtocolError && /not a Docker\/OCI registry API/.test(e.message);
      });
    } finally {
      await tokens.stop();
    }
    await assert.rejects(client("127.0.0.1:9").ping(), /connection refused/);
  });
});
