import { createHash, timingSafeEqual } from "node:crypto";
import path from "node:path";
import { Hono, type Context } from "hono";
import { cors } from "hono/cors";
import { every } from "hono/combine";
import { HTTPException } from "hono/http-exception";
import { stream as streamText, streamSSE } from "hono/streaming";
import type { ClientErrorStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { watchAbort } from "../core/abort-watch.js";
import { J1Error, errorMessage } from "../core/errors.js";
import { parseSampleStop, type SampleStop } from "../core/scaling/sample-stop.js";
import { parseStopRule } from "../core/scaling/stop-rule.js";
import type { Judgment } from "../core/judgment.js";
import { DEFAULT_CHOICE_TEMPLATE, DEFAULT_PAIRWISE_TEMPLATE, DEFAULT_POINTWISE_TEMPLATE, type JudgeTemplate } from "../core/template.js";
import { scalingFromRequest, type ScalingOptions } from "../core/budget.js";
import type { Engine } from "../engines/engine.js";
import { Judge, type JudgeCallOptions } from "../judge/judge.js";
import type { ChatFormatChoice } from "../judge/prompt-format.js";
import type { ThinkingEvent } from "../judge/thinking-run.js";
import { VERSION } from "../version.js";
import { limitBody, readJson, requireJsonBody, requireToken, sameSiteGuard, validate, type Refuse } from "./http-guards.js";
import type { RunStore } from "../store/types.js";
import { addRunRoutes } from "./runs-routes.js";
import { addEvalRunRoutes, type EvalRunsOptions } from "./eval-runs-routes.js";
import { addViewerRoutes } from "./viewer-routes.js";

/**
 * The judge service (`j1 serve`): one engine, loaded once, behind `POST /v1/judgments` and `GET /health`.
 * A bounded queue sits in front of the engine (at most `parallelSessions` judgments at once, at most
 * `queueLimit` waiting, then 429), every request has a time limit (504), and a client that hangs up
 * aborts its generation so the engine's sequence comes back.
 */
export interface JudgeAppOptions {
  engine: Engine;
  /** How prompts are written (the CLI's format flags); default: the model's own template. */
  format?: { chatFormat: ChatFormatChoice; chatTemplateFile?: string; reasoning?: string };
  /** Builds the judge for a kind and scaling options; default `Judge.create` on `engine` and `format`. Called once per distinct options. */
  makeJudge?: (kind: JudgmentKind, scaling: Partial<ScalingOptions>) => Promise<Judge>;
  /** When set, every /v1 route needs `Authorization: Bearer <token>`. */
  token?: string;
  maxBodyBytes: number;
  /** Judgments that may wait for the engine beyond those running; more get 429. */
  queueLimit: number;
  /** Whole-request time limit (queue wait included); past it the generation is aborted and the answer is 504. */
  requestTimeoutMs: number;
  /** Parallel judgments; default engine.capabilities.parallelSessions. */
  parallel?: number;
  logError?: (error: unknown) => void;
  /** A run store for the read-only GET /v1/runs routes; without one they answer 404 "no run store". */
  store?: RunStore;
  /** Origins allowed to call the service from a browser (`--cors`); none: no CORS headers. */
  corsOrigins?: readonly string[];
  /**
   * Hostnames the Host header may name (the bound address, localhost, --allow-host); undefined: any.
   * A Host the service does not answer to is how DNS rebinding reads a service on this machine.
   */
  allowedHosts?: readonly string[];
  /** With a store: eval runs started through POST /v1/runs (server/eval-runs-routes.ts). */
  evalRuns?: Pick<EvalRunsOptions, "format" | "dataRoot" | "maxRuns">;
}

export type JudgmentKind = "pair" | "rating" | "choice";


const text = z.string();
const JudgmentRequest = z
  .object({
    kind: z.enum(["pair", "rating", "choice"]).default("pair"),
    question: text,
    context: text.optional(),
    a: text.optional(),
    b: text.optional(),
    response: text.optional(),
    responses: z.array(text).min(2).max(26).optional(),
    waits: z.number().int().min(0).max(64).optional(),
    minThinking: z.number().int().min(0).max(65_536).optional(),
    maxThinking: z.number().int().min(1).max(65_536).optional(),
    answerTokens: z.number().int().min(1).max(256).optional(),
    waitText: z.string().min(1).max(256).optional(),
    samples: z.number().int().min(1).max(64).optional(),
    /** An adaptive rule within `waits` waits, as on the CLI: "confident:0.9", "stable:2". */
    stopWhen: z.string().max(64).optional(),
    /** Read the verdict at every attempted end (the trajectory; its probes are counted). */
    trajectory: z.boolean().optional(),
    /** With samples > 1: "decided" or "sequential:0.95". */
    earlyStop: z.string().max(64).optional(),
    swap: z.boolean().optional(),
    tie: z.boolean().optional(),
    temperature: z.number().min(0).max(10).optional(),
    seed: z.number().int().min(0).max(4_294_967_295).optional(),
    stream: z.boolean().optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    const need = (field: "a" | "b" | "response" | "responses") => {
      if (body[field] === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: `required for kind "${body.kind}"` });
    };
    const refuse = (field: string, why: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: why });
    if (body.kind === "pair") {
      need("a");
      need("b");
    } else if (body.kind === "rating") {
      need("response");
      if (body.swap !== undefined) refuse("swap", "only for kind pair");
    } else {
      need("responses");
      if (body.swap !== undefined) refuse("swap", "only for kind pair");
    }
    if (body.tie !== undefined && body.kind !== "pair") refuse("tie", "only for kind pair");
    // A text of another kind would be ignored: refused, so a caller never believes it was judged.
    const texts = { pair: ["a", "b"], rating: ["response"], choice: ["responses"] } as const;
    for (const field of ["a", "b", "response", "responses"] as const) {
      if (body[field] !== undefined && !(texts[body.kind] as readonly string[]).includes(field)) refuse(field, `not part of kind "${body.kind}" (it takes ${texts[body.kind].join(" and ")})`);
    }
    if (body.stopWhen !== undefined) {
      try {
        parseStopRule(body.stopWhen, "stopWhen");
        if ((body.waits ?? 0) === 0) refuse("stopWhen", "an adaptive rule stops within a number of waits: set waits (the most it may use)");
      } catch (error) {
        refuse("stopWhen", errorMessage(error));
      }
    }
    if (body.earlyStop !== undefined) {
      const parsed = parseSampleStop(body.earlyStop);
      if (typeof parsed === "string") refuse("earlyStop", parsed);
      else if ((body.samples ?? 1) < 2) refuse("earlyStop", "stops drawing samples early: set samples > 1");
    }
  });

type JudgmentBody = z.infer<typeof JudgmentRequest>;

/** Where a streamed piece of text came from, after ThinkingEvent. */
export type StreamSource = "generated" | "wait" | "forced-end" | "answer-prefix" | "answer";

function streamSource(event: Exclude<ThinkingEvent, { type: "probe" }>): StreamSource {
  if (event.type === "thinking") return "generated";
  if (event.type === "answer") return "answer";
  return event.role === "wait" ? "wait" : event.role === "think-end" ? "forced-end" : "answer-prefix";
}

/** A counting gate: `limit` holders at once, `waitLimit` waiting; beyond that `acquire` returns undefined. */
class Gate {
  running = 0;
  private readonly waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  constructor(
    readonly limit: number,
    readonly waitLimit: number,
  ) {}

  get waiting(): number {
    return this.waiters.length;
  }

  /** A promise of the slot (rejects if `signal` aborts while waiting), or undefined when the queue is full. */
  tryAcquire(signal: AbortSignal, bounded = true): Promise<() => void> | undefined {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.resolve();
      else this.running--;
    };
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve(release);
    }
    if (bounded && this.waiters.length >= this.waitLimit) return undefined;
    return new Promise((resolve, reject) => {
      let stopWatching = (): void => undefined;
      const waiter = {
        resolve: () => {
          stopWatching();
          resolve(release);
        },
        reject,
      };
      this.waiters.push(waiter);
      stopWatching = watchAbort(signal, () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal.reason);
      });
    });
  }
}

class Timeout extends Error {}

/** The app, and what a shutdown needs: abort every judgment still running and wait until all have settled. */
export interface JudgeService {
  app: Hono;
  /** Cancels the background eval runs (their judgments so far stay in the store, resumable). */
  cancelRuns(reason?: string): void;
  /** Aborts every judgment in flight (queued ones too, and the background runs); their streams end, their sessions close. */
  abortAll(reason?: string): void;
  /** Resolves when no judgment is in flight (each one's engine session closed). */
  settled(): Promise<void>;
}

export function createJudgeApp(options: JudgeAppOptions): Hono {
  return createJudgeService(options).app;
}

export function createJudgeService(options: JudgeAppOptions): JudgeService {
  const { engine } = options;
  const inFlight = new Map<AbortController, Promise<unknown>>();
  const gate = new Gate(Math.max(1, options.parallel ?? engine.capabilities.parallelSessions), Math.max(0, options.queueLimit));
  const judges = new Map<string, Promise<Judge>>();
  const makeJudge =
    options.makeJudge ??
    ((kind: JudgmentKind, scaling: Partial<ScalingOptions>) => Judge.create({ engine, template: templateFor(kind), ...(options.format ?? { chatFormat: "auto" }), scaling }));
  const judgeFor = (kind: JudgmentKind, scaling: Partial<ScalingOptions>): Promise<Judge> => {
    const key = JSON.stringify([kind, scaling]);
    let judge = judges.get(key);
    if (judge === undefined) {
      judge = makeJudge(kind, scaling);
      // A failed build is not cached: the next request tries again.
      judge.catch(() => judges.delete(key));
      if (judges.size >= 256) judges.delete(judges.keys().next().value as string);
      judges.set(key, judge);
    }
    return judge;
  };

  const app = new Hono();
  const refuse: Refuse = (c, status, message, headers) => c.json({ error: message }, status, headers);
  // CORS is off (no headers at all) unless origins are named: a page elsewhere cannot call the judge.
  if (options.corsOrigins && options.corsOrigins.length > 0) {
    app.use("*", cors({ origin: [...options.corsOrigins], allowHeaders: ["authorization", "content-type"], allowMethods: ["GET", "POST", "DELETE", "OPTIONS"], maxAge: 600 }));
  }

  // A fleet's figures per server (up or down, slots, sessions, tokens, cache reuse, errors, failovers).
  app.use("*", sameSiteGuard({ corsOrigins: options.corsOrigins ?? [], allowedHosts: options.allowedHosts }, refuse));

  // Open to all (a load balancer's probe has no token); with a token set, a caller without it does not
  // learn where the model file lies on the disk.
  const tokenDigest = options.token ? createHash("sha256").update(options.token).digest() : undefined;
  const mayKnowPaths = (c: Context) => {
    if (tokenDigest === undefined) return true;
    const given = c.req.header("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
    return given !== undefined && timingSafeEqual(createHash("sha256").update(given).digest(), tokenDigest);
  };
  const described = (c: Context) => {
    const description = engine.describe();
    if (mayKnowPaths(c)) return description;
    const { modelFile, ...rest } = description as Record<string, unknown>;
    return { ...rest, ...(typeof modelFile === "string" ? { modelFile: path.basename(modelFile) } : {}), model: typeof rest.model === "string" && path.isAbsolute(rest.model) ? path.basename(rest.model) : rest.model };
  };
  app.get("/health", (c) => c.json({ status: "ok", version: VERSION, engine: described(c), queue: { running: gate.running, waiting: gate.waiting, limit: gate.waitLimit, parallel: gate.limit }, ...(engine.servers ? { servers: engine.servers() } : {}) }));

  const auth = requireToken(options.token, refuse, { realm: "j1" });
  const sizeLimit = limitBody(options.maxBodyBytes, refuse);
  const jsonOnly = requireJsonBody(refuse);
  // Every route with a body: JSON only (see sameSiteGuard), then the size limit.
  const limit = every(jsonOnly, sizeLimit);

  app.post("/v1/judgments", auth, limit, async (c) => {
    const body = validate(JudgmentRequest, await readJson(c));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Timeout(`the judgment took longer than the limit of ${options.requestTimeoutMs} ms`)), options.requestTimeoutMs);
    timer.unref();
    const clientGone = c.req.raw.signal;
    const onGone = () => controller.abort(new J1Error("cancelled", "the client disconnected"));
    if (clientGone.aborted) onGone();
    clientGone.addEventListener("abort", onGone, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      clientGone.removeEventListener("abort", onGone);
    };
    const slot = gate.tryAcquire(controller.signal);
    if (slot === undefined) {
      cleanup();
      const seconds = Math.max(1, Math.ceil(options.requestTimeoutMs / 1000 / 10));
      return refuse(c, 429, `the queue is full (${gate.running} running, ${gate.waiting} waiting, limit ${gate.waitLimit}); retry later`, { "retry-after": String(seconds) });
    }
    const judged = async (onEvent?: JudgeCallOptions["onEvent"]): Promise<Judgment & { warnings?: unknown }> => {
      const release = await slot;
      try {
        const judgment = await judgeOne(await judgeFor(body.kind, scalingOf(body)), body, { signal: controller.signal, onEvent });
        if (controller.signal.aborted) throw controller.signal.reason;
        const warnings = engine.warnings ?? [];
        return warnings.length > 0 ? { ...judgment, warnings } : judgment;
      } finally {
        release();
      }
    };
    const run = (onEvent?: JudgeCallOptions["onEvent"]) => {
      const promise = judged(onEvent);
      inFlight.set(controller, promise);
      const forget = () => inFlight.delete(controller);
      promise.then(forget, forget);
      return promise;
    };
    if (!body.stream) {
      try {
        return c.json(await run());
      } catch (error) {
        if (controller.signal.reason instanceof Timeout) return c.json({ error: controller.signal.reason.message }, 504);
        throw error;
      } finally {
        cleanup();
      }
    }
    return streamSSE(
      c,
      async (stream) => {
        stream.onAbort(onGone);
        try {
          const judgment = await run((event) => {
            if (stream.aborted || stream.closed) return;
            if (event.type === "probe") void stream.writeSSE({ event: "probe", data: JSON.stringify({ ...event.probe, order: event.order, sample: event.sample }) });
            else void stream.writeSSE({ event: "thinking", data: JSON.stringify({ text: event.text, source: streamSource(event), order: event.order, sample: event.sample }) });
          });
          await stream.writeSSE({ event: "judgment", data: JSON.stringify(judgment) });
          await stream.writeSSE({ event: "done", data: "{}" });
        } catch (error) {
          if (stream.aborted || stream.closed) return;
          const reason = controller.signal.reason;
          const message = reason instanceof Timeout ? reason.message : error instanceof J1Error && error.code === "bad-input" ? error.message : "internal error";
          if (!(reason instanceof Timeout) && !(error instanceof J1Error && error.code === "bad-input")) options.logError?.(error);
          await stream.writeSSE({ event: "error", data: JSON.stringify({ error: message, status: reason instanceof Timeout ? 504 : 500 }) });
        } finally {
          cleanup();
        }
      },
      async (error) => {
        options.logError?.(error);
      },
    );
  });

  /**
   * A batch: JSON lines, each a judgment request (plus an optional "id"), answered as NDJSON, one line per
   * judgment as it finishes. The rule: the batch is admitted like one request (429 when the queue is full
   * at that moment); once admitted, its lines never get 429: at most `parallel` of them wait or run at a
   * time, each waiting for an engine slot as long as it takes (each line has the request time limit from
   * the moment it starts waiting). A bad line answers {id, line, error, status} and the others go on; a
   * client that disconnects aborts the lines still waiting or running.
   */
  app.post("/v1/judgments/batch", auth, limit, async (c) => {
    if (gate.running >= gate.limit && gate.waiting >= gate.waitLimit) {
      const seconds = Math.max(1, Math.ceil(options.requestTimeoutMs / 1000 / 10));
      return refuse(c, 429, `the queue is full (${gate.running} running, ${gate.waiting} waiting, limit ${gate.waitLimit}); retry later`, { "retry-after": String(seconds) });
    }
    const lines = (await c.req.text()).split("\n");
    const work: Array<{ line: number; raw: string }> = [];
    lines.forEach((raw, index) => {
      if (raw.trim() !== "") work.push({ line: index + 1, raw });
    });
    if (work.length === 0) return refuse(c, 400, "the body is empty; expected JSON lines, one judgment request a line");
    const batch = new AbortController();
    const clientGone = c.req.raw.signal;
    const onGone = () => batch.abort(new J1Error("cancelled", "the client disconnected"));
    if (clientGone.aborted) onGone();
    clientGone.addEventListener("abort", onGone, { once: true });
    c.header("content-type", "application/x-ndjson");
    return streamText(
      c,
      async (out) => {
        out.onAbort(onGone);
        const write = async (value: unknown) => {
          if (!out.aborted && !out.closed) await out.write(`${JSON.stringify(value)}\n`);
        };
        const one = async ({ line, raw }: { line: number; raw: string }) => {
          let id: unknown = null;
          let body: JudgmentBody;
          try {
            let parsed: unknown;
            try {
              parsed = JSON.parse(raw);
            } catch {
              throw badLine(line, "the line is not valid JSON");
            }
            if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw badLine(line, "the line is not a JSON object");
            const { id: given, stream: _stream, ...rest } = parsed as Record<string, unknown>;
            if (given !== undefined && typeof given !== "string" && typeof given !== "number") throw badLine(line, 'field "id": must be a string or a number');
            id = given ?? line;
            try {
              body = validate(JudgmentRequest, rest);
            } catch (error) {
              throw badLine(line, error instanceof J1Error ? error.message : "invalid request");
            }
          } catch (error) {
            await write({ id, line, error: (error as Error).message, status: 400 });
            return;
          }
          const controller = new AbortController();
          // The lines in flight share one listener on the batch's signal (one each passed Node's limit of 10 at --parallel 11).
          const stopWatching = watchAbort(batch.signal, () => controller.abort(batch.signal.reason));
          const timer = setTimeout(() => controller.abort(new Timeout(`the judgment took longer than the limit of ${options.requestTimeoutMs} ms`)), options.requestTimeoutMs);
          timer.unref();
          const promise = (async () => {
            const release = await (gate.tryAcquire(controller.signal, false) as Promise<() => void>);
            try {
              const judgment = await judgeOne(await judgeFor(body.kind, scalingOf(body)), body, { signal: controller.signal });
              if (controller.signal.aborted) throw controller.signal.reason;
              return judgment;
            } finally {
              release();
            }
          })();
          inFlight.set(controller, promise);
          try {
            await write({ id, ...(await promise) });
          } catch (error) {
            const reason = controller.signal.reason;
            if (reason instanceof Timeout) await write({ id, line, error: reason.message, status: 504 });
            else if (error instanceof J1Error && error.code === "bad-input") await write({ id, line, error: `line ${line}: ${error.message}`, status: 400 });
            else if (!batch.signal.aborted) {
              options.logError?.(error);
              await write({ id, line, error: "internal error", status: 500 });
            }
          } finally {
            inFlight.delete(controller);
            clearTimeout(timer);
            stopWatching();
          }
        };
        let next = 0;
        const worker = async () => {
          while (next < work.length && !batch.signal.aborted) await one(work[next++]);
        };
        try {
          await Promise.all(Array.from({ length: Math.min(gate.limit, work.length) }, worker));
        } finally {
          clientGone.removeEventListener("abort", onGone);
        }
      },
      async (error) => {
        options.logError?.(error);
      },
    );
  });

  const background = options.store && options.evalRuns ? addEvalRunRoutes(app, { ...options.evalRuns, engine, store: options.store, logError: options.logError }, auth, limit, refuse) : undefined;
  addRunRoutes(app, options.store, auth, refuse);
  addViewerRoutes(app);

  app.notFound((c) => refuse(c, 404, `no route ${c.req.method} ${c.req.path}; routes: GET /health, POST /v1/judgments, POST /v1/judgments/batch, GET /v1/runs, GET /v1/runs/:id, GET /v1/runs/:id/report, GET /v1/runs/:id/items, GET /v1/runs/:id/items/:itemId, GET /v1/runs/:id/compare/:other, GET /v1/runs/:id/export, POST /v1/runs, GET /v1/runs/:id/events, DELETE /v1/runs/:id, GET / (the viewer)`));

  app.onError((error, c) => {
    if (error instanceof J1Error && (error.code === "bad-input" || error.code === "bad-template" || error.code === "unsupported")) return refuse(c, 400, error.message);
    if (error instanceof HTTPException && error.status < 500) return refuse(c, error.status as ClientErrorStatusCode, error.message || "request refused");
    if (error instanceof J1Error && error.code === "cancelled") return c.json({ error: "cancelled" }, 499 as never);
    options.logError?.(error);
    return c.json({ error: "internal error" }, 500);
  });

  return {
    app,
    cancelRuns(reason = "the service is stopping") {
      background?.cancelAll(reason);
    },
    abortAll(reason = "the service is stopping") {
      background?.cancelAll(reason);
      for (const controller of inFlight.keys()) controller.abort(new J1Error("cancelled", reason));
    },
    async settled() {
      await background?.settled();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight.values()]);
    },
  };
}

function badLine(line: number, problem: string): J1Error {
  return new J1Error("bad-input", `line ${line}: ${problem}`);
}

/** The default template of a request kind. */
export function templateFor(kind: JudgmentKind): JudgeTemplate {
  return kind === "pair" ? DEFAULT_PAIRWISE_TEMPLATE : kind === "rating" ? DEFAULT_POINTWISE_TEMPLATE : DEFAULT_CHOICE_TEMPLATE;
}

function scalingOf(body: JudgmentBody): Partial<ScalingOptions> {
  return scalingFromRequest({ ...body, stopWhen: body.stopWhen === undefined ? undefined : parseStopRule(body.stopWhen, "stopWhen") });
}

/** The judgment `j1 judge --json` would print for the same inputs and options. */
function judgeOne(judge: Judge, body: JudgmentBody, call: Pick<JudgeCallOptions, "signal" | "onEvent">): Promise<Judgment> {
  const samples = body.samples ?? 1;
  const options = {
    samples,
    temperature: body.temperature ?? (samples > 1 ? 0.7 : 0),
    seed: body.seed ?? 0,
    earlyStop: body.earlyStop === undefined ? undefined : (parseSampleStop(body.earlyStop) as SampleStop),
    itemKey: "cli",
    ...call,
  };
  if (body.kind === "rating") return judge.judgePoint({ question: body.question, response: body.response as string, context: body.context }, options);
  if (body.kind === "choice") return judge.judgeChoice({ question: body.question, responses: body.responses as string[], context: body.context }, options);
  return judge.judgePair({ question: body.question, a: body.a as string, b: body.b as string, context: body.context }, { ...options, swap: body.swap ?? false, allowTie: body.tie ?? false });
}
