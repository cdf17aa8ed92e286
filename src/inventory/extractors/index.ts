/** Every extractor shipshape runs, in the order their results are reconciled and reported. */
import type { Extractor } from "../extractor.js";
import { apkExtractor } from "./apk.js";
import { cargoExtractor } from "./cargo.js";
import { cargoAuditableExtractor } from "./cargo-auditable.js";
import { dotnetExtractor } from "./dotnet.js";
import { dpkgExtractor } from "./dpkg.js";
import { goBinaryExtractor } from "./gobinary.js";
import { javaExtractor } from "./java.js";
import { nodeRuntimeExtractor } from "./node-runtime.js";
import { npmExtractor } from "./npm.js";
import { osReleaseExtractor } from "./os-release.js";
import { phpExtractor } from "./php.js";
import { pythonExtractor } from "./python.js";
import { rpmExtractor } from "./rpm.js";
import { rubyExtractor } from "./ruby.js";

export const allExtractors: readonly Extractor[] = [
  osReleaseExtractor,
  dpkgExtractor,
  apkExtractor,
  rpmExtractor,
  npmExtractor,
  pythonExtractor,
  rubyExtractor,
  phpExtractor,
  cargoExtractor,
  dotnetExtractor,
  javaExtractor,
  goBinaryExtractor,
  cargoAuditableExtractor,
  nodeRuntimeExtractor,
];
