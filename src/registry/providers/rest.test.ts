import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { AuthError, NotFoundError, PermissionError, ProtocolError, RateLimitedError } from "../errors.js";
import { ExpiringValue } from "../expiring.js";
import { apiFailure, apiTime, type FailureWording, RestApi } from "./rest.js";

/** A REST API that accepts one bearer token and answers 401 to anything else, counting requests. */
let accepted = "Bearer token-2";
const seen: Array<string | undefined> = [];
/** Every request as received: method, path, the headers that matter here, the body. */
const received: { method?: string; url?: string; headers: Record<string, unknown>; body: string }[] = [];
const server = createServer((req, res) => {
  seen.push(req.headers.authorization);
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    const { accept, account, authorization } = req.headers;
    const contentType = req.headers["content-type"];
    received.push({
      method: req.method,
      url: req.url,
      headers: { accept, account, authorization, "content-type": contentType },
      body,
    });
  });
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

test("request() sends a form or JSON with exactly the authorization given; headers go with every request", async () => {
  const rest = new RestApi(
    base,
    { registry: base.host },
    { insecure: true, authorization: "Bearer token-2", headers: { account: "acct-1" } },
  );
  try {
    received.length = 0;
    await rest.request("POST", "oauth/token", { form: new URLSearchParams({ grant_type: "x", a: "1 2" }) });
    await rest.request("POST", "login", {
      json: { identifier: "me", secret: "s" },
      authorization: "Basic Zm9v",
    });
    await rest.get("items");
    // The server records a request when its body has arrived; the last answer may come first.
    while (received.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    const common = { accept: "application/json", account: "acct-1" };
    assert.deepEqual(received, [
      {
        method: "POST",
        url: "/api/oauth/token",
        headers: { ...common, authorization: undefined, "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=x&a=1+2",
      },
      {
        method: "POST",
        url: "/api/login",
        headers: { ...common, authorization: "Basic Zm9v", "content-type": "application/json" },
        body: '{"identifier":"me","secret":"s"}',
      },
      {
        method: "GET",
        url: "/api/items",
        headers: { ...common, authorization: "Bearer token-2", "content-type": undefined },
        body: "",
      },
    ]);
  } finally {
    await rest.close();
  }
});

test("apiFailure maps each status to its typed error, in the product's words after what was being done", () => {
  const ctx = { registry: "registry.example.com", repository: "team/app" };
  const wording: FailureWording = {
    401: "Product rejected the credentials",
    403: "Product denied access",
    404: "not found in Product",
    429: "Product rate limit",
    other: "Product answered HTTP 500",
  };
  const headers = { "retry-after": "7" };
  const cases = [
    { status: 401, type: AuthError, message: "Product rejected the credentials", retryAfterMs: undefined },
    { status: 403, type: PermissionError, message: "Product denied access", retryAfterMs: undefined },
    { status: 404, type: NotFoundError, message: "not found in Product", retryAfterMs: undefined },
    { status: 429, type: RateLimitedError, message: "Product rate limit", retryAfterMs: 7000 },
    { status: 500, type: ProtocolError, message: "Product answered HTTP 500", retryAfterMs: undefined },
    { status: 409, type: ProtocolError, message: "Product answered HTTP 500", retryAfterMs: undefined },
  ];
  for (const { status, type, message, retryAfterMs } of cases) {
    const err = apiFailure({ status, headers }, "listing tags", ctx, wording);
    assert.ok(err instanceof type, `${status} is a ${type.name}, not a ${err.name}`);
    assert.equal(err.message, `registry.example.com/team/app: listing tags: ${message}`);
    assert.equal(err.status, status);
    assert.equal(err.cause, undefined);
    assert.equal(
      err instanceof RateLimitedError ? err.retryAfterMs : undefined,
      retryAfterMs,
      `retryAfterMs of ${status}`,
    );
  }
});

test("apiFailure: a 429 the product does not word is a protocol error; a wait it announces elsewhere is kept", () => {
  const ctx = { registry: "registry.example.com" };
  const wording = { 401: "a", 403: "b", 404: "c", other: "answered HTTP 429" };
  const unworded = apiFailure({ status: 429, headers: { "retry-after": "7" } }, "listing", ctx, wording);
  assert.ok(unworded instanceof ProtocolError);
  assert.equal(unworded.message, "registry.example.com: listing: answered HTTP 429");
  assert.equal(unworded.status, 429);

  const announced = apiFailure({ status: 429, headers: { "retry-after": "7" } }, "listing", ctx, {
    ...wording,
    429: { message: "rate limit; retry in 60 s", retryAfterMs: 60_000 },
  });
  assert.ok(announced instanceof RateLimitedError);
  assert.equal(announced.message, "registry.example.com: listing: rate limit; retry in 60 s");
  assert.equal(announced.retryAfterMs, 60_000);
  assert.equal(announced.status, 429);
});

test("apiTime reads an API's RFC 3339 time; absent, unreadable and zero times are unknown", () => {
  const cases: [unknown, string | undefined][] = [
    ["2024-03-05T10:11:12Z", "2024-03-05T10:11:12.000Z"],
    ["2024-03-05T10:11:12.345678+02:00", "2024-03-05T08:11:12.345Z"],
    ["0001-01-01T00:00:00Z", undefined], // Go's zero time: Harbor, DTR, Docker Hub for "never"
    ["1970-01-01T00:00:00Z", undefined],
    ["yesterday", undefined],
    ["", undefined],
    [null, undefined],
    [undefined, undefined],
    [1_709_633_472_000, undefined], // a number is not an RFC 3339 time
  ];
  for (const [value, expected] of cases) {
    assert.equal(apiTime(value)?.toISOString(), expected, JSON.stringify(value));
  }
});
