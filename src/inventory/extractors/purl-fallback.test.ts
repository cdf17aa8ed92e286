import assert from "node:assert/strict";
import { test } from "node:test";
import { purlOf } from "./purl-fallback.js";

test("purlOf: packageurl-js when it accepts, the spec's encoding when it throws", () => {
  assert.equal(
    purlOf("golang", "github.com/BurntSushi", "toml", "v1.2.3"),
    "pkg:golang/github.com/BurntSushi/toml@v1.2.3",
  );
  assert.equal(purlOf("golang", undefined, "stdlib", undefined), "pkg:golang/stdlib");
  // packageurl-js 2.0 throws (a ReferenceError) for golang versions "v" + non-SemVer.
  assert.equal(purlOf("golang", "example.com", "m", "vgarbage 1"), "pkg:golang/example.com/m@vgarbage%201");
  assert.equal(purlOf("maven", undefined, "commons-io", "2.6"), "pkg:maven/commons-io@2.6");
  assert.equal(purlOf("maven", "org.x", "y", "1.0"), "pkg:maven/org.x/y@1.0");
  assert.equal(purlOf("generic", undefined, "node", "14.15.0"), "pkg:generic/node@14.15.0");
});
