/**
 * Built-in roles and the permission each route needs (spec 1.4, section 9 items 4–5).
 *
 * A role grants a permission read-only or read-write. Reading (GET) needs the permission; anything
 * else (POST, PUT, DELETE, including POST /registry/scan) needs it read-write. Role strings are the
 * vendor's (`admin`, `auditor`, `user`, `vulnerabilityManager` confirmed; `operator`, `devSecOps`,
 * `devOps`, `defenderManager`, `ci` following the same pattern).
 */

/** The permission names the registry-scanning routes use (a subset of the vendor's PermName). */
export const PERMISSIONS = [
  "monitorImages",
  "policyContainers",
  "manageCreds",
  "systemOperations",
  "userManagement",
  "user",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export type Access = "read" | "readWrite";

export interface Role {
  name: string;
  description: string;
  system: true;
  perms: { name: Permission; readWrite: boolean }[];
}

type Grants = Partial<Record<Permission, Access>>;

/** Every permission but userManagement, which only admin holds (users and roles are an admin's job). */
const everything = (access: Access): Grants =>
  Object.fromEntries(PERMISSIONS.filter((p) => p !== "userManagement").map((p) => [p, access])) as Grants;

// Every role holds `user` read-write (spec 1.4: "every custom role must include user read-write").
const ROLE_GRANTS: Record<string, { description: string; grants: Grants }> = {
  admin: {
    description: "Administrator",
    grants: { ...everything("readWrite"), userManagement: "readWrite" },
  },
  operator: {
    description: "Operator: everything but the system scan settings, which it may read",
    grants: { ...everything("readWrite"), systemOperations: "read" },
  },
  auditor: {
    description: "Auditor: read-only everywhere",
    grants: { ...everything("read"), user: "readWrite" },
  },
  vulnerabilityManager: {
    description:
      "Vulnerability Manager: registry settings, scans and results; reads credentials and settings",
    grants: {
      policyContainers: "readWrite",
      monitorImages: "readWrite",
      manageCreds: "read",
      systemOperations: "read",
      user: "readWrite",
    },
  },
  devSecOps: {
    description: "DevSecOps User: reads scan results, no registry settings",
    grants: { monitorImages: "read", user: "readWrite" },
  },
  devOps: {
    description: "DevOps User: reads scan results",
    grants: { monitorImages: "read", user: "readWrite" },
  },
  defenderManager: {
    description: "Defender Manager: reads the credentials Defenders use",
    grants: { manageCreds: "read", systemOperations: "read", user: "readWrite" },
  },
  user: { description: "Access User", grants: { user: "readWrite" } },
  ci: { description: "CI User", grants: { user: "readWrite" } },
};

export const ROLE_NAMES = Object.keys(ROLE_GRANTS);

export function isRole(name: string): boolean {
  return Object.hasOwn(ROLE_GRANTS, name);
}

/** Whether `role` may use a route needing `permission`, reading or writing. Unknown roles may not. */
export function allows(role: string, permission: Permission, access: Access): boolean {
  if (!isRole(role)) return false;
  const granted = ROLE_GRANTS[role]?.grants[permission];
  return granted === "readWrite" || (granted === "read" && access === "read");
}

/** The access an HTTP method needs: GET and HEAD read, everything else writes (section 9 item 4). */
export function accessFor(method: string): Access {
  return method === "GET" || method === "HEAD" ? "read" : "readWrite";
}

/** A built-in role in the vendor's Role shape (spec 7.11). */
export function roleObject(name: string): Role | undefined {
  const role = ROLE_GRANTS[name];
  if (!role) return undefined;
  const perms = PERMISSIONS.flatMap((p) => {
    const access = role.grants[p];
    return access ? [{ name: p, readWrite: access === "readWrite" }] : [];
  });
  return { name, description: role.description, system: true, perms };
}
