/**
 * The reward service's two faces, the node:http listener `j1 reward serve` runs and the hono app the
 * library offers, on real ports: the same raw requests (good and broken bodies, tokens in the header and
 * the query, sizes announced and streamed, unknown routes, HEAD, a BOM, escapes in the path) get the same
 * status, body and headers from both, and both count the same refusals.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { renderChat, segmentsText } from "../src/core/chat-format.js";
import { DEFAULT_PAIRWISE_TEMPLATE, renderPairwise } from "../src/core/template.js";
import { RewardScorer } from "../src/reward/reward-batch.js";
import { resolveRewardOptions } from "../src/reward/reward-options.js";
import { createRewardApp } from "../src/server/reward-app.js";
import { createRewardListener } from "../src/server/reward-listener.js";
import type { RewardAppOptions } from "../src/server/reward-routes.js";
import { listen, type RunningServer } from "../src/server/reward-server.js";
import { allowedHostsFor } from "../src/server/http-guards.js";

const TOKEN = "s3cret";
const PROMPT = segmentsText(renderChat(renderPairwise(DEFAULT_PAIRWISE_TEMPLATE, { question: "What is 2+2?", a: "4", b: "5" }), "chatml"));
const GOOD = JSON.stringify({ query: [`${PROMPT}x</think>[[A]]<|im_end|>`], prompts: [PROMPT], labels: ["A"] });

interface Face {
  server: RunningServer;
  refusals: Array<[number, string]>;
  errors: unknown[];
}

const faces: Record<"listener" | "hono", Face> = {} as Record<"listener" | "hono", Face>;

before(async () => {
  for (const name of ["listener", "hono"] as const) {
    const refusals: Array<[number, string]> = [];
    const errors: unknown[] = [];
    const scorer = new RewardScorer(resolveRewardOptions());
    // A label "explode" makes this scorer fail inside, for the 500.
    const original = scorer.scoreBatch.bind(scorer);
    scorer.scoreBatch = (query, prompts, labels) => {
      if (labels[0] === "explode") throw new Error("secret internal detail");
      return original(query, prompts, labels);
    };
    const options: RewardAppOptions = { scorer, token: TOKEN, maxBodyBytes: 4000, allowedHosts: allowedHostsFor("127.0.0.1", []), logRefusal: (status, message) => refusals.push([status, message]), logError: (error) => errors.push(error) };
    const server = await listen(name === "listener" ? createRewardListener(options) : createRewardApp(options), "127.0.0.1", 0);
    faces[name] = { server, refusals, errors };
  }
});

after(async () => {
  for (const face of Object.values(faces)) await face.server.close();
});

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** A body sent whole with its Content-Length, or in chunks (Transfer-Encoding: chunked). */
  body?: string | Buffer;
  chunks?: Array<string | Buffer>;
}

interface Got {
  status: number;
  body: string;
  type: string | undefined;
  challenge: string | undefined;
}

function send(face: Face, request: Sent): Promise<Got> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) headers["content-length"] = Buffer.byteLength(request.body);
    // A fresh connection per request: a refused stream closes its own.
    const sent = http.request(`${face.server.url}${request.path}`, { method: request.method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), type: response.headers["content-type"], challenge: response.headers["www-authenticate"] as string | undefined }),
      );
      response.on("error", reject);
    });
    sent.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? undefined : reject(error)));
    if (request.chunks) {
      for (const chunk of request.chunks) sent.write(chunk);
      sent.end();
    } else sent.end(request.body);
  });
}

const bearer = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
/** Thinking past ASCII: Latin-1 letters (two UTF-8 bytes each), a dash and a check mark (three), an emoji (four; two UTF-16 units). */
const WIDE_THINKING = "Ça répond « 4 » — juste ✓ 👍";
const wide = (verdict: string) => ({ query: [`${PROMPT}${WIDE_THINKING}</think>${verdict}<|im_end|>`], prompts: [PROMPT], labels: ["A"] });
/** JSON as Python's json.dumps writes it (what OpenRLHF's and verl's clients send): every non-ASCII character escaped. */
const asciiJson = (value: unknown) => JSON.stringify(value).replace(/[\u0080-\uffff]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);
const big = JSON.stringify({ query: ["x".repeat(5000)], prompts: [""], labels: ["A"] });
const CASES: Array<[string, Sent]> = [
  ["a good sample, token in the header", { method: "POST", path: "/get_reward", headers: bearer, body: GOOD }],
  ["the token as a query parameter", { method: "POST", path: `/get_reward?token=${TOKEN}`, body: GOOD }],
  ["a wrong token in the query", { method: "POST", path: "/get_reward?token=nope", body: GOOD }],
  ["no token", { method: "POST", path: "/get_reward", body: GOOD }],
  ["a wrong token", { method: "POST", path: "/get_reward", headers: { authorization: "Bearer nope" }, body: GOOD }],
  ["Basic auth", { method: "POST", path: "/get_reward", headers: { authorization: "Basic czNjcmV0" }, body: GOOD }],
  ["lowercase bearer with spaces", { method: "POST", path: "/get_reward", headers: { authorization: `bearer   ${TOKEN}  ` }, body: GOOD }],
  ["broken JSON", { method: "POST", path: "/get_reward", headers: bearer, body: "{not json" }],
  ["an empty body", { method: "POST", path: "/get_reward", headers: bearer, body: "" }],
  ["an array", { method: "POST", path: "/get_reward", headers: bearer, body: "[]" }],
  ["a missing field", { method: "POST", path: "/get_reward", headers: bearer, body: JSON.stringify({ query: ["x"] }) }],
  ["a bad label", { method: "POST", path: "/get_reward", headers: bearer, body: JSON.stringify({ query: ["x"], labels: ["maybe"] }) }],
  ["a body with a BOM", { method: "POST", path: "/get_reward", headers: bearer, body: `\ufeff${GOOD}` }],
  ["UTF-8 past ASCII", { method: "POST", path: "/get_reward", headers: bearer, body: JSON.stringify(wide("[[A]]")) }],
  ["the same, escaped to ASCII as Python sends it", { method: "POST", path: "/get_reward", headers: bearer, body: asciiJson(wide("[[A]]")) }],
  ["UTF-8 past ASCII in chunks cut inside a character", { method: "POST", path: "/get_reward", headers: bearer, chunks: splitInside(JSON.stringify(wide("[[A]]"))) }],
  ["a look-alike verdict in UTF-8", { method: "POST", path: "/get_reward", headers: bearer, body: JSON.stringify(wide("［［A］］")) }],
  ["a look-alike verdict escaped to ASCII", { method: "POST", path: "/get_reward", headers: bearer, body: asciiJson(wide("［［A］］")) }],
  ["bytes that are not UTF-8", { method: "POST", path: "/get_reward", headers: bearer, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }],
  ["bytes that are not UTF-8 inside the thinking", { method: "POST", path: "/get_reward", headers: bearer, body: badBytesInThinking() }],
  ["an oversized body by its Content-Length", { method: "POST", path: "/get_reward", headers: bearer, body: big }],
  ["an oversized body streamed in chunks", { method: "POST", path: "/get_reward", headers: bearer, chunks: [big.slice(0, 2000), big.slice(2000, 4000), big.slice(4000)] }],
  ["a small body in chunks", { method: "POST", path: "/get_reward", headers: bearer, chunks: [GOOD.slice(0, 10), GOOD.slice(10)] }],
  ["an oversized body without a token (the token first)", { method: "POST", path: "/get_reward", body: big }],
  ["verl's /score", { method: "POST", path: "/score", headers: bearer, body: JSON.stringify({ solution_str: "<think>x</think>[[B]]", ground_truth: "B" }) }],
  ["/score without its ground truth", { method: "POST", path: "/score", headers: bearer, body: JSON.stringify({ solution_str: "x" }) }],
  ["an internal error", { method: "POST", path: "/get_reward", headers: bearer, body: JSON.stringify({ query: ["x</think>[[A]]"], labels: ["explode"] }) }],
  ["an unknown route", { method: "GET", path: "/nope" }],
  ["GET on a POST route", { method: "GET", path: "/get_reward" }],
  ["a trailing slash", { method: "POST", path: "/get_reward/", headers: bearer, body: GOOD }],
  ["an escaped path", { method: "POST", path: "/get%5Freward", headers: bearer, body: GOOD }],
  ["PUT", { method: "PUT", path: "/score", headers: bearer, body: "{}" }],
  ["HEAD /health", { method: "HEAD", path: "/health" }],
  ["a query on /health", { method: "GET", path: "/health?x=1" }],
  ["a web page's POST from another site (an Origin)", { method: "POST", path: "/get_reward", headers: { ...bearer, origin: "https://evil.example" }, body: GOOD }],
  ["a page's text/plain POST without a token, from another site", { method: "POST", path: "/get_reward?token=nope", headers: { "content-type": "text/plain", origin: "null" }, body: GOOD }],
  ["a Host that is not the service's name (DNS rebinding)", { method: "POST", path: "/get_reward", headers: { ...bearer, host: "evil.example:8765" }, body: GOOD }],
  ["the same Host on /health", { method: "GET", path: "/health", headers: { host: "evil.example" } }],
  ["an Origin on GET /health (reads are not refused for it)", { method: "GET", path: "/health", headers: { origin: "https://evil.example" } }],
  ["localhost as the Host", { method: "POST", path: "/get_reward", headers: { ...bearer, host: "localhost" }, body: GOOD }],
];

test("the listener answers every request as the hono app does", async () => {
  for (const [name, request] of CASES) {
    const listener = await send(faces.listener, request);
    const hono = await send(faces.hono, request);
    assert.deepEqual(listener, hono, name);
  }
  assert.deepEqual(faces.listener.refusals, faces.hono.refusals);
  assert.equal(faces.listener.errors.length, 1);
  assert.equal(faces.hono.errors.length, 1);
  const health = async (face: Face) => JSON.parse((await send(face, { method: "GET", path: "/health" })).body) as { refused: Record<string, number> };
  assert.deepEqual((await health(faces.listener)).refused, (await health(faces.hono)).refused);
  // What each case is meant to show, on the listener.
  const expect = async (name: string, status: number, pattern?: RegExp) => {
    const got = await send(faces.listener, (CASES.find(([label]) => label === name) as [string, Sent])[1]);
    assert.equal(got.status, status, name);
    if (pattern) assert.match(got.body, pattern, name);
  };
  await expect("a good sample, token in the header", 200, /^\{"rewards":\[1\.0\],"scores":\[1\.0\],"extra_logs":\{"format":\[1\.0\]/);
  await expect("no token", 401, /missing token/);
  await expect("an oversized body by its Content-Length", 413, /larger than the limit of 4000 bytes/);
  await expect("an oversized body streamed in chunks", 413);
  await expect("an oversized body without a token (the token first)", 401);
  await expect("a body with a BOM", 200);
  await expect("an internal error", 500, /^\{"error":"internal error"\}$/);
  await expect("an escaped path", 200);
  // The body is read as UTF-8 whether it comes as raw bytes or as Python's escapes: the thinking counts
  // characters (UTF-16 units), not bytes, and the answers are the same.
  const thinkingChars = WIDE_THINKING.length;
  assert.notEqual(Buffer.byteLength(WIDE_THINKING), thinkingChars);
  const right = new RegExp(`^\\{"rewards":\\[1\\.0\\].*"thinking_chars":\\[${thinkingChars}\\.0\\]\\}\\}$`);
  await expect("UTF-8 past ASCII", 200, right);
  await expect("the same, escaped to ASCII as Python sends it", 200, right);
  await expect("UTF-8 past ASCII in chunks cut inside a character", 200, right);
  await expect("a look-alike verdict in UTF-8", 200, /^\{"rewards":\[0\.0\],"scores":\[0\.0\],"extra_logs":\{"format":\[0\.0\]/);
  // Invalid bytes: a body that is no JSON once decoded is refused as such, and invalid bytes inside a
  // string become U+FFFD (one per broken sequence), as fetch's text() decodes them.
  await expect("bytes that are not UTF-8", 400, /^\{"error":"the body is not valid JSON"\}$/);
  await expect("bytes that are not UTF-8 inside the thinking", 200, /^\{"rewards":\[1\.0\].*"thinking_chars":\[7\.0\]\}\}$/);
  // A page on another site is refused before anything else, named so; a trainer (no Origin, the address) is not.
  await expect("a web page's POST from another site (an Origin)", 403, /requests from the origin \\"https:\/\/evil\.example\\" are refused: this service takes no requests from web pages/);
  await expect("a page's text/plain POST without a token, from another site", 403, /origin \\"null\\"/);
  await expect("a Host that is not the service's name (DNS rebinding)", 403, /the Host header \\"evil\.example:8765\\" does not name this service.*--allow-host/);
  await expect("the same Host on /health", 403);
  await expect("an Origin on GET /health (reads are not refused for it)", 200);
  await expect("localhost as the Host", 200, /^\{"rewards":\[1\.0\]/);
  await expect("a look-alike verdict escaped to ASCII", 200, /^\{"rewards":\[0\.0\],"scores":\[0\.0\],"extra_logs":\{"format":\[0\.0\]/);
});

/**
 * A good sample whose thinking holds "ab", a lone continuation byte (80), "x", a three-byte character cut
 * after two bytes (E2 82) and "cd": seven characters as fetch's text() decodes it (one U+FFFD for each
 * broken sequence), eight if it were read as latin1.
 */
function badBytesInThinking(): Buffer {
  const [before, after] = JSON.stringify({ query: [`${PROMPT}@@@</think>[[A]]<|im_end|>`], prompts: [PROMPT], labels: ["A"] }).split("@@@");
  return Buffer.concat([Buffer.from(`${before}ab`), Buffer.from([0x80]), Buffer.from("x"), Buffer.from([0xe2, 0x82]), Buffer.from(`cd${after}`)]);
}

/** A text's UTF-8 bytes in three chunks, cut inside multi-byte characters. */
function splitInside(text: string): Buffer[] {
  const bytes = Buffer.from(text, "utf8");
  const first = bytes.indexOf(Buffer.from("Ç", "utf8")) + 1;
  const second = bytes.indexOf(Buffer.from("👍", "utf8")) + 2;
  return [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)];
}
