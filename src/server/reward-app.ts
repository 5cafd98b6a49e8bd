import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { J1Error } from "../core/errors.js";
import { VERSION } from "../index.js";
import type { RewardScorer } from "../reward/reward-batch.js";

/**
 * The reward service: OpenRLHF's remote-reward protocol on `POST /get_reward`, a verl-shaped
 * `POST /score` (what `j1 reward verl` generates a client for), and `GET /health`. The routes only
 * validate and translate; scoring lives in reward/. Errors answer with {"error": message}: a 400 names
 * the field, anything unexpected is a 500 that says nothing about the inside.
 */
export interface RewardAppOptions {
  scorer: RewardScorer;
  /** When set, POST routes need `Authorization: Bearer <token>` (or `?token=<token>`, see below). */
  token?: string;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** Where unexpected errors go (the client only sees "internal error"). */
  logError?: (error: unknown) => void;
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

  app.get("/health", (c) => c.json({ status: "ok", version: VERSION, served: scorer.counters }));

  const auth = requireToken(options.token);
  const limit = limitBody(options.maxBodyBytes);

  app.post("/get_reward", auth, limit, async (c) => {
    const request = GetRewardRequest.safeParse(await readJson(c));
    if (!request.success) return badRequest(c, request.error);
    const { query, prompts, labels } = request.data;
    const batch = scorer.scoreBatch(query, prompts, labels);
    // Written by hand so that every number is a float ("1.0", not "1"): Python's json reads "1" as an
    // int, and an integer tensor in the trainer breaks means and in-place float updates.
    const logs = Object.entries(batch.extraLogs).map(([name, values]) => `${JSON.stringify(name)}:${floatList(values)}`);
    return c.body(`{"rewards":${floatList(batch.rewards)},"scores":${floatList(batch.scores)},"extra_logs":{${logs.join(",")}}}`, 200, {
      "content-type": "application/json",
    });
  });

  app.post("/score", auth, limit, async (c) => {
    const request = ScoreRequest.safeParse(await readJson(c));
    if (!request.success) return badRequest(c, request.error);
    const detail = scorer.scoreOne(request.data.solution_str, request.data.ground_truth);
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

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}; routes: GET /health, POST /get_reward, POST /score` }, 404));

  app.onError((error, c) => {
    if (error instanceof J1Error && error.code === "bad-input") return c.json({ error: error.message }, 400);
    if (error instanceof HTTPException) return c.json({ error: error.message || "request refused" }, error.status);
    options.logError?.(error);
    return c.json({ error: "internal error" }, 500);
  });

  return app;
}

async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: text.trim().length === 0 ? "the body is empty; expected a JSON object" : "the body is not valid JSON" });
  }
}

function badRequest(c: Context, error: z.ZodError): Response {
  const issue = error.issues[0];
  const field = issue.path.length === 0 ? "body" : issue.path.map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join("");
  return c.json({ error: `field "${field}": ${issue.message}` }, 400);
}

/**
 * Bearer-token check, compared in constant time. OpenRLHF's client cannot add headers, so the token may
 * also come as `?token=` in the URL given to `--reward.remote_url`; URLs end up in logs, so prefer the
 * header where the client allows it, and bind to a private address either way.
 */
function requireToken(token: string | undefined): MiddlewareHandler {
  if (token === undefined || token.length === 0) return async (_c, next) => next();
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header("authorization");
    const given = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? c.req.query("token");
    if (given === undefined) return unauthorized(c, "missing token: send Authorization: Bearer <token>");
    if (!timingSafeEqual(digest(given), expected)) return unauthorized(c, "wrong token");
    await next();
  };
}

function unauthorized(c: Context, message: string): Response {
  return c.json({ error: message }, 401, { "www-authenticate": 'Bearer realm="j1-reward"' });
}

function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({ maxSize: maxBytes, onError: (c) => c.json({ error: `the body is larger than the limit of ${maxBytes} bytes` }, 413) });
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function floatList(values: readonly number[]): string {
  return `[${values.map(floatText).join(",")}]`;
}

function floatText(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`non-finite number in a reward response: ${value}`);
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}
