/** Process entry point of the CLI (bin/shipshape.js loads the compiled copy). */
import v8 from "node:v8";
import { main } from "./main.js";

// A short-lived command exits before V8's optimising compile of undici's HTTP parser (WebAssembly)
// pays off, yet waits for it: with the baseline compiler only, `sbom` of a one-layer image ends
// ~100 ms sooner and large layers pull as fast. The console, long-lived, keeps the optimised parser.
// Set before main() loads undici (commands import it when they run).
if (process.argv[2] !== "console") v8.setFlagsFromString("--liftoff-only");

process.exitCode = await main(process.argv);
