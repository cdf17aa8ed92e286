import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AuthError,
  DigestMismatchError,
  describeErrorBody,
  errorCodes,
  NetworkError,
  NotFoundError,
  PermissionError,
  ProtocolError,
  RateLimitedError,
  RegistryError,
  type RegistryErrorCode,
  type RegistryErrorContext,
  UnsupportedError,
} from "./errors.js";

const SHA = "sha256:2f767b134cad207efef70c03101a3e0d11b2608ef0f529260ee25365e80015a2";

describe("describeErrorBody: distribution JSON errors", () => {
  const cases: [name: string, body: string, want: string][] = [
    [
      "manifest unknown with detail",
      '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"v9"}}]}\n',
      "MANIFEST_UNKNOWN: manifest unknown",
    ],
    [
      "Docker Hub 401 with a scope detail array",
      '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"library/nginxx","Action":"pull"}]}]}',
      "UNAUTHORIZED: authentication required",
    ],
    [
      "Docker Hub rate limit",
      '{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"}]}',
      "TOOMANYREQUESTS: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
    ],
    [
      "Harbor denied",
      '{"errors":[{"code":"DENIED","message":"requesting access to the resource is denied"}]}',
      "DENIED: requesting access to the resource is denied",
    ],
    [
      "distribution pagination error",
      '{"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"invalid number of results requested","detail":{"n":5000}}]}',
      "PAGINATION_NUMBER_INVALID: invalid number of results requested",
    ],
    [
      "two errors joined",
      '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"},{"code":"DENIED","message":"no"}]}',
      "NAME_UNKNOWN: repository name not known to registry; DENIED: no",
    ],
    ["code only", '{"errors":[{"code":"BLOB_UNKNOWN"}]}', "BLOB_UNKNOWN"],
    ["message only", '{"errors":[{"message":"something failed"}]}', "something failed"],
    [
      "pretty-printed with surrounding whitespace",
      '\n  {\n "errors": [ { "code": "DENIED", "message": "x" } ]\n}\n\n',
      "DENIED: x",
    ],
  ];
  for (const [name, body, want] of cases) {
    test(name, () => assert.equal(describeErrorBody(body), want));
  }
});

describe("describeErrorBody: text, HTML and odd bodies", () => {
  const cases: [name: string, body: string, want: string][] = [
    ["empty", "", ""],
    ["whitespace", " \n\t ", ""],
    ["ECR plain text", "Not Authorized\n", "Not Authorized"],
    [
      "plain text with line breaks collapsed",
      "upstream connect error\n\n  or disconnect/reset\tbefore headers",
      "upstream connect error or disconnect/reset before headers",
    ],
    [
      "nginx 502 page",
      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
      "502 Bad Gateway 502 Bad Gateway nginx",
    ],
    ["HTML fragment", "<p>Access <b>denied</b></p>", "Access denied"],
    [
      "JSON that is not a distribution error stays readable",
      '{"detail":"Invalid token"}',
      '{"detail":"Invalid token"}',
    ],
    ["JSON null", "null", "null"],
    ["JSON number", "42", "42"],
    ["JSON array", '["x"]', '["x"]'],
    ["errors with a null entry", '{"errors":[null]}', '{"errors":[null]}'],
  ];
  for (const [name, body, want] of cases) {
    test(name, () => assert.equal(describeErrorBody(body), want));
  }

  test("an HTML page's CSS, scripts and comments are not reported as the error", () => {
    const page = `<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html><head><title>registry.example.com | 522: Connection timed out</title>
<style>body{margin:0;padding:0}.cf-error-details{font-size:14px}</style>
<script>(function(){window._cf_chl_opt={cvId:'3'};})();</script>
</head><body><h1>Connection timed out</h1><span>Error code 522</span></body></html>`;
    const got = describeErrorBody(page);
    assert.match(got, /522: Connection timed out/);
    assert.match(got, /Error code 522/);
    assert.doesNotMatch(got, /[{}<>]|margin|window\.|endif/);
  });

  test("long text is shortened to 200 characters plus an ellipsis", () => {
    const long = "x".repeat(500);
    const got = describeErrorBody(long);
    assert.equal(got.length, 201);
    assert.ok(got.endsWith("…"));
    assert.equal(got.slice(0, 200), "x".repeat(200));
  });

  test("text of exactly 200 characters is kept whole", () => {
    const text = "y".repeat(200);
    assert.equal(describeErrorBody(text), text);
  });

  test("a long HTML page is shortened after the tags are removed", () => {
    const got = describeErrorBody(`<html><body>${"<p>word</p>".repeat(100)}</body></html>`);
    assert.ok(got.length <= 201);
    assert.ok(got.startsWith("word word"));
    assert.ok(!got.includes("<"));
  });

  test("the result is always one line", () => {
    for (const body of [
      "a\nb",
      "<div>\n<p>x</p>\n</div>",
      "Not\r\nAuthorized",
      '{"errors":[{"code":"X","message":"a"}]}',
    ]) {
      assert.doesNotMatch(describeErrorBody(body), /[\r\n]/, body);
    }
  });
});

describe("errorCodes", () => {
  const cases: [name: string, body: string, want: string[]][] = [
    [
      "one code",
      '{"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"x"}]}',
      ["PAGINATION_NUMBER_INVALID"],
    ],
    [
      "several codes in order",
      '{"errors":[{"code":"UNAUTHORIZED"},{"code":"DENIED"},{"code":"NAME_UNKNOWN"}]}',
      ["UNAUTHORIZED", "DENIED", "NAME_UNKNOWN"],
    ],
    ["no errors key", '{"repositories":[]}', []],
    ["empty errors", '{"errors":[]}', []],
    ["plain text", "Not Authorized", []],
    ["HTML", "<html><body>x</body></html>", []],
    ["empty body", "", []],
    ["JSON null", "null", []],
    ["errors not an array", '{"errors":{"code":"DENIED"}}', []],
    ["errors a string", '{"errors":"DENIED"}', []],
  ];
  for (const [name, body, want] of cases) {
    test(name, () => assert.deepEqual(errorCodes(body), want));
  }
});

describe("RegistryError subclasses: message names registry, repository and reference", () => {
  const full: RegistryErrorContext = { registry: "ghcr.io", repository: "octo-org/app", reference: "v1.2" };
  const messages: [ctx: RegistryErrorContext, want: string][] = [
    [full, "ghcr.io/octo-org/app:v1.2: boom"],
    [{ ...full, reference: SHA }, `ghcr.io/octo-org/app@${SHA}: boom`],
    [{ registry: "ghcr.io", repository: "octo-org/app" }, "ghcr.io/octo-org/app: boom"],
    [{ registry: "ghcr.io" }, "ghcr.io: boom"],
    [
      { registry: "localhost:5000", repository: "a/b", reference: "latest" },
      "localhost:5000/a/b:latest: boom",
    ],
    [{ registry: "[::1]:5000", repository: "a", reference: SHA }, `[::1]:5000/a@${SHA}: boom`],
    [{ registry: "r.example.com", repository: "", reference: "" }, "r.example.com: boom"],
  ];
  for (const [ctx, want] of messages) {
    test(want, () => {
      assert.equal(new NotFoundError(ctx, "boom").message, want);
    });
  }

  const kinds: [make: (ctx: RegistryErrorContext) => RegistryError, name: string, code: RegistryErrorCode][] =
    [
      [(c) => new AuthError(c, "boom", { status: 401 }), "AuthError", "auth"],
      [(c) => new PermissionError(c, "boom", { status: 403 }), "PermissionError", "permission"],
      [(c) => new NotFoundError(c, "boom", { status: 404 }), "NotFoundError", "not_found"],
      [(c) => new RateLimitedError(c, "boom", 5_000), "RateLimitedError", "rate_limited"],
      [(c) => new DigestMismatchError(c, SHA, "sha256:00", "boom"), "DigestMismatchError", "digest_mismatch"],
      [(c) => new ProtocolError(c, "boom", { status: 200 }), "ProtocolError", "protocol"],
      [(c) => new NetworkError(c, "boom"), "NetworkError", "network"],
      [(c) => new UnsupportedError(c, "boom", { status: 405 }), "UnsupportedError", "unsupported"],
    ];
  for (const [make, name, code] of kinds) {
    test(`${name}: name, code, context fields, Error chain`, () => {
      const e = make(full);
      assert.ok(e instanceof RegistryError);
      assert.ok(e instanceof Error);
      assert.equal(e.name, name);
      assert.equal(e.code, code);
      assert.equal(e.registry, "ghcr.io");
      assert.equal(e.repository, "octo-org/app");
      assert.equal(e.reference, "v1.2");
      assert.equal(e.message, "ghcr.io/octo-org/app:v1.2: boom");
      assert.match(String(e), new RegExp(`^${name}: ghcr\\.io/octo-org/app:v1\\.2: boom$`));
      assert.ok(e.stack?.includes("boom"));
    });
  }

  test("status is kept where given", () => {
    assert.equal(new AuthError(full, "x", { status: 401 }).status, 401);
    assert.equal(new PermissionError(full, "x", { status: 403 }).status, 403);
    assert.equal(new NotFoundError(full, "x").status, undefined);
    assert.equal(new RateLimitedError(full, "x", undefined).status, 429);
  });

  test("cause is attached only when given", () => {
    const root = new Error("ECONNRESET");
    const withCause = new NetworkError(full, "reset", { cause: root });
    assert.equal(withCause.cause, root);
    const without = new NetworkError(full, "reset");
    assert.equal(Object.hasOwn(without, "cause"), false);
    const protocol = new ProtocolError(full, "bad JSON", { status: 200, cause: root });
    assert.equal(protocol.cause, root);
    assert.equal(protocol.status, 200);
  });

  test("RateLimitedError carries the Retry-After delay", () => {
    assert.equal(new RateLimitedError(full, "slow down", 30_000).retryAfterMs, 30_000);
    assert.equal(new RateLimitedError(full, "slow down", undefined).retryAfterMs, undefined);
  });

  test("DigestMismatchError names both digests by default", () => {
    const actual = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    const e = new DigestMismatchError({ registry: "r", repository: "a", reference: SHA }, SHA, actual);
    assert.equal(e.expected, SHA);
    assert.equal(e.actual, actual);
    assert.equal(e.message, `r/a@${SHA}: content digest mismatch: expected ${SHA}, got ${actual}`);
  });

  test("errors are distinguishable by class", () => {
    const e: unknown = new PermissionError(full, "x");
    assert.ok(!(e instanceof AuthError));
    assert.ok(!(e instanceof NotFoundError));
    assert.ok(e instanceof PermissionError);
  });
});
