import type { Command } from "commander";
import { registerJudge } from "./judge.js";
import { registerModel } from "./model.js";
import { registerReward } from "./reward.js";

/** Every command registers itself; this list is the only place that names them all. */
export function registerCommands(program: Command): void {
  registerJudge(program);
  registerModel(program);
  registerReward(program);
}
