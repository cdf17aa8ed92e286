/**
 * The Docker Registry v2 provider (registry type `2`, spec 6.2 steps 1–2 and section 8) against
 * Debian's real docker-registry serving the seeded testbed storage: anonymous, htpasswd Basic, and
 * token auth with a token server that keeps the catalog from ordinary users. Expected repositories,
 * tags, digests and times come from the seed and from the testbed's OCI layout on disk, not from the
 * code under test.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Credential } from "../src/api/schemas.js";
import { AuthError, NetworkError, NotFoundError, UnsupportedError } from "../src/registry/errors.js";
import {
  dockerV2Provider,
  exactRepositories,
  platformOf,
  v2AddressOf,
} from "../src/registry/providers/docker-v2.js";
import { providerFor, providers } from "../src/registry/providers/index.js";
import type { DiscoveredTag, ProviderContext, ProviderSession } from "../src/registry/providers/provider.js";
import { selectTags } from "../src/scan/tag-selection.js";
import { startFaultProxy } from "./harness/fault-proxy.js";
import { generateRegistryCertificates, type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { ensureTestbedLayout } from "./harness/testbed.js";
import { type RunningTokenServer, startTokenServer } from "./harness/token-server.js";

let storageDir: string;
let layoutDir: string;
let seed: SeedContents;
const sessions: ProviderSession[] = [];

before(
  async () => {
    storageDir = await ensureSeededStorage();
    layoutDir = await ensureTestbedLayout();
    seed = await seedContents();
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  await Promise.all(sessions.map((s) => s.close()));
});

async function connect(
  registry: string,
  options: { credential?: Credential; spec?: Record<string, unknown> } = {},
): Promise<ProviderSession> {
  const context: ProviderContext = { registry, credential: options.credential, spec: options.spec ?? {} };
  const session = await dockerV2Provider.connect(context);
  sessions.push(session);
  return session;
}

const basic = (accountID: string, password: string): Credential => ({
  _id: "lab",
  type: "basic",
  accountID,
  secret: { plain: password },
});

async function layoutJson(digest: string): Promise<Record<string, unknown>> {
  const [algorithm, hex] = digest.split(":") as [string, string];
  return JSON.parse(await fs.readFile(path.join(layoutDir, "blobs", algorithm, hex), "utf8"));
}

/** The build time of what a seeded tag points at, read from the layout (linux/amd64 for an index). */
async function layoutCreated(digest: string, architecture = "amd64"): Promise<Date> {
  let manifest = await layoutJson(digest);
  if (Array.isArray(manifest.manifests)) {
    const child = (manifest.manifests as { digest: string; platform?: { architecture?: string } }[]).find(
      (m) => m.platform?.architecture === architecture,
    );
    assert.ok(child, `the index ${digest} has a ${architecture} image`);
    manifest = await layoutJson(child.digest);
  }
  const config = await layoutJson((manifest.config as { digest: string }).digest);
  return new Date(config.created as string);
}

/** What listTags with times must say for a seeded repository, in the order tags/list gives (sorted). */
async function expectedDatedTags(
  repository: string,
  architecture?: string,
): Promise<(DiscoveredTag & { pushedAt: Date })[]> {
  const images = seed.images
    .filter((i) => i.repository === repository)
    .sort((a, b) => (a.tag < b.tag ? -1 : 1));
  return Promise.all(
    images.map(async (i) => ({
      tag: i.tag,
      digest: i.digest,
      pushedAt: await layoutCreated(i.digest, architecture),
    })),
  );
}

const testbedRepositories = () =>
  seed.repositories
    .map((r) => r.name)
    .filter((name) => !name.startsWith("bulk/") && name !== "many-tags/alpine");

describe("providers index", () => {
  test("type 2 is the Docker Registry v2 provider; one provider per type; unknown types have none", () => {
    assert.equal(providerFor("2"), dockerV2Provider);
    assert.equal(providerFor("no-such-type"), undefined);
    assert.equal(providerFor(""), undefined);
    const types = providers.map((p) => p.type);
    assert.equal(new Set(types).size, types.length, `no type twice: ${types.join(", ")}`);
    for (const type of types) assert.equal(providerFor(type)?.type, type);
    assert.deepEqual(dockerV2Provider.credentialTypes, ["basic"]);
  });
});

describe("v2AddressOf", () => {
  const table: [registry: string, insecure: boolean, want: ReturnType<typeof v2AddressOf>][] = [
    ["", false, { address: "docker.io", registryHost: "docker.io", insecure: false, dockerHub: true }],
    ["  ", false, { address: "docker.io", registryHost: "docker.io", insecure: false, dockerHub: true }],
    [
      "docker.io",
      false,
      { address: "docker.io", registryHost: "docker.io", insecure: false, dockerHub: true },
    ],
    [
      "https://index.docker.io/v1/",
      false,
      { address: "https://index.docker.io/v1/", registryHost: "docker.io", insecure: false, dockerHub: true },
    ],
    [
      "127.0.0.1:5000",
      false,
      { address: "127.0.0.1:5000", registryHost: "127.0.0.1:5000", insecure: false, dockerHub: false },
    ],
    [
      "127.0.0.1:5000",
      true,
      { address: "127.0.0.1:5000", registryHost: "127.0.0.1:5000", insecure: true, dockerHub: false },
    ],
    [
      "http://127.0.0.1:5000",
      false,
      { address: "http://127.0.0.1:5000", registryHost: "127.0.0.1:5000", insecure: true, dockerHub: false },
    ],
    [
      "https://registry.example.com/",
      false,
      {
        address: "https://registry.example.com/",
        registryHost: "registry.example.com",
        insecure: false,
        dockerHub: false,
      },
    ],
    [
      "https://art.example.com/artifactory/api/docker/key",
      false,
      {
        address: "https://art.example.com/artifactory/api/docker/key",
        registryHost: "art.example.com",
        insecure: false,
        dockerHub: false,
      },
    ],
  ];
  for (const [registry, insecure, want] of table) {
    test(`${JSON.stringify(registry)}${insecure ? " (insecure)" : ""}`, () => {
      assert.deepEqual(v2AddressOf(registry, insecure), want);
    });
  }
  test("a value that is no address is refused", () => {
    assert.throws(() => v2AddressOf("not a registry"), /invalid registry address "not a registry"/);
  });
});

describe("exactRepositories and platformOf", () => {
  const table: [pattern: unknown, want: string[] | undefined][] = [
    ["library/alpine", ["library/alpine"]],
    ["alpine", ["alpine"]],
    ["team/api, Alpine,team/api", ["alpine", "team/api"]],
    ["library/*", undefined],
    ["alpine, -alpine", undefined],
    ["", undefined],
    [undefined, undefined],
    ["Not/Valid Name", undefined],
  ];
  for (const [pattern, want] of table) {
    test(JSON.stringify(pattern), () => {
      assert.deepEqual(exactRepositories(pattern), want);
    });
  }
  test("os picks the platform that dates a tag", () => {
    assert.deepEqual(platformOf(undefined), { os: "linux", architecture: "amd64" });
    assert.deepEqual(platformOf("linux"), { os: "linux", architecture: "amd64" });
    assert.deepEqual(platformOf("linuxARM64"), { os: "linux", architecture: "arm64" });
    assert.deepEqual(platformOf("windows"), { os: "windows", architecture: "amd64" });
  });
});

describe("anonymous registry", { timeout: 180_000 }, () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry({ storageDir, readOnly: true });
  });
  after(() => registry.stop());

  test("an http:// address connects over plain HTTP and names the host", async () => {
    const session = await connect(registry.url);
    assert.equal(session.registryHost, registry.host);
    assert.equal(session.client.registry, registry.host);
  });

  test("a bare host:port is HTTPS only unless the context allows insecure", async () => {
    await assert.rejects(connect(registry.host), (e: unknown) => {
      return e instanceof Error && e.message.startsWith(`${registry.host}:`) && /TLS|HTTPS/i.test(e.message);
    });
    const session = await dockerV2Provider.connect({ registry: registry.host, insecure: true, spec: {} });
    sessions.push(session);
    assert.deepEqual(await session.listTags("alpine", { withTimes: false }), [
      { tag: "3.10.3" },
      { tag: "3.20.3" },
    ]);
  });

  test("every repository of the catalog, across pages", async () => {
    const session = await connect(registry.url);
    const repositories = await session.listRepositories();
    assert.deepEqual(
      repositories,
      seed.repositories.map((r) => r.name),
    );
    assert.equal(repositories.length, 147, "the seed's 147 repositories (more than one catalog page)");
  });

  test("every repository's tags, names only", async () => {
    const session = await connect(registry.url);
    for (const repository of seed.repositories) {
      const tags = await session.listTags(repository.name, { withTimes: false });
      assert.deepEqual(
        tags,
        repository.tags.map((tag) => ({ tag })),
        repository.name,
      );
    }
  });

  test("tags with times: digest of what each tag points at, and its config's build time", async () => {
    const session = await connect(registry.url);
    for (const repository of testbedRepositories()) {
      assert.deepEqual(
        await session.listTags(repository, { withTimes: true }),
        await expectedDatedTags(repository),
        repository,
      );
    }
  });

  test("a multi-platform tag carries the index digest and the time of the spec's platform", async () => {
    const session = await connect(registry.url, { spec: { os: "linuxARM64" } });
    const [tag] = await session.listTags("alpine-multi", { withTimes: true });
    const [expected] = await expectedDatedTags("alpine-multi", "arm64");
    assert.ok(expected && tag);
    assert.match(seed.images.find((i) => i.repository === "alpine-multi")?.mediaType ?? "", /index/);
    assert.deepEqual(tag, expected);
  });

  test("250 tags dated with bounded concurrency", async () => {
    const session = await connect(registry.url);
    const tags = await session.listTags("many-tags/alpine", { withTimes: true });
    assert.deepEqual(tags, await expectedDatedTags("many-tags/alpine"));
  });

  test("dated tags feed the cap: the two newest of each team repository", async () => {
    const session = await connect(registry.url);
    const repositories = (await session.listRepositories()).filter((r) => r.startsWith("team-"));
    assert.ok(repositories.length > 0);
    for (const repository of repositories) {
      const expected = (await expectedDatedTags(repository))
        .sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime())
        .slice(0, 2)
        .map((t) => t.tag);
      const discovered = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(
        selectTags(discovered, { cap: 2 }).map((t) => t.tag),
        expected,
        repository,
      );
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

  test("a basic credential lists repositories and dated tags", async () => {
    const session = await connect(registry.url, { credential: basic("alice", "s3cret-pass") });
    assert.deepEqual(
      await session.listRepositories(),
      seed.repositories.map((r) => r.name),
    );
    assert.deepEqual(
      await session.listTags("alpine", { withTimes: true }),
      await expectedDatedTags("alpine"),
    );
  });

  test("a wrong password fails at connect, naming the registry and the user", async () => {
    await assert.rejects(connect(registry.url, { credential: basic("alice", "wrong") }), (e: unknown) => {
      return (
        e instanceof AuthError &&
        e.registry === registry.host &&
        e.message === `${registry.host}: registry rejected the credentials of user "alice" (HTTP 401)`
      );
    });
  });

  test("no credential fails at connect and says what to give", async () => {
    await assert.rejects(connect(registry.url), (e: unknown) => {
      return (
        e instanceof AuthError &&
        e.message ===
          `${registry.host}: the registry requires authentication; give the specification a credential of type basic`
      );
    });
  });

  test("a credential of another type, or without a secret, is refused before any request", async () => {
    await assert.rejects(
      connect(registry.url, { credential: { _id: "cloud", type: "aws", accountID: "AKIA" } }),
      (e: unknown) =>
        e instanceof UnsupportedError &&
        e.message ===
          `${registry.host}: credential "cloud" is of type "aws"; Docker Registry v2 accepts "basic" or none`,
    );
    await assert.rejects(
      connect(registry.url, { credential: { _id: "half", type: "basic", accountID: "alice" } }),
      (e: unknown) =>
        e instanceof AuthError &&
        /credential "half" needs a username \(accountID\) and a password/.test(e.message),
    );
  });
});

describe("token auth without the catalog", { timeout: 60_000 }, () => {
  let tokens: RunningTokenServer;
  let registry: RunningRegistry;
  before(async () => {
    tokens = await startTokenServer({
      users: { reader: "reader-pass" },
      // Like most token servers: users may pull, only administrators may read the catalog.
      grant: (user, scope) => (user === undefined || scope.type === "registry" ? [] : scope.actions),
    });
    registry = await startRegistry({ storageDir, readOnly: true, auth: { kind: "token", ...tokens } });
  });
  after(async () => {
    await registry.stop();
    await tokens.stop();
  });

  test("exact repository names stand in for the catalog", async () => {
    const session = await connect(registry.url, {
      credential: basic("reader", "reader-pass"),
      spec: { repository: "team-01/service-01, alpine" },
    });
    assert.deepEqual(await session.listRepositories(), ["alpine", "team-01/service-01"]);
    assert.deepEqual(
      await session.listTags("team-01/service-01", { withTimes: true }),
      await expectedDatedTags("team-01/service-01"),
    );
  });

  test("a wildcard pattern cannot be resolved without the catalog: a clear error", async () => {
    const session = await connect(registry.url, {
      credential: basic("reader", "reader-pass"),
      spec: { repository: "team-*" },
    });
    await assert.rejects(session.listRepositories(), (e: unknown) => {
      return (
        e instanceof UnsupportedError &&
        e.message.startsWith(
          `${registry.host}: the registry does not list its repositories to this credential (`,
        ) &&
        e.message.endsWith("name them exactly in `repository`") &&
        !e.message.includes("--repo")
      );
    });
  });

  test("a wrong password is rejected by the token server at connect", async () => {
    await assert.rejects(connect(registry.url, { credential: basic("reader", "nope") }), (e: unknown) => {
      return (
        e instanceof AuthError &&
        e.message.startsWith(`${registry.host}: token server`) &&
        /rejected user "reader"/.test(e.message)
      );
    });
  });
});

describe("a registry whose content disappears mid-listing", { timeout: 60_000 }, () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry({ storageDir, readOnly: true });
  });
  after(() => registry.stop());

  const nameUnknown = (name: string) =>
    JSON.stringify({
      errors: [{ code: "NAME_UNKNOWN", message: "repository name not known to registry", detail: { name } }],
    });

  test("the catalog's second page 404s: an error of the listing, not 'no catalog'", async () => {
    const proxy = await startFaultProxy(registry.url, {
      rules: [{ match: { path: /^\/v2\/_catalog/ }, skip: 1, fault: { kind: "status", status: 404 } }],
    });
    try {
      const session = await connect(proxy.url);
      await assert.rejects(session.listRepositories(), (e: unknown) => {
        return e instanceof NotFoundError && e.message === `${proxy.host}: listing repositories: HTTP 404`;
      });
      assert.equal(proxy.hits.filter((h) => h.path.startsWith("/v2/_catalog")).length, 2);
    } finally {
      await proxy.stop();
    }
  });

  test("a listed repository whose tags/list 404s: an error naming the repository", async () => {
    const proxy = await startFaultProxy(registry.url, {
      rules: [
        {
          match: { path: /^\/v2\/team-01\/service-02\/tags\/list/ },
          fault: { kind: "status", status: 404, body: nameUnknown("team-01/service-02") },
        },
      ],
    });
    try {
      const session = await connect(proxy.url);
      const repositories = await session.listRepositories();
      assert.ok(repositories.includes("team-01/service-02"));
      await assert.rejects(session.listTags("team-01/service-02", { withTimes: true }), (e: unknown) => {
        return (
          e instanceof NotFoundError &&
          e.repository === "team-01/service-02" &&
          e.message ===
            `${proxy.host}/team-01/service-02: listing tags: HTTP 404 (NAME_UNKNOWN: repository name not known to registry)`
        );
      });
      // The other repositories still list.
      assert.deepEqual(
        await session.listTags("team-01/service-01", { withTimes: true }),
        await expectedDatedTags("team-01/service-01"),
      );
    } finally {
      await proxy.stop();
    }
  });

  test("a listed tag whose manifest is gone is dropped; the others keep their times", async () => {
    const proxy = await startFaultProxy(registry.url, {
      rules: [
        {
          match: { path: "/v2/team-01/service-03/manifests/v2" },
          fault: {
            kind: "status",
            status: 404,
            body: JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN" }] }),
          },
        },
      ],
    });
    try {
      const session = await connect(proxy.url);
      const expected = (await expectedDatedTags("team-01/service-03")).filter((t) => t.tag !== "v2");
      assert.equal(expected.length, 2);
      assert.deepEqual(await session.listTags("team-01/service-03", { withTimes: true }), expected);
    } finally {
      await proxy.stop();
    }
  });
});

describe("HTTPS registry with a certificate from a private CA (caCert)", { timeout: 120_000 }, () => {
  let registry: RunningRegistry;
  let caCert: string;
  before(async () => {
    const certificates = await generateRegistryCertificates();
    caCert = certificates.caCert;
    registry = await startRegistry({
      storageDir,
      readOnly: true,
      tls: { cert: certificates.cert, key: certificates.key },
    });
  });
  after(() => registry.stop());

  test("without caCert the certificate is not trusted: an error naming the registry and what to give", async () => {
    assert.match(registry.url, /^https:/);
    await assert.rejects(
      dockerV2Provider.connect({ registry: registry.url, spec: {} }),
      (e: unknown) =>
        e instanceof NetworkError &&
        e.registry === registry.host &&
        e.message.startsWith(`${registry.host}:`) &&
        /TLS certificate not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/.test(e.message) &&
        /caCert/.test(e.message),
    );
  });

  test("a CA of the same name that did not sign it is not trusted either", async () => {
    const other = await generateRegistryCertificates();
    await assert.rejects(
      dockerV2Provider.connect({ registry: registry.url, caCert: other.caCert, spec: {} }),
      (e: unknown) =>
        e instanceof NetworkError && /TLS certificate not trusted \(CERT_SIGNATURE_FAILURE\)/.test(e.message),
    );
  });

  test("with caCert: tags listed and an image pulled, every blob verified", async () => {
    const session = await dockerV2Provider.connect({ registry: registry.url, caCert, spec: {} });
    sessions.push(session);
    assert.equal(session.registryHost, registry.host);
    const alpine = seed.repositories.find((r) => r.name === "alpine");
    assert.ok(alpine);
    assert.deepEqual(
      await session.listTags("alpine", { withTimes: false }),
      alpine.tags.map((tag) => ({ tag })),
    );
    const seeded = seed.images.find((i) => i.repository === "alpine" && i.tag === "3.20.3");
    assert.ok(seeded);
    const image = await session.client.resolveImage("alpine", "3.20.3", {
      platform: { os: "linux", architecture: "amd64" },
    });
    assert.equal(image.indexDigest ?? image.digest, seeded.digest);
    assert.ok(image.manifest.layers.length > 0);
    for (const layer of image.manifest.layers) {
      let bytes = 0;
      // openBlob fails the stream unless size and digest match the manifest's descriptor.
      for await (const chunk of session.client.openBlob("alpine", layer)) bytes += (chunk as Buffer).length;
      assert.equal(bytes, layer.size);
    }
  });
});
