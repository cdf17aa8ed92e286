#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/ by `npm run build` (run by `npm install` through prepare).
import "../dist/cli/shipshape.mjs";
