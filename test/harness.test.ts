import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { pushImage } from "./harness/push.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { ensureTestbedLayout } from "./harness/testbed.js";
import {
  DISTRIBUTION_TOKEN_LEEWAY_SECONDS,
  type RunningTokenServer,
  startTokenServer,
} from "./harness/token-server.js";

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** Parses `Bearer realm="...",service="...",scope="..."` (values here never contain quotes). */
function bearerChallenge(header: string | string[] | undefined): Record<string, string> {
  assert.equal(typeof header, "string");
  const value = header as string;
  assert.match(value, /^Bearer /);
  return Object.fromEntries([...value.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

let storageDir: string;
let contents: SeedContents;

before(
  async () => {
    storageDir = await ensureSeededStorage();
    contents = await seedContents();
  },
  { timeout: 20 * 60_000 },
);

describe("seeded storage, anonymous registry", { timeout: 60_000 }, () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry({ storageDir, readOnly: true });
  });
  after(() => registry.stop());

  test("the catalog lists every seeded repository, at least 120", async () => {
    const res = await get(`${registry.url}/v2/_catalog?n=1000`);
    assert.equal(res.status, 200);
    const { repositories } = res.json() as { repositories: string[] };
    assert.ok(repositories.length >= 120, `only ${repositories.length} repositories`);
    assert.deepEqual(
      repositories,
      contents.repositories.map((r) => r.name),
    );
  });

  test("tags/list of many-tags/alpine has its 250 tags", async () => {
    const expected = contents.repositories.find((r) => r.name === "many-tags/alpine")?.tags;
    assert.equal(expected?.length, 250);
    // distribution 2.8 ignores n/last on tags/list (no Link, ever) and lists tags in directory order.
    const res = await get(`${registry.url}/v2/many-tags/alpine/tags/list`);
    assert.equal(res.status, 200);
    assert.deepEqual((res.json() as { tags: string[] }).tags.sort(), expected);
  });

  test("alpine-multi:3.10.3 is an index over amd64 and arm64", async () => {
    const seeded = contents.images.find((i) => i.repository === "alpine-multi" && i.tag === "3.10.3");
    const res = await get(`${registry.url}/v2/alpine-multi/manifests/3.10.3`, { accept: MANIFEST_ACCEPT });
    assert.equal(res.status, 200);
    assert.equal(res.headers["docker-content-digest"], seeded?.digest);
    const index = res.json() as { mediaType: string; manifests: { platform: { architecture: string } }[] };
    assert.equal(index.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture).sort(), ["amd64", "arm64"]);
  });

  test("read-only mode refuses pushes, so the shared cache stays intact", async () => {
    const res = await request(`${registry.url}/v2/scratch/blobs/uploads/`, { method: "POST" });
    await res.body.dump();
    assert.equal(res.statusCode, 405);
  });
});

test("maxEntries caps the catalog page size", { timeout: 60_000 }, async () => {
  const registry = await startRegistry({ storageDir, readOnly: true, maxEntries: 50 });
  try {
    const tooMany = await get(`${registry.url}/v2/_catalog?n=51`);
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.text, /PAGINATION_NUMBER_INVALID/);
    const page = await get(`${registry.url}/v2/_catalog?n=50`);
    assert.equal((page.json() as { repositories: string[] }).repositories.length, 50);
    assert.match(String(page.headers.link), /rel="next"/);
  } finally {
    await registry.stop();
  }
});

test("htpasswd registry: 401 without or with wrong credentials, 200 with", { timeout: 60_000 }, async () => {
  const registry = await startRegistry({
    storageDir,
    readOnly: true,
    auth: { kind: "htpasswd", users: { alice: "alice-pw", bob: "bob-pw" } },
  });
  try {
    const anonymous = await get(`${registry.url}/v2/`);
    assert.equal(anonymous.status, 401);
    assert.match(String(anonymous.headers["www-authenticate"]), /^Basic realm=/);
    assert.equal((await get(`${registry.url}/v2/`, { authorization: basic("alice", "nope") })).status, 401);
    for (const [user, password] of [
      ["alice", "alice-pw"],
      ["bob", "bob-pw"],
    ] as const) {
      const res = await get(`${registry.url}/v2/_catalog?n=1000`, { authorization: basic(user, password) });
      assert.equal(res.status, 200);
    }
  } finally {
    await registry.stop();
  }
});

describe("token registry", { timeout: 60_000 }, () => {
  let tokens: RunningTokenServer;
  let registry: RunningRegistry;
  before(async () => {
    tokens = await startTokenServer({ users: { alice: "alice-pw" } });
    registry = await startRegistry({ storageDir, readOnly: true, auth: { kind: "token", ...tokens } });
  });
  after(async () => {
    await registry.stop();
    await tokens.stop();
  });

  test("challenge → token → catalog and manifest", async () => {
    const ping = await get(`${registry.url}/v2/`);
    assert.equal(ping.status, 401);
    const challenge = bearerChallenge(ping.headers["www-authenticate"]);
    assert.equal(challenge.realm, tokens.realm);
    assert.equal(challenge.service, tokens.service);

    const denied = await get(`${registry.url}/v2/_catalog`);
    assert.equal(denied.status, 401);
    const scope = bearerChallenge(denied.headers["www-authenticate"]).scope ?? "";
    assert.equal(scope, "registry:catalog:*");

    const url = new URL(tokens.realm);
    url.searchParams.set("service", tokens.service);
    url.searchParams.append("scope", scope);
    url.searchParams.append("scope", "repository:alpine:pull");
    const issued = await get(url.href, { authorization: basic("alice", "alice-pw") });
    assert.equal(issued.status, 200);
    const { token } = issued.json() as { token: string };

    const catalog = await get(`${registry.url}/v2/_catalog?n=1000`, { authorization: `Bearer ${token}` });
    assert.equal(catalog.status, 200);
    assert.equal(
      (catalog.json() as { repositories: string[] }).repositories.length,
      contents.repositories.length,
    );
    const manifest = await get(`${registry.url}/v2/alpine/manifests/3.10.3`, {
      authorization: `Bearer ${token}`,
      accept: MANIFEST_ACCEPT,
    });
    assert.equal(manifest.status, 200);
    const seeded = contents.images.find((i) => i.repository === "alpine" && i.tag === "3.10.3");
    assert.equal(manifest.headers["docker-content-digest"], seeded?.digest);

    const last = tokens.requests.at(-1);
    assert.deepEqual(last?.scopes, ["registry:catalog:*", "repository:alpine:pull"]);
    assert.equal(last?.basic, true);
    assert.equal(last?.user, "alice");
  });

  test("an anonymous token carries no access", async () => {
    const url = `${tokens.realm}?service=${tokens.service}&scope=${encodeURIComponent("registry:catalog:*")}`;
    const issued = await get(url);
    assert.equal(issued.status, 200);
    const { token } = issued.json() as { token: string };
    const res = await get(`${registry.url}/v2/_catalog`, { authorization: `Bearer ${token}` });
    assert.equal(res.status, 401);
    assert.equal(bearerChallenge(res.headers["www-authenticate"]).error, "insufficient_scope");
  });

  test("wrong password is a 401 with a JSON error", async () => {
    const res = await get(`${tokens.realm}?service=${tokens.service}`, {
      authorization: basic("alice", "nope"),
    });
    assert.equal(res.status, 401);
    assert.match(res.text, /UNAUTHORIZED/);
  });

  test("OAuth2 POST: password grant with a refresh token, then the refresh_token grant", async () => {
    const post = async (fields: Record<string, string>) => {
      const res = await request(tokens.realm, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          service: tokens.service,
          client_id: "harness-test",
          ...fields,
        }).toString(),
      });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, string> };
    };
    const first = await post({
      grant_type: "password",
      username: "alice",
      password: "alice-pw",
      access_type: "offline",
      scope: "repository:debian:pull",
    });
    assert.equal(first.status, 200);
    assert.ok(first.body.refresh_token);
    const second = await post({
      grant_type: "refresh_token",
      refresh_token: first.body.refresh_token ?? "",
      scope: "repository:debian:pull",
    });
    assert.equal(second.status, 200);
    const res = await get(`${registry.url}/v2/debian/tags/list`, {
      authorization: `Bearer ${second.body.access_token}`,
    });
    assert.equal(res.status, 200);

    const recorded = tokens.requests.slice(-2);
    assert.deepEqual(
      recorded.map((r) => [r.method, r.user, r.fields.grant_type?.[0]]),
      [
        ["POST", "alice", "password"],
        ["POST", "alice", "refresh_token"],
      ],
    );
    for (const r of recorded) assert.ok(!("password" in r.fields) && !("refresh_token" in r.fields));
    assert.equal((await post({ grant_type: "password", username: "alice", password: "x" })).status, 401);
  });
});

test("the registry rejects a token once it has expired", { timeout: 60_000 }, async () => {
  // Backdated by distribution's leeway, so the 2 s lifetime is the one the registry enforces.
  const tokens = await startTokenServer({
    users: { alice: "alice-pw" },
    expiresIn: 2,
    backdateSeconds: DISTRIBUTION_TOKEN_LEEWAY_SECONDS,
  });
  const registry = await startRegistry({ storageDir, readOnly: true, auth: { kind: "token", ...tokens } });
  try {
    const url = `${tokens.realm}?service=${tokens.service}&scope=${encodeURIComponent("registry:catalog:*")}`;
    const issued = await get(url, { authorization: basic("alice", "alice-pw") });
    const { token, expires_in } = issued.json() as { token: string; expires_in: number };
    assert.equal(expires_in, 2);
    const catalog = `${registry.url}/v2/_catalog`;
    assert.equal((await get(catalog, { authorization: `Bearer ${token}` })).status, 200);
    await sleep(3500);
    const expired = await get(catalog, { authorization: `Bearer ${token}` });
    assert.equal(expired.status, 401);
    assert.equal(bearerChallenge(expired.headers["www-authenticate"]).error, "invalid_token");
  } finally {
    await registry.stop();
    await tokens.stop();
  }
});

test("pushImage uploads an index whole, then mounts its blobs into another repository", {
  timeout: 120_000,
}, async () => {
  const layoutDir = await ensureTestbedLayout();
  const registry = await startRegistry();
  try {
    const target = { url: registry.url, knownBlobs: new Map() };
    const first = await pushImage(layoutDir, "alpine-multi--3.10.3", target, {
      repository: "a/multi",
      tag: "1",
    });
    assert.equal(first.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual([first.uploaded, first.mounted], [4, 0]); // two configs, two layers
    const second = await pushImage(layoutDir, "alpine-multi--3.10.3", target, {
      repository: "b/multi",
      tag: "1",
    });
    assert.deepEqual([second.uploaded, second.mounted, second.digest], [0, 4, first.digest]);
    const res = await get(`${registry.url}/v2/b/multi/manifests/1`, { accept: MANIFEST_ACCEPT });
    assert.equal(res.headers["docker-content-digest"], first.digest);
  } finally {
    await registry.stop();
  }
});
