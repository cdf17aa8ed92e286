/**
 * Package URLs (purl-spec) that never throw: packageurl-js validates per type (a golang version
 * starting with "v" must be SemVer, maven needs a namespace, …) and throws, in some versions even
 * a ReferenceError. What a binary or archive records is reported as recorded, so when the library
 * refuses, the purl is assembled by the spec's rules directly: each namespace segment, the name
 * and the version percent-encoded.
 */
import { PackageURL } from "packageurl-js";

export function purlOf(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
): string {
  try {
    return new PackageURL(type, namespace, name, version, undefined, undefined).toString();
  } catch {
    const ns =
      namespace === undefined || namespace === ""
        ? ""
        : `${namespace.split("/").map(encodeURIComponent).join("/")}/`;
    return `pkg:${type}/${ns}${encodeURIComponent(name)}${version === undefined || version === "" ? "" : `@${encodeURIComponent(version)}`}`;
  }
}
