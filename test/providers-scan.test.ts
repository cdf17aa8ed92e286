/**
 * The Harbor and GitLab providers under the real Orchestrator (spec 6.2 steps 1–3): one regular scan
 * over a `harbor` and a `gitlab` specification, each against its simulation (test/harness/sim/), with
 * a real SQLite console store, layer cache and the vulnerability database built from
 * ../shared/vulndata. The cap must keep the newest tags by each product's own time (Harbor's
 * `push_time`, GitLab's tag `created_at`), computed here from the simulations' records.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { ResolvedCredential } from "../src/registry/providers/provider.js";
import { Orchestrator } from "../src/scan/orchestrator.js";
import { openConsoleStore } from "../src/store/console.js";
import type { StoredSpec } from "../src/store/console-store.js";
import { Store } from "../src/store/store.js";
import { VulnerabilityDatabase } from "../src/vulndb/database.js";
import { ensureSeededStorage } from "./harness/seed.js";
import { sharedMirrorDatabase } from "./harness/shipshape-cli.js";
import { type GitlabSim, startGitlabSim } from "./harness/sim/gitlab.js";
import { type HarborSim, startHarborSim } from "./harness/sim/harbor.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";

const HARBOR_REPOSITORIES = ["team-01/service-01", "team-01/service-02", "team-01/service-03"];
const GITLAB_REPOSITORIES = ["team-02/service-01", "team-02/service-02", "team-02/service-03"];
const CAP = 2;

let tmp: string;
let database: VulnerabilityDatabase;
let harborView: StorageView;
let gitlabView: StorageView;
let harbor: HarborSim;
let gitlab: GitlabSim;

const identity = (names: string[]) => Object.fromEntries(names.map((n) => [n, n]));

before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-providers-scan-"));
    const [storageDir, databasePath] = await Promise.all([ensureSeededStorage(), sharedMirrorDatabase()]);
    database = VulnerabilityDatabase.open(databasePath);
    harborView = await createStorageView(storageDir, identity(HARBOR_REPOSITORIES));
    gitlabView = await createStorageView(storageDir, identity(GITLAB_REPOSITORIES));
    harbor = await startHarborSim({
      storageDir: harborView.dir,
      accounts: { robot$scanner: { password: "robot-secret", projects: { "team-01": ["list", "pull"] } } },
    });
    gitlab = await startGitlabSim({
      storageDir: gitlabView.dir,
      groups: ["team-02"],
      users: ["alice"],
      projects: GITLAB_REPOSITORIES.map((p) => ({ path: p })),
      tokens: {
        "glpat-scan": {
          kind: "personal",
          username: "alice",
          scopes: ["read_api", "read_registry"],
          access: ["team-02"],
        },
      },
    });
  },
  { timeout: 20 * 60_000 },
);
after(async () => {
  database?.close();
  await harbor?.stop();
  await gitlab?.stop();
  await harborView?.remove();
  await gitlabView?.remove();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

/** `host/repository:tag` of the CAP newest tags per repository; equal times by tag name, descending. */
function newest(host: string, tags: { repository: string; tag: string; time: number }[]): string[] {
  const ids: string[] = [];
  for (const repository of new Set(tags.map((t) => t.repository))) {
    const kept = tags
      .filter((t) => t.repository === repository)
      .sort((a, b) => b.time - a.time || (a.tag < b.tag ? 1 : -1))
      .slice(0, CAP);
    ids.push(...kept.map((t) => `${host}/${repository}:${t.tag}`));
  }
  return ids.sort();
}

test("a regular scan over a harbor and a gitlab specification keeps each product's newest tags", {
  timeout: 10 * 60_000,
}, async () => {
  const credentials: Record<string, ResolvedCredential> = {
    "harbor-robot": {
      _id: "harbor-robot",
      type: "basic",
      accountID: "robot$scanner",
      secret: { plain: "robot-secret" },
    },
    "gitlab-pat": {
      _id: "gitlab-pat",
      type: "gitlabToken",
      accountID: "alice",
      apiToken: { plain: "glpat-scan" },
    },
  };
  const { console: store } = await openConsoleStore({ sqliteFile: path.join(tmp, "console.db") });
  const cache = await Store.openSqlite(path.join(tmp, "cache.db"));
  const orchestrator = new Orchestrator({
    store,
    cacheStore: cache,
    database: () => database,
    resolveCredential: async (id) => credentials[id],
    hostname: "console-test",
    parallelSpecs: 2,
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
  });
  try {
    await orchestrator.init();
    const common = { cap: CAP, scanners: 2, collections: ["All"], os: "linux" as const };
    const harborSpec: StoredSpec = {
      ...common,
      id: "harbor",
      version: "harbor",
      registry: harbor.url,
      repository: "team-01/*",
      credentialID: "harbor-robot",
    };
    const gitlabSpec: StoredSpec = {
      ...common,
      id: "gitlab",
      version: "gitlab",
      registry: gitlab.registryUrl,
      credentialID: "gitlab-pat",
      gitlabRegistrySpec: { groupIDs: [String(gitlab.groupId("team-02"))], apiDomainName: gitlab.url },
    };
    await store.appendSpec(harborSpec);
    await store.appendSpec(gitlabSpec);
    await orchestrator.startRegularScan();
    const run = await orchestrator.waitForRegularScan();
    assert.equal(run?.state, "completed");
    assert.deepEqual((await orchestrator.status()).errors, []);

    const expectedHarbor = newest(
      harbor.host,
      harbor.tags.map((t) => ({ repository: t.repository, tag: t.tag, time: t.pushedAt.getTime() })),
    );
    const expectedGitlab = newest(
      gitlab.registryHost,
      gitlab.tags.map((t) => ({ repository: t.repository, tag: t.tag, time: t.createdAt?.getTime() ?? 0 })),
    );
    assert.equal(expectedHarbor.length, HARBOR_REPOSITORIES.length * CAP);
    const { results } = await store.queryResults({ limit: 1000 });
    const bySpec = (id: string) =>
      results
        .filter((r) => r.specId === id)
        .map((r) => r.id)
        .sort();
    assert.deepEqual(bySpec("harbor"), expectedHarbor);
    assert.deepEqual(bySpec("gitlab"), expectedGitlab);
    for (const r of results) {
      assert.equal(r.result.err, "", r.id);
      assert.ok(Array.isArray(r.result.packages) && r.result.packages.length > 0, `${r.id} has packages`);
    }
    for (const id of ["harbor", "gitlab"]) {
      const spec = await store.getSpec(id);
      assert.equal(spec?.lastScanStatus, "completed", id);
      assert.equal(spec?.scannedImagesSuccessTotal, CAP * 3, id);
    }
  } finally {
    await orchestrator.close();
    await cache.close();
    await store.close();
  }
});
