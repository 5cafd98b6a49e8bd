import * as crypto from "node:crypto";
import { z } from "zod";
import { crossSiteCheck } from "./http-guards.js";
import { J1Error } from "../core/errors.js";
import type { RewardScorer } from "../reward/reward-batch.js";
import { VERSION } from "../version.js";
import { validate } from "./http-guards.js";

/**
 * The reward service's routes with no HTTP framework under them: what each request gets, as status,
 * headers and body text. Two faces carry them: the hono app (createRewardApp, the library's) and a plain
 * node:http listener (createRewardListener, what `j1 reward serve` runs: at thousands of one-sample
 * requests a second, hono's request and response objects cost more than the scoring). Both ask these
 * methods in the same order (route, token, size, body) and so answer alike; test/reward-listener.test.ts
 * sends the same requests to both.
 */
export interface RewardAppOptions {
  scorer: RewardScorer;
  /** When set, POST routes need `Authorization: Bearer <token>` (or `?token=<token>`: see `authorize`). */
  token?: string;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /**
   * The names the Host header may give (see http-guards' allowedHostsFor); undefined: any. Requests from
   * a web page (an Origin other than the service's own) are refused whatever this is: trainers send none.
   */
  allowedHosts?: readonly string[];
  /** Where unexpected errors go (the client only sees "internal error"). */
  logError?: (error: unknown) => void;
  /**
   * Told of every refused request (400, 401, 404, 413) with the message the client got. Trainers may only
   * log a failed reward call quietly (OpenRLHF logs it at info level and carries on without a reward), so
   * the service's own log is where a misconfiguration shows.
   */
  logRefusal?: (status: number, message: string) => void;
}

export interface RewardReply {
  status: number;
  /** JSON text. */
  body: string;
  headers?: Record<string, string>;
}

/** A route that takes a body. */
export type RewardPost = "/get_reward" | "/score";

export const REWARD_ROUTES_TEXT = "routes: GET /health, POST /get_reward, POST /score";

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

/** A refusal raised inside a route (a body that is no JSON): answered by `failure` with its status. */
export class RewardRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The headers of most answers (the listener writes this one object's headers without copying it). */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json" });

export class RewardRoutes {
  /** Refused requests by status, for /health. */
  private readonly refused: Record<string, number> = {};
  private readonly expected: Buffer | undefined;
  private readonly challenge = { "www-authenticate": 'Bearer realm="j1-reward"' };
  private readonly crossSite: ReturnType<typeof crossSiteCheck>;

  constructor(private readonly options: RewardAppOptions) {
    this.expected = options.token === undefined || options.token.length === 0 ? undefined : digest(options.token);
    this.crossSite = crossSiteCheck({ corsOrigins: [], allowedHosts: options.allowedHosts, corsHint: false });
  }

  get maxBodyBytes(): number {
    return this.options.maxBodyBytes;
  }

  /** Which route a method and path name: a POST route, "health", or undefined (404). */
  route(method: string, path: string): RewardPost | "health" | undefined {
    if (method === "POST" && (path === "/get_reward" || path === "/score")) return path;
    // HEAD answers as GET without a body, as hono does.
    if ((method === "GET" || method === "HEAD") && path === "/health") return "health";
    return undefined;
  }

  refuse(status: number, message: string, headers?: Record<string, string>): RewardReply {
    this.refused[status] = (this.refused[status] ?? 0) + 1;
    this.options.logRefusal?.(status, message);
    return { status, body: JSON.stringify({ error: message }), headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS };
  }

  notFound(method: string, path: string): RewardReply {
    return this.refuse(404, `no route ${method} ${path}; ${REWARD_ROUTES_TEXT}`);
  }

  health(): RewardReply {
    return { status: 200, body: JSON.stringify({ status: "ok", version: VERSION, served: this.options.scorer.counters, refused: this.refused }), headers: JSON_HEADERS };
  }

  /**
   * The bearer token, compared in constant time (both sides hashed first, so lengths never differ); a
   * refusal, or undefined when the request may go on. The token may also come as `?token=` (OpenRLHF's
   * client cannot add headers); URLs end up in logs, so prefer the header where the client allows it, and
   * bind to a private address either way.
   */
  /**
   * A request a page on another site could make (an Origin not the service's, or a Host that is not its
   * name: DNS rebinding) is refused with 403, before the token: without a token a page could otherwise
   * have a local service score its text as a "simple" POST.
   */
  sameSite(method: string, host: string | undefined, origin: string | undefined): RewardReply | undefined {
    const refusal = this.crossSite(method, host, origin);
    return refusal === undefined ? undefined : this.refuse(403, refusal);
  }

  authorize(authorization: string | undefined, queryToken: () => string | undefined): RewardReply | undefined {
    if (this.expected === undefined) return undefined;
    const given = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? queryToken();
    if (given === undefined) return this.refuse(401, "missing token: send Authorization: Bearer <token>", this.challenge);
    if (!crypto.timingSafeEqual(digest(given), this.expected)) return this.refuse(401, "wrong token", this.challenge);
    return undefined;
  }

  /**
   * The size check of a body announced by Content-Length (what trainers' HTTP clients send): a refusal,
   * "count" when the body has no length to trust (chunked: count while reading, `tooLarge` past the
   * limit), or undefined when it may be read (Node's parser never delivers more than was announced).
   */
  checkLength(contentLength: string | undefined, transferEncoding: string | undefined): RewardReply | "count" | undefined {
    if (contentLength === undefined || transferEncoding !== undefined) return "count";
    const bytes = Number(contentLength);
    if (!Number.isSafeInteger(bytes) || bytes < 0) return this.refuse(400, `bad Content-Length: ${JSON.stringify(contentLength)}`);
    return bytes > this.options.maxBodyBytes ? this.tooLarge() : undefined;
  }

  tooLarge(): RewardReply {
    return this.refuse(413, `the body is larger than the limit of ${this.options.maxBodyBytes} bytes`);
  }

  /** A POST route's answer to its body text (errors thrown here go to `failure`). */
  post(route: RewardPost, text: string): RewardReply {
    const body = parseJson(text);
    if (route === "/get_reward") {
      const { query, prompts, labels } = validate(GetRewardRequest, body);
      const batch = this.options.scorer.scoreBatch(query, prompts, labels);
      // Written by hand so that every number is a float ("1.0", not "1"): Python's json reads "1" as an
      // int, and an integer tensor in the trainer breaks means and in-place float updates.
      let logs = "";
      for (const [name, values] of Object.entries(batch.extraLogs)) logs += `${logs === "" ? "" : ","}${JSON.stringify(name)}:${floatList(values)}`;
      return { status: 200, body: `{"rewards":${floatList(batch.rewards)},"scores":${floatList(batch.scores)},"extra_logs":{${logs}}}`, headers: JSON_HEADERS };
    }
    const request = validate(ScoreRequest, body);
    const detail = this.options.scorer.scoreOne(request.solution_str, request.ground_truth);
    return {
      status: 200,
      body: JSON.stringify({ reward: detail.reward, score: detail.score, status: detail.status, verdict: detail.verdict, parts: detail.parts, problem: detail.problem ?? null, reason: detail.reason }),
      headers: JSON_HEADERS,
    };
  }

  /** Errors of a route: bad input is a 400 naming the field, a refusal its status, the rest a 500 that says nothing. */
  failure(error: unknown): RewardReply {
    if (error instanceof J1Error && error.code === "bad-input") return this.refuse(400, error.message);
    if (error instanceof RewardRefusal) return this.refuse(error.status, error.message);
    this.options.logError?.(error);
    return { status: 500, body: JSON.stringify({ error: "internal error" }), headers: JSON_HEADERS };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new RewardRefusal(400, text.trim().length === 0 ? "the body is empty; expected a JSON object" : "the body is not valid JSON");
  }
}

/**
 * SHA-256 of the token. The one-shot crypto.hash (Node 20.12+, 21.7+) costs about 0.9 µs where a Hash
 * object, fed and digested, costs 2.3: a tenth of the service's own CPU per one-sample request. Older
 * Nodes (package.json allows 20.0) keep the object.
 */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: "buffer") => Buffer }).hash;
const digest: (text: string) => Buffer = oneShotHash ? (text) => oneShotHash("sha256", text, "buffer") : (text) => crypto.createHash("sha256").update(text).digest();

function floatList(values: readonly number[]): string {
  let text = "[";
  for (let index = 0; index < values.length; index++) text += (index === 0 ? "" : ",") + floatText(values[index]);
  return `${text}]`;
}

function floatText(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`non-finite number in a reward response: ${value}`);
  // A safe integer's toFixed(1) is its digits and ".0"; the template is the same text for less work.
  if (Number.isSafeInteger(value)) return `${value}.0`;
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}
