/** `shipshape registry ls` as a user runs it: a child process against real registries. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { repoRoot } from "./harness/paths.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage, type SeedContents, seedContents } from "./harness/seed.js";
import { type RunningTokenServer, startTokenServer } from "./harness/token-server.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function shipshape(args: string[], stdin = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(repoRoot, "src/cli/entry.ts"), ...args],
      {
        cwd: repoRoot,
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

let storageDir: string;
let seed: SeedContents;
before(
  async () => {
    storageDir = await ensureSeededStorage();
    seed = await seedContents();
  },
  { timeout: 20 * 60_000 },
);

describe("shipshape registry ls", { timeout: 120_000 }, () => {
  let open: RunningRegistry;
  let basic: RunningRegistry;
  let tokens: RunningTokenServer;
  let tokenAuth: RunningRegistry;
  before(async () => {
    open = await startRegistry({ storageDir, readOnly: true });
    basic = await startRegistry({
      storageDir,
      readOnly: true,
      auth: { kind: "htpasswd", users: { ci: "ci-pass" } },
    });
    tokens = await startTokenServer({
      users: { puller: "puller-pass" },
      grant: (user, scope) => (user && scope.type === "repository" ? scope.actions : []),
    });
    tokenAuth = await startRegistry({ storageDir, readOnly: true, auth: { kind: "token", ...tokens } });
  });
  after(async () => {
    await Promise.all([open.stop(), basic.stop(), tokenAuth.stop()]);
    await tokens.stop();
  });

  test("lists every repository and tag as a table, with a summary on stderr", async () => {
    const run = await shipshape(["registry", "ls", open.host, "--insecure", "--page-size", "10"]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^REPOSITORY\s+TAG$/);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    const expected = seed.repositories.flatMap((r) => r.tags.map((t) => [r.name, t]));
    assert.deepEqual(rows, expected);
    assert.match(run.stderr, new RegExp(`${seed.repositories.length} repositories, ${expected.length} tags`));
  });

  test("--repo with --digests and --format json gives each tag's manifest digest", async () => {
    const run = await shipshape([
      "registry",
      "ls",
      `http://${open.host}`,
      "--insecure",
      "--repo",
      "alpine-multi",
      "node-app",
      "--digests",
      "--format",
      "json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const digestOf = (repository: string, tag: string) =>
      seed.images.find((i) => i.repository === repository && i.tag === tag)?.digest;
    assert.deepEqual(JSON.parse(run.stdout), [
      { repository: "alpine-multi", tags: [{ tag: "3.10.3", digest: digestOf("alpine-multi", "3.10.3") }] },
      { repository: "node-app", tags: [{ tag: "1.0", digest: digestOf("node-app", "1.0") }] },
    ]);
  });

  test("credentials: the password comes from stdin; a wrong one is a clear error", async () => {
    const ok = await shipshape(
      [
        "registry",
        "ls",
        basic.host,
        "--insecure",
        "--repo",
        "debian",
        "--username",
        "ci",
        "--password-stdin",
      ],
      "ci-pass\n",
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^debian\s+bookworm$/m);
    const bad = await shipshape(
      ["registry", "ls", basic.host, "--insecure", "--username", "ci", "--password-stdin"],
      "wrong\n",
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /shipshape: 127\.0\.0\.1:\d+: registry rejected the credentials of user "ci"/);
    const none = await shipshape(["registry", "ls", basic.host, "--insecure"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /requires authentication.*--username/);
  });

  test("a registry that will not show its catalog says to name repositories", async () => {
    const run = await shipshape(
      ["registry", "ls", tokenAuth.host, "--insecure", "--username", "puller", "--password-stdin"],
      "puller-pass",
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /does not offer its catalog to user "puller".*--repo/);
    const named = await shipshape(
      [
        "registry",
        "ls",
        tokenAuth.host,
        "--insecure",
        "--repo",
        "alpine",
        "--username",
        "puller",
        "--password-stdin",
      ],
      "puller-pass",
    );
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, /^alpine\s+3\.10\.3$/m);
  });

  test("wrong addresses and usage mistakes get clear messages and distinct exit codes", async () => {
    const refused = await shipshape(["registry", "ls", "127.0.0.1:9", "--insecure"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /127\.0\.0\.1:9: GET http:\/\/127\.0\.0\.1:9\/v2\/: connection refused/);
    const notRegistry = await shipshape(["registry", "ls", new URL(tokens.realm).host, "--insecure"]);
    assert.equal(notRegistry.code, 1);
    assert.match(notRegistry.stderr, /not a Docker\/OCI registry API/);
    const plain = await shipshape(["registry", "ls", `http://${open.host}`]);
    assert.equal(plain.code, 2);
    assert.match(plain.stderr, /needs --insecure/);
    const usage = await shipshape(["registry", "ls", open.host, "--page-size", "zero"]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--page-size must be a positive integer/);
    const noPassword = await shipshape(["registry", "ls", open.host, "--username", "x"]);
    assert.equal(noPassword.code, 2);
    assert.match(noPassword.stderr, /--password-stdin/);
  });
});
