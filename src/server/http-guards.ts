import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ClientErrorStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { badInput } from "../core/errors.js";

/**
 * The request guards every j1 service shares (the reward service, the judge service): a bearer token
 * compared in constant time, a body-size limit, JSON reading and zod validation whose errors name the field.
 */
export type Refuse = (c: Context, status: ClientErrorStatusCode, message: string, headers?: Record<string, string>) => Response;

export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: text.trim().length === 0 ? "the body is empty; expected a JSON object" : "the body is not valid JSON" });
  }
}

/** The parsed body, or a bad-input error naming the first wrong field ("labels[2]"). */
export function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length === 0 ? "body" : issue.path.map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join("");
  throw badInput(issue.message, { field });
}

/**
 * Bearer-token check, compared in constant time (both sides hashed first, so lengths never differ). With
 * `allowQuery`, the token may also come as `?token=` (OpenRLHF's client cannot add headers); URLs end up
 * in logs, so prefer the header where the client allows it, and bind to a private address either way.
 */
export function requireToken(token: string | undefined, refuse: Refuse, options: { realm: string; allowQuery?: boolean }): MiddlewareHandler {
  if (token === undefined || token.length === 0) return async (_c, next) => next();
  const expected = digest(token);
  const challenge = { "www-authenticate": `Bearer realm="${options.realm}"` };
  return async (c, next) => {
    const header = c.req.header("authorization");
    const given = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? (options.allowQuery ? c.req.query("token") : undefined);
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
export function limitBody(maxBytes: number, refuse: Refuse): MiddlewareHandler {
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

/**
 * Refuses what a page on another site could send to a service on this machine. A browser lets any page
 * POST a "simple" request (text/plain, a form) without asking the service first, and lets a name the
 * attacker controls resolve to 127.0.0.1 (DNS rebinding): so a state-changing request must carry a JSON
 * type (a page can send one only after a CORS preflight, which the service answers only for `--cors`
 * origins), an `Origin`, when sent, must be one of those origins or the service's own, and the `Host`
 * must name the service (`allowedHosts`: hostnames, lowercase; undefined: any, for a service bound to all
 * addresses without an allow-list).
 */
export function sameSiteGuard(options: { corsOrigins: readonly string[]; allowedHosts?: readonly string[] }, refuse: Refuse): MiddlewareHandler {
  const check = crossSiteCheck(options);
  return async (c, next) => {
    const refusal = check(c.req.method, c.req.header("host"), c.req.header("origin"));
    if (refusal !== undefined) return refuse(c, 403, refusal);
    await next();
  };
}

/**
 * sameSiteGuard's rule as a function of the method, Host and Origin: the refusal's message, or undefined
 * for a request this service may take (the reward service's node:http listener calls it directly).
 * `corsHint` says how to allow an origin, where the service can.
 */
export function crossSiteCheck(options: { corsOrigins: readonly string[]; allowedHosts?: readonly string[]; corsHint?: boolean }): (method: string, host: string | undefined, origin: string | undefined) => string | undefined {
  const hosts = options.allowedHosts === undefined ? undefined : new Set(options.allowedHosts.map((name) => name.toLowerCase()));
  return (method, host, origin) => {
    if (hosts !== undefined && (host === undefined || !hosts.has(hostnameOf(host)))) {
      return `the Host header ${host === undefined ? "is missing" : `"${host.slice(0, 100)}" does not name this service`}: call it by its address (or start it with --allow-host NAME)`;
    }
    if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS" && origin !== undefined) {
      if (!options.corsOrigins.includes(origin) && !(host !== undefined && (origin === `http://${host}` || origin === `https://${host}`))) {
        return `requests from the origin "${origin.slice(0, 100)}" are refused: ${options.corsHint === false ? "this service takes no requests from web pages" : `start the service with --cors ${origin.slice(0, 100)} to allow that page`}`;
      }
    }
    return undefined;
  };
}

/**
 * The hostnames a service's Host header may name: the bound address, the loopback names and --allow-host.
 * A service bound to every address (0.0.0.0, ::) is reached by names j1 cannot know: no check unless
 * --allow-host lists them.
 */
export function allowedHostsFor(host: string, extra: readonly string[]): string[] | undefined {
  const everywhere = host === "0.0.0.0" || host === "::" || host === "[::]";
  if (everywhere && extra.length === 0) return undefined;
  const bound = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return [...(everywhere ? [] : [bound]), "localhost", "127.0.0.1", "[::1]", ...extra.map((name) => name.trim().toLowerCase())];
}

/** A state-changing request's body must be JSON (or JSON lines): a cross-site page cannot send that type unasked. */
export function requireJsonBody(refuse: Refuse, types: readonly string[] = ["application/json", "application/x-ndjson", "application/jsonl"]): MiddlewareHandler {
  return async (c, next) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (!types.includes(type)) return refuse(c, 415, `the body must be sent as ${types.join(" or ")} (found ${type === "" ? "no content-type" : `"${type.slice(0, 100)}"`})`);
    await next();
  };
}

/** The hostname of a Host header ("127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "[::1]"), lowercase. */
function hostnameOf(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith("[")) return trimmed.slice(0, trimmed.indexOf("]") + 1);
  const colon = trimmed.lastIndexOf(":");
  return colon < 0 ? trimmed : trimmed.slice(0, colon);
}
