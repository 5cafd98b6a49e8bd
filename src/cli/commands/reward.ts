import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { badInput, errorMessage } from "../../core/errors.js";
import { DEFAULT_PAIRWISE_TEMPLATE, type JudgeTemplate } from "../../core/template.js";
import { readTemplateFile } from "../../judge/template-file.js";
import { decimalFlag, integerFlag } from "../engine-flags.js";
import { addListenFlags } from "../listen-flags.js";
import { addAliasedOption } from "../output-flags.js";
import { RewardScorer } from "../../reward/reward-batch.js";
import { parseRewardLabel } from "../../reward/reward-label.js";
import { resolveRewardOptions, type JudgeRewardOptions } from "../../reward/reward-options.js";
import { DEFAULT_SERVICE_URL, DEFAULT_TOKEN_ENV, renderVerlRewardFile } from "../../reward/verl-client.js";
import { createRewardListener } from "../../server/reward-listener.js";
import { listen, nextStopSignal } from "../../server/reward-server.js";
import { allowedHostsFor } from "../../server/http-guards.js";

interface RewardRuleFlags {
  template?: string;
  correct: number;
  wrong: number;
  malformed: number;
  inconsistent: number;
  openingTag: string;
  afterVerdict: string;
  normalise: string;
  allowEmptyThinking: boolean;
  pointwiseShape: string;
  tolerance: number;
  scale?: string;
}

interface ServeFlags extends RewardRuleFlags {
  host: string;
  port: number;
  token?: string;
  maxBody: string;
  allowHost: string[];
  consistency: boolean;
}

interface VerlFlags {
  output: string;
  url: string;
  tokenEnv: string;
  force: boolean;
}

interface CheckFlags extends RewardRuleFlags {
  label: string;
  judgeOutput?: string;
}

export function registerReward(program: Command): void {
  const reward = program.command("reward").description("The verifiable judge reward for RL (OpenRLHF, verl): a service, a verl client, a checker.");

  const serve = addListenFlags(
    reward.command("serve").description("Serve the reward over HTTP: OpenRLHF's POST /get_reward, verl-shaped POST /score, GET /health."),
    { port: 8765, tokenRoutes: "POST routes", tokenEnv: "J1_REWARD_TOKEN", maxBody: "10mb" },
  )
    .option("--consistency", "apply the both-orders consistency term where a batch holds both orders of a pair (labels with pair and order)", false);
  addRuleFlags(serve);
  serve.addHelpText(
    "after",
    `
Examples:
  j1 reward serve --port 8765
  J1_REWARD_TOKEN=secret j1 reward serve --host 0.0.0.0 --malformed -1
Then, in OpenRLHF: --reward.remote_url http://127.0.0.1:8765/get_reward --data.label_key label
(OpenRLHF's client sends no headers: with a token, use .../get_reward?token=<token>).`,
  );
  serve.action(async (flags: ServeFlags, self: Command) => {
    if (self.getOptionValueSource("inconsistent") === "cli" && !flags.consistency) throw badInput("goes with --consistency (the both-orders term it caps)", { field: "--inconsistent" });
    await runServe(flags);
  });

  const verl = reward.command("verl").description("Write the Python reward file verl loads (compute_score posting to this service; stdlib only).");
  addAliasedOption(verl, { flags: "-o, --output <file>", description: "where to write the .py file", aliases: ["--out"], required: true })
    .option("--url <url>", "the reward service's base URL", DEFAULT_SERVICE_URL)
    .option("--token-env <name>", "environment variable that holds the token at run time", DEFAULT_TOKEN_ENV)
    .option("--force", "overwrite an existing file", false)
    .action(async (flags: VerlFlags) => {
      const file = path.resolve(flags.output);
      let text: string;
      try {
        text = renderVerlRewardFile({ url: flags.url, tokenEnv: flags.tokenEnv });
      } catch (error) {
        throw badInput(errorMessage(error), { field: "--url / --token-env" });
      }
      try {
        await writeFile(file, text, { flag: flags.force ? "w" : "wx" });
      } catch (error) {
        const exists = (error as NodeJS.ErrnoException).code === "EEXIST";
        throw badInput(exists ? "exists already (use --force to overwrite)" : `cannot write (${errorMessage(error)})`, { file });
      }
      console.log(file);
      console.error(`j1: verl: reward.custom_reward_function.path=${file} reward.custom_reward_function.name=compute_score`);
    });

  const check = reward
    .command("check")
    .description("Score one judge output against a label and print why (the same rules as the service).")
    .requiredOption("--label <label>", 'the right verdict: "A", "B", "tie", or a score');
  // The judge's output is what this command reads, not a file it writes: `--output` (its old name) would
  // say the opposite of what --output says everywhere else, so it is only a hidden alias now.
  addAliasedOption(check, { flags: "--judge-output <text>", description: "the judge's output to score (@file reads a file; default: stdin)", aliases: ["--output"] });
  addRuleFlags(check);
  check.action(async (flags: CheckFlags, self: Command) => {
    // One output has no other order to contradict it: the consistency term is the service's (--consistency).
    if (self.getOptionValueSource("inconsistent") === "cli") throw badInput("scores a verdict the other order contradicts, which one checked output never has (j1 reward serve --consistency applies it)", { field: "--inconsistent" });
    // The label read as the service reads it, but named as the flag it came from.
    parseRewardLabel(flags.label, "--label");
    const options = await rewardOptions(flags);
    const output = await readOutputText(flags.judgeOutput);
    const detail = new RewardScorer(options).scoreOne(output, flags.label);
    console.log(JSON.stringify(detail, null, 2));
  });
}

function addRuleFlags(command: Command): void {
  command
    .option("--template <file>", "judge template JSON (delimiters and, for pointwise, the scale)")
    .option("--correct <x>", "reward for a well-formed right verdict", rewardWeight("--correct"), 1)
    .option("--wrong <x>", "reward for a well-formed wrong verdict", rewardWeight("--wrong"), 0)
    .option("--malformed <x>", "reward for malformed output (0 by default: -1 also punishes thinking cut off by the token cap)", rewardWeight("--malformed"), 0)
    .option("--inconsistent <x>", "with --consistency: at most this for a verdict the other order contradicts", rewardWeight("--inconsistent"), 0)
    .option("--opening-tag <rule>", "auto (prefilled <think> or one at the start), required, prefilled", "auto")
    .option("--after-verdict <rule>", "nothing (only whitespace or . after the verdict) or text", "nothing")
    .option("--normalise <form>", "none (ASCII verdicts only) or nfkc (full-width verdicts count)", "none")
    .option("--allow-empty-thinking", "accept an empty <think></think> block", false)
    .option("--pointwise-shape <shape>", "pointwise labels: tolerance (1 within --tolerance, else 0) or distance (partial credit)", "tolerance")
    .option("--tolerance <x>", "pointwise: largest |score - label| still counted right", decimalFlag("--tolerance", 0, MAX_REWARD), 0)
    .option("--scale <min-max>", "pointwise score scale (default: the template's, else 1-10)");
}

async function rewardOptions(flags: RewardRuleFlags): Promise<JudgeRewardOptions> {
  const template: JudgeTemplate = flags.template ? await readTemplateFile(flags.template) : DEFAULT_PAIRWISE_TEMPLATE;
  const scale = flags.scale ? parseScale(flags.scale) : (template.scale ?? { min: 1, max: 10 });
  return resolveRewardOptions({
    template,
    weights: {
      correct: flags.correct,
      wrong: flags.wrong,
      malformed: flags.malformed,
      inconsistent: flags.inconsistent,
    },
    openingTag: oneOf(flags.openingTag, ["auto", "required", "prefilled"] as const, "--opening-tag"),
    afterVerdict: oneOf(flags.afterVerdict, ["nothing", "text"] as const, "--after-verdict"),
    normalisation: oneOf(flags.normalise, ["none", "nfkc"] as const, "--normalise"),
    requireThinking: !flags.allowEmptyThinking,
    pointwise: {
      shape: oneOf(flags.pointwiseShape, ["tolerance", "distance"] as const, "--pointwise-shape"),
      tolerance: flags.tolerance,
      min: scale.min,
      max: scale.max,
    },
  });
}

async function runServe(flags: ServeFlags): Promise<void> {
  const options = await rewardOptions(flags);
  // An empty --host would bind every interface, the opposite of the private default it replaces.
  if (flags.host.trim() === "") throw badInput("must not be empty (127.0.0.1 keeps the service on this machine; 0.0.0.0 opens it to the network)", { field: "--host" });
  // An empty --token (an unset variable in a script) would silently serve without authentication.
  if (flags.token !== undefined && flags.token.trim() === "") throw badInput("must not be empty (leave --token out to serve without one)", { field: "--token" });
  const token = flags.token ?? process.env.J1_REWARD_TOKEN;
  const port = flags.port;
  const scorer = new RewardScorer(options, flags.consistency);
  const app = createRewardListener({
    scorer,
    token,
    maxBodyBytes: parseSize(flags.maxBody, "--max-body"),
    allowedHosts: allowedHostsFor(flags.host, flags.allowHost),
    logError: (error) => console.error(`j1: reward service error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
    logRefusal: refusalLog(),
  });
  const server = await listen(app, flags.host, port);
  const loopback = /^(127\.|::1$|localhost$)/.test(server.host);
  console.log(`j1 reward service on ${server.url}  (POST /get_reward, POST /score, GET /health)`);
  console.error(`j1: OpenRLHF: --reward.remote_url ${server.url}/get_reward${token ? "?token=<token>" : ""}   verl: j1 reward verl --url ${server.url} --output j1_reward.py`);
  if (!loopback && !token) console.error("j1: warning: listening beyond this machine without --token; anyone who can reach the port can call it");

  const signal = await nextStopSignal();
  console.error(`j1: ${signal}: finishing requests in flight, then stopping`);
  await server.close();
  const { outputs, correct, partial, wrong, malformed } = scorer.counters;
  console.error(`j1: scored ${outputs} outputs: ${correct} correct, ${partial} partial, ${wrong} wrong, ${malformed} malformed`);
  process.exitCode = 0;
}

/**
 * Refused requests on stderr: each distinct message the first time, then a count every 1,000, so a
 * misconfigured trainer shows at once without flooding the terminal at thousands of requests a second.
 */
function refusalLog(): (status: number, message: string) => void {
  const seen = new Map<string, number>();
  return (status, message) => {
    const key = `${status} ${message}`;
    const count = (seen.get(key) ?? 0) + 1;
    if (seen.size < 1000 || seen.has(key)) seen.set(key, count);
    if (count === 1) console.error(`j1: refused (${status}): ${message}`);
    else if (count % 1000 === 0) console.error(`j1: refused (${status}) ${count} times: ${message}`);
  };
}

async function readOutputText(value: string | undefined): Promise<string> {
  if (value === undefined) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }
  if (!value.startsWith("@")) return value;
  const file = value.slice(1);
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw badInput(`cannot read (${errorMessage(error)})`, { file });
  }
}

/** Rewards and tolerances are plain numbers within ±MAX_REWARD: a larger one is a typo, not a reward scale. */
const MAX_REWARD = 1_000_000;

function rewardWeight(flag: string) {
  return decimalFlag(flag, -MAX_REWARD, MAX_REWARD);
}

function parseScale(text: string): { min: number; max: number } {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*(?:-|\.\.|:)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!match || Number(match[1]) >= Number(match[2])) throw badInput(`must be min-max with min < max, e.g. 1-10; got ${JSON.stringify(text)}`, { field: "--scale" });
  if (Math.abs(Number(match[1])) > MAX_REWARD || Math.abs(Number(match[2])) > MAX_REWARD) throw badInput(`both ends must be within ±${MAX_REWARD}; got ${JSON.stringify(text)}`, { field: "--scale" });
  return { min: Number(match[1]), max: Number(match[2]) };
}

const MAX_BODY_BYTES = 1024 ** 3;

/** "10mb", "512kb", "1048576" → bytes (powers of 1024), from 1 byte to 1gb. */
export function parseSize(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$/i.exec(text);
  if (!match) throw badInput(`must be a size such as 10mb, 512kb or 1048576; got ${JSON.stringify(text)}`, { field: flag });
  const unit = (match[2] ?? "b").toLowerCase()[0];
  const scale = unit === "g" ? 1024 ** 3 : unit === "m" ? 1024 ** 2 : unit === "k" ? 1024 : 1;
  const bytes = Math.floor(Number(match[1]) * scale);
  if (bytes < 1) throw badInput(`must be at least 1 byte, got ${JSON.stringify(text)}`, { field: flag });
  if (bytes > MAX_BODY_BYTES) throw badInput(`must be at most 1gb (a request body held in memory), got ${JSON.stringify(text)}`, { field: flag });
  return bytes;
}

function oneOf<T extends string>(value: string, choices: readonly T[], flag: string): T {
  if (!(choices as readonly string[]).includes(value)) throw badInput(`must be one of ${choices.join(", ")}; got ${JSON.stringify(value)}`, { field: flag });
  return value as T;
}
