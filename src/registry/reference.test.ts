import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DOCKER_HUB,
  type ImageReference,
  isDigest,
  isDockerHub,
  isValidRepository,
  isValidTag,
  parseImageReference,
  parseRegistryAddress,
  type RegistryAddress,
} from "./reference.js";

const HEX64 = "2f767b134cad207efef70c03101a3e0d11b2608ef0f529260ee25365e80015a2";
const SHA = `sha256:${HEX64}`;
const SHA512 = `sha512:${"0123456789abcdef".repeat(8)}`;

function ref(registry: string, repository: string, tag?: string, digest?: string): ImageReference {
  return { registry, repository, tag, digest };
}

describe("parseImageReference: valid references", () => {
  const cases: [input: string, want: ImageReference][] = [
    // Docker Hub normalisation
    ["nginx", ref(DOCKER_HUB, "library/nginx", "latest")],
    ["nginx:1.27-alpine", ref(DOCKER_HUB, "library/nginx", "1.27-alpine")],
    ["library/nginx", ref(DOCKER_HUB, "library/nginx", "latest")],
    ["bitnami/redis:7.2", ref(DOCKER_HUB, "bitnami/redis", "7.2")],
    ["docker.io/nginx", ref("docker.io", "library/nginx", "latest")],
    ["docker.io/library/nginx:latest", ref("docker.io", "library/nginx", "latest")],
    ["index.docker.io/nginx", ref("index.docker.io", "library/nginx", "latest")],
    ["registry-1.docker.io/busybox:1", ref("registry-1.docker.io", "library/busybox", "1")],
    ["docker.io/bitnami/redis", ref("docker.io", "bitnami/redis", "latest")],
    [`nginx@${SHA}`, ref(DOCKER_HUB, "library/nginx", undefined, SHA)],
    [`nginx:1.27@${SHA}`, ref(DOCKER_HUB, "library/nginx", "1.27", SHA)],
    // host detection: ".", ":" or localhost in the first component
    ["localhost/app", ref("localhost", "app", "latest")],
    ["localhost:5000/app", ref("localhost:5000", "app", "latest")],
    [`localhost:5000/a/b:t@${SHA}`, ref("localhost:5000", "a/b", "t", SHA)],
    ["localhost:5000/a/b", ref("localhost:5000", "a/b", "latest")],
    ["127.0.0.1:5000/team/app:v1", ref("127.0.0.1:5000", "team/app", "v1")],
    ["[::1]:5000/app:v1", ref("[::1]:5000", "app", "v1")],
    ["[2001:db8::1]/app", ref("[2001:db8::1]", "app", "latest")],
    ["my-registry:8080/x", ref("my-registry:8080", "x", "latest")],
    ["foo.bar/baz", ref("foo.bar", "baz", "latest")],
    ["gcr.io/my-project/app", ref("gcr.io", "my-project/app", "latest")],
    ["us-docker.pkg.dev/proj/repo/img:2024.01.02", ref("us-docker.pkg.dev", "proj/repo/img", "2024.01.02")],
    ["registry.example.com:443/a/b/c/d:1.0-rc.1", ref("registry.example.com:443", "a/b/c/d", "1.0-rc.1")],
    [`ghcr.io/octo-org/app@${SHA}`, ref("ghcr.io", "octo-org/app", undefined, SHA)],
    ["Registry.Example.COM/app", ref("Registry.Example.COM", "app", "latest")],
    // first component without "." or ":" is a Hub namespace, not a host
    ["foo/bar", ref(DOCKER_HUB, "foo/bar", "latest")],
    ["team/sub/app:1", ref(DOCKER_HUB, "team/sub/app", "1")],
    // "localhost:5000" alone is the image library/localhost with tag 5000, as docker reads it
    ["localhost:5000", ref(DOCKER_HUB, "library/localhost", "5000")],
    // name components: separators ".", "_", "__", "-"+
    ["a_b/c.d/e--f/g__h", ref(DOCKER_HUB, "a_b/c.d/e--f/g__h", "latest")],
    ["a0/9z", ref(DOCKER_HUB, "a0/9z", "latest")],
    // tags
    ["app:Latest", ref(DOCKER_HUB, "library/app", "Latest")],
    ["app:_x", ref(DOCKER_HUB, "library/app", "_x")],
    [`app:${"a".repeat(128)}`, ref(DOCKER_HUB, "library/app", "a".repeat(128))],
    [`app@${SHA512}`, ref(DOCKER_HUB, "library/app", undefined, SHA512)],
    ["  nginx:1  ", ref(DOCKER_HUB, "library/nginx", "1")],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => {
      assert.deepEqual(parseImageReference(input), want);
    });
  }
});

describe("parseImageReference: invalid references are rejected", () => {
  const cases: [input: string, why: RegExp][] = [
    ["", /repository/],
    ["   ", /repository/],
    ["Nginx", /repository/],
    ["library/Nginx", /repository/],
    ["/nginx", /repository/],
    ["nginx/", /repository/],
    ["a//b", /repository/],
    ["a..b", /repository/],
    ["a___b", /repository/],
    ["-a", /repository/],
    ["a-", /repository/],
    ["a.", /repository/],
    ["_a", /repository/],
    ["a b", /repository|tag/],
    ["localhost:5000/", /repository/],
    ["localhost:5000/App", /repository/],
    [`x/${"a".repeat(256)}`, /repository/],
    // tags
    ["nginx:", /tag/],
    ["nginx:.hidden", /tag/],
    ["nginx:-x", /tag/],
    ["nginx:a+b", /tag/],
    [`nginx:${"a".repeat(129)}`, /tag/],
    ["localhost:5000/app:", /tag/],
    // digests
    ["nginx@", /digest/],
    ["nginx@sha256", /digest/],
    ["nginx@sha256:", /digest/],
    ["nginx@sha256:abc", /digest/],
    [`nginx@sha256:${HEX64.slice(1)}`, /digest/], // 63 hex
    [`nginx@sha256:${HEX64}0`, /digest/], // 65 hex
    [`nginx@sha256:${HEX64.toUpperCase()}`, /digest/],
    [`nginx@sha256:${"g".repeat(64)}`, /digest/],
    [`nginx@SHA256:${HEX64}`, /digest/],
    [`nginx@sha512:${HEX64}`, /digest/], // sha512 needs 128 hex
    [`nginx@:${HEX64}`, /digest/],
    [`nginx@a@${SHA}`, /digest/],
    [`nginx@${SHA}:tag`, /digest/],
    // hosts
    [":5000/app", /registry|host/],
    [".com/app", /registry|host/],
    ["exa_mple.com/app", /registry|host/],
    ["-bad.example.com/app", /registry|host/],
    ["bad-.example.com/app", /registry|host/],
    ["localhost:abc/app", /registry|host/],
    ["localhost:/app", /registry|host/],
    ["a:1:2/app", /registry|host/],
    ["reg..example.com/app", /registry|host/],
    ["https://registry.example.com/app", /registry|host|repository/],
  ];
  for (const [input, why] of cases) {
    test(JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input), () => {
      assert.throws(
        () => parseImageReference(input),
        (e: unknown) => e instanceof Error && why.test(e.message) && e.message.includes(input.trim()),
      );
    });
  }
});

describe("isValidTag / isValidRepository / isDigest / isDockerHub", () => {
  const tags: [string, boolean][] = [
    ["latest", true],
    ["1.0.0", true],
    ["v1.2.3-rc.1_build.5", true],
    ["_", true],
    ["A", true],
    ["a".repeat(128), true],
    ["a".repeat(129), false],
    ["", false],
    [".x", false],
    ["-x", false],
    ["x/y", false],
    ["x:y", false],
    ["x y", false],
    ["tag\n", false],
    ["sha256:abc", false],
  ];
  for (const [tag, want] of tags) {
    test(`isValidTag(${JSON.stringify(tag.length > 20 ? `${tag.slice(0, 20)}…${tag.length}` : tag)}) = ${want}`, () => {
      assert.equal(isValidTag(tag), want);
    });
  }

  const repos: [string, boolean][] = [
    ["library/nginx", true],
    ["a", true],
    ["a/b/c/d/e", true],
    ["a-b--c/d.e/f_g/h__i", true],
    ["a".repeat(255), true],
    ["a".repeat(256), false],
    ["", false],
    ["A", false],
    ["a/", false],
    ["/a", false],
    ["a//b", false],
    ["a_-b", false],
    ["a._b", false],
    ["a:b", false],
    ["a@b", false],
  ];
  for (const [name, want] of repos) {
    test(`isValidRepository(${JSON.stringify(name.length > 20 ? `${name.slice(0, 20)}…${name.length}` : name)}) = ${want}`, () => {
      assert.equal(isValidRepository(name), want);
    });
  }

  const digests: [string, boolean][] = [
    [SHA, true],
    [SHA512, true],
    [`sha256:${HEX64.slice(0, 63)}`, false],
    [`sha256:${HEX64}ab`, false],
    [`sha256:${HEX64.toUpperCase()}`, false],
    [`sha256:${"z".repeat(64)}`, false],
    [`sha512:${HEX64}`, false],
    [`sha256:${"a".repeat(32)}`, false],
    [HEX64, false],
    ["sha256:", false],
    ["latest", false],
    ["v1.0", false],
    [`sha256-${HEX64}`, false], // the cosign/referrers tag form is a tag, not a digest
    [` ${SHA}`, false],
    [`${SHA}\n`, false],
  ];
  for (const [d, want] of digests) {
    test(`isDigest(${JSON.stringify(d.length > 24 ? `${d.slice(0, 24)}…${d.length}` : d)}) = ${want}`, () => {
      assert.equal(isDigest(d), want);
    });
  }

  const hubs: [string, boolean][] = [
    ["docker.io", true],
    ["index.docker.io", true],
    ["registry-1.docker.io", true],
    ["registry.docker.io", false],
    ["docker.io.evil.example", false],
    ["mydocker.io", false],
    ["ghcr.io", false],
  ];
  for (const [host, want] of hubs) {
    test(`isDockerHub(${host}) = ${want}`, () => {
      assert.equal(isDockerHub(host), want);
    });
  }
});

describe("parseRegistryAddress", () => {
  const addr = (host: string, scheme: "http" | "https" | undefined, pathPrefix: string): RegistryAddress => ({
    host,
    scheme,
    pathPrefix,
  });
  const cases: [input: string, want: RegistryAddress][] = [
    // Docker Hub aliases all point at the host that serves /v2/
    ["docker.io", addr("registry-1.docker.io", undefined, "")],
    ["index.docker.io", addr("registry-1.docker.io", undefined, "")],
    ["registry-1.docker.io", addr("registry-1.docker.io", undefined, "")],
    ["DOCKER.IO", addr("registry-1.docker.io", undefined, "")],
    ["https://docker.io", addr("registry-1.docker.io", "https", "")],
    ["https://registry-1.docker.io/v2/", addr("registry-1.docker.io", "https", "")],
    // the key Docker's config.json stores Hub credentials under
    ["https://index.docker.io/v1/", addr("registry-1.docker.io", "https", "")],
    // plain hosts and ports
    ["ghcr.io", addr("ghcr.io", undefined, "")],
    ["localhost:5000", addr("localhost:5000", undefined, "")],
    ["127.0.0.1:5000", addr("127.0.0.1:5000", undefined, "")],
    ["[::1]:5000", addr("[::1]:5000", undefined, "")],
    [
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
      addr("123456789012.dkr.ecr.eu-west-1.amazonaws.com", undefined, ""),
    ],
    // schemes
    ["http://localhost:5000", addr("localhost:5000", "http", "")],
    ["https://registry.example.com", addr("registry.example.com", "https", "")],
    ["HTTPS://registry.example.com", addr("registry.example.com", "https", "")],
    ["Http://registry.example.com:8080/", addr("registry.example.com:8080", "http", "")],
    // trailing slashes and /v2
    ["https://registry.example.com/", addr("registry.example.com", "https", "")],
    ["https://registry.example.com///", addr("registry.example.com", "https", "")],
    ["https://registry.example.com/v2", addr("registry.example.com", "https", "")],
    ["https://registry.example.com/v2/", addr("registry.example.com", "https", "")],
    ["registry.example.com/v2/", addr("registry.example.com", undefined, "")],
    // path prefixes before /v2 (Artifactory, Nexus)
    [
      "https://art.example.com/artifactory/api/docker/key",
      addr("art.example.com", "https", "/artifactory/api/docker/key"),
    ],
    [
      "https://art.example.com/artifactory/api/docker/key/v2/",
      addr("art.example.com", "https", "/artifactory/api/docker/key"),
    ],
    [
      "nexus.example.com:8443/repository/docker-hosted/v2",
      addr("nexus.example.com:8443", undefined, "/repository/docker-hosted"),
    ],
    ["https://reg.example.com/prefix/v2x", addr("reg.example.com", "https", "/prefix/v2x")],
    ["https://reg.example.com/v2prefix", addr("reg.example.com", "https", "/v2prefix")],
    // whitespace
    ["  registry.example.com  ", addr("registry.example.com", undefined, "")],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => {
      assert.deepEqual(parseRegistryAddress(input), want);
    });
  }

  const invalid = [
    "",
    "   ",
    "/",
    "https://",
    "https:///v2",
    "ftp://registry.example.com",
    "registry example.com",
    "user:pass@registry.example.com",
    "https://user:pass@registry.example.com",
    "registry.example.com:port",
    "registry.example.com:",
    "registry.example.com:70000",
    "exa_mple.com",
    "-bad.example.com",
    "http//registry.example.com",
    "https://registry.example.com/a?b=c",
    "https://registry.example.com/a#frag",
    "https://registry.example.com//double",
  ];
  for (const input of invalid) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => parseRegistryAddress(input), /invalid registry address/);
    });
  }

  test("the parsed address builds a URL the client can use", () => {
    for (const [input] of cases) {
      const a = parseRegistryAddress(input);
      const url = new URL(`${a.scheme ?? "https"}://${a.host}${a.pathPrefix}/v2/`);
      assert.equal(url.pathname, `${a.pathPrefix}/v2/`, input);
    }
  });
});
