import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Challenge, parseWwwAuthenticate } from "./www-authenticate.js";

const bearer = (params: Record<string, string>): Challenge => ({ scheme: "bearer", params });
const basic = (params: Record<string, string>): Challenge => ({ scheme: "basic", params });

interface Case {
  name: string;
  input: string | string[] | undefined;
  want: Challenge[];
}

/** Only scheme and params are compared, so an optional token68 field does not disturb these cases. */
function shape(challenges: Challenge[]): { scheme: string; params: Record<string, string> }[] {
  return challenges.map((c) => ({ scheme: c.scheme, params: { ...c.params } }));
}

function run(cases: Case[]): void {
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(shape(parseWwwAuthenticate(c.input)), shape(c.want));
    });
  }
}

describe("parseWwwAuthenticate: real registry challenges (spec Part 2)", () => {
  run([
    {
      name: "Docker Hub",
      input: 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
      want: [bearer({ realm: "https://auth.docker.io/token", service: "registry.docker.io" })],
    },
    {
      name: "Docker Hub with a repository scope and insufficient_scope",
      input:
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull",error="insufficient_scope"',
      want: [
        bearer({
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/nginx:pull",
          error: "insufficient_scope",
        }),
      ],
    },
    {
      name: "ECR (Basic with a URL realm)",
      input:
        'Basic realm="https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"',
      want: [
        basic({
          realm: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",
          service: "ecr.amazonaws.com",
        }),
      ],
    },
    {
      name: "ECR Public",
      input: 'Bearer realm="https://public.ecr.aws/token/",service="public.ecr.aws",scope="aws"',
      want: [bearer({ realm: "https://public.ecr.aws/token/", service: "public.ecr.aws", scope: "aws" })],
    },
    {
      name: "ACR",
      input: 'Bearer realm="https://contoso.azurecr.io/oauth2/token",service="contoso.azurecr.io"',
      want: [bearer({ realm: "https://contoso.azurecr.io/oauth2/token", service: "contoso.azurecr.io" })],
    },
    {
      name: "ACR with metadata_read and pull scopes in one value",
      input:
        'Bearer realm="https://contoso.azurecr.io/oauth2/token",service="contoso.azurecr.io",scope="repository:team/app:metadata_read repository:team/app:pull"',
      want: [
        bearer({
          realm: "https://contoso.azurecr.io/oauth2/token",
          service: "contoso.azurecr.io",
          scope: "repository:team/app:metadata_read repository:team/app:pull",
        }),
      ],
    },
    {
      name: "GCR",
      input: 'Bearer realm="https://gcr.io/v2/token",service="gcr.io"',
      want: [bearer({ realm: "https://gcr.io/v2/token", service: "gcr.io" })],
    },
    {
      name: "GitLab with scope and error",
      input:
        'Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry",scope="repository:group/sub/project:pull",error="insufficient_scope"',
      want: [
        bearer({
          realm: "https://gitlab.example.com/jwt/auth",
          service: "container_registry",
          scope: "repository:group/sub/project:pull",
          error: "insufficient_scope",
        }),
      ],
    },
    {
      name: "Harbor Bearer",
      input: 'Bearer realm="https://harbor.example.com/service/token",service="harbor-registry"',
      want: [bearer({ realm: "https://harbor.example.com/service/token", service: "harbor-registry" })],
    },
    {
      name: "Harbor Basic",
      input: 'Basic realm="harbor"',
      want: [basic({ realm: "harbor" })],
    },
    {
      name: "Quay",
      input: 'Bearer realm="https://quay.io/v2/auth",service="quay.io"',
      want: [bearer({ realm: "https://quay.io/v2/auth", service: "quay.io" })],
    },
    {
      name: "GHCR with scope",
      input: 'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:octo-org/app:pull"',
      want: [
        bearer({ realm: "https://ghcr.io/token", service: "ghcr.io", scope: "repository:octo-org/app:pull" }),
      ],
    },
    {
      name: "Artifactory Basic realm that is not a URL (contains a space)",
      input: 'Basic realm="Artifactory Realm"',
      want: [basic({ realm: "Artifactory Realm" })],
    },
    {
      name: "distribution with invalid_token",
      input:
        'Bearer realm="https://auth.example.com/token",service="registry",error="invalid_token",error_description="The access token expired"',
      want: [
        bearer({
          realm: "https://auth.example.com/token",
          service: "registry",
          error: "invalid_token",
          error_description: "The access token expired",
        }),
      ],
    },
    {
      name: "realm with a query string and a scope naming a host with a port",
      input:
        'Bearer realm="https://auth.example.com/token?tenant=a&x=1",service="reg:5000",scope="repository:reg.example.com:5000/ns/app:pull"',
      want: [
        bearer({
          realm: "https://auth.example.com/token?tenant=a&x=1",
          service: "reg:5000",
          scope: "repository:reg.example.com:5000/ns/app:pull",
        }),
      ],
    },
  ]);
});

describe("parseWwwAuthenticate: several challenges", () => {
  run([
    {
      name: "Bearer and Basic in one header",
      input: 'Bearer realm="https://a/token",service="svc", Basic realm="harbor"',
      want: [bearer({ realm: "https://a/token", service: "svc" }), basic({ realm: "harbor" })],
    },
    {
      name: "Basic first, then Bearer, no space after the comma",
      input: 'Basic realm="r",Bearer realm="https://a/token"',
      want: [basic({ realm: "r" }), bearer({ realm: "https://a/token" })],
    },
    {
      name: "Negotiate (no parameters) plus Basic",
      input: 'Negotiate, Basic realm="corp"',
      want: [{ scheme: "negotiate", params: {} }, basic({ realm: "corp" })],
    },
    {
      name: "three bare schemes",
      input: "Negotiate, NTLM, Basic",
      want: [
        { scheme: "negotiate", params: {} },
        { scheme: "ntlm", params: {} },
        { scheme: "basic", params: {} },
      ],
    },
    {
      name: "several headers (array), order kept",
      input: ['Basic realm="Artifactory Realm"', 'Bearer realm="https://a/token",service="s"'],
      want: [basic({ realm: "Artifactory Realm" }), bearer({ realm: "https://a/token", service: "s" })],
    },
    {
      name: "several headers, each with several challenges",
      input: [
        'Negotiate, Basic realm="x"',
        'Bearer realm="https://t/",service="s", Digest realm="d", nonce="n"',
      ],
      want: [
        { scheme: "negotiate", params: {} },
        basic({ realm: "x" }),
        bearer({ realm: "https://t/", service: "s" }),
        { scheme: "digest", params: { realm: "d", nonce: "n" } },
      ],
    },
    {
      name: "RFC 7235 §4.1 example: Newauth with a quoted comma, then Basic",
      input: 'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
      want: [
        { scheme: "newauth", params: { realm: "apps", type: "1", title: 'Login to "apps"' } },
        basic({ realm: "simple" }),
      ],
    },
    {
      name: "empty list elements and extra whitespace are tolerated",
      input: ' ,  Bearer   realm = "https://a/t" ,, service=svc ,  , Basic realm="b"  ',
      want: [bearer({ realm: "https://a/t", service: "svc" }), basic({ realm: "b" })],
    },
    {
      name: "tab as whitespace",
      input: 'Bearer\trealm="https://a/t",\tservice="s"',
      want: [bearer({ realm: "https://a/t", service: "s" })],
    },
  ]);
});

describe("parseWwwAuthenticate: quoted values", () => {
  run([
    {
      name: "commas inside a quoted value do not split parameters",
      input: 'Bearer realm="https://a/token",scope="repository:a/b:pull,push",service="s"',
      want: [bearer({ realm: "https://a/token", scope: "repository:a/b:pull,push", service: "s" })],
    },
    {
      name: "insufficient_scope with several space-separated scopes with comma-separated actions",
      input:
        'Bearer realm="https://a/token",service="s",scope="repository:team/a:pull,push repository:team/b:pull registry:catalog:*",error="insufficient_scope"',
      want: [
        bearer({
          realm: "https://a/token",
          service: "s",
          scope: "repository:team/a:pull,push repository:team/b:pull registry:catalog:*",
          error: "insufficient_scope",
        }),
      ],
    },
    {
      name: 'escaped quote \\" inside a value',
      input: 'Basic realm="say \\"hi\\", friend"',
      want: [basic({ realm: 'say "hi", friend' })],
    },
    {
      name: "escaped backslash does not escape the closing quote",
      input: 'Basic realm="C:\\\\path\\\\", charset="UTF-8"',
      want: [basic({ realm: "C:\\path\\", charset: "UTF-8" })],
    },
    {
      name: "quoted-pair of an ordinary character yields the character",
      input: 'Basic realm="\\a\\b"',
      want: [basic({ realm: "ab" })],
    },
    {
      name: "empty quoted value",
      input: 'Bearer realm="https://a/t",service=""',
      want: [bearer({ realm: "https://a/t", service: "" })],
    },
    {
      name: "a quoted value that looks like a following challenge stays a value",
      input: 'Bearer realm="x, Basic realm=y", service="s"',
      want: [bearer({ realm: "x, Basic realm=y", service: "s" })],
    },
    {
      name: "unquoted token values",
      input: "Bearer realm=simple,service=registry.docker.io,error=invalid_token",
      want: [bearer({ realm: "simple", service: "registry.docker.io", error: "invalid_token" })],
    },
    {
      name: "unterminated quoted string takes the rest of the header",
      input: 'Bearer realm="https://a/t", service="unterminated, still',
      want: [bearer({ realm: "https://a/t", service: "unterminated, still" })],
    },
  ]);
});

describe("parseWwwAuthenticate: case", () => {
  run([
    {
      name: "scheme is case-insensitive (lower-cased)",
      input: 'BEARER realm="https://a/t"',
      want: [bearer({ realm: "https://a/t" })],
    },
    {
      name: "mixed-case scheme and keys; values keep their case",
      input: 'bAsIc Realm="MyRealm", CharSet="UTF-8"',
      want: [basic({ realm: "MyRealm", charset: "UTF-8" })],
    },
    {
      name: "upper-case keys on a Bearer challenge",
      input: 'Bearer REALM="https://Auth.Example.com/Token",SERVICE="Svc",Scope="repository:A:pull"',
      want: [bearer({ realm: "https://Auth.Example.com/Token", service: "Svc", scope: "repository:A:pull" })],
    },
  ]);
});

describe("parseWwwAuthenticate: token68", () => {
  test("token68 with padding is not mistaken for a parameter", () => {
    const [c, ...rest] = parseWwwAuthenticate("Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg==");
    assert.equal(rest.length, 0);
    assert.equal(c?.scheme, "negotiate");
    assert.deepEqual(c?.params, {});
    assert.equal(c?.token68, "YIIBhwYGKwYBBQUCoIIBezCCAXeg==");
  });

  test("token68 without padding is not mistaken for another scheme", () => {
    const got = parseWwwAuthenticate('Negotiate YIIBhwYGKwYB, Basic realm="corp"');
    assert.deepEqual(
      got.map((c) => c.scheme),
      ["negotiate", "basic"],
    );
    assert.equal(got[0]?.token68, "YIIBhwYGKwYB");
    assert.deepEqual(got[1]?.params, { realm: "corp" });
  });

  test("token68 with / and + (base64) does not swallow the following challenges", () => {
    const got = parseWwwAuthenticate(
      'NTLM TlRMTVNTUAACAAAA/+8ABgAGADgAAAA=, Bearer realm="https://a/t",service="s"',
    );
    assert.deepEqual(
      got.map((c) => c.scheme),
      ["ntlm", "bearer"],
    );
    assert.equal(got[0]?.token68, "TlRMTVNTUAACAAAA/+8ABgAGADgAAAA=");
    assert.deepEqual(got[1]?.params, { realm: "https://a/t", service: "s" });
  });

  test("token68 that is a single '='-padded token at the end of a header of several challenges", () => {
    const got = parseWwwAuthenticate(['Basic realm="x"', "Custom abc="]);
    assert.deepEqual(
      got.map((c) => [c.scheme, c.token68]),
      [
        ["basic", undefined],
        ["custom", "abc="],
      ],
    );
    assert.deepEqual(got[1]?.params, {});
  });

  test("a parameter with a token value is not taken for a token68", () => {
    const [c] = parseWwwAuthenticate("Bearer realm=abc=");
    assert.equal(c?.token68, undefined);
    assert.deepEqual(c?.params, { realm: "abc=" });
  });
});

describe("parseWwwAuthenticate: empty and garbage input", () => {
  run([
    { name: "undefined", input: undefined, want: [] },
    { name: "empty string", input: "", want: [] },
    { name: "whitespace", input: "   \t ", want: [] },
    { name: "commas only", input: " , ,, ", want: [] },
    { name: "empty array", input: [], want: [] },
    { name: "array of empty strings", input: ["", " "], want: [] },
    { name: "a quote only", input: '"', want: [] },
    { name: "an equals sign only", input: "=", want: [] },
    {
      name: "garbage after a valid challenge keeps the valid challenge",
      input: 'Bearer realm="https://a/t",service="s", @@@ {}',
      want: [bearer({ realm: "https://a/t", service: "s" })],
    },
    {
      name: "unterminated quoted value at the very end (once looped forever)",
      input: 'Bearer realm="https://a/t',
      want: [bearer({ realm: "https://a/t" })],
    },
    {
      name: "a lone opening quote as the value",
      input: 'Basic realm="',
      want: [basic({ realm: "" })],
    },
    {
      name: "unterminated quoted value ending in a backslash",
      input: 'Basic realm="abc\\',
      want: [basic({ realm: "abc\\" })],
    },
    {
      name: "unterminated value in the first of several headers does not affect the next",
      input: ['Basic realm="x', 'Bearer realm="https://a/t"'],
      want: [basic({ realm: "x" }), bearer({ realm: "https://a/t" })],
    },
    {
      name: "an empty header among real ones is ignored",
      input: ["", 'Basic realm="x"'],
      want: [basic({ realm: "x" })],
    },
  ]);

  test("never throws on arbitrary bytes", () => {
    const samples = [
      '"\\',
      "\\",
      '=="',
      'a="',
      "a=,",
      ";;;",
      "\u0000\u0001",
      "Bearer ,=,=",
      "😀 realm=😀",
      "a b c d",
    ];
    for (const s of samples) {
      const out = parseWwwAuthenticate(s);
      assert.ok(Array.isArray(out), s);
      for (const c of out) {
        assert.equal(c.scheme, c.scheme.toLowerCase(), s);
        assert.match(c.scheme, /^[!#$%&'*+.^_`|~0-9a-z-]+$/, s);
      }
    }
  });
});
