/** Every feed shipshape builds its database from, and the CVSS enrichment applied after them. */
import type { FeedSource } from "../source.js";
import type { EnrichmentSource } from "../update.js";
import { alpineSecdbSource } from "./alpine-secdb.js";
import { cveCvssSource } from "./cve-enrichment.js";
import { debianTrackerSource } from "./debian-tracker.js";
import { friendsOfPhpSource } from "./friendsofphp.js";
import { nodejsSource } from "./nodejs.js";
import { defaultOsvSources } from "./osv.js";
import { rubysecSource } from "./rubysec.js";

export const feedSources: readonly FeedSource[] = [
  ...defaultOsvSources(),
  alpineSecdbSource,
  debianTrackerSource,
  nodejsSource,
  rubysecSource,
  friendsOfPhpSource,
];

export const enrichmentSources: readonly EnrichmentSource[] = [cveCvssSource];
