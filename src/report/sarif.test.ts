/**
 * No SARIF JSON-schema validator is installed, so `checkSarif` checks the parts of the SARIF 2.1.0
 * schema this output uses (the properties each object may have, required fields, enumerations) and
 * what GitHub code scanning requires on top (rules with security-severity and tags, results whose
 * ruleId/ruleIndex resolve, relative artifact URIs, at most 25,000 results and 20 tags per rule).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Finding } from "../match/types.js";
import {
  alpineNoData,
  glibcWontFix,
  lodashLock,
  lodashModules,
  log4shell,
  mixinUnknown,
  NODE_APP_FINDINGS,
  nodeAppResult,
  tarLow,
  zlibUnfixed,
} from "./findings-fixtures.js";
import { artifactUri, FINGERPRINT_KEY, type SarifLog, securitySeverity, toSarif } from "./sarif.js";
import {
  alpineImage,
  alpineInventory,
  nodeAppImage,
  nodeAppInventory,
  shuffled,
  TOOL,
} from "./test-fixtures.js";

const keys = (list: string) => new Set(list.split(/\s+/).filter(Boolean));
// biome-ignore format: the schema's lists
const SCHEMA = {
  log: keys("$schema version runs inlineExternalProperties properties"),
  run: keys(`tool invocations conversion language versionControlProvenance originalUriBaseIds artifacts logicalLocations
    graphs results automationDetails runAggregates baselineGuid redactionTokens defaultEncoding defaultSourceLanguage
    newlineSequences columnKind externalPropertyFileReferences threadFlowLocations taxonomies addresses translations
    policies webRequests webResponses specialLocations properties`),
  tool: keys("driver extensions properties"),
  toolComponent: keys(`guid name organization product productSuite shortDescription fullDescription fullName version
    semanticVersion dottedQuadFileVersion releaseDateUtc downloadUri informationUri globalMessageStrings notifications
    rules taxa locations language contents isComprehensive localizedDataSemanticVersion
    minimumRequiredLocalizedDataSemanticVersion associatedComponent translationMetadata supportedTaxonomies properties`),
  rule: keys(`id deprecatedIds guid deprecatedGuids name deprecatedNames shortDescription fullDescription messageStrings
    defaultConfiguration helpUri help relationships properties`),
  multiformat: keys("text markdown properties"),
  message: keys("text markdown id arguments properties"),
  configuration: keys("enabled level rank parameters properties"),
  result: keys(`guid correlationGuid ruleId ruleIndex rule kind level message analysisTarget locations webRequest
    webResponse fingerprints partialFingerprints codeFlows graphs graphTraversals stacks relatedLocations suppressions
    baselineState rank attachments hostedViewerUri workItemUris provenance fixes taxa properties`),
  location: keys("id physicalLocation logicalLocations message annotations relationships properties"),
  physicalLocation: keys("address artifactLocation region contextRegion properties"),
  artifactLocation: keys("uri uriBaseId index description properties"),
  region: keys(`startLine startColumn endLine endColumn charOffset charLength byteOffset byteLength snippet message
    sourceLanguage properties`),
  invocation: keys(`commandLine arguments responseFiles startTimeUtc endTimeUtc exitCode ruleConfigurationOverrides
    notificationConfigurationOverrides toolExecutionNotifications toolConfigurationNotifications exitCodeDescription
    exitSignalName exitSignalNumber processStartFailureMessage executionSuccessful machine account processId
    executableLocation workingDirectory environmentVariables stdin stdout stderr stdoutStderr properties`),
  notification: keys("locations message level threadId timeUtc exception descriptor associatedRule properties"),
  automationDetails: keys("description id guid correlationGuid properties"),
};
const LEVELS = new Set(["none", "note", "warning", "error"]);

function only(obj: object, allowed: Set<string>, where: string) {
  for (const k of Object.keys(obj))
    assert.ok(allowed.has(k), `${where}: "${k}" is not a SARIF 2.1.0 property`);
}
function text(m: { text?: string } | undefined, where: string, allowed = SCHEMA.multiformat) {
  assert.ok(m && typeof m.text === "string" && m.text.length > 0, `${where}: text required`);
  only(m, allowed, where);
}
/** RFC 3986 relative reference without scheme, spaces, controls, `?` or `#`. */
function relativeUri(uri: string, where: string) {
  assert.ok(uri.length > 0 && !uri.startsWith("/"), `${where}: relative`);
  assert.ok(!/^[a-z][a-z0-9+.-]*:/i.test(uri), `${where}: no scheme`);
  assert.match(uri, /^([A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})+$/, `${where}: URI characters only`);
}

/** Every string value in a JSON-like value. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

function checkSarif(log: SarifLog) {
  only(log, SCHEMA.log, "log");
  assert.equal(log.version, "2.1.0");
  assert.equal(typeof log.$schema, "string");
  assert.equal(log.runs.length, 1);
  const run = log.runs[0] as SarifLog["runs"][number];
  only(run, SCHEMA.run, "run");
  only(run.tool, SCHEMA.tool, "tool");
  only(run.tool.driver, SCHEMA.toolComponent, "driver");
  assert.equal(typeof run.tool.driver.name, "string");
  if (run.automationDetails) {
    only(run.automationDetails, SCHEMA.automationDetails, "automationDetails");
    assert.match(run.automationDetails.id, /\/$/);
  }
  for (const inv of run.invocations) {
    only(inv, SCHEMA.invocation, "invocation");
    assert.equal(typeof inv.executionSuccessful, "boolean");
    for (const n of inv.toolExecutionNotifications ?? []) {
      only(n, SCHEMA.notification, "notification");
      text(n.message, "notification.message", SCHEMA.message);
      assert.ok(LEVELS.has(n.level));
    }
  }
  const rules = run.tool.driver.rules;
  assert.equal(new Set(rules.map((r) => r.id)).size, rules.length, "rule ids are unique");
  for (const r of rules) {
    const where = `rule ${r.id}`;
    only(r, SCHEMA.rule, where);
    text(r.shortDescription, `${where} shortDescription`);
    text(r.fullDescription, `${where} fullDescription`);
    text(r.help, `${where} help`);
    assert.equal(typeof r.help.markdown, "string");
    only(r.defaultConfiguration, SCHEMA.configuration, where);
    assert.ok(LEVELS.has(r.defaultConfiguration.level));
    const sev = r.properties["security-severity"];
    assert.ok(
      typeof sev === "string" && /^\d{1,2}\.\d$/.test(sev) && Number(sev) <= 10,
      `${where}: security-severity ${sev}`,
    );
    const tags = r.properties.tags as string[];
    assert.ok(tags.includes("security") && tags.length <= 20, `${where}: tags`);
    if (r.helpUri) assert.match(r.helpUri, /^https:\/\//);
  }
  assert.ok(run.results.length <= 25_000);
  const fingerprints = new Set<string>();
  for (const res of run.results) {
    const where = `result ${res.ruleId}`;
    only(res, SCHEMA.result, where);
    assert.equal(rules[res.ruleIndex]?.id, res.ruleId, `${where}: ruleIndex resolves to its rule`);
    assert.ok(LEVELS.has(res.level));
    text(res.message, `${where} message`, SCHEMA.message);
    assert.equal(res.locations.length, 1);
    for (const loc of res.locations) {
      only(loc, SCHEMA.location, where);
      only(loc.physicalLocation, SCHEMA.physicalLocation, where);
      only(loc.physicalLocation.artifactLocation, SCHEMA.artifactLocation, where);
      only(loc.physicalLocation.region, SCHEMA.region, where);
      relativeUri(loc.physicalLocation.artifactLocation.uri, where);
      assert.equal(loc.physicalLocation.artifactLocation.uriBaseId, "ROOTPATH");
      assert.ok(loc.physicalLocation.region.startLine >= 1);
      text(loc.message, `${where} location message`, SCHEMA.message);
    }
    const fp = res.partialFingerprints[FINGERPRINT_KEY] as string;
    assert.match(fp, /^[0-9a-f]{32}$/);
    assert.ok(!fingerprints.has(fp), `${where}: fingerprint is unique`);
    fingerprints.add(fp);
  }
  for (const value of strings(log)) {
    const bad = [...value].find((c) => {
      const n = c.codePointAt(0) as number;
      return (n < 0x20 && n !== 0x0a && n !== 0x09) || (n >= 0x7f && n <= 0x9f);
    });
    assert.equal(bad, undefined, `a control character in ${JSON.stringify(value)}`);
  }
}

describe("toSarif", () => {
  const log = toSarif(nodeAppImage, nodeAppInventory, nodeAppResult, { tool: TOOL, category: "node-app" });
  const run = log.runs[0] as SarifLog["runs"][number];
  const ruleOf = (id: string) => run.tool.driver.rules.find((r) => r.id === id);
  const resultsOf = (id: string) => run.results.filter((r) => r.ruleId === id);

  test("valid SARIF 2.1.0 as GitHub code scanning takes it", () => checkSarif(log));

  test("tool, run properties like Trivy's, category, warnings as notifications", () => {
    assert.equal(log.$schema, "https://json.schemastore.org/sarif-2.1.0.json");
    assert.deepEqual(
      { name: run.tool.driver.name, version: run.tool.driver.version },
      { name: "shipshape", version: "0.1.0" },
    );
    assert.equal(run.columnKind, "utf16CodeUnits");
    assert.deepEqual(run.automationDetails, { id: "node-app/" });
    assert.deepEqual(run.properties, {
      imageName: "127.0.0.1:5000/node-app:1.0",
      imageDigest: nodeAppImage.digest,
      platform: "linux/amd64",
      repoDigests: [`127.0.0.1:5000/node-app@${nodeAppImage.indexDigest}`],
      repoTags: ["127.0.0.1:5000/node-app:1.0"],
      os: "debian 12",
    });
    assert.deepEqual(run.invocations, [
      {
        executionSuccessful: true,
        toolExecutionNotifications: [{ level: "warning", message: { text: nodeAppInventory.warnings[0] } }],
      },
    ]);
  });

  test("one rule per vulnerability id, one result per finding", () => {
    assert.equal(run.tool.driver.rules.length, new Set(NODE_APP_FINDINGS.map((f) => f.id)).size);
    assert.equal(run.results.length, NODE_APP_FINDINGS.length);
    assert.equal(resultsOf("CVE-2020-8203").length, 2, "two locations, two results");
    assert.deepEqual(
      resultsOf("CVE-2020-8203").map((r) => r.locations[0]?.physicalLocation.artifactLocation.uri),
      [lodashModules.package.location, lodashLock.package.location],
    );
  });

  test("a rule as Trivy writes it", () => {
    assert.deepEqual(ruleOf("CVE-2021-44228"), {
      id: "CVE-2021-44228",
      name: "LanguageSpecificPackageVulnerability",
      shortDescription: { text: "Remote code injection in Log4j" },
      fullDescription: { text: log4shell.description },
      helpUri: "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
      help: {
        text: [
          "Vulnerability CVE-2021-44228",
          "Severity: CRITICAL",
          "Package: org.apache.logging.log4j:log4j-core",
          "Fixed Version: 2.15.0",
          "Link: [CVE-2021-44228](https://nvd.nist.gov/vuln/detail/CVE-2021-44228)",
          log4shell.description,
        ].join("\n"),
        markdown: [
          "**Vulnerability CVE-2021-44228**",
          "| Severity | Package | Fixed Version | Link |",
          "| --- | --- | --- | --- |",
          "|CRITICAL|org.apache.logging.log4j:log4j-core|2.15.0|[CVE-2021-44228](https://nvd.nist.gov/vuln/detail/CVE-2021-44228)|",
          "",
          log4shell.description,
        ].join("\n"),
      },
      defaultConfiguration: { level: "error" },
      properties: {
        precision: "very-high",
        "security-severity": "10.0",
        tags: ["vulnerability", "security", "CRITICAL"],
        cvssv3_vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        cvssv3_baseScore: 10,
      },
    });
    assert.equal(ruleOf("CVE-2023-45853")?.name, "OsPackageVulnerability");
    assert.equal(ruleOf("CVE-2005-2541")?.properties.cvssv2_vector, "AV:N/AC:L/Au:N/C:C/I:C/A:C");
  });

  test("a result: level, message naming package, version, fix, location; the package's file as its location", () => {
    const [r] = resultsOf("CVE-2019-1010022");
    assert.deepEqual(r, {
      ruleId: "CVE-2019-1010022",
      ruleIndex: run.tool.driver.rules.findIndex((x) => x.id === "CVE-2019-1010022"),
      level: "note",
      message: {
        text: [
          "Package: libc6",
          "Installed Version: 2.36-9+deb12u7",
          "Vulnerability CVE-2019-1010022",
          "Severity: NEGLIGIBLE",
          "Fixed Version: none (will not fix)",
          "Location: var/lib/dpkg/status (layer 0)",
          "Link: [CVE-2019-1010022](https://nvd.nist.gov/vuln/detail/CVE-2019-1010022)",
        ].join("\n"),
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: "var/lib/dpkg/status", uriBaseId: "ROOTPATH" },
            region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
          },
          message: { text: "var/lib/dpkg/status: libc6@2.36-9+deb12u7" },
        },
      ],
      partialFingerprints: { [FINGERPRINT_KEY]: r?.partialFingerprints[FINGERPRINT_KEY] as string },
    });
    const levels = Object.fromEntries(run.results.map((x) => [x.ruleId, x.level]));
    assert.equal(levels["CVE-2021-23369"], "error");
    assert.equal(levels["CVE-2020-8203"], "error");
    assert.equal(levels["CVE-2021-3114"], "warning");
    assert.equal(levels["CVE-2005-2541"], "note");
    assert.equal(levels["GHSA-fhjf-83wg-r2j9"], "note");
  });

  test("feed text reaches SARIF without terminal escapes", () => {
    assert.equal(
      ruleOf("CVE-2021-23369")?.shortDescription.text,
      "Remote code execution in handlebars when compiling untrusted templates",
    );
    assert.ok(!JSON.stringify(log).includes("\\u001b"));
  });

  test("markdown cells escape pipes; deterministic for any input order", () => {
    const f: Finding = { ...log4shell, package: { ...log4shell.package, name: "a|b" } };
    const md = toSarif(nodeAppImage, nodeAppInventory, { findings: [f], warnings: [] }, { tool: TOOL })
      .runs[0]?.tool.driver.rules[0]?.help.markdown;
    assert.ok(md?.includes("|CRITICAL|a\\|b|2.15.0|"));
    for (const seed of [1, 2, 3]) {
      const again = toSarif(
        nodeAppImage,
        nodeAppInventory,
        { ...nodeAppResult, findings: shuffled(NODE_APP_FINDINGS, seed) },
        { tool: TOOL, category: "node-app" },
      );
      assert.equal(JSON.stringify(again), JSON.stringify(log));
    }
  });

  test("fingerprints: stable across versions of the package, distinct across packages in one file", () => {
    const fp = (f: Finding) =>
      toSarif(nodeAppImage, nodeAppInventory, { findings: [f], warnings: [] }, { tool: TOOL }).runs[0]
        ?.results[0]?.partialFingerprints[FINGERPRINT_KEY];
    assert.equal(
      fp(lodashLock),
      fp({ ...lodashLock, package: { ...lodashLock.package, version: "4.17.16" } }),
    );
    assert.notEqual(fp(lodashLock), fp(lodashModules));
    const libcBin: Finding = { ...glibcWontFix, package: { ...glibcWontFix.package, name: "libc-bin" } };
    assert.notEqual(fp(glibcWontFix), fp(libcBin));
  });

  test("no feed for the OS: no results, and the warning is in the run", () => {
    const a = toSarif(alpineImage, alpineInventory, alpineNoData, { tool: TOOL });
    checkSarif(a);
    assert.deepEqual(a.runs[0]?.results, []);
    assert.deepEqual(
      a.runs[0]?.invocations[0]?.toolExecutionNotifications?.map((n) => n.message.text),
      alpineNoData.warnings,
    );
    assert.equal("automationDetails" in (a.runs[0] as object), false);
  });
});

describe("securitySeverity", () => {
  const cases: [string, Finding, string][] = [
    ["the CVSS score when its band is the severity", log4shell, "10.0"],
    ["the CVSS score, critical", zlibUnfixed, "9.8"],
    ["a vendor's negligible over NVD's 9.8: the band, not the score", glibcWontFix, "1.0"],
    ["a vendor's low over a CVSS v2 10.0", tarLow, "2.0"],
    ["no score", mixinUnknown, "0.0"],
    ["no score, high", { ...lodashLock, cvss: undefined }, "8.0"],
    ["no score, medium", { ...lodashLock, severity: "medium", cvss: undefined }, "5.5"],
    ["no score, critical", { ...lodashLock, severity: "critical", cvss: undefined }, "9.5"],
  ];
  for (const [name, f, want] of cases) test(name, () => assert.equal(securitySeverity(f), want));
});

describe("artifactUri", () => {
  const cases: [string, string][] = [
    ["var/lib/dpkg/status", "var/lib/dpkg/status"],
    ["/usr/local/bin/node", "usr/local/bin/node"],
    ["app/node_modules/@babel/code-frame/package.json", "app/node_modules/@babel/code-frame/package.json"],
    ["opt/my app/lib/a#b?.jar", "opt/my%20app/lib/a%23b%3F.jar"],
    ["opt/ünï/x.jar", "opt/%C3%BCn%C3%AF/x.jar"],
    ["opt/100%/x", "opt/100%25/x"],
  ];
  for (const [input, want] of cases) test(input, () => assert.equal(artifactUri(input), want));
});
