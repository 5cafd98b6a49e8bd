import { isAscii } from "node:buffer";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { getQueryParam } from "hono/utils/url";
import { JSON_HEADERS, RewardRoutes, type RewardAppOptions, type RewardReply } from "./reward-routes.js";

/**
 * The reward service as a plain node:http request listener: the routes of reward-routes.ts, carried with
 * nothing in between. This is what `j1 reward serve` runs. The hono app (reward-app.ts) gives the same
 * answers through web Request and Response objects, a context and a middleware chain. Measured with
 * bench/reward-service.ts (64 clients, server CPU per one-sample request, 2026-12-07, load 7 on 2 cores):
 * this listener 87.8 µs, the work alone (decode, JSON.parse, score, answer; --floor) 81.8, decoding and
 * parsing alone (--parse) 53.7, a bare node:http server that parses nothing 45.3.
 *
 * A request a web page could send (another Origin, a Host that is not the service's) is refused first.
 *
 * Kept as the hono face keeps them: the token before the size, the size by Content-Length (or counted
 * while reading a chunked body), the body decoded as fetch's text() does (UTF-8, a leading BOM dropped).
 */
export function createRewardListener(options: RewardAppOptions): RequestListener {
  const routes = new RewardRoutes(options);
  return (request, response) => {
    const method = request.method ?? "GET";
    const url = request.url ?? "/";
    const site = routes.sameSite(method, request.headers.host, request.headers.origin);
    if (site) return send(response, site);
    const path = pathOf(url);
    const route = routes.route(method, path);
    if (route === undefined) return send(response, routes.notFound(method, path));
    if (route === "health") return send(response, routes.health());
    const refused = routes.authorize(request.headers.authorization, () => getQueryParam(`http://localhost${url.startsWith("/") ? url : pathAndQuery(url)}`, "token") as string | undefined);
    if (refused) return send(response, refused);
    const length = routes.checkLength(request.headers["content-length"], request.headers["transfer-encoding"]);
    if (length !== undefined && length !== "count") return send(response, length);
    readBody(request, length === "count" ? routes.maxBodyBytes : Number.POSITIVE_INFINITY, (text) => {
      if (text === undefined) return send(response, routes.tooLarge(), true);
      let reply: RewardReply;
      try {
        reply = routes.post(route, text);
      } catch (error) {
        reply = routes.failure(error);
      }
      send(response, reply);
    });
  };
}

const decoder = new TextDecoder();

/** The body as text, or undefined once it passes `limit` bytes (reading stops there). */
function readBody(request: IncomingMessage, limit: number, done: (text: string | undefined) => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let over = false;
  request.on("data", (chunk: Buffer) => {
    if (over) return;
    bytes += chunk.length;
    if (bytes > limit) {
      over = true;
      chunks.length = 0;
      done(undefined);
      return;
    }
    chunks.push(chunk);
  });
  request.on("end", () => {
    if (!over) done(bodyText(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, bytes)));
  });
}

/**
 * The body decoded as fetch's text() decodes it. An all-ASCII body (what trainers mostly send: JSON
 * escapes nothing that needs it, and English text is ASCII) reads the same in latin1, which V8 builds
 * about twice as fast as it decodes UTF-8; anything else, a BOM included, goes through the decoder.
 */
function bodyText(body: Buffer): string {
  return isAscii(body) ? body.toString("latin1") : decoder.decode(body);
}

function send(response: ServerResponse, reply: RewardReply, close = false): void {
  const length = Buffer.byteLength(reply.body);
  // A literal for the common answer: a spread object is slower to build and, in dictionary mode, slower
  // for writeHead to walk (about a microsecond a request together).
  const headers: Record<string, string | number> =
    reply.headers === JSON_HEADERS ? { "content-type": "application/json", "content-length": length } : { ...reply.headers, "content-length": length };
  // A refused chunked body may go on and on: the connection ends with the answer instead of reading it.
  if (close) headers.connection = "close";
  response.writeHead(reply.status, headers);
  response.end(reply.body);
  if (close) response.once("finish", () => response.req.destroy());
}

/**
 * The request's path as the hono face routes it: an origin-form target up to its query, as sent; any
 * other (percent escapes, dot segments, an absolute URL) read as a URL reads it, escapes decoded.
 */
function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  const path = end < 0 ? url : url.slice(0, end);
  if (path.startsWith("/") && !/[%.\\]/.test(path)) return path;
  try {
    const pathname = new URL(url, "http://localhost").pathname;
    try {
      return pathname.includes("%") ? decodeURI(pathname) : pathname;
    } catch {
      return pathname;
    }
  } catch {
    return path;
  }
}

function pathAndQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return "/";
  }
}
