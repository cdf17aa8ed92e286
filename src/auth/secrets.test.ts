import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { parseSecretKey, SecretBox, SecretError } from "./secrets.js";

const box = new SecretBox(Buffer.alloc(32, 7));

test("sealCredential encrypts every plain secret and openCredential restores it", () => {
  const cases = [
    { _id: "harbor-ro", type: "basic", accountID: "robot", secret: { plain: "pa$$word" } },
    { _id: "gitlab", type: "gitlabToken", apiToken: { plain: "glpat-xyz" } },
    { _id: "both", type: "gcp", secret: { plain: '{"k":1}' }, apiToken: { plain: "key" } },
  ];
  for (const credential of cases) {
    const sealed = box.sealCredential(credential);
    const text = JSON.stringify(sealed);
    for (const field of ["secret", "apiToken"] as const) {
      const plain = credential[field as keyof typeof credential] as { plain: string } | undefined;
      if (plain) assert.ok(!text.includes(plain.plain), `${credential._id}: ${field} leaked`);
      assert.equal(sealed[field]?.plain, undefined);
    }
    const opened = box.openCredential(sealed);
    assert.equal(opened.secret?.plain, credential.secret?.plain);
    assert.equal(opened.apiToken?.plain, (credential as { apiToken?: { plain: string } }).apiToken?.plain);
  }
});

test("an update without plain keeps the stored secret; a foreign or moved ciphertext is refused", () => {
  const first = box.sealCredential({ _id: "a", type: "basic", secret: { plain: "one" } });
  const echoed = box.sealCredential({ _id: "a", type: "basic", secret: first.secret ?? {} }, first);
  assert.equal(box.openCredential(echoed).secret?.plain, "one");
  const empty = box.sealCredential({ _id: "a", type: "basic", secret: {} }, first);
  assert.equal(box.openCredential(empty).secret?.plain, "one");
  assert.throws(
    () => box.sealCredential({ _id: "b", type: "basic", secret: first.secret ?? {} }),
    SecretError,
  );
  assert.throws(
    () => new SecretBox(Buffer.alloc(32, 8)).openCredential(first),
    /does not decrypt with this console's key/,
  );
  assert.throws(() => box.decrypt("plain text", "a/secret"), /not a value this console encrypted/);
});

test("the key comes from SHIPSHAPE_SECRET_KEY or a 0600 key file created once", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shipshape-secrets-"));
  try {
    const a = SecretBox.open(dir, {});
    const mode = fs.statSync(path.join(dir, "secret.key")).mode & 0o777;
    assert.equal(mode, 0o600);
    const sealed = a.encrypt("x", "c");
    assert.equal(SecretBox.open(dir, {}).decrypt(sealed, "c"), "x");
    const hex = "ab".repeat(32);
    const fromEnv = SecretBox.open(dir, { SHIPSHAPE_SECRET_KEY: hex });
    assert.equal(new SecretBox(Buffer.from(hex, "hex")).decrypt(fromEnv.encrypt("y", "c"), "c"), "y");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const bad of ["", "short", "ab".repeat(31)]) assert.throws(() => parseSecretKey(bad), SecretError);
  assert.equal(parseSecretKey(Buffer.alloc(32, 1).toString("base64")).length, 32);
});
