import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { ExpiringValue } from "../expiring.js";
import { RestApi } from "./rest.js";

/** A REST API that accepts one bearer token and answers 401 to anything else, counting requests. */
let accepted = "Bearer token-2";
const seen: Array<string | undefined> = [];
const server = createServer((req, res) => {
  seen.push(req.headers.authorization);
  const ok = req.headers.authorization === accepted;
  res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
  res.end(ok ? "[1,2,3]" : '{"message":"401 Unauthorized"}');
});
let base: URL;
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`);
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const api = (authorization: string | ExpiringValue<string>) =>
  new RestApi(base, { registry: base.host }, { insecure: true, authorization });

test("an expiring authorization refused with 401 is renewed once and the request sent again", async () => {
  seen.length = 0;
  let n = 0;
  const token = new ExpiringValue(async () => ({ value: `Bearer token-${++n}` }));
  const rest = api(token);
  try {
    const res = await rest.get("items");
    assert.equal(res.status, 200);
    assert.deepEqual(rest.array<number>(res, "items"), [1, 2, 3]);
    assert.deepEqual(seen, ["Bearer token-1", "Bearer token-2"]);
    assert.equal((await rest.get("items")).status, 200);
    assert.equal(token.obtained, 2, "the renewed token is kept");
  } finally {
    await rest.close();
  }
});

test("a renewed authorization refused again, or a fixed one, gives the 401 back to the caller", async () => {
  accepted = "Bearer never";
  try {
    seen.length = 0;
    const token = new ExpiringValue(async () => ({ value: "Bearer revoked" }));
    const renewing = api(token);
    assert.equal((await renewing.get("items")).status, 401);
    assert.equal(seen.length, 2, "one renewal, no loop");
    await renewing.close();

    seen.length = 0;
    const fixed = api("Bearer fixed");
    assert.equal((await fixed.get("items")).status, 401);
    assert.equal(seen.length, 1, "nothing to renew");
    await fixed.close();
  } finally {
    accepted = "Bearer token-2";
  }
});
