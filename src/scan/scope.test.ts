/**
 * inScope (spec 4.1 and 6.6): whether an image named by an on-demand scan or a webhook lies in a
 * registry specification, including Docker Hub's official images under library/.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RegistrySpecification } from "../api/schemas.js";
import type { OnDemandTarget } from "./control.js";
import { inScope } from "./orchestrator.js";

const spec = (fields: Partial<RegistrySpecification>): RegistrySpecification =>
  ({ version: "2", registry: "", repository: "", ...fields }) as RegistrySpecification;

describe("inScope", () => {
  const table: [name: string, spec: Partial<RegistrySpecification>, target: OnDemandTarget, want: boolean][] =
    [
      [
        "Docker Hub: a bare name is library/",
        { repository: "alpine" },
        { registry: "docker.io", repo: "library/alpine" },
        true,
      ],
      [
        "Docker Hub: a bare pattern is library/",
        { repository: "ubuntu*" },
        { repo: "library/ubuntu-debootstrap" },
        true,
      ],
      [
        "Docker Hub: another namespace is not library/",
        { repository: "alpine" },
        { repo: "acme/alpine" },
        false,
      ],
      [
        "Docker Hub: exclusions are library/ too",
        { repository: "*", excludedRepositories: ["alpine"] },
        { repo: "library/alpine" },
        false,
      ],
      [
        "Docker Hub by host name",
        { registry: "registry-1.docker.io", repository: "acme/*" },
        { registry: "docker.io", repo: "acme/api" },
        true,
      ],
      [
        "another registry keeps names as written",
        { registry: "127.0.0.1:5000", repository: "alpine" },
        { registry: "127.0.0.1:5000", repo: "library/alpine" },
        false,
      ],
      [
        "another registry: exact name",
        { registry: "127.0.0.1:5000", repository: "alpine" },
        { registry: "127.0.0.1:5000", repo: "alpine" },
        true,
      ],
      [
        "another type on docker.io keeps names",
        { version: "harbor", registry: "docker.io", repository: "alpine" },
        { registry: "docker.io", repo: "library/alpine" },
        false,
      ],
      [
        "another registry is out of scope",
        { registry: "127.0.0.1:5000", repository: "*" },
        { registry: "127.0.0.1:5001", repo: "alpine" },
        false,
      ],
      [
        "tag pattern and exclusions",
        { repository: "acme/*", tag: "v*", excludedTags: ["v1-rc"] },
        { repo: "acme/api", tag: "v1-rc" },
        false,
      ],
    ];
  for (const [name, fields, target, want] of table) {
    test(name, () => assert.equal(inScope(spec(fields), target), want));
  }
});
