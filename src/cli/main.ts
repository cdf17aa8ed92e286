/** The `shipshape` command line. Each command lives in commands/<name>.ts and registers itself here. */
import { Command, CommanderError } from "commander";
import { RegistryError } from "../registry/errors.js";
import { registerConsoleCommand } from "./commands/console.js";
import { registerDbCommands } from "./commands/db.js";
import { registerImageCommand } from "./commands/image.js";
import { registerRegistryCommands } from "./commands/registry.js";
import { registerSbomCommand } from "./commands/sbom.js";
import { UsageError } from "./usage-error.js";
import { version } from "./version.js";

export async function main(argv: string[]): Promise<number> {
  const program = new Command("shipshape")
    .description("Container-registry vulnerability scanner")
    .version(version)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerRegistryCommands(program);
  registerSbomCommand(program);
  registerImageCommand(program);
  registerDbCommands(program);
  registerConsoleCommand(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      process.stderr.write(`shipshape: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(
      `shipshape: ${err instanceof RegistryError || err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  }
}
