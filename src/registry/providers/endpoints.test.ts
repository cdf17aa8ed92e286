import assert from "node:assert/strict";
import { test } from "node:test";
import { UnsupportedError } from "../errors.js";
import { serviceEndpoint } from "./endpoints.js";

const cases: Array<[string, Record<string, string>, string]> = [
  ["the default when unset", {}, "https://hub.docker.com/"],
  ["the default when blank", { SHIPSHAPE_X_URL: "  " }, "https://hub.docker.com/"],
  ["the variable when set", { SHIPSHAPE_X_URL: "http://127.0.0.1:8080" }, "http://127.0.0.1:8080/"],
  [
    "a path gains its slash",
    { SHIPSHAPE_X_URL: "https://proxy.internal/hub" },
    "https://proxy.internal/hub/",
  ],
];
for (const [name, env, expected] of cases) {
  test(`serviceEndpoint: ${name}`, () => {
    assert.equal(serviceEndpoint("SHIPSHAPE_X_URL", "https://hub.docker.com", env).href, expected);
  });
}

test("serviceEndpoint: a variable that is no http(s) URL is an error naming it", () => {
  for (const bad of ["not a url", "ftp://example.test/"]) {
    assert.throws(
      () => serviceEndpoint("SHIPSHAPE_X_URL", "https://hub.docker.com", { SHIPSHAPE_X_URL: bad }),
      (e: unknown) => e instanceof UnsupportedError && /SHIPSHAPE_X_URL/.test(e.message),
    );
  }
});
