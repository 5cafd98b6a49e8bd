import os from "node:os";
import path from "node:path";
import type { ShapedFamilyId, ShapedModelSpec } from "../../src/engines/shaped/families.js";
import { ensureShapedModel } from "../../src/engines/shaped/shaped-model.js";

/**
 * Where tests keep shaped models: `$J1_TEST_MODEL_DIR`, else one directory under the system's temp dir,
 * shared by every test process and run. The file names come from what the models are made of (tokenizer
 * files, options, table, builder code), so each is built once and a changed builder gets new files.
 */
export const shapedModelDir = process.env.J1_TEST_MODEL_DIR || path.join(os.tmpdir(), "j1-test-shaped-models");

/** The path of a shaped model for tests, built on first use (seconds; tens of MB at the default width). */
export function shapedModelPath(family: ShapedFamilyId, options: { width?: number; layers?: number; spec?: ShapedModelSpec } = {}): Promise<string> {
  return ensureShapedModel({ family, ...options, cacheDir: shapedModelDir });
}
