/** Process entry point of the CLI (bin/shipshape.js loads the compiled copy). */
import { main } from "./main.js";

process.exitCode = await main(process.argv);
