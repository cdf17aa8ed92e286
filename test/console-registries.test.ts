/**
 * One registry of every type, end to end through the real console (issue 6): `shipshape console` as
 * a child process, a credential and a registry setting per type created over the REST API, then one
 * regular scan across all of them. Each registry is the simulation of its product's documented API
 * (test/harness/sim/<product>.ts, each naming the documentation it follows) in front of the real
 * docker-registry serving the seeded images, so every repository and tag is discovered through the
 * product's own listing, `cap` keeps the newest tags by the product's own push time, and results
 * appear under the registry host that product gives its images.
 *
 * Each product serves one seeded team (three repositories of three tags each), so expected results
 * come from the simulation's own records of push times, never from shipshape's tag selection.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fetch } from "undici";
import { type RunningConsole, startConsole } from "./harness/console.js";
import { readLayoutImage } from "./harness/image-kit.js";
import { generateRegistryCertificates, type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { sharedMirrorDatabase } from "./harness/shipshape-cli.js";
import { startAcrSim } from "./harness/sim/acr.js";
import {
  type ArtifactorySim,
  type ArtifactorySimOptions,
  startArtifactorySim,
} from "./harness/sim/artifactory.js";
import { startBluemixSim } from "./harness/sim/bluemix.js";
import { startDockerHubSim } from "./harness/sim/dockerhub.js";
import { startDtrSim } from "./harness/sim/dtr.js";
import { startEcrSim } from "./harness/sim/ecr.js";
import { startGcrSim } from "./harness/sim/gcr.js";
import { startGhcrSim } from "./harness/sim/ghcr.js";
import { startGitlabSim } from "./harness/sim/gitlab.js";
import { startHarborSim } from "./harness/sim/harbor.js";
import { startNexusSim } from "./harness/sim/nexus.js";
import { startOpenShiftSim } from "./harness/sim/openshift.js";
import { startQuaySim } from "./harness/sim/quay.js";
import { createStorageView, type StorageView } from "./harness/sim/storage.js";
import { ensureTestbedLayout } from "./harness/testbed.js";

const ADMIN = `Basic ${Buffer.from("admin:console-test-pw").toString("base64")}`;
const CAP = 2;
const TAGS_PER_REPOSITORY = 3;
const REPOSITORIES_PER_TEAM = 3;

/** A tag as the product records it: its time is the product's push time (the cap's order). */
interface ProductTag {
  repository: string;
  tag: string;
  time: number;
}

/** One product's registry, running, as the console is told about it. */
interface RegistryUnderTest {
  version: string;
  /** The RegistrySpecification fields besides version, cap, scanners, os and credentialID. */
  spec: Record<string, unknown>;
  credential?: Record<string, unknown>;
  /** Environment the console needs to reach this product's fixed service endpoints. */
  env?: Record<string, string>;
  /** Registry host of the results (`repoTag.registry`). */
  host: string;
  /** Every tag the product holds for the selected repositories, with its push time. */
  tags: ProductTag[];
  stop(): Promise<void>;
}

interface Context {
  storageDir: string;
  seed: SeedContents;
  layout: string;
  /** A storage view serving `names` (product name → seeded repository); removed after the test. */
  view(names: Record<string, string>): Promise<StorageView>;
}

/** The seeded repositories of team `team` ("team-03"), by name. */
const teamRepositories = (ctx: Context, team: string) =>
  ctx.seed.repositories.filter((r) => r.name.startsWith(`${team}/`)).map((r) => r.name);

const ARTIFACTORY_CREDENTIAL = {
  type: "basic",
  accountID: "scanner",
  secret: { plain: "artifactory-token" },
} as const;

/** An Artifactory whose one local key, `docker-local`, holds team `team`'s repositories. */
async function artifactoryOf(
  ctx: Context,
  team: string,
  options: Partial<ArtifactorySimOptions> = {},
): Promise<ArtifactorySim> {
  const names = teamRepositories(ctx, team);
  const view = await ctx.view(Object.fromEntries(names.map((n) => [`docker-local/${n}`, n])));
  return startArtifactorySim({
    storageDir: view.dir,
    repositories: [{ key: "docker-local", type: "LOCAL" }],
    accounts: { scanner: { password: ARTIFACTORY_CREDENTIAL.secret.plain } },
    maxPageSize: 2,
    brokenLinks: true,
    ...options,
  });
}

/**
 * The products under test, one team each. Adding a registry type = one entry here: start its
 * simulation over a storage view of its team, say how the console configures it, and list its tags
 * with the product's push times.
 */
const products: Record<string, (ctx: Context, team: string) => Promise<RegistryUnderTest>> = {
  /** CNCF distribution itself with htpasswd; no push times, so the image config's `created`. */
  async "2"(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const registry: RunningRegistry = await startRegistry({
      storageDir: view.dir,
      readOnly: true,
      auth: { kind: "htpasswd", users: { scanner: "v2-password" } },
    });
    const tags: ProductTag[] = [];
    for (const name of names) {
      const seeded = ctx.seed.repositories.find((r) => r.name === name);
      for (const tag of seeded?.tags ?? []) {
        const image = await readLayoutImage(ctx.layout, `${name}--${tag}`);
        tags.push({ repository: name, tag, time: Date.parse(String(image.config.created)) });
      }
    }
    return {
      version: "2",
      spec: { registry: registry.url, repository: `${team}/*` },
      credential: { type: "basic", accountID: "scanner", secret: { plain: "v2-password" } },
      host: registry.host,
      tags,
      stop: () => registry.stop(),
    };
  },

  async harbor(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const sim = await startHarborSim({
      storageDir: view.dir,
      maxPageSize: 2,
      accounts: { robot$scanner: { password: "robot-secret", projects: { [team]: ["list", "pull"] } } },
    });
    return {
      version: "harbor",
      spec: { registry: sim.url, repository: `${team}/*` },
      credential: { type: "basic", accountID: "robot$scanner", secret: { plain: "robot-secret" } },
      host: sim.host,
      tags: sim.tags.map((t) => ({ repository: t.repository, tag: t.tag, time: t.pushedAt.getTime() })),
      stop: () => sim.stop(),
    };
  },

  async gitlab(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const sim = await startGitlabSim({
      storageDir: view.dir,
      groups: [team],
      users: ["alice"],
      projects: names.map((n) => ({ path: n })),
      maxPerPage: 2,
      tokens: {
        "glpat-console": {
          kind: "personal",
          username: "alice",
          scopes: ["read_api", "read_registry"],
          access: [team],
        },
      },
    });
    return {
      version: "gitlab",
      spec: {
        registry: sim.registryUrl,
        gitlabRegistrySpec: { groupIDs: [String(sim.groupId(team))], apiDomainName: sim.url },
      },
      credential: { type: "gitlabToken", accountID: "alice", apiToken: { plain: "glpat-console" } },
      host: sim.registryHost,
      tags: sim.tags.map((t) => ({
        repository: t.repository,
        tag: t.tag,
        time: t.createdAt?.getTime() ?? 0,
      })),
      stop: () => sim.stop(),
    };
  },

  /** Artifactory's repository-path method: images are `<repository key>/<image>`. */
  async jfrog(ctx, team) {
    const sim = await artifactoryOf(ctx, team);
    return {
      version: "jfrog",
      spec: { registry: sim.url, repository: `docker-local/${team}/*`, jfrogRepoTypes: ["local"] },
      credential: ARTIFACTORY_CREDENTIAL,
      host: sim.host,
      tags: sim.tags.map((t) => ({ repository: t.repository, tag: t.tag, time: t.pushedAt.getTime() })),
      stop: () => sim.stop(),
    };
  },

  /** Artifactory's port method: the key's own port serves it alone, images are `<image>`. */
  async "jfrog-ports"(ctx, team) {
    const sim = await artifactoryOf(ctx, team, { portKeys: ["docker-local"] });
    const portUrl = sim.portUrls["docker-local"] as string;
    return {
      version: "jfrog",
      spec: { registry: portUrl, repository: `${team}/*` },
      credential: ARTIFACTORY_CREDENTIAL,
      host: new URL(portUrl).host,
      tags: sim.tags.map((t) => ({
        repository: t.repository.slice("docker-local/".length),
        tag: t.tag,
        time: t.pushedAt.getTime(),
      })),
      stop: () => sim.stop(),
    };
  },

  /** Nexus through the docker repository's connector port. */
  async sonatype(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [`docker-hosted/${n}`, n])));
    const sim = await startNexusSim({
      storageDir: view.dir,
      repositories: [{ name: "docker-hosted", type: "hosted", connector: true }],
      accounts: { scanner: { password: "nexus-password" } },
      pageSize: 2,
      nullItems: true,
    });
    const connector = sim.connectors["docker-hosted"] as string;
    return {
      version: "sonatype",
      spec: { registry: connector, repository: `${team}/*` },
      credential: { type: "basic", accountID: "scanner", secret: { plain: "nexus-password" } },
      host: new URL(connector).host,
      tags: sim.tags.map((t) => ({ repository: t.image, tag: t.tag, time: t.pushedAt.getTime() })),
      stop: () => sim.stop(),
    };
  },

  /** IBM Cloud Container Registry: the mandatory namespace is the team; IAM on its own port. */
  async bluemix(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const account = "b1f2c3d4e5f60718293a4b5c6d7e8f90";
    const sim = await startBluemixSim({
      storageDir: view.dir,
      accounts: { [account]: { apiKeys: ["ibm-api-key-console"], namespaces: [team], readers: [team] } },
    });
    return {
      version: "bluemix",
      spec: { registry: sim.url, namespace: team },
      credential: { type: "ibmCloud", accountGUID: account, apiToken: { plain: "ibm-api-key-console" } },
      env: { SHIPSHAPE_IBMCLOUD_IAM_URL: sim.iamUrl },
      host: sim.host,
      tags: sim.images.map((i) => ({ repository: i.repository, tag: i.tag, time: i.created.getTime() })),
      stop: () => sim.stop(),
    };
  },

  /** Artifact Registry: one Docker repository of one project, listed through the REST API. */
  async gcr(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [`acme-console/containers/${n}`, n])));
    const key = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    const email = "scanner@acme-console.iam.gserviceaccount.com";
    const sim = await startGcrSim({
      storageDir: view.dir,
      projects: ["acme-console"],
      locations: ["us-central1"],
      serviceAccounts: { [email]: { publicKey: key.publicKey, projects: ["acme-console"] } },
      repositories: [
        { project: "acme-console", location: "us-central1", repository: "containers", servedHere: true },
      ],
      maxPageSize: 2,
    });
    const serviceAccountKey = {
      type: "service_account",
      project_id: "acme-console",
      private_key_id: "0123456789abcdef",
      private_key: key.privateKey,
      client_email: email,
      token_uri: sim.tokenUri,
    };
    return {
      version: "gcr",
      spec: { registry: sim.registryUrl, repository: `acme-console/containers/${team}/*` },
      credential: { type: "gcp", secret: { plain: JSON.stringify(serviceAccountKey) } },
      env: { SHIPSHAPE_ARTIFACTREGISTRY_URL: sim.apiUrl },
      host: sim.registryHost,
      tags: sim.images.map((i) => ({ repository: i.repository, tag: i.tag, time: i.uploadedAt.getTime() })),
      stop: () => sim.stop(),
    };
  },

  /** GitHub Container Registry: an organization's container packages through the GitHub REST API. */
  async ghcr(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [`octo-console/${n}`, n])));
    const token = "ghp_console000000000000000000000000000";
    const sim = await startGhcrSim({
      storageDir: view.dir,
      accounts: { "Octo-Console": "Organization", octocat: "User" },
      publicRepositories: [],
      tokens: { [token]: { login: "octocat", scopes: ["read:packages"], memberOf: ["Octo-Console"] } },
      maxPerPage: 2,
    });
    return {
      version: "ghcr",
      spec: { registry: sim.registryUrl, repository: `octo-console/${team}/*` },
      credential: { type: "githubToken", apiToken: { plain: token } },
      env: { SHIPSHAPE_GITHUB_API_URL: sim.apiUrl },
      host: new URL(sim.registryUrl).host,
      tags: sim.versions.flatMap((v) =>
        v.tags.map((tag) => ({ repository: v.repository, tag, time: v.createdAt.getTime() })),
      ),
      stop: () => sim.stop(),
    };
  },

  /** Mirantis Secure Registry / DTR 2.x: the /api/v0 repositories and tags, an access token. */
  async dtr(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const sim = await startDtrSim({
      storageDir: view.dir,
      maxPageSize: 2,
      accounts: { scanner: { password: "dtr-password", accessTokens: ["dtr-access-token"], reads: [team] } },
    });
    return {
      version: "dtr",
      spec: { registry: sim.url, repository: `${team}/*` },
      credential: { type: "dtr", accountID: "scanner", secret: { plain: "dtr-access-token" } },
      host: sim.host,
      tags: sim.tags.map((t) => ({ repository: t.repository, tag: t.tag, time: t.updatedAt.getTime() })),
      stop: () => sim.stop(),
    };
  },

  /** Amazon ECR: the ECR API and STS on their own ports; /v2/ admits Basic AWS:<token>. */
  async aws(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const sim = await startEcrSim({
      storageDir: view.dir,
      account: "123456789012",
      region: "eu-west-1",
      maxPageSize: 2,
      users: {
        AKIACONSOLE000000001: {
          name: "scanner",
          secretAccessKey: "console-secret-access-key",
          actions: ["ecr:GetAuthorizationToken", "ecr:DescribeRepositories", "ecr:DescribeImages"],
        },
      },
    });
    return {
      version: "aws",
      spec: { registry: sim.registryUrl, repository: `${team}/*` },
      credential: {
        type: "aws",
        accountID: "AKIACONSOLE000000001",
        secret: { plain: "console-secret-access-key" },
      },
      env: { SHIPSHAPE_AWS_ECR_URL: sim.apiUrl, SHIPSHAPE_AWS_STS_URL: sim.stsUrl, AWS_REGION: "eu-west-1" },
      host: sim.registryHost,
      tags: sim.images.flatMap((i) =>
        i.tags.map((tag) => ({ repository: i.repository, tag, time: i.pushedAt.getTime() })),
      ),
      stop: () => sim.stop(),
    };
  },

  /** Azure Container Registry over HTTPS (private CA in caCert): a service principal, Entra ID simulated. */
  async azure(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const certs = await generateRegistryCertificates();
    const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const client = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    const secret = "sp~console.0123456789";
    const sim = await startAcrSim({
      storageDir: view.dir,
      tls: { cert: certs.cert, key: certs.key },
      tenants: {
        [tenant]: {
          [client]: { secret, grants: { catalog: true, repositories: { "*": ["pull", "metadata_read"] } } },
        },
      },
      basicUsers: {},
      maxPageSize: 2,
    });
    const servicePrincipal = {
      clientId: client,
      clientSecret: secret,
      tenantId: tenant,
      subscriptionId: "sub-1",
    };
    return {
      version: "azure",
      spec: { registry: sim.host, repository: `${team}/*`, caCert: certs.caCert },
      credential: { type: "azure", secret: { plain: JSON.stringify(servicePrincipal) } },
      env: { SHIPSHAPE_AZURE_AUTHORITY_HOST: sim.authorityHost },
      host: sim.host,
      tags: sim.tags.map((t) => ({ repository: t.repository, tag: t.tag, time: t.lastUpdateTime.getTime() })),
      stop: () => sim.stop(),
    };
  },

  /** Quay: an OAuth application token lists the namespace and its tags through /api/v1. */
  async coreos(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const sim = await startQuaySim({
      storageDir: view.dir,
      repositoryPage: 2,
      accounts: { "quay-user": { password: "quay-password", namespaces: [team] } },
      oauthTokens: { "quay-oauth-console": { account: "quay-user", scopes: ["repo:read"] } },
    });
    return {
      version: "coreos",
      spec: { registry: sim.url, repository: `${team}/*` },
      credential: { type: "apiToken", apiToken: { plain: "quay-oauth-console" } },
      host: sim.host,
      tags: sim.tags.map((t) => ({ repository: t.repository, tag: t.tag, time: t.startTs * 1000 })),
      stop: () => sim.stop(),
    };
  },

  /** OpenShift: image streams of one project on the API server; the service-account token is the password. */
  async redhat(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const sim = await startOpenShiftSim({
      storageDir: view.dir,
      maxPageItems: 2,
      tokens: { "sa-token-console": { user: `system:serviceaccount:${team}:scanner`, list: [team] } },
    });
    return {
      version: "redhat",
      spec: { registry: sim.registryUrl, namespace: team },
      credential: { type: "basic", accountID: "scanner", secret: { plain: "sa-token-console" } },
      env: { SHIPSHAPE_OPENSHIFT_API_URL: sim.apiUrl },
      host: sim.registryHost,
      tags: sim.tags.map((t) => ({ repository: t.repository, tag: t.tag, time: t.pushedAt.getTime() })),
      stop: () => sim.stop(),
    };
  },

  /** Docker Hub (type 2, registry ""): the team's private namespace through the Hub API, with a PAT. */
  async dockerhub(ctx, team) {
    const names = teamRepositories(ctx, team);
    const view = await ctx.view(Object.fromEntries(names.map((n) => [n, n])));
    const sim = await startDockerHubSim({
      storageDir: view.dir,
      accounts: { scanner: { secret: "dckr_pat_console", namespaces: [team] } },
      privateRepositories: names,
      maxPageSize: 2,
    });
    return {
      version: "2",
      spec: { registry: "", repository: `${team}/*` },
      credential: { type: "basic", accountID: "scanner", secret: { plain: "dckr_pat_console" } },
      env: { SHIPSHAPE_DOCKERHUB_API_URL: sim.apiUrl, SHIPSHAPE_DOCKERHUB_REGISTRY_URL: sim.registryUrl },
      host: "docker.io",
      tags: sim.tags.map((t) => ({
        repository: t.repository,
        tag: t.tag,
        time: (t.pushedAt ?? t.updatedAt).getTime(),
      })),
      stop: () => sim.stop(),
    };
  },
};

let tmp: string;
let databasePath: string;
let server: RunningConsole;
const running = new Map<string, RegistryUnderTest>();
const views: StorageView[] = [];

before(
  async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-console-registries-"));
    const [storageDir, database, seed, layout] = await Promise.all([
      ensureSeededStorage(),
      sharedMirrorDatabase(),
      seedContents(),
      ensureTestbedLayout(),
    ]);
    databasePath = database;
    const ctx: Context = {
      storageDir,
      seed,
      layout,
      async view(names) {
        const view = await createStorageView(storageDir, names);
        views.push(view);
        return view;
      },
    };
    let teamNumber = 0;
    for (const [type, start] of Object.entries(products)) {
      const team = `team-${String(++teamNumber).padStart(2, "0")}`;
      running.set(type, await start(ctx, team));
    }
    const env = Object.assign({}, ...[...running.values()].map((r) => r.env ?? {}));
    server = await startConsole({ dataDir: path.join(tmp, "console"), prebuiltDatabase: databasePath, env });
  },
  { timeout: 20 * 60_000 },
);

after(async () => {
  await server?.kill().catch(() => {});
  for (const r of running.values()) await r.stop().catch(() => {});
  for (const v of views) await v.remove();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are checked field by field
async function ok(method: string, url: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { authorization: ADMIN };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    dispatcher: server.dispatcher,
  });
  const text = await res.text();
  assert.equal(res.status, 200, `${method} ${url}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** `host/repository:tag` of the CAP newest tags per repository by push time; ties by tag, descending. */
function newest(host: string, tags: ProductTag[]): string[] {
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

test("a regular scan across one registry of every type finds each product's newest tags", {
  timeout: 15 * 60_000,
}, async () => {
  await ok("POST", "/api/v1/settings/scan", { registryScanPeriodMs: 0 });
  for (const [type, registry] of running) {
    let credentialID: string | undefined;
    if (registry.credential) {
      credentialID = `${type}-credential`;
      await ok("POST", "/api/v1/credentials", { _id: credentialID, ...registry.credential });
    }
    await ok("POST", "/api/v1/settings/registry?scanLater=true", {
      version: registry.version,
      ...registry.spec,
      cap: CAP,
      scanners: 2,
      os: "linux",
      ...(credentialID ? { credentialID } : {}),
    });
  }
  await ok("POST", "/api/v1/registry/scan");
  const deadline = Date.now() + 12 * 60_000;
  // biome-ignore lint/suspicious/noExplicitAny: the status answer is checked field by field
  let status: any;
  do {
    await sleep(250);
    status = await ok("GET", "/api/v1/statuses/registry");
  } while (status.scanning && Date.now() < deadline);
  assert.equal(status.scanning, false, "the scan ended");
  assert.deepEqual(status.errors, []);

  const answer = (await ok("GET", "/api/v1/registry?limit=250")) as {
    _id: string;
    err: string;
    repoTag: { registry: string };
    packages: unknown[] | null;
  }[];
  const specs = (await ok("GET", "/api/v1/settings/registry")).specifications as {
    version: string;
    registry: string;
    lastScanStatus: string;
    scannedImagesSuccessTotal?: number;
  }[];
  for (const [type, registry] of running) {
    const expected = newest(registry.host, registry.tags);
    assert.equal(expected.length, REPOSITORIES_PER_TEAM * CAP, `${type}: the product lists every tag`);
    assert.ok(registry.tags.length >= REPOSITORIES_PER_TEAM * TAGS_PER_REPOSITORY, type);
    const found = answer.filter((r) => r.repoTag.registry === registry.host);
    assert.deepEqual(found.map((r) => r._id).sort(), expected, `${type}: the newest tags by push time`);
    for (const r of found) {
      assert.equal(r.err, "", r._id);
      assert.ok(Array.isArray(r.packages) && r.packages.length > 0, `${r._id} has packages`);
    }
    const spec = specs.find((s) => s.version === registry.version && s.registry === registry.spec.registry);
    assert.equal(spec?.lastScanStatus, "completed", type);
    assert.equal(spec?.scannedImagesSuccessTotal, REPOSITORIES_PER_TEAM * CAP, type);
  }
  assert.equal(
    answer.length,
    running.size * REPOSITORIES_PER_TEAM * CAP,
    "no result outside these registries",
  );
});
