import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isPrivateAddress, redactUrl } from "./transport.js";

/** Hostnames as the transport sees them: from a parsed URL (normalised, IPv6 in brackets). */
const hostOf = (url: string) => new URL(url).hostname;

describe("isPrivateAddress", () => {
  const cases: [url: string, want: boolean][] = [
    // loopback
    ["http://127.0.0.1/", true],
    ["http://127.255.255.254:5000/", true],
    ["http://localhost:5000/", true],
    ["http://LOCALHOST/", true],
    ["http://[::1]/", true],
    ["http://[0:0:0:0:0:0:0:1]/", true], // normalised to ::1 by the URL parser
    // WHATWG URL normalises these spellings of 127.0.0.1
    ["http://2130706433/", true],
    ["http://0x7f000001/", true],
    ["http://0177.0.0.1/", true],
    ["http://127.1/", true],
    // RFC 1918
    ["http://10.0.0.1/", true],
    ["http://10.255.255.255/", true],
    ["http://172.16.0.1/", true],
    ["http://172.31.255.255/", true],
    ["http://192.168.1.10/", true],
    // link-local: cloud metadata
    ["http://169.254.169.254/latest/meta-data/", true],
    ["http://169.254.0.1/", true],
    ["http://[fe80::1]/", true],
    ["http://[febf::1]/", true],
    // unique-local, including AWS's IPv6 metadata address
    ["http://[fd00:ec2::254]/", true],
    ["http://[fc00::1]/", true],
    // carrier-grade NAT, "this network", unspecified
    ["http://100.64.0.1/", true],
    ["http://100.127.255.255/", true],
    ["http://0.0.0.0/", true],
    ["http://[::]/", true],
    // IPv4-mapped IPv6
    ["http://[::ffff:127.0.0.1]/", true],
    ["http://[::ffff:169.254.169.254]/", true],
    ["http://[::ffff:a9fe:a9fe]/", true],
    // public
    ["https://8.8.8.8/", false],
    ["https://1.1.1.1/", false],
    ["https://172.15.255.255/", false],
    ["https://172.32.0.1/", false],
    ["https://192.169.0.1/", false],
    ["https://169.253.255.255/", false],
    ["https://100.63.255.255/", false],
    ["https://100.128.0.1/", false],
    ["https://11.0.0.1/", false],
    ["https://[2606:4700:4700::1111]/", false],
    // host names are not IP literals (DNS is not resolved here)
    ["https://registry-1.docker.io/", false],
    ["https://production.cloudflare.docker.com/", false],
    ["https://10.0.0.1.nip.io/", false],
    ["https://fc00.example.com/", false],
    ["https://fd.example.com/", false],
    ["https://localhost.example.com/", false],
  ];
  for (const [url, want] of cases) {
    test(`${url} → ${want}`, () => assert.equal(isPrivateAddress(hostOf(url)), want));
  }

  const raw: [host: string, want: boolean][] = [
    ["127.0.0.1", true],
    ["[::1]", true],
    ["::1", true],
    ["FD00:EC2::254", true],
    ["[FE80::1]", true],
    ["999.0.0.1", false],
    ["", false],
    ["example.com", false],
  ];
  for (const [host, want] of raw) {
    test(`raw host ${JSON.stringify(host)} → ${want}`, () => assert.equal(isPrivateAddress(host), want));
  }
});

describe("redactUrl", () => {
  const cases: [name: string, url: string, want: string][] = [
    [
      "no query",
      "https://registry.example.com/v2/a/blobs/sha256:abc",
      "https://registry.example.com/v2/a/blobs/sha256:abc",
    ],
    [
      "harmless query kept",
      "https://r.example.com/v2/_catalog?n=100&last=a",
      "https://r.example.com/v2/_catalog?n=100&last=a",
    ],
    [
      "Azure SAS",
      "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&se=2024-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=abc%2Bdef%3D",
      "https://acct.blob.core.windows.net/c/b?sv=2021-08-06&se=2024-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=REDACTED",
    ],
    [
      "CloudFront signed URL",
      "https://d1.cloudfront.net/blob?Expires=1700000000&Signature=abc~def",
      "https://d1.cloudfront.net/blob?Expires=1700000000&Signature=REDACTED",
    ],
    [
      "GCS signed URL",
      "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=sa%40p.iam&X-Goog-Signature=0a1b",
      "https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=REDACTED&X-Goog-Signature=REDACTED",
    ],
    [
      "token server URL with a token",
      "https://auth.example.com/token?service=registry&access_token=eyJhbGciOi",
      "https://auth.example.com/token?service=registry&access_token=REDACTED",
    ],
    [
      "GitLab private_token",
      "https://gitlab.example.com/api?private_token=glpat-xyz",
      "https://gitlab.example.com/api?private_token=REDACTED",
    ],
    [
      "key matched case-insensitively",
      "https://h.example.com/?API_KEY=1&Token=2",
      "https://h.example.com/?API_KEY=REDACTED&Token=REDACTED",
    ],
    ["user info removed", "https://user:s3cret@registry.example.com/v2/", "https://registry.example.com/v2/"],
    [
      "user name alone removed",
      "https://robot$ci@registry.example.com/v2/",
      "https://registry.example.com/v2/",
    ],
    [
      "port and path kept",
      "http://127.0.0.1:5000/v2/a/b/manifests/v1",
      "http://127.0.0.1:5000/v2/a/b/manifests/v1",
    ],
  ];
  for (const [name, url, want] of cases) {
    test(name, () => assert.equal(redactUrl(new URL(url)), want));
  }

  test("S3 pre-signed URL: credential, token and signature hidden, the rest kept", () => {
    const out = new URL(
      redactUrl(
        new URL(
          "https://bucket.s3.amazonaws.com/docker/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=1200&X-Amz-Security-Token=FwoGZXIvYXdzEJr&X-Amz-SignedHeaders=host&X-Amz-Signature=deadbeef",
        ),
      ),
    );
    assert.equal(out.pathname, "/docker/blob");
    for (const k of ["X-Amz-Credential", "X-Amz-Security-Token", "X-Amz-Signature"]) {
      assert.equal(out.searchParams.get(k), "REDACTED", k);
    }
    assert.equal(out.searchParams.get("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    assert.equal(out.searchParams.get("X-Amz-Date"), "20240101T000000Z");
    assert.equal(out.searchParams.get("X-Amz-Expires"), "1200");
  });

  test("no secret value survives anywhere in the output", () => {
    const secrets = ["deadbeef", "FwoGZXIvYXdzEJr", "AKIAEXAMPLE", "s3cret", "abc%2Bdef"];
    const url = new URL(
      `https://u:s3cret@b.example.com/x?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Security-Token=FwoGZXIvYXdzEJr&X-Amz-Signature=deadbeef&sig=abc%2Bdef`,
    );
    const out = redactUrl(url);
    for (const s of secrets) assert.ok(!out.includes(s), `${s} leaked in ${out}`);
  });

  test("a repeated secret parameter is redacted in every occurrence", () => {
    const out = redactUrl(new URL("https://h.example.com/?sig=one&x=1&sig=two"));
    assert.ok(!out.includes("one") && !out.includes("two"), out);
  });

  test("does not modify the URL it was given", () => {
    const url = new URL("https://u:p@h.example.com/?sig=secret");
    redactUrl(url);
    assert.equal(url.href, "https://u:p@h.example.com/?sig=secret");
  });

  test("password and secret query parameters are redacted", () => {
    const out = redactUrl(new URL("https://h.example.com/?password=hunter2&client_secret=abc123"));
    assert.ok(!out.includes("hunter2") && !out.includes("abc123"), out);
  });
});
