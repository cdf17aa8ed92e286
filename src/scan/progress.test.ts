import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ZERO_TIME } from "../api/schemas.js";
import type { SpecProgressCounts } from "../store/console-store.js";
import {
  emptyCounts,
  onDemandDiscoveryTitle,
  onDemandImageScanTitle,
  onDemandScanProgress,
  regularDiscoveryTitle,
  regularImageScanTitle,
  regularSpecProgress,
} from "./progress.js";

const counts = (patch: Partial<SpecProgressCounts>): SpecProgressCounts => ({
  ...emptyCounts("s1"),
  ...patch,
});

describe("progress titles (spec 4.5, literally)", () => {
  const cases: [string, string, string][] = [
    [
      "regular step 1, one Defender stays plural",
      regularDiscoveryTitle("us-west2-docker.pkg.dev", 2, 4, 1),
      "Step 1/2 discovering tags in registry us-west2-docker.pkg.dev: Discovered tags in 2/4 repositories with 1 Defenders",
    ],
    [
      "regular step 2, several Defenders stay singular",
      regularImageScanTitle("127.0.0.1:5000", 0, 2, 3),
      "Step 2/2 scanning images in registry 127.0.0.1:5000: Scanned 0/2 images with 3 Defender",
    ],
    [
      "on-demand step 1",
      onDemandDiscoveryTitle("library/alpine", "3.16"),
      "Step 1/2 discovering tags in repository: library/alpine, tag: 3.16",
    ],
    [
      "on-demand step 2",
      onDemandImageScanTitle("library/alpine", "3.16"),
      "Step 2/2 scanning images in repository: library/alpine, tag: 3.16",
    ],
  ];
  for (const [name, actual, expected] of cases) test(name, () => assert.equal(actual, expected));
});

describe("progress shapes", () => {
  test("the spec's regular example, from counts", () => {
    assert.deepEqual(
      regularSpecProgress({
        registry: "us-west2-docker.pkg.dev",
        counts: counts({ reposTotal: 4, reposDone: 2, imagesTotal: 2, imagesFinished: 0 }),
        defenders: 1,
        startedAt: ZERO_TIME,
      }),
      {
        discovery: {
          id: "",
          type: "",
          discovery: false,
          total: 4,
          scanned: 2,
          title:
            "Step 1/2 discovering tags in registry us-west2-docker.pkg.dev: Discovered tags in 2/4 repositories with 1 Defenders",
        },
        imageScan: {
          id: "",
          type: "",
          discovery: false,
          total: 2,
          scanned: 0,
          title:
            "Step 2/2 scanning images in registry us-west2-docker.pkg.dev: Scanned 0/2 images with 1 Defender",
        },
        isScanOngoing: true,
        specScanStartTime: ZERO_TIME,
      },
    );
  });

  test("the spec's finished on-demand example, from counts", () => {
    assert.deepEqual(
      onDemandScanProgress({
        repo: "library/alpine",
        tag: "3.16",
        counts: counts({
          reposTotal: 1,
          reposDone: 1,
          imagesTotal: 1,
          imagesFinished: 1,
          imagesSucceeded: 1,
        }),
        ongoing: false,
        startedAt: ZERO_TIME,
      }),
      {
        discovery: {
          id: "",
          type: "",
          discovery: false,
          total: 1,
          scanned: 1,
          title: "Step 1/2 discovering tags in repository: library/alpine, tag: 3.16",
        },
        imageScan: {
          id: "",
          type: "",
          discovery: false,
          total: 1,
          scanned: 1,
          title: "Step 2/2 scanning images in repository: library/alpine, tag: 3.16",
        },
        isScanOngoing: false,
        specScanStartTime: ZERO_TIME,
      },
    );
  });

  test("an on-demand error is carried on the image step", () => {
    const progress = onDemandScanProgress({
      repo: "r",
      tag: "t",
      counts: counts({ imagesTotal: 1, imagesFinished: 1, imagesFailed: 1 }),
      ongoing: false,
      startedAt: "2026-01-01T00:00:00.000Z",
      error: "Failed to scan image x: boom",
    });
    assert.equal(progress.imageScan.error, "Failed to scan image x: boom");
    assert.equal(progress.discovery.error, undefined);
    assert.equal(progress.specScanStartTime, "2026-01-01T00:00:00.000Z");
  });
});
