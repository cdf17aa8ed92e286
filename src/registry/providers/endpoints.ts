/**
 * The fixed public endpoints of cloud services the providers call besides the registry itself
 * (Docker Hub's API, GitHub's API, IBM Cloud IAM, Artifact Registry's API, …). Each can be moved by
 * an environment variable, `SHIPSHAPE_<SERVICE>_URL`, for private or sovereign-cloud endpoints,
 * air-gapped mirrors of an API, and the tests' simulations. Services whose official SDK has its own
 * setting (AWS `AWS_ENDPOINT_URL_<SERVICE>`, Entra ID's authority host) use that instead.
 */
import { UnsupportedError } from "../errors.js";

/** `fallback`, or the URL in environment variable `envName`; always ends in "/" to resolve paths against. */
export function serviceEndpoint(envName: string, fallback: string, env = process.env): URL {
  const configured = env[envName]?.trim();
  const text = configured ? configured : fallback;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UnsupportedError({ registry: text }, `${envName} is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UnsupportedError({ registry: text }, `${envName} must be an http(s) URL, not ${url.protocol}`);
  }
  if (!url.pathname.endsWith("/")) url.pathname = `${url.pathname}/`;
  return url;
}
