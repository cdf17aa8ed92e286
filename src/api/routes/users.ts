/**
 * User management, as Prisma Cloud Compute names it: GET/POST/PUT /users, DELETE /users/{username},
 * GET /rbac/roles (the built-in roles as Role objects, spec 7.11), all under `userManagement`
 * (admin only), and PUT /users/password, with which any user changes their own password.
 *
 * Users are local ("basic" authType) with one built-in role each. Passwords are at least 8
 * characters and stored scrypt-hashed (src/auth/passwords.ts); responses never carry a hash.
 * The last admin cannot be deleted or given another role, so the console always has someone who
 * can manage it. A token names its user only (src/auth/tokens.ts) and the role is read per request,
 * so a changed role applies to the next request; a deleted user's tokens are revoked, also against
 * a new user of the same name.
 */
import { Type } from "typebox";
import { hashPassword } from "../../auth/passwords.js";
import { isRole, ROLE_NAMES, roleObject } from "../../auth/roles.js";
import type { UserChange, UserRecord } from "../../store/console-store.js";
import { login } from "../authentication.js";
import { ApiError, badRequest, notFound } from "../errors.js";
import { EmptyBody } from "../responses.js";
import { ErrorBody } from "../schemas.js";
import type { RouteContext } from "../server.js";

const ADMIN_ROLE = "admin";
export const MIN_PASSWORD_LENGTH = 8;
/** scrypt hashes any length, but a password longer than this is a mistake, not a password. */
const MAX_PASSWORD_LENGTH = 1024;
const MAX_USERNAME_LENGTH = 256;

/** A user as the API shows it (the vendor's User without password and permission scopes). */
const User = Type.Object({
  username: Type.String(),
  role: Type.String(),
  authType: Type.String({ description: 'Always "basic": local users with a password' }),
});

const NewUser = Type.Object({
  username: Type.String(),
  password: Type.String(),
  role: Type.String(),
  authType: Type.Optional(Type.String()),
});

const UserUpdate = Type.Object({
  username: Type.String(),
  password: Type.Optional(Type.String()),
  role: Type.Optional(Type.String()),
  authType: Type.Optional(Type.String()),
});

const PasswordChange = Type.Object({ oldPassword: Type.String(), newPassword: Type.String() });

const RoleBody = Type.Object({
  name: Type.String(),
  description: Type.String(),
  system: Type.Boolean(),
  perms: Type.Array(Type.Object({ name: Type.String(), readWrite: Type.Boolean() })),
});

const UsernameParams = Type.Object({ apiVersion: Type.String(), username: Type.String() });

const view = (user: UserRecord) => ({ username: user.username, role: user.role, authType: "basic" });

function checkUsername(username: string): void {
  if (username === "") throw badRequest("username must not be empty");
  if (username.trim() !== username) throw badRequest("username must not begin or end with white space");
  if ([...username].length > MAX_USERNAME_LENGTH)
    throw badRequest(`username must be at most ${MAX_USERNAME_LENGTH} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(username)) throw badRequest("username must not hold control characters");
}

function checkPassword(field: string, password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH)
    throw badRequest(`${field} must be at least ${MIN_PASSWORD_LENGTH} characters, got ${length}`);
  if (length > MAX_PASSWORD_LENGTH)
    throw badRequest(`${field} must be at most ${MAX_PASSWORD_LENGTH} characters`);
}

function checkRole(role: string): void {
  if (!isRole(role)) throw badRequest(`unknown role "${role}"; built-in roles: ${ROLE_NAMES.join(", ")}`);
}

function checkAuthType(authType: string | undefined): void {
  if (authType !== undefined && authType !== "" && authType !== "basic")
    throw badRequest(`authType "${authType}" is not supported; this console has local ("basic") users only`);
}

function outcome(change: UserChange, username: string, refused: string): void {
  if (change === "missing") throw notFound(`user ${username} not found`);
  if (change === "last") throw badRequest(refused);
}

export function registerUserRoutes({ app, deps }: RouteContext): void {
  app.get(
    "/users",
    {
      config: { permission: "userManagement" },
      schema: {
        tags: ["users"],
        summary: "Every user with their role (no passwords)",
        response: { 200: Type.Array(User), 403: ErrorBody },
      },
    },
    async () => (await deps.store.listUsers()).map(view),
  );

  app.post(
    "/users",
    {
      config: { permission: "userManagement" },
      schema: {
        tags: ["users"],
        summary: "Create a user with a password and a built-in role",
        body: NewUser,
        response: { 200: EmptyBody, 400: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const { username, password, role, authType } = request.body;
      checkUsername(username);
      checkAuthType(authType);
      checkRole(role);
      checkPassword("password", password);
      const created = await deps.store.createUser({
        username,
        role,
        passwordHash: await hashPassword(password),
        createdAt: new Date().toISOString(),
      });
      if (!created) throw badRequest(`user ${username} already exists; PUT /users changes a user`);
      return reply.code(200).send();
    },
  );

  app.put(
    "/users",
    {
      config: { permission: "userManagement" },
      schema: {
        tags: ["users"],
        summary: "Change a user's role or password",
        body: UserUpdate,
        response: { 200: EmptyBody, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const { username, password, role, authType } = request.body;
      checkAuthType(authType);
      if (role !== undefined) checkRole(role);
      // An empty password is how the vendor's UI sends "unchanged".
      const newPassword = password === undefined || password === "" ? undefined : password;
      if (newPassword !== undefined) checkPassword("password", newPassword);
      if (role === undefined && newPassword === undefined)
        throw badRequest("nothing to change: give a role or a password");
      const change = await deps.store.updateUser(
        username,
        {
          ...(role !== undefined ? { role } : {}),
          ...(newPassword !== undefined ? { passwordHash: await hashPassword(newPassword) } : {}),
        },
        ADMIN_ROLE,
      );
      outcome(change, username, `user ${username} is the last admin; make another user admin first`);
      return reply.code(200).send();
    },
  );

  app.delete(
    "/users/:username",
    {
      config: { permission: "userManagement" },
      schema: {
        tags: ["users"],
        summary: "Delete a user; their tokens stop working",
        params: UsernameParams,
        response: { 200: EmptyBody, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const { username } = request.params;
      const change = await deps.store.deleteUser(username, ADMIN_ROLE);
      outcome(change, username, `user ${username} is the last admin and cannot be deleted`);
      deps.tokens.revokeUser(username);
      return reply.code(200).send();
    },
  );

  app.put(
    "/users/password",
    {
      config: { permission: "user" },
      schema: {
        tags: ["users"],
        summary: "Change the calling user's own password",
        body: PasswordChange,
        response: { 200: EmptyBody, 400: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const user = request.user as UserRecord;
      const { oldPassword, newPassword } = request.body;
      // Checked as a login (failures counted, 429 while blocked): a stolen token must not become a
      // password-guessing oracle.
      try {
        await login(deps, user.username, oldPassword, request.ip);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401)
          throw badRequest("oldPassword is not the current password");
        throw err;
      }
      checkPassword("newPassword", newPassword);
      const change = await deps.store.updateUser(
        user.username,
        { passwordHash: await hashPassword(newPassword) },
        ADMIN_ROLE,
      );
      if (change === "missing") throw notFound(`user ${user.username} no longer exists`);
      return reply.code(200).send();
    },
  );

  app.get(
    "/rbac/roles",
    {
      config: { permission: "userManagement" },
      schema: {
        tags: ["users"],
        summary: "The built-in roles and the permissions each grants (spec 7.11)",
        response: { 200: Type.Array(RoleBody), 403: ErrorBody },
      },
    },
    async () => ROLE_NAMES.map((name) => roleObject(name)).filter((role) => role !== undefined),
  );
}
