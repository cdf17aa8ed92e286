/**
 * `shipshape console` start and stop as an operator meets them: the first start prints a generated
 * admin password once (and it works), answers while it builds the vulnerability database, and a
 * SIGTERM during that build exits cleanly and promptly without leaving a half-built database; the
 * next start reuses the data directory (same certificate, same users, no new password printed).
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fetch } from "undici";
import { consoleDatabaseFile, startConsole } from "./harness/console.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

test("first start: generated admin password, SIGTERM during the database build, restart", {
  timeout: 5 * 60_000,
}, async () => {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "shipshape-console-lifecycle-"));
  dirs.push(dataDir);
  const first = await startConsole({ dataDir, env: { SHIPSHAPE_ADMIN_PASSWORD: "" } });
  const printed = /Created user admin with password: (\S+)/.exec(first.output());
  assert.ok(printed?.[1], `the generated password is printed:\n${first.output()}`);
  const password = printed[1];
  const basic = `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
  const intelligence = await fetch(`${first.url}/api/v1/statuses/intelligence`, {
    dispatcher: first.dispatcher,
    headers: { authorization: basic },
  });
  assert.equal(intelligence.status, 200, "the generated password logs in");
  const state = (await intelligence.json()) as { available: boolean };
  assert.equal(state.available, false, "the database is still being built");
  const certificate = first.cert;

  const stopAsked = Date.now();
  const code = await first.stop();
  assert.equal(code, 0, `a stop during the build exits 0:\n${first.output().slice(-2000)}`);
  assert.ok(Date.now() - stopAsked < 20_000, "and promptly");
  await assert.rejects(fs.stat(consoleDatabaseFile(dataDir)), "no half-built database is left in place");

  const second = await startConsole({ dataDir, env: { SHIPSHAPE_ADMIN_PASSWORD: "" } });
  try {
    assert.doesNotMatch(second.output(), /Created user admin/, "the password is printed once only");
    assert.equal(second.cert, certificate, "the certificate generated at first start is kept");
    const version = await fetch(`${second.url}/api/v1/version`, {
      dispatcher: second.dispatcher,
      headers: { authorization: basic },
    });
    assert.equal(version.status, 200, "the first start's admin still logs in");
  } finally {
    assert.equal(await second.stop(), 0);
  }
});
