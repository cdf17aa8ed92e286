/**
 * The GitLab provider (registry type `gitlab`, spec section 8 and `gitlabRegistrySpec`, registries.md
 * 2.7) against the GitLab simulation in test/harness/sim/gitlab.ts (written from GitLab's REST API,
 * pagination and registry-auth documentation, URLs at its top): the REST API v4 and `/jwt/auth` on the
 * simulated GitLab host, the real docker-registry on its own port serving the seeded images under
 * GitLab group/project paths. `per_page` is capped at 7 so lists of the seed span pages. Expected
 * repositories, tags and digests come from the seed, creation times from the simulation's records.
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
  UnsupportedError,
} from "../src/registry/errors.js";
import { gitlabApiBase, gitlabProvider } from "../src/registry/providers/gitlab.js";
import { providerFor } from "../src/registry/providers/index.js";
import type { ProviderSession } from "../src/registry/providers/provider.js";
import { startFaultProxy } from "./harness/fault-proxy.js";
import { ensureSeededStorage, type SeedContents, seedContents, seededDigestOf } from "./harness/seed.js";
import { type GitlabSim, startGitlabSim } from "./harness/sim/gitlab.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const PER_PAGE_CAP = 7;
const READER = "glpat-reader-0123456789";

let seed: SeedContents;
let view: StorageView;
let sim: GitlabSim;
/** GitLab repository path → the seeded repository it serves. */
let names: Record<string, string>;
let topGroups: string[];
const sessions: ProviderSession[] = [];

before(
  async () => {
    const storageDir = await ensureSeededStorage();
    seed = await seedContents();
    names = {};
    for (const { name } of seed.repositories) if (name.includes("/")) names[name] = name;
    Object.assign(names, {
      // A project's root image and images under sub-paths, in a sub-group.
      "platform/tools/scanner": "debian",
      "platform/tools/scanner/alpine": "alpine",
      "platform/tools/scanner/multi": "alpine-multi",
      // Personal projects of alice.
      "alice/node-app": "node-app",
      "alice/node-app/zstd": "node-app-zstd",
      "alice/arm": "alpine-arm64",
    });
    // Served by the registry, but GitLab lists it as scheduled for deletion.
    const scheduled = { "legacy/old-app": "alpine" };
    view = await createStorageView(storageDir, { ...names, ...scheduled });
    const projectPaths = [
      ...seed.repositories.map((r) => r.name).filter((n) => n.includes("/")),
      "platform/tools/scanner",
      "alice/node-app",
      "alice/arm",
      "legacy/old-app",
    ];
    topGroups = [...new Set(projectPaths.map((p) => p.split("/")[0] as string))].filter((g) => g !== "alice");
    assert.ok(topGroups.includes("legacy"));
    sim = await startGitlabSim({
      storageDir: view.dir,
      maxPerPage: PER_PAGE_CAP,
      deleteScheduled: ["legacy/old-app"],
      groups: [...topGroups, "platform/tools"],
      users: ["alice"],
      projects: projectPaths.map((path) => ({
        path,
        visibility: path === "team-20/service-03" ? "public" : "private",
      })),
      tokens: {
        [READER]: {
          kind: "personal",
          username: "alice",
          scopes: ["read_api", "read_registry"],
          access: [...topGroups, "alice"],
        },
        "glpat-registry-only": {
          kind: "personal",
          username: "alice",
          scopes: ["read_registry"],
          access: ["alice"],
        },
        "glpat-api-only": { kind: "personal", username: "alice", scopes: ["read_api"], access: ["alice"] },
        "gldt-deploy": {
          kind: "deploy",
          username: "gitlab+deploy-token-1",
          scopes: ["read_registry"],
          access: ["platform"],
        },
        "glpat-platform-bot": {
          kind: "group",
          username: "group_7_bot_0a1b",
          scopes: ["read_api", "read_registry"],
          access: ["platform"],
        },
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

const tokenCredential = (token: string, accountID?: string, type = "gitlabToken"): Credential => ({
  _id: "gitlab",
  type,
  ...(accountID === undefined ? {} : { accountID }),
  apiToken: { plain: token },
});

async function connect(
  gitlabRegistrySpec: Record<string, unknown>,
  credential: Credential | undefined = tokenCredential(READER),
): Promise<ProviderSession> {
  const session = await gitlabProvider.connect({
    registry: sim.registryUrl,
    insecure: true,
    credential,
    spec: { gitlabRegistrySpec: { apiDomainName: sim.url, ...gitlabRegistrySpec } },
  });
  sessions.push(session);
  return session;
}

const ids = (kind: "group" | "project", paths: string[]) =>
  paths.map((p) => String(kind === "group" ? sim.groupId(p) : sim.projectId(p)));

const seededDigest = (repository: string, tag: string) => seededDigestOf(seed, names, repository, tag);

function expectedTags(repository: string) {
  return sim.tags
    .filter((t) => t.repository === repository)
    .map((t) => ({ tag: t.tag, digest: t.digest, pushedAt: t.createdAt }))
    .sort((a, b) => (a.tag < b.tag ? -1 : 1));
}

const hits = (pattern: RegExp) => sim.requests.filter((r) => pattern.test(r.path)).length;

describe("gitlab provider", { timeout: 300_000 }, () => {
  test("is registered for type gitlab with gitlabToken and apiToken credentials", () => {
    assert.equal(providerFor("gitlab"), gitlabProvider);
    assert.deepEqual(gitlabProvider.credentialTypes, ["gitlabToken", "apiToken"]);
  });

  test("the API host: apiDomainName, else derived from the registry", () => {
    const table: [registry: string, apiDomainName: string | undefined, want: string][] = [
      ["https://registry.gitlab.com", undefined, "https://gitlab.com/api/v4/"],
      ["registry.example.org", undefined, "https://example.org/api/v4/"],
      ["https://gitlab.example.org:5050", undefined, "https://gitlab.example.org/api/v4/"],
      ["https://registry.example.org", "git.example.org", "https://git.example.org/api/v4/"],
      ["http://127.0.0.1:5000", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/api/v4/"],
    ];
    for (const [registry, apiDomainName, want] of table) {
      assert.equal(gitlabApiBase(registry, apiDomainName).href, want, `${registry} ${apiDomainName}`);
    }
  });

  test("group and project IDs discover every repository, nested paths included, across pages", async () => {
    const session = await connect({
      groupIDs: ids("group", topGroups),
      projectIDs: ids("project", ["alice/node-app", "alice/arm"]),
    });
    assert.equal(session.registryHost, sim.registryHost);
    const repositories = await session.listRepositories();
    // legacy/old-app was listed (status delete_scheduled) and left out.
    assert.deepEqual(repositories, Object.keys(names).sort());
    assert.ok(
      sim.requests.some(
        (r) => r.path === `/api/v4/groups/${sim.groupId("legacy")}/registry/repositories` && r.status === 200,
      ),
    );
    // The 80 projects of group bulk in pages of 7.
    assert.equal(hits(new RegExp(`^/api/v4/groups/${sim.groupId("bulk")}/registry/repositories$`)), 12);
  });

  test("a user ID lists the user's projects; project or group IDs take precedence over it", async () => {
    const userOnly = await connect({ userID: String(sim.userId("alice")) });
    assert.deepEqual(await userOnly.listRepositories(), [
      "alice/arm",
      "alice/node-app",
      "alice/node-app/zstd",
    ]);
    const byName = await connect({ userID: "alice" });
    assert.deepEqual(await byName.listRepositories(), ["alice/arm", "alice/node-app", "alice/node-app/zstd"]);
    const withProject = await connect({
      userID: String(sim.userId("alice")),
      projectIDs: ids("project", ["team-03/service-02"]),
    });
    assert.deepEqual(await withProject.listRepositories(), ["team-03/service-02"]);
  });

  test("a group given by its path reaches its sub-group's projects; excludedGroupIDs drops a group", async () => {
    const nested = await connect({ groupIDs: ["platform/tools"] });
    assert.deepEqual(await nested.listRepositories(), [
      "platform/tools/scanner",
      "platform/tools/scanner/alpine",
      "platform/tools/scanner/multi",
    ]);
    assert.ok(sim.requests.some((r) => r.path === "/api/v4/groups/platform%2Ftools/registry/repositories"));
    const excluding = await connect({
      groupIDs: ids("group", ["team-01", "team-02"]),
      excludedGroupIDs: ids("group", ["team-01"]),
    });
    assert.deepEqual(await excluding.listRepositories(), [
      "team-02/service-01",
      "team-02/service-02",
      "team-02/service-03",
    ]);
  });

  test("every tag of every repository, with its digest and creation time", async () => {
    const session = await connect({
      groupIDs: ids("group", topGroups),
      projectIDs: ids("project", ["alice/node-app", "alice/arm"]),
    });
    for (const repository of await session.listRepositories()) {
      const tags = await session.listTags(repository, { withTimes: true });
      assert.deepEqual(tags, expectedTags(repository), repository);
      for (const tag of tags)
        assert.equal(tag.digest, seededDigest(repository, tag.tag), `${repository}:${tag.tag}`);
    }
    // An index has no config: GitLab gives it no created_at.
    const [multi] = await session.listTags("platform/tools/scanner/multi", { withTimes: true });
    assert.equal(multi?.pushedAt, undefined);
    const [alpine] = await session.listTags("platform/tools/scanner/alpine", { withTimes: true });
    assert.ok(alpine?.pushedAt instanceof Date);
  });

  test("250 tags across pages; without times only the list is read", async () => {
    const session = await connect({ projectIDs: ids("project", ["many-tags/alpine"]) });
    const detailsBefore = hits(/\/tags\/t-\d+$/);
    const listBefore = hits(/\/tags$/);
    const names250 = await session.listTags("many-tags/alpine", { withTimes: false });
    assert.deepEqual(
      names250,
      seed.repositories.find((r) => r.name === "many-tags/alpine")?.tags.map((tag) => ({ tag })),
    );
    assert.equal(hits(/\/tags$/) - listBefore, Math.ceil(250 / PER_PAGE_CAP));
    assert.equal(hits(/\/tags\/t-\d+$/), detailsBefore);
    const dated = await session.listTags("many-tags/alpine", { withTimes: true });
    assert.equal(dated.length, 250);
    assert.equal(hits(/\/tags\/t-\d+$/) - detailsBefore, 250);
  });

  test("an image pulls through /jwt/auth from the separate registry host; its manifest digest checks out", async () => {
    const session = await connect({ groupIDs: ids("group", ["platform"]) });
    const want = seededDigest("platform/tools/scanner/alpine", "3.10.3");
    const manifest = await session.client.getManifest("platform/tools/scanner/alpine", "3.10.3");
    assert.equal(manifest.digest, want);
    assert.equal(digestOf(manifest.bytes), want);
    assert.ok(
      sim.requests.some(
        (r) => r.path === "/jwt/auth" && r.status === 200 && r.query.includes("scanner%2Falpine"),
      ),
    );
  });

  test("a group access token with any username sees its group only; other projects are 404", async () => {
    const session = await connect(
      { groupIDs: ids("group", ["platform"]) },
      tokenCredential("glpat-platform-bot", "anything"),
    );
    assert.equal((await session.listRepositories()).length, 3);
    const outside = await connect(
      { projectIDs: ids("project", ["team-01/service-01"]) },
      tokenCredential("glpat-platform-bot", "anything", "apiToken"),
    );
    await assert.rejects(outside.listRepositories(), (e: unknown) => {
      return (
        e instanceof NotFoundError &&
        e.message ===
          `${sim.registryHost}: listing the registry repositories of project ${sim.projectId("team-01/service-01")}: not found or not visible to this token (HTTP 404: 404 Project Not Found)`
      );
    });
  });

  test("anonymous access lists a public project", async () => {
    const session = await connect({ projectIDs: ids("project", ["team-20/service-03"]) }, undefined);
    assert.deepEqual(await session.listRepositories(), ["team-20/service-03"]);
    assert.deepEqual(
      await session.listTags("team-20/service-03", { withTimes: true }),
      expectedTags("team-20/service-03"),
    );
  });

  const hint =
    "discovery needs a personal, project or group access token with the read_api and read_registry scopes (deploy and CI job tokens work on the registry only)";

  test("a wrong token fails at connect with GitLab's 401", async () => {
    await assert.rejects(connect({ userID: "alice" }, tokenCredential("glpat-wrong")), (e: unknown) => {
      return (
        e instanceof AuthError &&
        e.message ===
          `${sim.registryHost}: checking the token at ${sim.url}: GitLab rejected the token (HTTP 401: 401 Unauthorized); ${hint}`
      );
    });
  });

  test("a deploy token is no API credential: 401 with the hint", async () => {
    await assert.rejects(
      connect({ groupIDs: ["platform"] }, tokenCredential("gldt-deploy", "gitlab+deploy-token-1")),
      (e: unknown) => e instanceof AuthError && e.message.endsWith(`(HTTP 401: 401 Unauthorized); ${hint}`),
    );
  });

  test("a token without read_api: 403 insufficient_scope", async () => {
    await assert.rejects(
      connect({ userID: "alice" }, tokenCredential("glpat-registry-only")),
      (e: unknown) => {
        return (
          e instanceof PermissionError &&
          e.message.includes(
            "(HTTP 403: insufficient_scope: The request requires higher privileges than provided by the access token.)",
          )
        );
      },
    );
  });

  test("a token without read_registry is turned away by /jwt/auth", async () => {
    await assert.rejects(connect({ userID: "alice" }, tokenCredential("glpat-api-only")), (e: unknown) => {
      return (
        e instanceof AuthError &&
        e.message ===
          `${sim.registryHost}: GitLab's /jwt/auth rejected user "alice" with the token; the token needs the read_registry scope`
      );
    });
  });

  test("pages that end short of X-Total are an error, not a short list", async () => {
    const bulk = sim.groupId("bulk");
    // Page 2 answered empty and without Link or X-Next-Page.
    const proxy = await startFaultProxy(sim.url, {
      rules: [
        {
          match: { path: new RegExp(`^/api/v4/groups/${bulk}/registry/repositories\\?.*page=2`) },
          fault: { kind: "status", status: 200, headers: { "content-type": "application/json" }, body: "[]" },
        },
      ],
    });
    try {
      const session = await gitlabProvider.connect({
        registry: sim.registryUrl,
        insecure: true,
        credential: tokenCredential(READER),
        spec: { gitlabRegistrySpec: { apiDomainName: proxy.url, groupIDs: [String(bulk)] } },
      });
      sessions.push(session);
      await assert.rejects(session.listRepositories(), (e: unknown) => {
        return (
          e instanceof ProtocolError &&
          e.message ===
            `${sim.registryHost}: listing the registry repositories of group ${bulk}: the pages ended after ${PER_PAGE_CAP} of the 80 items announced (x-total)`
        );
      });
      assert.ok(proxy.hits.some((h) => h.faulted === "status"));
    } finally {
      await proxy.stop();
    }
  });

  test("a credential of another type is refused before any request", async () => {
    await assert.rejects(
      connect(
        { userID: "alice" },
        { _id: "b", type: "basic", accountID: "alice", secret: { plain: READER } },
      ),
      (e: unknown) =>
        e instanceof UnsupportedError && /GitLab accepts "gitlabToken" or "apiToken"/.test(e.message),
    );
  });
});
