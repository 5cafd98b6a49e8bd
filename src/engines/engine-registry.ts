import { J1Error } from "../core/errors.js";
import type { EngineConfig } from "./create-engine.js";
import type { Engine, EngineCapabilities } from "./engine.js";
import { llamaCppFactory } from "./llamacpp/factory.js";
import { openAIFactory } from "./openai/factory.js";
import { aiSdkFactory } from "./ai-sdk/factory.js";

/**
 * The engines j1 can judge with. Adding one is a file with its factory (which imports the engine itself
 * lazily, so a server-only run never loads llama.cpp) and one line here (docs/architecture.md, "How to
 * add an engine").
 */
export interface EngineFactory {
  kind: string;
  description: string;
  create(config: EngineConfig): Promise<Engine>;
}

export const ENGINES: readonly EngineFactory[] = [llamaCppFactory, openAIFactory, aiSdkFactory];

export function engineFactory(kind: string): EngineFactory {
  const factory = ENGINES.find((entry) => entry.kind === kind);
  if (factory === undefined) throw new J1Error("bad-input", `unknown engine "${kind}"; known: ${ENGINES.map((entry) => entry.kind).join(", ")}`, { context: { field: "--engine" } });
  return factory;
}

type Need = "grammar" | "probabilities" | "tokenLevelInjection";

const WHAT: Record<Need, string> = {
  grammar: "constrain the verdict to the valid choices (a verdict is read from free text instead)",
  probabilities: "report token probabilities (confidence, calibration and accuracy-coverage are not computed)",
  tokenLevelInjection: "inject a wait inside the running sequence (each wait re-sends the prefix, which a prefix cache may absorb)",
};

/**
 * What the engine cannot do that changes a judgment's result, as notes for the user (read from its
 * capabilities; a missing token-level injection only costs time, so it is not noted).
 */
export function capabilityNotes(engine: Engine): string[] {
  const { engine: kind } = engine.describe();
  return (["grammar", "probabilities"] as const).filter((need) => !engine.capabilities[need]).map((need) => `engine ${kind} cannot ${WHAT[need]}`);
}

/** Refuses, naming the purpose, when a judgment needs what the engine cannot do (e.g. a confidence rule). */
export function requireCapabilities(engine: Engine, needs: readonly Need[], purpose: string): void {
  const missing = needs.filter((need) => !engine.capabilities[need]);
  if (missing.length === 0) return;
  const { engine: kind } = engine.describe();
  throw new J1Error("unsupported", `${purpose} needs an engine that can ${missing.map((need) => WHAT[need].replace(/ \(.*\)$/, "")).join(" and ")}; engine ${kind} cannot`, { context: { engine: kind } });
}
