import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { ClientErrorStatusCode } from "hono/utils/http-status";
import { J1Error } from "../core/errors.js";
import { limitBody, readJson, requireToken, validate, type Refuse } from "./http-guards.js";
import { VERSION } from "../version.js";
import type { RewardScorer } from "../reward/reward-batch.js";

/**
 * The reward service: OpenRLHF's remote-reward protocol on `POST /get_reward`, a verl-shaped
 * `POST /score` (what `j1 reward verl` generates a client for), and `GET /health`. The routes only
 * validate and translate; scoring lives in reward/. Errors answer with {"error": message}: a 400 names
 * the field, anything unexpected is a 500 that says nothing about the inside.
 */
export interface RewardAppOptions {
  scorer: RewardScorer;
  /** When set, POST routes need `Authorization: Bearer <token>` (or `?token=<token>`: see requireToken in http-guards.ts). */
  token?: string;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** Where unexpected errors go (the client only sees "internal error"). */
  logError?: (error: unknown) => void;
  /**
   * Told of every refused request (400, 401, 404, 413) with the message the client got. Trainers may only
   * log a failed reward call quietly (OpenRLHF logs it at info level and carries on without a reward), so
   * the service's own log is where a misconfiguration shows.
   */
  logRefusal?: (status: number, message: string) => void;
}

/**
 * OpenRLHF (openrlhf/utils/agent.py, `_fetch_rewards_via_http`) posts
 * {"query": [str], "prompts": [str], "labels": [any]} with no headers of its own, and reads "rewards",
 * "scores" (falls back to "rewards") and "extra_logs". Other fields are ignored, for clients that send more.
 */
const GetRewardRequest = z.object({
  query: z.array(z.string()),
  prompts: z.array(z.string()).optional(),
  labels: z.array(z.unknown()),
});

const ScoreRequest = z.object({
  solution_str: z.string(),
  ground_truth: z.unknown().refine((value) => value !== undefined && value !== null, { message: "required" }),
  data_source: z.string().optional(),
  extra_info: z.unknown().optional(),
});

export function createRewardApp(options: RewardAppOptions): Hono {
  const { scorer } = options;
  const app = new Hono();
  const refused: Record<string, number> = {};
  const refuse: Refuse = (c, status, message, headers) => {
    refused[status] = (refused[status] ?? 0) + 1;
    options.logRefusal?.(status, message);
    return c.json({ error: message }, status, headers);
  };

  app.get("/health", (c) => c.json({ status: "ok", version: VERSION, served: scorer.counters, refused }));

  const auth = requireToken(options.token, refuse, { realm: "j1-reward", allowQuery: true });
  const limit = limitBody(options.maxBodyBytes, refuse);

  app.post("/get_reward", auth, limit, async (c) => {
    const { query, prompts, labels } = validate(GetRewardRequest, await readJson(c));
    const batch = scorer.scoreBatch(query, prompts, labels);
    // Written by hand so that every number is a float ("1.0", not "1"): Python's json reads "1" as an
    // int, and an integer tensor in the trainer breaks means and in-place float updates.
    const logs = Object.entries(batch.extraLogs).map(([name, values]) => `${JSON.stringify(name)}:${floatList(values)}`);
    return c.body(`{"rewards":${floatList(batch.rewards)},"scores":${floatList(batch.scores)},"extra_logs":{${logs.join(",")}}}`, 200, {
      "content-type": "application/json",
    });
  });

  app.post("/score", auth, limit, async (c) => {
    const request = validate(ScoreRequest, await readJson(c));
    const detail = scorer.scoreOne(request.solution_str, request.ground_truth);
    return c.json({
      reward: detail.reward,
      score: detail.score,
      status: detail.status,
      verdict: detail.verdict,
      parts: detail.parts,
      problem: detail.problem ?? null,
      reason: detail.reason,
    });
  });

  app.notFound((c) => refuse(c, 404, `no route ${c.req.method} ${c.req.path}; routes: GET /health, POST /get_reward, POST /score`));

  app.onError((error, c) => {
    if (error instanceof J1Error && error.code === "bad-input") return refuse(c, 400, error.message);
    if (error instanceof HTTPException && error.status < 500) return refuse(c, error.status as ClientErrorStatusCode, error.message || "request refused");
    options.logError?.(error);
    return c.json({ error: "internal error" }, 500);
  });

  return app;
}

function floatList(values: readonly number[]): string {
  return `[${values.map(floatText).join(",")}]`;
}

function floatText(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`non-finite number in a reward response: ${value}`);
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}
