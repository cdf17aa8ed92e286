import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { ConfigError, resolveConfig } from "./config.js";

test("flag > environment > config file > default", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shipshape-config-"));
  try {
    const yaml = path.join(dir, "console.yaml");
    fs.writeFileSync(
      yaml,
      "port: 9001\nhost: 127.0.0.1\nparallelSpecs: 3\nsources:\n  nvd: /feeds/nvd\npathPrefix: /tenant\n",
    );
    const json = path.join(dir, "console.json");
    fs.writeFileSync(json, JSON.stringify({ http: true, dataDir: dir }));
    const env = { HOME: dir };
    const defaults = resolveConfig({}, env);
    assert.equal(defaults.port, 8083);
    assert.equal(defaults.host, "0.0.0.0");
    assert.equal(defaults.http, false);
    assert.equal(defaults.parallelSpecs, 1);
    assert.equal(defaults.dataDir, path.join(dir, ".local", "share", "shipshape", "console"));
    const fromFile = resolveConfig({ config: yaml }, env);
    assert.deepEqual(
      [fromFile.port, fromFile.host, fromFile.parallelSpecs, fromFile.sources, fromFile.pathPrefix],
      [9001, "127.0.0.1", 3, ["nvd=/feeds/nvd"], "/tenant"],
    );
    const fromEnv = resolveConfig(
      {},
      { ...env, SHIPSHAPE_CONFIG: yaml, SHIPSHAPE_PORT: "9002", SHIPSHAPE_SOURCES: "a=1,b=2" },
    );
    assert.equal(fromEnv.port, 9002);
    assert.equal(fromEnv.host, "127.0.0.1");
    assert.deepEqual(fromEnv.sources, ["a=1", "b=2"]);
    const fromFlag = resolveConfig(
      { config: yaml, port: "9003", source: ["c=3"] },
      { ...env, SHIPSHAPE_PORT: "9002" },
    );
    assert.equal(fromFlag.port, 9003);
    assert.deepEqual(fromFlag.sources, ["c=3"]);
    const jsonConfig = resolveConfig({}, { ...env, SHIPSHAPE_CONFIG: json });
    assert.equal(jsonConfig.http, true);
    assert.equal(jsonConfig.dataDir, dir);
    assert.equal(resolveConfig({ config: json }, { ...env, SHIPSHAPE_HTTP: "false" }).http, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("bad values stop the start with a message", () => {
  const cases: [Parameters<typeof resolveConfig>[0], Record<string, string>, RegExp][] = [
    [{ port: "http" }, {}, /--port must be an integer/],
    [{}, { SHIPSHAPE_PORT: "70000" }, /SHIPSHAPE_PORT must be an integer from 0 to 65535/],
    [{ parallelSpecs: "0" }, {}, /--parallel-specs/],
    [{}, { SHIPSHAPE_HTTP: "sometimes" }, /SHIPSHAPE_HTTP must be true or false/],
    [{ tlsCert: "a.pem" }, {}, /go together/],
    [{ http: true, tlsCert: "a", tlsKey: "b" }, {}, /exclude each other/],
    [{ pathPrefix: "/a b" }, {}, /path prefix/],
    [{ config: "/nonexistent/shipshape.yaml" }, {}, /config file/],
  ];
  for (const [flags, env, message] of cases)
    assert.throws(
      () => resolveConfig(flags, env),
      (e: Error) => e instanceof ConfigError && message.test(e.message),
    );
});

test("the GET /registry rate limit: off by default, REQUESTS/WINDOW from flag, environment or file", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shipshape-config-"));
  try {
    const yaml = path.join(dir, "console.yaml");
    fs.writeFileSync(yaml, "registryRateLimit: 100/1m\n");
    const env = { HOME: dir };
    assert.equal(resolveConfig({}, env).registryRateLimit, undefined);
    assert.deepEqual(resolveConfig({ config: yaml }, env).registryRateLimit, { max: 100, windowMs: 60_000 });
    assert.deepEqual(
      resolveConfig({ config: yaml }, { ...env, SHIPSHAPE_REGISTRY_RATE_LIMIT: "30/30s" }).registryRateLimit,
      { max: 30, windowMs: 30_000 },
    );
    assert.equal(resolveConfig({ config: yaml, registryRateLimit: "off" }, env).registryRateLimit, undefined);
    for (const [text, limit] of [
      ["5/500ms", { max: 5, windowMs: 500 }],
      ["10/s", { max: 10, windowMs: 1000 }],
      ["10/2", { max: 10, windowMs: 2000 }],
      [" 1 / 1h ", { max: 1, windowMs: 3_600_000 }],
    ] as const) {
      assert.deepEqual(resolveConfig({ registryRateLimit: text }, env).registryRateLimit, limit, text);
    }
    for (const text of ["30", "30/", "0/30s", "30/0s", "30/2d", "x/30s", "30/25h"]) {
      assert.throws(
        () => resolveConfig({ registryRateLimit: text }, env),
        (e: Error) =>
          e instanceof ConfigError && /--registry-rate-limit must be REQUESTS\/WINDOW/.test(e.message),
        text,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
