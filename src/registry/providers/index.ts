/**
 * The registry providers by specification `version` code (spec section 8). One entry per registry
 * product; Docker Hub, ECR, ACR, GCR/GAR, GitLab, Harbor, Quay, Artifactory, Nexus and the others
 * join here as their providers land (issue 6).
 */
import { awsProvider } from "./aws.js";
import { azureProvider } from "./azure.js";
import { bluemixProvider } from "./bluemix.js";
import { coreosProvider } from "./coreos.js";
import { dockerV2Provider } from "./docker-v2.js";
import { dtrProvider } from "./dtr.js";
import { gcrProvider } from "./gcr.js";
import { ghcrProvider } from "./ghcr.js";
import { gitlabProvider } from "./gitlab.js";
import { harborProvider } from "./harbor.js";
import { jfrogProvider } from "./jfrog.js";
import type { RegistryProvider } from "./provider.js";
import { redhatProvider } from "./redhat.js";
import { sonatypeProvider } from "./sonatype.js";

export const providers: readonly RegistryProvider[] = [
  dockerV2Provider,
  harborProvider,
  gitlabProvider,
  jfrogProvider,
  sonatypeProvider,
  bluemixProvider,
  ghcrProvider,
  gcrProvider,
  dtrProvider,
  awsProvider,
  azureProvider,
  coreosProvider,
  redhatProvider,
];

const byType = new Map<string, RegistryProvider>(providers.map((provider) => [provider.type, provider]));

/** The provider for a specification's `version`, or undefined when no provider handles it yet. */
export function providerFor(type: string): RegistryProvider | undefined {
  return byType.get(type);
}
