/**
 * The wire contract of the console: TypeBox schemas for the request and response bodies of the
 * registry-scanning API, field by field from ../shared/spec/prisma-registry-api.md section 7.
 * The static types derived here are the console's domain types too (store, scan orchestration),
 * because in a compatible server the wire shape is the model.
 *
 * Objects accept unknown properties: older clients send legacy keys (hostname, useAWSRole, roleArn,
 * credentialId) that must be ignored, not rejected (spec 1.7).
 */
import { type Static, Type } from "typebox";

/** Go's zero time: how the vendor encodes an unset timestamp (spec 1.7). */
export const ZERO_TIME = "0001-01-01T00:00:00Z";

export const ErrorBody = Type.Object({ err: Type.String() });
export type ErrorBody = Static<typeof ErrorBody>;

export const AuthenticationRequest = Type.Object({
  username: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  token: Type.Optional(Type.String()),
});
export type AuthenticationRequest = Static<typeof AuthenticationRequest>;

export const AuthenticationResponse = Type.Object({ token: Type.String() });

/** Registry type codes of RegistrySpecification.version (spec section 8), plus ghcr. */
export const REGISTRY_TYPES = [
  "2",
  "aws",
  "azure",
  "coreos",
  "dtr",
  "gcr",
  "gitlab",
  "harbor",
  "bluemix",
  "jfrog",
  "redhat",
  "sonatype",
  "ghcr",
] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];

export const CREDENTIAL_TYPES = [
  "aws",
  "azure",
  "gcp",
  "ibmCloud",
  "oci",
  "apiToken",
  "basic",
  "dtr",
  "kubeconfig",
  "certificate",
  "gitlabToken",
  "githubToken",
  "githubEnterpriseToken",
] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

/** A secret: `plain` is accepted on write and never returned; `encrypted` is what reads show. */
export const Secret = Type.Object({
  encrypted: Type.Optional(Type.String()),
  plain: Type.Optional(Type.String()),
});
export type Secret = Static<typeof Secret>;

export const Credential = Type.Object({
  _id: Type.String(),
  type: Type.String(),
  description: Type.Optional(Type.String()),
  accountID: Type.Optional(Type.String()),
  accountGUID: Type.Optional(Type.String()),
  accountName: Type.Optional(Type.String()),
  secret: Type.Optional(Secret),
  apiToken: Type.Optional(Secret),
  caCert: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  skipVerify: Type.Optional(Type.Boolean()),
  roleArn: Type.Optional(Type.String()),
  useAWSRole: Type.Optional(Type.Boolean()),
  useSTSRegionalEndpoint: Type.Optional(Type.Boolean()),
  stsEndpoints: Type.Optional(Type.Array(Type.String())),
  azureSPInfo: Type.Optional(
    Type.Object({
      clientId: Type.Optional(Type.String()),
      tenantId: Type.Optional(Type.String()),
      subscriptionId: Type.Optional(Type.String()),
      miType: Type.Optional(Type.String()),
    }),
  ),
  global: Type.Optional(Type.Boolean()),
  external: Type.Optional(Type.Boolean()),
  cloudProviderAccountID: Type.Optional(Type.String()),
  created: Type.Optional(Type.String()),
  lastModified: Type.Optional(Type.String()),
  owner: Type.Optional(Type.String()),
});
export type Credential = Static<typeof Credential>;

export const CredentialUsage = Type.Object({ type: Type.String(), description: Type.String() });
export type CredentialUsage = Static<typeof CredentialUsage>;

export const GitlabRegistrySpec = Type.Object({
  userID: Type.Optional(Type.String()),
  projectIDs: Type.Optional(Type.Array(Type.String())),
  groupIDs: Type.Optional(Type.Array(Type.String())),
  excludedGroupIDs: Type.Optional(Type.Array(Type.String())),
  apiDomainName: Type.Optional(Type.String()),
});
export type GitlabRegistrySpec = Static<typeof GitlabRegistrySpec>;

export const RegistrySpecification = Type.Object({
  version: Type.String(),
  registry: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  repository: Type.Optional(Type.String()),
  excludedRepositories: Type.Optional(Type.Array(Type.String())),
  tag: Type.Optional(Type.String()),
  excludedTags: Type.Optional(Type.Array(Type.String())),
  credentialID: Type.Optional(Type.String()),
  credential: Type.Optional(Type.Unknown()),
  os: Type.Optional(Type.String()),
  cap: Type.Optional(Type.Number()),
  scanners: Type.Optional(Type.Number()),
  collections: Type.Optional(Type.Array(Type.String())),
  versionPattern: Type.Optional(Type.String()),
  harborDeploymentSecurity: Type.Optional(Type.Boolean()),
  jfrogRepoTypes: Type.Optional(Type.Array(Type.String())),
  gitlabRegistrySpec: Type.Optional(GitlabRegistrySpec),
  caCert: Type.Optional(Type.String()),
  azureCloudMetadata: Type.Optional(Type.Unknown()),
  // Server-managed (clients may echo them back; the server keeps its own values).
  id: Type.Optional(Type.String()),
  scanStatus: Type.Optional(Type.String()),
  lastScanStatus: Type.Optional(Type.String()),
  scanTime: Type.Optional(Type.String()),
  lastScanTime: Type.Optional(Type.String()),
  scanError: Type.Optional(Type.String()),
  scannedImagesSuccessTotal: Type.Optional(Type.Number()),
});
export type RegistrySpecification = Static<typeof RegistrySpecification>;

export const RegistrySettings = Type.Object({
  specifications: Type.Array(RegistrySpecification),
  webhookUrlSuffix: Type.Optional(Type.String()),
  harborScannerUrlSuffix: Type.Optional(Type.String()),
});
export type RegistrySettings = Static<typeof RegistrySettings>;

export const ImageTag = Type.Object({
  registry: Type.Optional(Type.String()),
  repo: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
  digest: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
});
export type ImageTag = Static<typeof ImageTag>;

export const RegistryScanRequest = Type.Object({
  onDemandScan: Type.Optional(Type.Boolean()),
  tag: Type.Optional(ImageTag),
  settings: Type.Optional(RegistrySpecification),
  scanID: Type.Optional(Type.Number()),
  type: Type.Optional(Type.Number()),
});
export type RegistryScanRequest = Static<typeof RegistryScanRequest>;

export const Progress = Type.Object({
  id: Type.String(),
  type: Type.String(),
  discovery: Type.Boolean(),
  total: Type.Number(),
  scanned: Type.Number(),
  title: Type.String(),
  error: Type.Optional(Type.String()),
  onDemand: Type.Optional(Type.Boolean()),
});
export type Progress = Static<typeof Progress>;

export const RegistryScanProgress = Type.Object({
  discovery: Progress,
  imageScan: Progress,
  isScanOngoing: Type.Boolean(),
  specScanStartTime: Type.String(),
});
export type RegistryScanProgress = Static<typeof RegistryScanProgress>;

export const ScanStatus = Type.Object({
  completed: Type.Boolean(),
  scanning: Type.Boolean(),
  scanTime: Type.String(),
  errors: Type.Array(Type.String()),
  hostname: Type.String(),
  selective: Type.Boolean(),
});
export type ScanStatus = Static<typeof ScanStatus>;

export const ScanSettings = Type.Object({
  registryScanPeriodMs: Type.Number(),
  registryScanRetentionDays: Type.Number(),
  imagesScanPeriodMs: Type.Number(),
  containersScanPeriodMs: Type.Number(),
  systemScanPeriodMs: Type.Number(),
  serverlessScanPeriodMs: Type.Number(),
  vmScanPeriodMs: Type.Number(),
  tasDropletsScanPeriodMs: Type.Number(),
  cloudPlatformsScanPeriodMs: Type.Number(),
  agentlessScanPeriodMs: Type.Number(),
  scanRunningImages: Type.Boolean(),
  showNegligibleVulnerabilities: Type.Boolean(),
  showInfraContainers: Type.Boolean(),
  extractArchive: Type.Boolean(),
  includeJsDependencies: Type.Boolean(),
});
export type ScanSettings = Static<typeof ScanSettings>;

const DAY_MS = 86_400_000;

export const DEFAULT_SCAN_SETTINGS: ScanSettings = {
  registryScanPeriodMs: DAY_MS,
  registryScanRetentionDays: 30,
  imagesScanPeriodMs: DAY_MS,
  containersScanPeriodMs: DAY_MS,
  systemScanPeriodMs: DAY_MS,
  serverlessScanPeriodMs: DAY_MS,
  vmScanPeriodMs: DAY_MS,
  tasDropletsScanPeriodMs: DAY_MS,
  cloudPlatformsScanPeriodMs: DAY_MS,
  agentlessScanPeriodMs: DAY_MS,
  scanRunningImages: false,
  showNegligibleVulnerabilities: false,
  showInfraContainers: false,
  extractArchive: false,
  includeJsDependencies: false,
};
