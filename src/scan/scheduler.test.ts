import assert from "node:assert/strict";
import { test } from "node:test";
import type { ScanRun } from "../store/console-store.js";
import { purgeCutoff } from "./scheduler.js";

const run = (startedAt: string): ScanRun => ({
  id: 1,
  kind: "regular",
  state: "completed",
  specIds: [],
  selective: false,
  hostname: "h",
  startedAt,
});

const cases: [string, string, number, string, string][] = [
  [
    "30 days before now",
    "2026-03-01T10:00:00.000Z",
    30,
    "2026-03-01T12:00:00.000Z",
    "2026-01-30T12:00:00.000Z",
  ],
  ["1 day", "2026-03-01T10:00:00.000Z", 1, "2026-03-01T12:00:00.000Z", "2026-02-28T12:00:00.000Z"],
  // Retention 0 would otherwise purge this run's own results (scanned before "now").
  [
    "0 days: the run's own start",
    "2026-03-01T10:00:00.000Z",
    0,
    "2026-03-01T12:00:00.000Z",
    "2026-03-01T10:00:00.000Z",
  ],
  [
    "a run longer than the retention",
    "2026-02-01T00:00:00.000Z",
    1,
    "2026-03-01T00:00:00.000Z",
    "2026-02-01T00:00:00.000Z",
  ],
];

for (const [name, startedAt, days, now, expected] of cases) {
  test(`purgeCutoff: ${name}`, () =>
    assert.equal(purgeCutoff(run(startedAt), days, new Date(now)), expected));
}
