/**
 * The requests of the Terraform provider PaloAltoNetworks/terraform-provider-prismacloudcompute,
 * reproduced in TypeScript for compatibility tests (Go and terraform are not available here).
 *
 * Each exported operation issues the HTTP requests the provider's resource function issues, in the
 * same order, with the same bodies (Go encoding/json: struct field order, `omitempty`, HTML-safe
 * escaping) and the same headers as Go's net/http client. Sources, by file and function:
 *
 *   internal/api/client.go             Request, Authenticate, APIClient   @12974858944f3b0e200aab8f4f08de63d88066ea
 *   internal/api/settings/registry.go  GetRegistrySettings, UpdateRegistrySettings @9472a21223b1d7747a262da0e9a8bd98affbc85f
 *   internal/provider/resource_settings_registry.go create/read/update/deleteRegistrySettings @30a2f5cf38ad2b4e5d69b4d192fcb0345e7ec843
 *   internal/convert/registry.go       SchemaToRegistrySpecification      @010e0d0b6f6f8185871ff968f92efeb6fad88c03
 *   internal/api/auth/credential.go    Credential, ListCredentials, GetCredential, UpdateCredential, DeleteCredential @010e0d0b
 *   internal/provider/resource_credentials.go create/read/deleteCredentials @010e0d0b
 *
 * Error handling follows the provider revisions that decode `{"err": …}` (ErrResponse) on a non-200
 * answer; the two revisions named above return only "Non-OK status: <code>". docs/clients.md lists
 * what the server must honour for these requests.
 */
import { gunzipSync } from "node:zlib";
import { Agent, request } from "undici";

/** provider.go configure → api.APIClientConfig */
export interface ProviderConfig {
  /** console_url, e.g. `https://127.0.0.1:8083`; a URL without scheme gets `https` (client.go Request). */
  consoleUrl: string;
  username: string;
  password: string;
  /** project: added as `?project=` to every request when set. */
  project?: string;
  /** skip_cert_verification; the provider's default is true. */
  skipCertVerification?: boolean;
}

/** One `specification` block of `prismacloudcompute_registry_settings` (resource_settings_registry.go schema). */
export interface RegistrySpecificationBlock {
  cap?: number;
  collections?: string[];
  credential?: string;
  excluded_repositories?: string[];
  excluded_tags?: string[];
  harbor_deployment_security?: boolean;
  jfrog_repo_types?: string[];
  namespace?: string;
  os?: string;
  registry?: string;
  repository?: string;
  scanners?: number;
  tag?: string;
  /** Becomes the wire field `version` (convert/registry.go). */
  type?: string;
  version_pattern?: string;
}

/** settings.RegistrySpecification as the provider decodes it (unknown fields are dropped by Go). */
export interface DecodedRegistrySpecification {
  cap: number;
  collections: string[] | null;
  credentialID: string;
  excludedRepositories: string[] | null;
  excludedTags: string[] | null;
  harborDeploymentSecurity: boolean;
  jfrogRepoTypes: string[] | null;
  namespace: string;
  os: string;
  tag: string;
  registry: string;
  repository: string;
  scanners: number;
  version: string;
  versionPattern: string;
}

/** The attributes of `prismacloudcompute_credential` (resource_credentials.go schema). */
export interface CredentialBlock {
  name: string;
  type?: string;
  account_id?: string;
  ibm_account_guid?: string;
  description?: string;
  ca_cert?: string;
  role_arn?: string;
  url?: string;
  skip_cert_verification?: boolean;
  use_aws_role?: boolean;
  secret?: { plain?: string; encrypted?: string };
  api_token?: { plain?: string; encrypted?: string };
}

/** One exchange as sent and answered, for tests to assert on. */
export interface RecordedExchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  responseBody: string;
}

/** What a failed provider call returns to Terraform (fmt.Errorf chains of the Go source). */
export class ProviderError extends Error {}

/** A Go type of a JSON value, enough to reproduce encoding/json's decoding errors. */
type GoType = "string" | "int" | "bool" | "[]string";

const REGISTRY_SPEC_FIELDS: ReadonlyArray<readonly [keyof DecodedRegistrySpecification, GoType]> = [
  ["cap", "int"],
  ["collections", "[]string"],
  ["credentialID", "string"],
  ["excludedRepositories", "[]string"],
  ["excludedTags", "[]string"],
  ["harborDeploymentSecurity", "bool"],
  ["jfrogRepoTypes", "[]string"],
  ["namespace", "string"],
  ["os", "string"],
  ["tag", "string"],
  ["registry", "string"],
  ["repository", "string"],
  ["scanners", "int"],
  ["version", "string"],
  ["versionPattern", "string"],
];

/** Go's json.Marshal escapes these for HTML safety; JSON.stringify does not. */
function goJsonMarshal(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** encoding/json `omitempty`: false, 0, "", nil and empty slices are dropped; structs never are. */
function omitEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === false ||
    value === 0 ||
    value === "" ||
    (Array.isArray(value) && value.length === 0)
  );
}

function goStruct(
  fields: ReadonlyArray<readonly [string, unknown, "omitempty" | "struct"]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value, mode] of fields) {
    if (mode === "struct" || !omitEmpty(value)) out[name] = value;
  }
  return out;
}

/** settings.RegistrySpecification fields in declaration order, all `omitempty` (settings/registry.go). */
function registrySpecificationJson(block: RegistrySpecificationBlock): Record<string, unknown> {
  return goStruct([
    ["cap", block.cap ?? 0, "omitempty"],
    ["collections", block.collections ?? [], "omitempty"],
    ["credentialID", block.credential ?? "", "omitempty"],
    ["excludedRepositories", block.excluded_repositories ?? [], "omitempty"],
    ["excludedTags", block.excluded_tags ?? [], "omitempty"],
    ["harborDeploymentSecurity", block.harbor_deployment_security ?? false, "omitempty"],
    ["jfrogRepoTypes", block.jfrog_repo_types ?? [], "omitempty"],
    ["namespace", block.namespace ?? "", "omitempty"],
    ["os", block.os ?? "", "omitempty"],
    ["tag", block.tag ?? "", "omitempty"],
    ["registry", block.registry ?? "", "omitempty"],
    ["repository", block.repository ?? "", "omitempty"],
    ["scanners", block.scanners ?? 0, "omitempty"],
    ["version", block.type ?? "", "omitempty"],
    ["versionPattern", block.version_pattern ?? "", "omitempty"],
  ]);
}

/**
 * settings.RegistrySettings{Specifications: …} with `json:"specifications,omitempty"`: an empty list
 * is omitted, so the provider's delete sends `{}`, not `{"specifications":[]}`.
 */
export function registrySettingsBody(blocks: RegistrySpecificationBlock[]): string {
  return goJsonMarshal(goStruct([["specifications", blocks.map(registrySpecificationJson), "omitempty"]]));
}

function secretJson(secret: CredentialBlock["secret"]): Record<string, unknown> {
  return goStruct([
    ["encrypted", secret?.encrypted ?? "", "omitempty"],
    ["plain", secret?.plain ?? "", "omitempty"],
  ]);
}

/** auth.Credential fields in declaration order; Secret structs are always present, even as `{}`. */
export function credentialBody(block: CredentialBlock): string {
  return goJsonMarshal(
    goStruct([
      ["_id", block.name, "omitempty"],
      ["accountGUID", block.ibm_account_guid ?? "", "omitempty"],
      ["accountID", block.account_id ?? "", "omitempty"],
      ["apiToken", secretJson(block.api_token), "struct"],
      ["caCert", block.ca_cert ?? "", "omitempty"],
      ["created", "", "omitempty"],
      ["description", block.description ?? "", "omitempty"],
      ["external", false, "omitempty"],
      ["lastModified", "", "omitempty"],
      ["owner", "", "omitempty"],
      ["roleArn", block.role_arn ?? "", "omitempty"],
      ["secret", secretJson(block.secret), "struct"],
      ["skipVerify", block.skip_cert_verification ?? false, "omitempty"],
      ["tokens", [], "omitempty"],
      ["type", block.type ?? "", "omitempty"],
      ["url", block.url ?? "", "omitempty"],
      ["useAWSRole", block.use_aws_role ?? false, "omitempty"],
    ]),
  );
}

/** encoding/json into a typed field: null leaves the zero value, a wrong JSON type is an error. */
function decodeGoField(owner: string, name: string, type: GoType, value: unknown): unknown {
  const fail = (): never => {
    throw new ProviderError(
      `json: cannot unmarshal ${JSON.stringify(value)} into Go struct field ${owner}.${name} of type ${type}`,
    );
  };
  if (value === null || value === undefined)
    return type === "int" ? 0 : type === "bool" ? false : type === "string" ? "" : null;
  switch (type) {
    case "string":
      return typeof value === "string" ? value : fail();
    case "bool":
      return typeof value === "boolean" ? value : fail();
    case "int":
      return typeof value === "number" && Number.isInteger(value) ? value : fail();
    case "[]string":
      return Array.isArray(value) && value.every((v) => typeof v === "string" || v === null)
        ? value.map((v) => v ?? "")
        : fail();
  }
}

/** Go's encoding/json matches object keys to field names case-insensitively. */
function goField(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

function decodeRegistrySpecification(value: unknown): DecodedRegistrySpecification {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProviderError("json: cannot unmarshal into Go value of type settings.RegistrySpecification");
  }
  const decoded: Record<string, unknown> = {};
  for (const [name, type] of REGISTRY_SPEC_FIELDS) {
    decoded[name] = decodeGoField(
      "RegistrySpecification",
      name,
      type,
      goField(value as Record<string, unknown>, name),
    );
  }
  return decoded as unknown as DecodedRegistrySpecification;
}

/** Go url.URL.EscapedPath for a path set without RawPath: escape all but unreserved and `$&+,/:;=@`. */
function goEscapePath(path: string): string {
  return Array.from(new TextEncoder().encode(path), (byte) => {
    const c = String.fromCharCode(byte);
    return /[A-Za-z0-9\-._~$&+,/:;=@]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }).join("");
}

/** Go path.Join: join with "/" and clean (".." and "." resolved, duplicate slashes removed). */
function goPathJoin(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  if (joined === "") return "";
  const rooted = joined.startsWith("/");
  const out: string[] = [];
  for (const segment of joined.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
    } else out.push(segment);
  }
  const cleaned = out.join("/");
  return rooted ? `/${cleaned}` : cleaned || ".";
}

/** Go url.Values.Encode: keys sorted, QueryEscape (space as '+'). */
function goQueryEncode(values: Map<string, string[]>): string {
  const queryEscape = (s: string) =>
    encodeURIComponent(s)
      .replace(/%20/g, "+")
      .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [...values.keys()]
    .sort()
    .flatMap((key) => (values.get(key) ?? []).map((v) => `${queryEscape(key)}=${queryEscape(v)}`))
    .join("&");
}

/** Go's net/http sends a Content-Length for an empty body only on these methods. */
const METHODS_WITH_EMPTY_CONTENT_LENGTH = new Set(["POST", "PUT", "PATCH"]);
/** client.go Request: a 429 is retried after this pause, without limit. */
const RETRY_429_MS = 3000;

/** The provider's api.Client after APIClient(config): authenticated, with the JWT kept. */
export class TerraformProviderClient {
  readonly exchanges: RecordedExchange[] = [];
  private jwt = "";
  private readonly dispatcher: Agent;

  private constructor(private readonly config: ProviderConfig) {
    this.dispatcher = new Agent({ connect: { rejectUnauthorized: !(config.skipCertVerification ?? true) } });
  }

  /** client.go APIClient: build the HTTP client, then Authenticate (POST /api/v1/authenticate). */
  static async connect(config: ProviderConfig): Promise<TerraformProviderClient> {
    const client = new TerraformProviderClient(config);
    try {
      const answer = (await client.request("POST", "/api/v1/authenticate", {
        body: goJsonMarshal({ username: config.username, password: config.password }),
        decodesAnswer: true,
      })) as { token?: unknown } | undefined;
      client.jwt = typeof answer?.token === "string" ? answer.token : "";
    } catch (error) {
      await client.close();
      throw new ProviderError(
        `error creating API client: error POSTing to authenticate endpoint: ${(error as Error).message}`,
      );
    }
    return client;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** client.go Request: one exchange; 429 → sleep 3 s and send again; non-200 → error. */
  private async request(
    method: string,
    endpoint: string,
    options: { body?: string; decodesAnswer?: boolean } = {},
  ): Promise<unknown> {
    const consoleUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(this.config.consoleUrl)
      ? this.config.consoleUrl
      : `https://${this.config.consoleUrl}`;
    const parsed = new URL(consoleUrl);
    const path = goPathJoin(decodeURIComponent(parsed.pathname === "/" ? "" : parsed.pathname), endpoint);
    const query = new Map<string, string[]>();
    if (this.config.project) query.set("project", [this.config.project]);
    const rawQuery = query.size > 0 ? `?${goQueryEncode(query)}` : "";
    const url = `${parsed.protocol}//${parsed.host}${goEscapePath(path.startsWith("/") ? path : `/${path}`)}${rawQuery}`;
    const body = options.body ?? "";
    // Header set of Go's transport for this request: Host, User-Agent, Content-Length (only with a
    // body, or empty on POST/PUT/PATCH), the two headers Request sets, and Accept-Encoding.
    const headers: Record<string, string> = {
      "user-agent": "Go-http-client/1.1",
      authorization: `Bearer ${this.jwt}`,
      "content-type": "application/json",
      "accept-encoding": "gzip",
    };
    if (body.length > 0 || METHODS_WITH_EMPTY_CONTENT_LENGTH.has(method)) {
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    const response = await request(url, {
      method: method as "GET",
      headers,
      body: body.length > 0 ? body : undefined,
      dispatcher: this.dispatcher,
    });
    let raw = Buffer.from(await response.body.arrayBuffer());
    if (response.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
    const text = raw.toString("utf8");
    this.exchanges.push({ method, url, headers, body, status: response.statusCode, responseBody: text });

    if (response.statusCode === 429) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_429_MS));
      return this.request(method, endpoint, options);
    }
    if (response.statusCode !== 200) {
      let decoded: unknown;
      try {
        decoded = JSON.parse(text);
      } catch (error) {
        // json.Unmarshal's error is returned as is when the error body is not JSON.
        throw new ProviderError(
          text.length === 0 ? "unexpected end of JSON input" : (error as Error).message,
        );
      }
      if (typeof decoded !== "object" || decoded === null || Array.isArray(decoded)) {
        throw new ProviderError(`json: cannot unmarshal ${text} into Go value of type api.ErrResponse`);
      }
      const err = goField(decoded as Record<string, unknown>, "Err");
      throw new ProviderError(
        `Non-OK status: ${response.statusCode} (${typeof err === "string" ? err : ""})`,
      );
    }
    if (text.length === 0) return undefined;
    // Calls made with a nil response pointer (PUT/POST/DELETE) hand the body to json.Unmarshal(body, nil).
    if (options.decodesAnswer !== true) throw new ProviderError("json: Unmarshal(nil)");
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ProviderError((error as Error).message);
    }
  }

  /** settings/registry.go GetRegistrySettings: GET api/v1/settings/registry into RegistrySettings. */
  async readRegistrySettings(): Promise<DecodedRegistrySpecification[]> {
    let answer: unknown;
    try {
      answer = await this.request("GET", "api/v1/settings/registry", { decodesAnswer: true });
    } catch (error) {
      throw new ProviderError(
        `error reading registry: error getting registry settings: ${(error as Error).message}`,
      );
    }
    if (answer === undefined || answer === null) return [];
    if (typeof answer !== "object" || Array.isArray(answer)) {
      throw new ProviderError(
        "error reading registry: json: cannot unmarshal into Go value of type settings.RegistrySettings",
      );
    }
    const specifications = goField(answer as Record<string, unknown>, "specifications");
    if (specifications === undefined || specifications === null) return [];
    if (!Array.isArray(specifications)) {
      throw new ProviderError(
        "error reading registry: json: cannot unmarshal specifications into []settings.RegistrySpecification",
      );
    }
    return specifications.map(decodeRegistrySpecification);
  }

  /** settings/registry.go UpdateRegistrySettings: PUT api/v1/settings/registry, response discarded. */
  private async putRegistrySettings(blocks: RegistrySpecificationBlock[], action: string): Promise<void> {
    try {
      await this.request("PUT", "api/v1/settings/registry", { body: registrySettingsBody(blocks) });
    } catch (error) {
      throw new ProviderError(`error ${action} registry: ${(error as Error).message}`);
    }
  }

  /** resource_settings_registry.go createRegistrySettings: PUT every block, id "registrySettings", then read. */
  async createRegistrySetting(blocks: RegistrySpecificationBlock[]): Promise<DecodedRegistrySpecification[]> {
    await this.putRegistrySettings(blocks, "creating");
    return this.readRegistrySettings();
  }

  /** resource_settings_registry.go updateRegistrySettings: PUT the whole new list, then read. */
  async updateRegistrySetting(blocks: RegistrySpecificationBlock[]): Promise<DecodedRegistrySpecification[]> {
    await this.putRegistrySettings(blocks, "updating");
    return this.readRegistrySettings();
  }

  /** resource_settings_registry.go deleteRegistrySettings: PUT an empty list (marshalled as `{}`). */
  async deleteRegistrySetting(): Promise<void> {
    await this.putRegistrySettings([], "deleting");
  }

  /** auth/credential.go ListCredentials: GET api/v1/credentials into []Credential. */
  private async listCredentials(): Promise<Record<string, unknown>[]> {
    let answer: unknown;
    try {
      answer = await this.request("GET", "api/v1/credentials", { decodesAnswer: true });
    } catch (error) {
      throw new ProviderError(`error listing credentials: ${(error as Error).message}`);
    }
    if (answer === undefined || answer === null) return [];
    if (
      !Array.isArray(answer) ||
      !answer.every((c) => typeof c === "object" && c !== null && !Array.isArray(c))
    ) {
      throw new ProviderError(
        "error listing credentials: json: cannot unmarshal into Go value of type []auth.Credential",
      );
    }
    return answer as Record<string, unknown>[];
  }

  /** resource_credentials.go readCredentials → auth.GetCredential: list all, pick `_id == name`. */
  async readCredential(name: string): Promise<Record<string, unknown>> {
    let credentials: Record<string, unknown>[];
    try {
      credentials = await this.listCredentials();
    } catch (error) {
      throw new ProviderError(
        `error getting credential '${name}' from Console: error getting credential '${name}': ${(error as Error).message}`,
      );
    }
    const found = credentials.find((c) => goField(c, "_id") === name);
    if (found === undefined) {
      throw new ProviderError(
        `error getting credential '${name}' from Console: credential '${name}' not found`,
      );
    }
    return found;
  }

  /** resource_credentials.go createCredentials → auth.UpdateCredential (POST api/v1/credentials), then read. */
  async createCredential(block: CredentialBlock): Promise<Record<string, unknown>> {
    try {
      await this.request("POST", "api/v1/credentials", { body: credentialBody(block) });
    } catch (error) {
      throw new ProviderError(`error creating credential '${block.name}': ${(error as Error).message}`);
    }
    return this.readCredential(block.name);
  }

  /** resource_credentials.go deleteCredentials → auth.DeleteCredential: DELETE api/v1/credentials/<name>, no body. */
  async deleteCredential(name: string): Promise<void> {
    try {
      await this.request("DELETE", `api/v1/credentials/${name}`);
    } catch (error) {
      throw new ProviderError(`error deleting credential: ${(error as Error).message}`);
    }
  }
}
