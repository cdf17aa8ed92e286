import assert from "node:assert/strict";
import { test } from "node:test";
import type { StoredCredential } from "../store/console-store.js";
import type { ApiError } from "./errors.js";
import { checkSpec, freshSpec, replacementSpecs } from "./registry-settings.js";
import type { RegistrySpecification } from "./schemas.js";

const credentials = new Map<string, StoredCredential>([
  ["basic-cred", { _id: "basic-cred", type: "basic", created: "", lastModified: "", owner: "" }],
  ["aws-cred", { _id: "aws-cred", type: "aws", created: "", lastModified: "", owner: "" }],
]);

test("checkSpec accepts valid entries and names what is wrong with invalid ones", () => {
  const valid: RegistrySpecification[] = [
    {
      version: "2",
      registry: "",
      repository: "library/ubuntu",
      tag: "16.04",
      os: "linux",
      cap: 5,
      scanners: 2,
    },
    { version: "2", registry: "127.0.0.1:5000", credentialID: "basic-cred", cap: 0, versionPattern: "" },
    { version: "2", versionPattern: "v%d.%d" },
    { version: "gitlab", gitlabRegistrySpec: { userID: "14631394" } },
    { version: "gitlab", gitlabRegistrySpec: { groupIDs: ["7"] } },
    { version: "aws", credentialID: "aws-cred", os: "linuxARM64" },
  ];
  for (const spec of valid) checkSpec(spec, credentials, "spec");
  const invalid: [RegistrySpecification, RegExp][] = [
    [{ version: "3" }, /unknown registry type \(version\) "3"/],
    [{ version: "" }, /unknown registry type/],
    [{ version: "2", os: "solaris" }, /os must be one of linux, linuxARM64, windows/],
    [{ version: "2", cap: -1 }, /cap must be an integer >= 0/],
    [{ version: "2", cap: 1.5 }, /cap must be an integer/],
    [{ version: "2", scanners: 0 }, /scanners must be an integer >= 1/],
    [{ version: "2", versionPattern: "%q" }, /invalid versionPattern/],
    [{ version: "gitlab" }, /gitlabRegistrySpec/],
    [{ version: "gitlab", gitlabRegistrySpec: { projectIDs: [] } }, /gitlabRegistrySpec/],
    [{ version: "2", credentialID: "missing" }, /credential "missing" does not exist/],
    [{ version: "2", credentialID: "aws-cred" }, /has type aws; registry type 2 takes/],
  ];
  for (const [spec, message] of invalid) {
    assert.throws(
      () => checkSpec(spec, credentials, "specifications[3]"),
      (e: ApiError) =>
        e.status === 400 && e.message.startsWith("specifications[3]: ") && message.test(e.message),
      JSON.stringify(spec),
    );
  }
});

test("freshSpec drops legacy keys and sets server-managed fields", () => {
  const legacy = { version: "2", repository: "a", hostname: "h", credentialId: "x", id: "client-chosen" };
  const spec = freshSpec(legacy as RegistrySpecification);
  assert.equal((spec as Record<string, unknown>).hostname, undefined);
  assert.equal((spec as Record<string, unknown>).credentialId, undefined);
  assert.match(spec.id, /^[0-9a-f]{24}$/);
  assert.notEqual(spec.id, "client-chosen");
  assert.equal(spec.lastScanTime, "0001-01-01T00:00:00Z");
  assert.notEqual(freshSpec(legacy as RegistrySpecification).id, spec.id);
});

test("replacementSpecs keeps ids and status of unchanged echoed entries", () => {
  const a = {
    ...freshSpec({ version: "2", repository: "a" }),
    lastScanStatus: "completed",
    scannedImagesSuccessTotal: 4,
  };
  const b = { ...freshSpec({ version: "2", repository: "b" }), lastScanStatus: "failed" };
  const result = replacementSpecs(
    [
      { ...b, cap: 3 }, // changed: keeps id, status reset
      { ...a, scanStatus: "tampered", hostname: "legacy" } as RegistrySpecification, // unchanged config
      { ...a }, // duplicate id: a new entry
      { version: "2", repository: "c", id: "unknown" },
    ],
    [a, b],
  );
  assert.equal(result.length, 4);
  assert.equal(result[0]?.id, b.id);
  assert.equal(result[0]?.cap, 3);
  assert.equal(result[0]?.lastScanStatus, "");
  assert.deepEqual(result[1], a);
  assert.notEqual(result[2]?.id, a.id);
  assert.notEqual(result[3]?.id, "unknown");
  assert.equal(new Set(result.map((s) => s.id)).size, 4);
});
