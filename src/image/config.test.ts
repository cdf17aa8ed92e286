import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type HistoryEntry,
  InvalidConfigError,
  layerHistory,
  parseImageConfig,
  plausibleDate,
} from "./config.js";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

/** node-app:1.0's config, byte-exact from the testbed layout (four layers, no empty ones). */
const TESTBED_CONFIG =
  '{"architecture": "amd64", "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}, "created": "2026-10-01T00:00:00Z", "history": [{"created": "2026-10-01T00:00:00Z", "created_by": "debootstrap --variant=minbase bookworm"}, {"created": "2026-10-01T00:00:00Z", "created_by": "COPY node-v14.15.0-linux-x64 /usr/local"}, {"created": "2026-10-01T00:00:00Z", "created_by": "COPY app /app (npm install)"}, {"created": "2026-10-01T00:00:00Z", "created_by": "RUN rm -rf /app/node_modules/tree-kill"}], "os": "linux", "rootfs": {"diff_ids": ["sha256:b57b289dc54e6f466a8cf0499eb5bd66699292c5bc2ae4a773bea4ca5b24ec69", "sha256:002a0d971343be2bf1fa1f926c18e710a0e58d6738dbd9c41b0b8c6cf917a9d5", "sha256:5b260c217d7a10518826658ae7cc9363d3de309b60c0bbcd136f47623f392095", "sha256:873e2322b78670102605b524200daad799cd4045417c4673b4e1e3fd9dbdaa30"], "type": "layers"}}';

/** What `docker build` writes: ENV/CMD/LABEL lines are empty_layer entries between real ones. */
const DOCKER_BUILD_CONFIG = {
  architecture: "arm64",
  variant: "v8",
  os: "linux",
  created: "2024-03-05T14:22:31.123456789Z",
  config: { Env: ["PATH=/usr/bin"], Cmd: ["node", "server.js"] },
  rootfs: { type: "layers", diff_ids: ["sha256:aaa1", "sha256:bbb2", "sha256:ccc3"] },
  history: [
    { created: "2024-02-13T00:37:10Z", created_by: "/bin/sh -c #(nop) ADD file:4b1be1de1a1e in / " },
    { created: "2024-02-13T00:37:11Z", created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true },
    {
      created: "2024-03-05T14:22:29Z",
      created_by: "ENV NODE_VERSION=20.11.1",
      comment: "buildkit.dockerfile.v0",
      empty_layer: true,
    },
    {
      created: "2024-03-05T14:22:30Z",
      created_by: "RUN /bin/sh -c apt-get update # buildkit",
      comment: "buildkit.dockerfile.v0",
    },
    {
      created: "2024-03-05T14:22:30Z",
      created_by: "WORKDIR /app",
      comment: "buildkit.dockerfile.v0",
      empty_layer: false,
    },
    { created: "2024-03-05T14:22:31Z", created_by: 'CMD ["node","server.js"]', empty_layer: true },
  ],
};

describe("parseImageConfig", () => {
  test("testbed config: platform, created, history and diff_ids", () => {
    const c = parseImageConfig(enc(TESTBED_CONFIG));
    assert.equal(c.os, "linux");
    assert.equal(c.architecture, "amd64");
    assert.equal(c.variant, undefined);
    assert.equal(c.created, "2026-10-01T00:00:00Z");
    assert.equal(c.createdAt?.toISOString(), "2026-10-01T00:00:00.000Z");
    assert.equal(c.diffIds.length, 4);
    assert.equal(c.diffIds[0], "sha256:b57b289dc54e6f466a8cf0499eb5bd66699292c5bc2ae4a773bea4ca5b24ec69");
    assert.deepEqual(
      c.history.map((h) => [h.createdBy, h.emptyLayer]),
      [
        ["debootstrap --variant=minbase bookworm", false],
        ["COPY node-v14.15.0-linux-x64 /usr/local", false],
        ["COPY app /app (npm install)", false],
        ["RUN rm -rf /app/node_modules/tree-kill", false],
      ],
    );
  });

  test("docker build config: variant, nanosecond created, comments, empty_layer", () => {
    const c = parseImageConfig(enc(DOCKER_BUILD_CONFIG));
    assert.equal(c.variant, "v8");
    assert.equal(c.created, "2024-03-05T14:22:31.123456789Z");
    assert.equal(c.createdAt?.toISOString(), "2024-03-05T14:22:31.123Z");
    assert.deepEqual(
      c.history.map((h) => h.emptyLayer),
      [false, true, true, false, false, true],
    );
    assert.equal(c.history[2]?.comment, "buildkit.dockerfile.v0");
    assert.equal(c.history[0]?.comment, undefined);
    assert.equal(c.history[1]?.created, "2024-02-13T00:37:11Z");
    assert.deepEqual(c.diffIds, ["sha256:aaa1", "sha256:bbb2", "sha256:ccc3"]);
  });

  test("a minimal object gives empty defaults", () => {
    assert.deepEqual(parseImageConfig(enc("{}")), {
      created: undefined,
      createdAt: undefined,
      os: "",
      architecture: "",
      variant: undefined,
      history: [],
      diffIds: [],
      run: { entrypoint: [], cmd: [], user: "", workingDir: "", labels: {}, healthcheck: false },
    });
  });

  test("testbed config: no container defaults but Env, which is not read", () => {
    const c = parseImageConfig(enc(TESTBED_CONFIG));
    assert.deepEqual(c.run, {
      entrypoint: [],
      cmd: [],
      user: "",
      workingDir: "",
      labels: {},
      healthcheck: false,
    });
    assert.equal(JSON.stringify(c).includes("PATH="), false);
  });

  /** The `config` object as `docker build` writes it for a typical service image. */
  const SERVICE = {
    User: "app:app",
    ExposedPorts: { "8080/tcp": {} },
    Env: ["PATH=/usr/bin", "DATABASE_PASSWORD=hunter2"],
    Entrypoint: ["/usr/bin/tini", "--"],
    Cmd: ["node", "server.js"],
    WorkingDir: "/srv/app",
    Labels: { "org.opencontainers.image.source": "https://example.test/app", maintainer: "ops" },
    Healthcheck: { Test: ["CMD-SHELL", "wget -q -O- http://127.0.0.1:8080/health"], Interval: 30000000000 },
  };
  const runRows: [
    name: string,
    config: unknown,
    want: Partial<ReturnType<typeof parseImageConfig>["run"]>,
  ][] = [
    [
      "a service image",
      SERVICE,
      {
        entrypoint: ["/usr/bin/tini", "--"],
        cmd: ["node", "server.js"],
        user: "app:app",
        workingDir: "/srv/app",
        labels: { "org.opencontainers.image.source": "https://example.test/app", maintainer: "ops" },
        healthcheck: true,
      },
    ],
    ["config null", null, {}],
    ["config a string", "Cmd", {}],
    ["Entrypoint and Cmd null (reset)", { Entrypoint: null, Cmd: null }, {}],
    ["a lone string is a one-element list (Docker's strslice)", { Cmd: "bash" }, { cmd: ["bash"] }],
    ["non-string list items dropped", { Entrypoint: ["sh", 1, null, "-c"] }, { entrypoint: ["sh", "-c"] }],
    ["non-string labels dropped", { Labels: { a: "1", b: 2, c: null } }, { labels: { a: "1" } }],
    ["Labels null", { Labels: null }, {}],
    ["User a number", { User: 1000 }, {}],
    ["HEALTHCHECK CMD", { Healthcheck: { Test: ["CMD", "/probe"] } }, { healthcheck: true }],
    ["HEALTHCHECK NONE (disabled)", { Healthcheck: { Test: ["NONE"] } }, { healthcheck: false }],
    ["HEALTHCHECK with an empty Test (inherited)", { Healthcheck: { Test: [] } }, { healthcheck: false }],
    ["Healthcheck null", { Healthcheck: null }, { healthcheck: false }],
  ];
  const noDefaults = { entrypoint: [], cmd: [], user: "", workingDir: "", labels: {}, healthcheck: false };
  for (const [name, config, want] of runRows) {
    test(`container defaults: ${name}`, () => {
      const c = parseImageConfig(enc({ config }));
      assert.deepEqual(c.run, { ...noDefaults, ...want });
      assert.equal(JSON.stringify(c).includes("hunter2"), false, "Env values are not kept");
    });
  }

  const lenient: [name: string, body: unknown, check: (c: ReturnType<typeof parseImageConfig>) => void][] = [
    ["rootfs null", { rootfs: null }, (c) => assert.deepEqual(c.diffIds, [])],
    ["rootfs a string", { rootfs: "layers" }, (c) => assert.deepEqual(c.diffIds, [])],
    ["diff_ids not an array", { rootfs: { diff_ids: "sha256:x" } }, (c) => assert.deepEqual(c.diffIds, [])],
    [
      "non-string diff_ids dropped",
      { rootfs: { diff_ids: ["sha256:a", 3, null, "sha256:b"] } },
      (c) => assert.deepEqual(c.diffIds, ["sha256:a", "sha256:b"]),
    ],
    ["history not an array", { history: { created_by: "x" } }, (c) => assert.deepEqual(c.history, [])],
    [
      "history null entries dropped",
      { history: [null, { created_by: "x" }, 5, "y"] },
      (c) =>
        assert.deepEqual(
          c.history.map((h) => h.createdBy),
          ["x"],
        ),
    ],
    [
      "non-string history fields become undefined",
      { history: [{ created: 1, created_by: ["x"], comment: {}, empty_layer: "true" }] },
      (c) =>
        assert.deepEqual(c.history, [
          { created: undefined, createdBy: undefined, comment: undefined, emptyLayer: false },
        ]),
    ],
    [
      "os/architecture not strings",
      { os: 1, architecture: null },
      (c) => assert.deepEqual([c.os, c.architecture], ["", ""]),
    ],
    [
      "created not a string",
      { created: 1_700_000_000 },
      (c) => assert.deepEqual([c.created, c.createdAt], [undefined, undefined]),
    ],
  ];
  for (const [name, body, check] of lenient) {
    test(`tolerates ${name}`, () => check(parseImageConfig(enc(body))));
  }

  const invalid: [name: string, bytes: Uint8Array][] = [
    ["empty", enc("")],
    ["truncated", enc(TESTBED_CONFIG.slice(0, 50))],
    ["not JSON", enc("created: 2024")],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])],
    ["null", enc("null")],
    ["array", enc("[{}]")],
    ["string", enc('"config"')],
    ["number", enc("7")],
    ["boolean", enc("true")],
  ];
  for (const [name, bytes] of invalid) {
    test(`rejects ${name} with InvalidConfigError`, () => {
      assert.throws(() => parseImageConfig(bytes), InvalidConfigError);
    });
  }

  test("schema 1 v1Compatibility JSON (as the client feeds it) parses", () => {
    const c = parseImageConfig(
      enc(
        '{"architecture":"amd64","os":"linux","created":"2016-07-01T19:39:27.532838486Z","id":"c54a2cc56cbb"}',
      ),
    );
    assert.equal(c.architecture, "amd64");
    assert.equal(c.createdAt?.toISOString(), "2016-07-01T19:39:27.532Z");
  });
});

describe("created → createdAt (plausibleDate)", () => {
  const cases: [created: string | undefined, want: string | undefined][] = [
    [undefined, undefined],
    ["", undefined],
    ["2026-10-01T00:00:00Z", "2026-10-01T00:00:00.000Z"],
    ["2024-03-05T14:22:31.123456789Z", "2024-03-05T14:22:31.123Z"],
    ["2024-03-05T16:22:31+02:00", "2024-03-05T14:22:31.000Z"],
    ["2024-03-05T09:22:31.5-05:00", "2024-03-05T14:22:31.500Z"],
    ["2024-03-05t14:22:31z", "2024-03-05T14:22:31.000Z"], // RFC 3339 allows lower-case t and z
    ["2024-03-05 14:22:31Z", "2024-03-05T14:22:31.000Z"], // RFC 3339 §5.6 allows a space
    ["2000-01-01T00:00:00Z", "2000-01-01T00:00:00.000Z"], // the first plausible instant
    // reproducible builds pin the epoch or the zero time: unknown, not "oldest"
    ["1970-01-01T00:00:00Z", undefined],
    ["1970-01-01T00:00:01Z", undefined],
    ["1980-01-01T00:00:00Z", undefined], // Nix/Bazel zip epoch
    ["0001-01-01T00:00:00Z", undefined], // Go's zero time.Time
    ["1999-12-31T23:59:59Z", undefined],
    ["1999-12-31T23:59:59.999Z", undefined],
    ["2000-01-01T01:00:00+02:00", undefined], // 1999-12-31T23:00Z
    // unparseable
    ["yesterday", undefined],
    ["not a date", undefined],
    ["2024-13-45T00:00:00Z", undefined],
    // Date.parse would read these lenient strings as real instants
    ["hello 2024", undefined],
    ["built in 2030", undefined],
    ["2024", undefined],
    ["1714557600", undefined],
  ];
  for (const [created, want] of cases) {
    test(`${JSON.stringify(created)} → ${want ?? "undefined"}`, () => {
      assert.equal(plausibleDate(created)?.toISOString(), want);
      const c = parseImageConfig(enc(created === undefined ? {} : { created }));
      assert.equal(c.createdAt?.toISOString(), want);
      assert.equal(c.created, created, "the raw string is kept as written");
    });
  }

  test("a date without a zone is read as UTC, whatever the local time zone", () => {
    assert.equal(plausibleDate("2024-03-05T14:22:31")?.toISOString(), "2024-03-05T14:22:31.000Z");
  });
});

describe("layerHistory", () => {
  const h = (createdBy: string, emptyLayer = false): HistoryEntry => ({ createdBy, emptyLayer });
  const config = (history: HistoryEntry[], diffIds: string[]) =>
    ({ os: "linux", architecture: "amd64", history, diffIds }) as Parameters<typeof layerHistory>[0];

  test("docker build config: empty_layer lines are skipped so each layer gets its own command", () => {
    const c = parseImageConfig(enc(DOCKER_BUILD_CONFIG));
    assert.deepEqual(
      layerHistory(c).map((e) => e?.createdBy),
      [
        "/bin/sh -c #(nop) ADD file:4b1be1de1a1e in / ",
        "RUN /bin/sh -c apt-get update # buildkit",
        "WORKDIR /app",
      ],
    );
  });

  test("testbed config: one history line per layer", () => {
    const c = parseImageConfig(enc(TESTBED_CONFIG));
    const lh = layerHistory(c);
    assert.equal(lh.length, 4);
    assert.equal(lh[3]?.createdBy, "RUN rm -rf /app/node_modules/tree-kill");
  });

  const cases: [name: string, history: HistoryEntry[], diffIds: string[], want: (string | undefined)[]][] = [
    ["no history at all", [], ["l1", "l2"], [undefined, undefined]],
    ["no layers", [h("ENV A=1", true)], [], []],
    [
      "empty lines first and last",
      [h("ENV", true), h("A"), h("B"), h("CMD", true)],
      ["l1", "l2"],
      ["A", "B"],
    ],
    [
      "consecutive empty lines",
      [h("A"), h("E1", true), h("E2", true), h("E3", true), h("B")],
      ["l1", "l2"],
      ["A", "B"],
    ],
    ["fewer history lines than layers (squashed)", [h("A")], ["l1", "l2", "l3"], ["A", undefined, undefined]],
    ["more non-empty lines than layers", [h("A"), h("B"), h("C")], ["l1"], ["A"]],
    ["only empty lines", [h("E1", true), h("E2", true)], ["l1"], [undefined]],
  ];
  for (const [name, history, diffIds, want] of cases) {
    test(name, () => {
      const got = layerHistory(config(history, diffIds));
      assert.equal(got.length, diffIds.length, "index-aligned with diffIds");
      assert.deepEqual(
        got.map((e) => e?.createdBy),
        want,
      );
    });
  }
});
