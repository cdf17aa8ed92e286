import assert from "node:assert/strict";
import { test } from "node:test";
import { accessFor, allows, type Permission, ROLE_NAMES, roleObject } from "./roles.js";

test("built-in roles grant the access of spec 1.4", () => {
  const cases: [string, Permission, "read" | "readWrite", boolean][] = [
    ["admin", "systemOperations", "readWrite", true],
    ["admin", "manageCreds", "readWrite", true],
    ["operator", "systemOperations", "read", true],
    ["operator", "systemOperations", "readWrite", false],
    ["operator", "policyContainers", "readWrite", true],
    ["admin", "userManagement", "readWrite", true],
    ["operator", "userManagement", "read", false],
    ["auditor", "userManagement", "read", false],
    ["vulnerabilityManager", "userManagement", "read", false],
    ["auditor", "monitorImages", "read", true],
    ["auditor", "monitorImages", "readWrite", false],
    ["auditor", "manageCreds", "readWrite", false],
    ["auditor", "user", "readWrite", true],
    ["vulnerabilityManager", "policyContainers", "readWrite", true],
    ["vulnerabilityManager", "monitorImages", "readWrite", true],
    ["vulnerabilityManager", "manageCreds", "readWrite", false],
    ["devSecOps", "monitorImages", "read", true],
    ["devSecOps", "monitorImages", "readWrite", false],
    ["devSecOps", "policyContainers", "read", false],
    ["defenderManager", "manageCreds", "read", true],
    ["user", "monitorImages", "read", false],
    ["user", "user", "read", true],
    ["ci", "user", "readWrite", true],
    ["nonexistent", "user", "read", false],
    ["constructor", "user", "read", false],
  ];
  for (const [role, permission, access, expected] of cases) {
    assert.equal(allows(role, permission, access), expected, `${role} ${permission} ${access}`);
  }
});

test("GET and HEAD read, other methods write", () => {
  for (const [method, access] of [
    ["GET", "read"],
    ["HEAD", "read"],
    ["POST", "readWrite"],
    ["PUT", "readWrite"],
    ["DELETE", "readWrite"],
  ] as const) {
    assert.equal(accessFor(method), access);
  }
});

test("every role object lists user read-write and matches allows()", () => {
  for (const name of ROLE_NAMES) {
    const role = roleObject(name);
    assert.ok(role);
    assert.deepEqual(
      role.perms.find((p) => p.name === "user"),
      { name: "user", readWrite: true },
    );
    for (const perm of role.perms) assert.equal(allows(name, perm.name, "readWrite"), perm.readWrite);
  }
  assert.equal(roleObject("nobody"), undefined);
});
