import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { Agent, Client, request } from "undici";
import { type FaultProxy, rewriteLocation, startFaultProxy } from "./harness/fault-proxy.js";

const SIZE = 1024 * 1024;
// Non-periodic content so an off-by-N slice or a wrong Range offset cannot compare equal by luck.
const BLOB = Buffer.alloc(SIZE);
for (let i = 0, x = 0x2545f491; i < SIZE; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  BLOB[i] = x >>> 24;
}

let upstreamHits = 0;
let upstream: http.Server;
let upstreamUrl: string;

function serveUpstream(req: http.IncomingMessage, res: http.ServerResponse): void {
  upstreamHits++;
  const url = new URL(req.url ?? "/", "http://x");
  if (url.pathname === "/blob") {
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    const start = m ? Number(m[1]) : 0;
    const end = m?.[2] ? Number(m[2]) : SIZE - 1;
    const headers = { "content-type": "application/octet-stream", "content-length": String(end - start + 1) };
    if (m) res.writeHead(206, { ...headers, "content-range": `bytes ${start}-${end}/${SIZE}` });
    else res.writeHead(200, headers);
    // Several writes, so the proxy sees a body spread over many chunks.
    for (let off = start; off <= end; off += 64 * 1024)
      res.write(BLOB.subarray(off, Math.min(off + 64 * 1024, end + 1)));
    res.end();
  } else if (url.pathname === "/redirect") {
    res.writeHead(307, { location: `${upstreamUrl}/blob?from=redirect` }).end();
  } else if (url.pathname === "/redirect-relative") {
    res.writeHead(302, { location: "/blob" }).end();
  } else if (url.pathname === "/redirect-foreign") {
    res.writeHead(302, { location: "http://127.0.0.2:9/blob" }).end();
  } else if (url.pathname === "/echo") {
    // Reports what arrived upstream, including a digest of a (streamed) request body.
    const hash = createHash("sha256");
    let length = 0;
    req.on("data", (c: Buffer) => {
      length += c.length;
      hash.update(c);
    });
    req.on("end", () => {
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        length,
        sha256: hash.digest("hex"),
      });
      res.writeHead(200, {
        "content-type": "application/json",
        link: '</v2/_catalog?last=b&n=2>; rel="next"',
        "www-authenticate":
          'Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull"',
      });
      res.end(body);
    });
  } else {
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  }
}

/** Reads a body to the end or to its first error, keeping what arrived before the error. */
async function drain(
  body: AsyncIterable<Buffer>,
): Promise<{ data: Buffer; err?: Error & { code?: string } }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of body) chunks.push(c);
    return { data: Buffer.concat(chunks) };
  } catch (err) {
    return { data: Buffer.concat(chunks), err: err as Error };
  }
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("fault proxy", () => {
  let proxy: FaultProxy;
  let agent: Agent;

  before(async () => {
    upstream = http.createServer(serveUpstream);
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    proxy = await startFaultProxy(upstreamUrl);
  });
  after(async () => {
    await agent?.close();
    await proxy.stop();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });
  beforeEach(async () => {
    // A fresh client pool per test: a reset/stalled socket from one test must not bleed into the next.
    await agent?.close();
    agent = new Agent();
    proxy.reset();
    upstreamHits = 0;
  });
  const get = (path: string, opts: Parameters<typeof request>[1] = {}) =>
    request(`${proxy.url}${path}`, { dispatcher: agent, ...opts });

  describe("pass-through", () => {
    it("forwards method, path+query and headers, rewriting Host", async () => {
      const res = await get("/echo?a=1&b=%2F", { headers: { authorization: "Bearer t0k", "x-custom": "v" } });
      assert.equal(res.statusCode, 200);
      const seen = (await res.body.json()) as {
        method: string;
        url: string;
        headers: Record<string, string>;
      };
      assert.equal(seen.method, "GET");
      assert.equal(seen.url, "/echo?a=1&b=%2F");
      assert.equal(seen.headers.host, new URL(upstreamUrl).host);
      assert.equal(seen.headers.authorization, "Bearer t0k");
      assert.equal(seen.headers["x-custom"], "v");
      assert.equal(proxy.url, `http://${proxy.host}`);
    });

    it("passes Link and WWW-Authenticate back unchanged", async () => {
      const res = await get("/echo");
      await res.body.dump();
      assert.equal(res.headers.link, '</v2/_catalog?last=b&n=2>; rel="next"');
      assert.equal(
        res.headers["www-authenticate"],
        'Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull"',
      );
    });

    it("streams a large body in both directions", async () => {
      const upload = Buffer.concat(Array.from({ length: 6 }, () => BLOB)); // 6 MiB
      const put = await get("/echo", { method: "PUT", body: upload });
      const seen = (await put.body.json()) as { length: number; sha256: string };
      assert.deepEqual(
        { length: seen.length, sha256: seen.sha256 },
        { length: upload.length, sha256: sha(upload) },
      );

      const res = await get("/blob");
      assert.equal(res.headers["content-length"], String(SIZE));
      const { data, err } = await drain(res.body);
      assert.equal(err, undefined);
      assert.ok(data.equals(BLOB));
    });

    it("forwards Range and passes 206 + Content-Range back", async () => {
      const res = await get("/blob", { headers: { range: "bytes=1000-1999" } });
      assert.equal(res.statusCode, 206);
      assert.equal(res.headers["content-range"], `bytes 1000-1999/${SIZE}`);
      assert.ok((await drain(res.body)).data.equals(BLOB.subarray(1000, 2000)));
      assert.equal(proxy.hits.at(-1)?.rangeHeader, "bytes=1000-1999");
      assert.equal(proxy.hits.at(-1)?.status, 206);
    });

    it("rewrites upstream-origin Location to the proxy, leaves relative and foreign ones alone", async () => {
      const res = await get("/redirect");
      await res.body.dump();
      assert.equal(res.statusCode, 307);
      assert.equal(res.headers.location, `${proxy.url}/blob?from=redirect`);
      const rel = await get("/redirect-relative");
      await rel.body.dump();
      assert.equal(rel.headers.location, "/blob");
      const foreign = await get("/redirect-foreign");
      await foreign.body.dump();
      assert.equal(foreign.headers.location, "http://127.0.0.2:9/blob");
      // Default port and case normalise through URL.origin.
      assert.equal(
        rewriteLocation("HTTP://Example.com:80/x", "http://example.com", "http://p:1"),
        "http://p:1/x",
      );
    });

    it("keeps client connections alive across requests", async () => {
      const client = new Client(proxy.url);
      let connects = 0;
      client.on("connect", () => connects++);
      try {
        for (let i = 0; i < 3; i++) {
          const res = await client.request({ path: "/json", method: "GET" });
          await res.body.dump();
        }
        const blob = await client.request({ path: "/blob", method: "GET" });
        assert.equal((await drain(blob.body)).data.length, SIZE);
      } finally {
        await client.close();
      }
      assert.equal(connects, 1);
    });

    it("records hits", async () => {
      proxy.rules.push({ match: { path: "/json" }, times: 1, fault: { kind: "status", status: 500 } });
      const t0 = Date.now();
      await (await get("/json?x=1")).body.dump();
      await (await get("/json", { method: "HEAD" })).body.dump();
      assert.deepEqual(
        proxy.hits.map(({ at: _, ...h }) => h),
        [
          { method: "GET", path: "/json?x=1", faulted: "status", status: 500 },
          { method: "HEAD", path: "/json", faulted: null, status: 200 },
        ],
      );
      assert.ok(proxy.hits.every((h) => h.at >= t0 && h.at <= Date.now()));
    });

    it("answers 502 when the upstream is unreachable", async () => {
      const dead = await startFaultProxy("http://127.0.0.1:9"); // discard port: nothing listens
      try {
        const res = await request(`${dead.url}/x`, { dispatcher: agent });
        await res.body.dump();
        assert.equal(res.statusCode, 502);
        assert.equal(dead.hits[0]?.status, 502);
      } finally {
        await dead.stop();
      }
    });
  });

  describe("faults", () => {
    it("status: synthesises the response without contacting upstream", async () => {
      proxy.rules.push({
        match: { path: "/json" },
        fault: { kind: "status", status: 429, headers: { "Retry-After": "1" }, body: "slow down" },
      });
      const res = await get("/json");
      assert.equal(res.statusCode, 429);
      assert.equal(res.headers["retry-after"], "1");
      assert.equal(await res.body.text(), "slow down");
      assert.equal(upstreamHits, 0);
      assert.equal(proxy.hits[0]?.faulted, "status");
    });

    it("reset: the client sees a socket error before any response", async () => {
      proxy.rules.push({ match: { path: "/blob" }, fault: { kind: "reset" } });
      await assert.rejects(get("/blob"), { code: "ECONNRESET" });
      assert.equal(proxy.hits[0]?.status, undefined);
      assert.equal(upstreamHits, 0);
    });

    it("reset-after: exactly N body bytes arrive, then the connection is reset", async () => {
      proxy.rules.push({
        match: { path: "/blob" },
        times: 1,
        fault: { kind: "reset-after", bytes: 100_000 },
      });
      const res = await get("/blob");
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers["content-length"], String(SIZE));
      const { data, err } = await drain(res.body);
      // The proxy sends an RST, but libuv reports an RST that lands while data is still unread as EOF,
      // so undici usually says "other side closed" here rather than ECONNRESET.
      assert.match(err?.code ?? "", /^(ECONNRESET|UND_ERR_SOCKET)$/);
      assert.equal(data.length, 100_000);
      assert.ok(data.equals(BLOB.subarray(0, 100_000)));

      // What a resuming client does next: ask for the rest, which now passes through.
      const rest = await get("/blob", { headers: { range: `bytes=${data.length}-` } });
      assert.equal(rest.statusCode, 206);
      const tail = (await drain(rest.body)).data;
      assert.ok(Buffer.concat([data, tail]).equals(BLOB));
      assert.deepEqual(
        proxy.hits.map((h) => [h.faulted, h.rangeHeader]),
        [
          ["reset-after", undefined],
          [null, "bytes=100000-"],
        ],
      );
    });

    it("truncate: fewer bytes than Content-Length, then a clean EOF", async () => {
      proxy.rules.push({ match: { path: "/blob" }, fault: { kind: "truncate", bytes: 300_000 } });
      const res = await get("/blob");
      assert.equal(res.headers["content-length"], String(SIZE));
      const { data, err } = await drain(res.body);
      assert.ok(err, "premature EOF must surface as an error");
      assert.equal(data.length, 300_000);
      assert.ok(data.equals(BLOB.subarray(0, 300_000)));
    });

    it("truncate applies to a 206 body relative to its own start", async () => {
      proxy.rules.push({ match: { path: "/blob" }, fault: { kind: "truncate", bytes: 10 } });
      const res = await get("/blob", { headers: { range: "bytes=500-999" } });
      assert.equal(res.statusCode, 206);
      const { data, err } = await drain(res.body);
      assert.ok(err);
      assert.ok(data.equals(BLOB.subarray(500, 510)));
    });

    it("corrupt: flips exactly one byte, everything else faithful", async () => {
      proxy.rules.push({ match: { path: "/blob" }, fault: { kind: "corrupt", offset: 654_321 } });
      const res = await get("/blob");
      const { data, err } = await drain(res.body);
      assert.equal(err, undefined);
      assert.equal(data.length, SIZE);
      const diffs = [];
      for (let i = 0; i < SIZE; i++) if (data[i] !== BLOB[i]) diffs.push(i);
      assert.deepEqual(diffs, [654_321]);
      assert.equal(data[654_321], (BLOB[654_321] ?? 0) ^ 0xff);
    });

    it("delay: adds latency, then passes through", async () => {
      proxy.rules.push({ match: { path: "/json" }, fault: { kind: "delay", ms: 250 } });
      const t0 = performance.now();
      const res = await get("/json");
      assert.deepEqual(await res.body.json(), { ok: true });
      assert.ok(performance.now() - t0 >= 240);
    });

    it("stall with ms before headers: the response is late but intact", async () => {
      proxy.rules.push({ match: { path: "/json" }, fault: { kind: "stall", ms: 250 } });
      const t0 = performance.now();
      const res = await get("/json");
      assert.deepEqual(await res.body.json(), { ok: true });
      assert.ok(performance.now() - t0 >= 240);
    });

    it("stall with ms after N bytes: the body pauses mid-way, then completes", async () => {
      proxy.rules.push({ match: { path: "/blob" }, fault: { kind: "stall", ms: 300, afterBytes: 5000 } });
      const res = await get("/blob");
      const t0 = performance.now();
      let firstAt = 0;
      let gapAfter = 0;
      const chunks: Buffer[] = [];
      let last = t0;
      for await (const c of res.body) {
        const now = performance.now();
        if (now - last > 200) gapAfter = Buffer.concat(chunks).length;
        if (!chunks.length) firstAt = now;
        last = now;
        chunks.push(c);
      }
      assert.ok(Buffer.concat(chunks).equals(BLOB));
      assert.ok(firstAt - t0 < 200, "first bytes arrive before the stall");
      assert.equal(gapAfter, 5000, "the pause falls exactly after afterBytes");
    });

    it("stall forever before headers: the client's headers timeout fires", async () => {
      proxy.rules.push({ match: { path: "/blob" }, fault: { kind: "stall" } });
      const t0 = performance.now();
      await assert.rejects(get("/blob", { headersTimeout: 300 }), { code: "UND_ERR_HEADERS_TIMEOUT" });
      assert.ok(performance.now() - t0 < 2000);
    });

    it("stall forever after N bytes: the client's idle (body) timeout fires", async () => {
      proxy.rules.push({ match: { path: "/blob" }, fault: { kind: "stall", afterBytes: 70_000 } });
      const res = await get("/blob", { bodyTimeout: 300 });
      const { data, err } = await drain(res.body);
      assert.equal(err?.code, "UND_ERR_BODY_TIMEOUT");
      assert.ok(data.equals(BLOB.subarray(0, 70_000)));
      // The proxy let go of the abandoned request: the next one on a fresh pool is served normally.
      proxy.reset();
      assert.equal((await drain((await get("/blob")).body)).data.length, SIZE);
    });
  });

  describe("rule selection", () => {
    it("skip K then apply N times, then pass through", async () => {
      proxy.rules.push({
        match: { path: "/json" },
        skip: 1,
        times: 2,
        fault: { kind: "status", status: 503 },
      });
      const codes = [];
      for (let i = 0; i < 5; i++) {
        const res = await get("/json");
        await res.body.dump();
        codes.push(res.statusCode);
      }
      assert.deepEqual(codes, [200, 503, 503, 200, 200]);
      assert.deepEqual(
        proxy.hits.map((h) => h.faulted),
        [null, "status", "status", null, null],
      );
    });

    it("stacked one-shot rules fire in order", async () => {
      proxy.rules = [
        { match: { path: "/json" }, times: 1, fault: { kind: "status", status: 500 } },
        { match: { path: "/json" }, times: 1, fault: { kind: "status", status: 429 } },
      ];
      const codes = [];
      for (let i = 0; i < 3; i++) {
        const res = await get("/json");
        await res.body.dump();
        codes.push(res.statusCode);
      }
      assert.deepEqual(codes, [500, 429, 200]);
    });

    it("matches on method, path regex and header", async () => {
      proxy.rules.push(
        { match: { method: "head", path: /^\/json$/ }, fault: { kind: "status", status: 404 } },
        { match: { header: ["authorization", /^Bearer bad/] }, fault: { kind: "status", status: 401 } },
      );
      const status = async (path: string, opts: Parameters<typeof request>[1] = {}) => {
        const res = await get(path, opts);
        await res.body.dump();
        return res.statusCode;
      };
      assert.equal(await status("/json", { method: "HEAD" }), 404);
      assert.equal(await status("/json?q", { method: "HEAD" }), 200); // regex anchored at $
      assert.equal(await status("/json"), 200);
      assert.equal(await status("/json", { headers: { authorization: "Bearer bad1" } }), 401);
      assert.equal(await status("/json", { headers: { authorization: "Bearer good" } }), 200);
    });

    it("reset() clears rules, hits and counters", async () => {
      const rule = { match: { path: "/json" }, times: 1, fault: { kind: "status", status: 500 } } as const;
      proxy.rules.push(rule);
      await (await get("/json")).body.dump();
      proxy.reset();
      assert.deepEqual([proxy.rules, proxy.hits], [[], []]);
      proxy.rules.push(rule); // same object again: its count starts over
      const res = await get("/json");
      await res.body.dump();
      assert.equal(res.statusCode, 500);
    });
  });
});

describe("stop()", () => {
  it("returns promptly with stalled requests open, failing them", async () => {
    const up = http.createServer((_req, res) => {
      res.writeHead(200, { "content-length": String(SIZE) });
      res.write(BLOB.subarray(0, 1000)); // never finishes on its own
    });
    await new Promise<void>((resolve) => up.listen(0, "127.0.0.1", resolve));
    const proxy = await startFaultProxy(`http://127.0.0.1:${(up.address() as AddressInfo).port}`, {
      rules: [{ match: { path: "/headers" }, fault: { kind: "stall" } }],
    });
    const agent = new Agent();
    try {
      const stalledHeaders = request(`${proxy.url}/headers`, { dispatcher: agent });
      const stalledBody = await request(`${proxy.url}/body`, { dispatcher: agent });
      const body = drain(stalledBody.body);
      while (proxy.hits.length < 2) await new Promise((r) => setTimeout(r, 10));

      const t0 = performance.now();
      await proxy.stop();
      assert.ok(performance.now() - t0 < 500, "stop() must not wait for stalled requests");
      await assert.rejects(stalledHeaders);
      assert.ok((await body).err);
    } finally {
      await agent.close();
      up.closeAllConnections();
      await new Promise((resolve) => up.close(resolve));
    }
  });
});
