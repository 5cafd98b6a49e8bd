import type { Command } from "commander";
import { integerFlag } from "./engine-flags.js";

/**
 * The flags every j1 service takes to listen (`j1 serve`, `j1 reward serve`): where to bind (private by
 * default), the port, the bearer token and the largest body. Each service gives its own defaults.
 */
export function addListenFlags(command: Command, defaults: { port: number; tokenRoutes: string; tokenEnv: string; maxBody: string }): Command {
  return command
    .option("--host <address>", "address to bind (keep it private; 0.0.0.0 exposes the service)", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", integerFlag("--port"), defaults.port)
    .option("--token <token>", `require this bearer token on ${defaults.tokenRoutes} (default: env ${defaults.tokenEnv})`)
    .option("--max-body <size>", "largest request body (b, kb, mb, gb; at most 1gb)", defaults.maxBody)
    .option("--allow-host <name>", "a hostname the service answers to besides its address and localhost (repeatable; a reverse proxy's name); other Host headers get 403", (value: string, previous: string[]) => [...previous, value], [] as string[]);
}
