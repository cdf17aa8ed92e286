/** Transport behaviour visible from outside: the per-registry concurrency bound and proxies from the environment. */
import assert from "node:assert/strict";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { defaultRetryPolicy } from "../src/registry/backoff.js";
import { RegistryClient } from "../src/registry/client.js";
import { Transport } from "../src/registry/transport.js";
import { startFaultProxy } from "./harness/fault-proxy.js";
import { type RunningRegistry, startRegistry } from "./harness/registry.js";
import { ensureSeededStorage } from "./harness/seed.js";

let registry: RunningRegistry;
before(
  async () => {
    registry = await startRegistry({ storageDir: await ensureSeededStorage(), readOnly: true });
  },
  { timeout: 20 * 60_000 },
);
after(() => registry.stop());

describe("transport", { timeout: 60_000 }, () => {
  test("no more than `concurrency` requests are in flight to one registry", async () => {
    const proxy = await startFaultProxy(registry.url);
    // Count requests the proxy is holding at once: each manifest GET is delayed, so overlap is visible.
    let inFlight = 0;
    let peak = 0;
    const counter = http.createServer(async (req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        const up = await request(`${proxy.url}${req.url}`, {
          method: req.method as "GET",
          headers: { accept: String(req.headers.accept ?? "") },
        });
        const body = Buffer.from(await up.body.arrayBuffer());
        res.writeHead(
          up.statusCode,
          Object.fromEntries(
            Object.entries(up.headers).filter(([k]) => k !== "transfer-encoding"),
          ) as http.OutgoingHttpHeaders,
        );
        res.end(body);
      } finally {
        inFlight--;
      }
    });
    await new Promise<void>((resolve) => counter.listen(0, "127.0.0.1", resolve));
    proxy.rules.push({ match: { path: "/manifests/" }, fault: { kind: "delay", ms: 150 } });
    const client = new RegistryClient({
      registry: `127.0.0.1:${(counter.address() as AddressInfo).port}`,
      insecure: true,
      concurrency: 2,
    });
    try {
      const started = Date.now();
      await Promise.all(Array.from({ length: 8 }, () => client.getManifest("alpine", "3.10.3")));
      assert.equal(peak, 2);
      assert.ok(Date.now() - started >= 4 * 150, "eight delayed requests, two at a time");
    } finally {
      await client.close();
      await new Promise<void>((resolve) => counter.close(() => resolve()));
      await proxy.stop();
    }
  });

  test("HTTP_PROXY from the environment carries registry traffic", async () => {
    const seen: string[] = [];
    // A forward proxy: plain-HTTP requests arrive in absolute form and are passed on.
    const forward = http.createServer(async (req, res) => {
      seen.push(req.url ?? "");
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !["host", "connection", "proxy-connection"].includes(k)),
      ) as Record<string, string>;
      const up = await request(req.url ?? "", { method: req.method as "GET", headers });
      const body = Buffer.from(await up.body.arrayBuffer());
      res.writeHead(
        up.statusCode,
        Object.fromEntries(
          Object.entries(up.headers).filter(([k]) => k !== "transfer-encoding"),
        ) as http.OutgoingHttpHeaders,
      );
      res.end(body);
    });
    // undici's proxy agent tunnels with CONNECT, for plain-HTTP targets too.
    forward.on("connect", (req, clientSocket: net.Socket, head: Buffer) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = (req.url ?? "").split(":");
      const upstream = net.connect(Number(port), host, () => {
        clientSocket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(clientSocket);
        clientSocket.pipe(upstream);
      });
      upstream.on("error", () => clientSocket.destroy());
      clientSocket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => forward.listen(0, "127.0.0.1", resolve));
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTP_PROXY = `http://127.0.0.1:${(forward.address() as AddressInfo).port}`;
    delete process.env.NO_PROXY;
    const client = new RegistryClient({ registry: registry.host, insecure: true });
    try {
      assert.deepEqual(await client.listTags("alpine"), ["3.10.3", "3.20.3"]);
      assert.ok(
        seen.includes(`CONNECT ${registry.host}`) || seen.includes(`${registry.url}/v2/`),
        `proxy saw ${JSON.stringify(seen)}`,
      );
    } finally {
      await client.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      forward.closeAllConnections();
      await new Promise<void>((resolve) => forward.close(() => resolve()));
    }
  });

  test("a spent rate-limit budget holds the next request to that host until the reset", async () => {
    // The first answer says the budget is spent for 2 s (Docker Hub's registry header); the second
    // one says GitLab-style that 5 are left.
    const arrivals: number[] = [];
    const server = http.createServer((_req, res) => {
      arrivals.push(Date.now());
      res.writeHead(
        200,
        arrivals.length === 1 ? { "ratelimit-remaining": "0;w=2" } : { "ratelimit-remaining": "5" },
      );
      res.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const transport = new Transport({
      insecure: true,
      concurrency: 2,
      connectTimeoutMs: 5000,
      idleTimeoutMs: 5000,
      retry: defaultRetryPolicy,
      userAgent: "shipshape-test",
      maxRedirects: 0,
    });
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`);
      const ctx = { registry: url.host };
      for (let i = 0; i < 3; i++) {
        const res = await transport.send({ method: "GET", url, headers: {}, ctx });
        await res.body.dump();
      }
      assert.equal(arrivals.length, 3);
      const [first, second, third] = arrivals as [number, number, number];
      assert.ok(second - first >= 1900, `held ${second - first} ms for a 2 s window`);
      assert.ok(third - second < 1900, "a budget with requests left holds nothing");
    } finally {
      await transport.close();
      server.close();
    }
  });
});
