import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { ClientErrorStatusCode } from "hono/utils/http-status";
import { J1Error, badInput } from "../core/errors.js";
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
  /** When set, POST routes need `Authorization: Bearer <token>` (or `?token=<token>`, see below). */
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
type Refuse = (c: Context, status: ClientErrorStatusCode, message: string, headers?: Record<string, string>) => Response;

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

  const auth = requireToken(options.token, refuse);
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

async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: text.trim().length === 0 ? "the body is empty; expected a JSON object" : "the body is not valid JSON" });
  }
}

/** The parsed body, or a bad-input error naming the first wrong field ("labels[2]"). */
function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length === 0 ? "body" : issue.path.map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join("");
  throw badInput(issue.message, { field });
}

/**
 * Bearer-token check, compared in constant time. OpenRLHF's client cannot add headers, so the token may
 * also come as `?token=` in the URL given to `--reward.remote_url`; URLs end up in logs, so prefer the
 * header where the client allows it, and bind to a private address either way.
 */
function requireToken(token: string | undefined, refuse: Refuse): MiddlewareHandler {
  if (token === undefined || token.length === 0) return async (_c, next) => next();
  const expected = digest(token);
  const challenge = { "www-authenticate": 'Bearer realm="j1-reward"' };
  return async (c, next) => {
    const header = c.req.header("authorization");
    const given = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? c.req.query("token");
    if (given === undefined) return refuse(c, 401, "missing token: send Authorization: Bearer <token>", challenge);
    if (!timingSafeEqual(digest(given), expected)) return refuse(c, 401, "wrong token", challenge);
    await next();
  };
}

/**
 * The body-size limit. A body with a Content-Length (what trainers' HTTP clients send) is judged by that
 * header alone: Node's parser never delivers more than it announces. Only a chunked body goes through
 * hono's bodyLimit, which counts while reading. The split is for speed: bodyLimit touches the request's
 * web-stream body, which makes @hono/node-server build a full web Request per call and costs about
 * 2.5 times the CPU per request at thousands of requests a second; reading the text directly does not.
 */
function limitBody(maxBytes: number, refuse: Refuse): MiddlewareHandler {
  const tooLarge = (c: Context) => refuse(c, 413, `the body is larger than the limit of ${maxBytes} bytes`);
  const streamed = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async (c, next) => {
    const length = c.req.header("content-length");
    if (length === undefined || c.req.header("transfer-encoding") !== undefined) return streamed(c, next);
    const bytes = Number(length);
    if (!Number.isSafeInteger(bytes) || bytes < 0) return refuse(c, 400, `bad Content-Length: ${JSON.stringify(length)}`);
    return bytes > maxBytes ? tooLarge(c) : next();
  };
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
