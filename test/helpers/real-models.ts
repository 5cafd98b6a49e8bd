import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { verifiedRealModelPath } from "../../src/engines/real-models/fetch-real-models.js";

/** The manifest of real test models (scripts/real-models.json), found from test/ and dist/test/ alike. */
export const REAL_MODEL_MANIFEST = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "scripts", "real-models.json");
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("scripts/real-models.json not found above the tests");
    dir = parent;
  }
})();

export type RealModelName = "smollm2-135m" | "gemma3-270m" | "qwen2.5-coder-0.5b";

/**
 * A verified real model for tests: fetched and checked by `npm run models:real` (npm test runs it first).
 * Missing is a failure with the command to run, never a skip.
 */
export function realModelPath(name: RealModelName): Promise<string> {
  return verifiedRealModelPath(REAL_MODEL_MANIFEST, name);
}
