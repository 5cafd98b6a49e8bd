import type { Command } from "commander";
import { badInput, errorMessage } from "../../core/errors.js";
import type { JudgeTemplate } from "../../core/template.js";
import { createEngine } from "../../engines/create-engine.js";
import { TINY_MODEL_NOTE } from "../../engines/tiny/tiny-model.js";
import { Judge } from "../../judge/judge.js";
import { readChatTemplateFile } from "../../judge/prompt-format.js";
import { readTemplateFile } from "../../judge/template-file.js";
import { createJudgeService, templateFor, type JudgmentKind } from "../../server/judge-app.js";
import { listen, nextStopSignal } from "../../server/reward-server.js";
import { allowedHostsFor } from "../../server/http-guards.js";
import { addListenFlags } from "../listen-flags.js";
import { addEngineFlags, engineConfig, formatOptions, integerFlag, positiveInt, type EngineFlagValues } from "../engine-flags.js";
import { parseSize } from "./reward.js";
import { existsSync, statSync } from "node:fs";
import { defaultStorePath, openExistingStore, openRunStore } from "../../store/run-store.js";
import path from "node:path";

interface ServeFlags extends EngineFlagValues {
  host: string;
  port: number;
  token?: string;
  maxBody: string;
  queue: number;
  requestTimeout: number;
  store: string;
  dataRoot: string;
  maxRuns: number;
  cors: string[];
  allowHost: string[];
}

/** How long requests in flight may run on after SIGINT/SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 5_000;

export function registerServe(program: Command): void {
  const command = addListenFlags(
    program
      .command("serve")
      .description("Serve a judge over HTTP, the model loaded once: POST /v1/judgments (JSON or server-sent events), POST /v1/judgments/batch (NDJSON), GET /v1/runs..., GET /health."),
    { port: 8080, tokenRoutes: "every /v1 route", tokenEnv: "J1_SERVE_TOKEN", maxBody: "1mb" },
  )
    .option("--queue <n>", "judgments that may wait for the engine beyond those running; more get 429", integerFlag("--queue", 0), 16)
    .option("--request-timeout <ms>", "time limit of one judgment request, queue wait included (504 past it)", positiveInt("--request-timeout"), 300_000)
    .option("--store <file>", "run store (SQLite) for the /v1/runs routes and the viewer; created when missing, eval runs started with POST /v1/runs write to it", defaultStorePath())
    .option("--data-root <dir>", "folder that POST /v1/runs may read data files from (paths resolve inside it)", ".")
    .option("--cors <origin>", "let a web page at this origin call the service (repeatable; default: no CORS headers)", (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option("--max-runs <n>", "eval runs that may run in the background at once (more get 429)", positiveInt("--max-runs"), 1);
  addEngineFlags(command);
  command.addHelpText(
    "after",
    `
Examples:
  j1 serve --model tiny --port 8080
  curl -s localhost:8080/v1/judgments -H 'content-type: application/json' -d '{"question":"2+2?","a":"4","b":"5","waits":2}'
  curl -s localhost:8080/v1/runs -H 'content-type: application/json' -d '{"bench":"pairs","data":{"pairs":"pairs.jsonl"},"waits":1}'
  curl -sN localhost:8080/v1/runs/RUN_ID/events
  J1_SERVE_TOKEN=secret j1 serve --host 0.0.0.0 --model ./Qwen3-8B-Q4_K_M.gguf`,
  );
  command.action(async (flags: ServeFlags) => {
    await runServe(flags);
  });
}

/** An origin as browsers send it (scheme, host, port; no path): anything else would never match. */
function corsOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput(`"${text}" is not an origin: write it as a browser sends it, e.g. http://localhost:5173`, { field: "--cors" });
  }
  if (url.origin !== text.replace(/\/$/, "") || url.origin === "null") throw badInput(`"${text}" is not an origin (scheme://host[:port], no path): did you mean ${url.origin}?`, { field: "--cors" });
  return url.origin;
}

const KIND_OF_TEMPLATE: Record<JudgeTemplate["kind"], JudgmentKind> = { pairwise: "pair", pointwise: "rating", choice: "choice" };

async function runServe(flags: ServeFlags): Promise<void> {
  if (flags.host.trim() === "") throw badInput("must not be empty (127.0.0.1 keeps the service on this machine; 0.0.0.0 opens it to the network)", { field: "--host" });
  if (flags.token !== undefined && flags.token.trim() === "") throw badInput("must not be empty (leave --token out to serve without one)", { field: "--token" });
  const token = flags.token ?? process.env.J1_SERVE_TOKEN;
  const maxBodyBytes = parseSize(flags.maxBody, "--max-body");
  const corsOrigins = flags.cors.map(corsOrigin);
  if (!existsSync(flags.dataRoot) || !statSync(flags.dataRoot).isDirectory()) throw badInput(`no folder "${flags.dataRoot}"`, { field: "--data-root" });
  const format = formatOptions(flags);
  const custom = flags.template ? await readTemplateFile(flags.template) : undefined;
  // Read at start, not at the first request: a service that cannot render a prompt must not start.
  if (flags.chatTemplate !== undefined) await readChatTemplateFile(flags.chatTemplate);
  const config = engineConfig(flags);
  if (config.model === "tiny") console.error(`j1: ${TINY_MODEL_NOTE}`);
  const store = existsSync(flags.store) ? openExistingStore(flags.store) : openRunStore(flags.store);
  const engine = await createEngine(config).catch((error: unknown) => {
    store?.close();
    throw error;
  });
  try {
    const noted = new Set<string>();
    const service = createJudgeService({
      engine,
      token,
      maxBodyBytes,
      queueLimit: flags.queue,
      requestTimeoutMs: flags.requestTimeout,
      store,
      evalRuns: { format, dataRoot: path.resolve(flags.dataRoot), maxRuns: flags.maxRuns },
      corsOrigins,
      allowedHosts: allowedHostsFor(flags.host, flags.allowHost),
      makeJudge: async (kind, scaling) => {
        const template = custom !== undefined && KIND_OF_TEMPLATE[custom.kind] === kind ? custom : undefined;
        const judge = await Judge.create({ engine, ...format, template: template ?? templateFor(kind), scaling });
        for (const note of judge.format.notes) {
          if (noted.has(note)) continue;
          noted.add(note);
          console.error(`j1: ${note}`);
        }
        return judge;
      },
      logError: (error) => console.error(`j1: judge service error: ${error instanceof Error ? (error.stack ?? error.message) : errorMessage(error)}`),
    });
    const server = await listen(service.app, flags.host, flags.port);
    const loopback = /^(127\.|::1$|localhost$)/.test(server.host);
    console.log(`j1 judge service on ${server.url}  (POST /v1/judgments, GET /health)`);
    // The viewer is what a person opens first: say where it is and which store it shows.
    console.log(`j1 viewer: open ${server.url}/  (the runs in ${store.file})`);
    if (!loopback && !token) console.error("j1: warning: listening beyond this machine without --token; anyone who can reach the port can run the model");
    const signal = await nextStopSignal();
    // Background eval runs stop first: what they judged is in the store, and j1 eval --resume continues them.
    service.cancelRuns(`${signal}: the service is stopping`);
    console.error(`j1: ${signal}: finishing judgments in flight (up to ${SHUTDOWN_GRACE_MS / 1000} s), then stopping`);
    await server.close(SHUTDOWN_GRACE_MS);
    // Connections still open after the grace were cut; their judgments end here, before the engine goes.
    service.abortAll();
    await service.settled();
    process.exitCode = 0;
  } finally {
    store?.close();
    await engine.dispose();
  }
}
