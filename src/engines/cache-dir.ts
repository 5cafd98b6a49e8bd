import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where j1 keeps files it can rebuild (such as the tiny test model):
 * `$J1_CACHE_DIR` when set and non-empty, else `~/.cache/j1`.
 */
export function j1CacheDir(): string {
    const fromEnv = process.env.J1_CACHE_DIR;
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
    return join(homedir(), ".cache", "j1");
}
