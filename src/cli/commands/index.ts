import type { Command } from "commander";
import { registerEval } from "./eval.js";
import { registerJudge } from "./judge.js";
import { registerModel } from "./model.js";
import { registerReport } from "./report.js";
import { registerReward } from "./reward.js";
import { registerRuns } from "./runs.js";
import { registerServe } from "./serve.js";
import { registerDataRl } from "./data-rl.js";
import { registerDataSft } from "./data-sft.js";

/** Every command registers itself; this list is the only place that names them all. */
export function registerCommands(program: Command): void {
  registerJudge(program);
  registerEval(program);
  registerRuns(program);
  registerReport(program);
  registerModel(program);
  registerReward(program);
  registerServe(program);
  registerDataRl(program);
  registerDataSft(program);
}
