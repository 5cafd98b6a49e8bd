/**
 * The reward service through hono's app.request (no port): requests shaped exactly as OpenRLHF's remote
 * reward client sends them (openrlhf/utils/agent.py, `_fetch_rewards_via_http`: a JSON body with "query",
 * "prompts", "labels", one sample per request, no headers of its own), empty lists, broken bodies,
 * tokens, size limits, the verl-shaped /score route and the consistency term.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderChat, segmentsText } from "../src/core/chat-format.js";
import { DEFAULT_PAIRWISE_TEMPLATE, renderPairwise } from "../src/core/template.js";
import { RewardScorer } from "../src/reward/reward-batch.js";
import { resolveRewardOptions } from "../src/reward/reward-options.js";
import { createRewardApp, type RewardAppOptions } from "../src/server/reward-app.js";

const PROMPT = segmentsText(renderChat(renderPairwise(DEFAULT_PAIRWISE_TEMPLATE, { question: "What is 2+2?", a: "4", b: "5" }), "chatml"));

function app(options: Partial<RewardAppOptions> & { consistency?: boolean } = {}) {
  const errors: unknown[] = [];
  const scorer = options.scorer ?? new RewardScorer(resolveRewardOptions(), options.consistency ?? false);
  const instance = createRewardApp({ maxBodyBytes: 1024 * 1024, logError: (error) => errors.push(error), ...options, scorer });
  return { instance, errors, scorer };
}

/** The body OpenRLHF posts for one sample: query = decode(prompt ids + response ids, skip_special_tokens=False). */
function openRlhfBody(response: string, label: unknown): string {
  return JSON.stringify({ query: [`${PROMPT}${response}<|im_end|>`], prompts: [PROMPT], labels: [label] });
}

async function post(instance: ReturnType<typeof app>["instance"], path: string, body: string, headers: Record<string, string> = {}) {
  const response = await instance.request(path, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

test("service: one OpenRLHF sample, right and well formed", async () => {
  const { instance } = app();
  const reply = await post(instance, "/get_reward", openRlhfBody("4 is right.\n</think>\n[[A]]", "A"));
  assert.equal(reply.status, 200);
  assert.equal(reply.headers.get("content-type"), "application/json");
  // Floats as floats: Python's json must read 1.0, not 1.
  assert.equal(reply.text, '{"rewards":[1.0],"scores":[1.0],"extra_logs":{"format":[1.0],"correct":[1.0],"thinking_chars":[12.0]}}');
});

test("service: a batch mixes right, wrong and malformed; the shape holds", async () => {
  const { instance, scorer } = app();
  const responses = ["x</think>[[A]]", "x</think>[[B]]", "x</think>[[A]] [[B]]", "never ends"];
  const body = JSON.stringify({ query: responses.map((r) => `${PROMPT}${r}<|im_end|>`), prompts: responses.map(() => PROMPT), labels: ["A", "A", "A", "A"] });
  const reply = await post(instance, "/get_reward", body);
  assert.equal(reply.status, 200);
  const parsed = JSON.parse(reply.text) as { rewards: number[]; scores: number[]; extra_logs: Record<string, number[]> };
  assert.deepEqual(parsed.rewards, [1, 0, 0, 0]);
  assert.deepEqual(parsed.scores, [1, 0, 0, 0]);
  assert.deepEqual(parsed.extra_logs.format, [1, 1, 0, 0]);
  assert.deepEqual(Object.keys(parsed.extra_logs), ["format", "correct", "thinking_chars"]);
  assert.equal(scorer.counters.outputs, 4);
  assert.equal(scorer.counters.problems["several-verdicts"], 1);
  assert.equal(scorer.counters.problems["no-think-end"], 1);
});

test("service: empty lists give empty lists", async () => {
  const { instance } = app();
  const reply = await post(instance, "/get_reward", JSON.stringify({ query: [], prompts: [], labels: [] }));
  assert.equal(reply.status, 200);
  assert.deepEqual(JSON.parse(reply.text), { rewards: [], scores: [], extra_logs: { format: [], correct: [], thinking_chars: [] } });
});

test("service: labels may be objects, and unknown extra fields are ignored", async () => {
  const { instance } = app();
  const body = JSON.stringify({ query: [`${PROMPT}x</think>[[B]]`], prompts: [PROMPT], labels: [{ verdict: "B", pair: "p1", order: "BA" }], extra: 1 });
  assert.deepEqual(JSON.parse((await post(instance, "/get_reward", body)).text).rewards, [1]);
});

test("service: bad requests are 400 and name the field", async () => {
  const { instance } = app();
  const cases: Array<[string, RegExp]> = [
    ["{not json", /not valid JSON/],
    ["", /body is empty/],
    ["[]", /field "body"/],
    [JSON.stringify({ prompts: [], labels: [] }), /field "query"/],
    [JSON.stringify({ query: ["x", 3], labels: ["A", "A"] }), /field "query\[1\]"/],
    [JSON.stringify({ query: ["x"] }), /field "labels"/],
    [JSON.stringify({ query: ["x"], labels: ["A", "B"] }), /field "labels": has 2 entries but "query" has 1/],
    [JSON.stringify({ query: ["x", "y"], prompts: ["p"], labels: ["A", "B"] }), /field "prompts"/],
    [JSON.stringify({ query: ["x"], labels: ["maybe"] }), /field "labels\[0\]": expected "A", "B", "tie" or a number/],
    [JSON.stringify({ query: ["x"], labels: [null] }), /field "labels\[0\]"/],
    [JSON.stringify({ query: ["x"], prompts: ["p"], labels: [""] }), /field "labels\[0\]": is empty .*--data.label_key label/],
  ];
  for (const [body, message] of cases) {
    const reply = await post(instance, "/get_reward", body);
    assert.equal(reply.status, 400, body);
    assert.match(JSON.parse(reply.text).error, message, body);
  }
});

test("service: an oversized body is 413, announced by Content-Length or streamed in chunks", async () => {
  const { instance } = app({ maxBodyBytes: 1000 });
  const body = JSON.stringify({ query: ["x".repeat(2000)], prompts: [""], labels: ["A"] });
  const announced = await post(instance, "/get_reward", body, { "content-length": String(Buffer.byteLength(body)) });
  assert.equal(announced.status, 413);
  assert.match(JSON.parse(announced.text).error, /larger than the limit of 1000 bytes/);
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let index = 0; index < 4; index++) controller.enqueue(new TextEncoder().encode(body.slice(index * 600, (index + 1) * 600)));
      controller.close();
    },
  });
  const streamed = await instance.request("/get_reward", { method: "POST", body: chunks, headers: { "transfer-encoding": "chunked" }, duplex: "half" } as RequestInit);
  assert.equal(streamed.status, 413);
  // A small chunked body passes.
  const small = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: ["x</think>[[A]]"], prompts: [""], labels: ["A"] })));
      controller.close();
    },
  });
  const passed = await instance.request("/get_reward", { method: "POST", body: small, headers: { "transfer-encoding": "chunked" }, duplex: "half" } as RequestInit);
  assert.equal(passed.status, 200);
  const bad = await post(instance, "/get_reward", "{}", { "content-length": "lots" });
  assert.equal(bad.status, 400);
});

test("service: token: missing or wrong is 401, right passes, query parameter for OpenRLHF", async () => {
  const { instance } = app({ token: "s3cret" });
  const body = openRlhfBody("x</think>[[A]]", "A");
  const missing = await post(instance, "/get_reward", body);
  assert.equal(missing.status, 401);
  assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
  assert.match(JSON.parse(missing.text).error, /missing token/);
  assert.equal((await post(instance, "/get_reward", body, { authorization: "Bearer nope" })).status, 401);
  assert.equal((await post(instance, "/get_reward", body, { authorization: "Basic czNjcmV0" })).status, 401);
  assert.equal((await post(instance, "/get_reward?token=nope", body)).status, 401);
  assert.equal((await post(instance, "/get_reward", body, { authorization: "Bearer s3cret" })).status, 200);
  assert.equal((await post(instance, "/get_reward?token=s3cret", body)).status, 200);
  assert.equal((await post(instance, "/score", JSON.stringify({ solution_str: "x</think>[[A]]", ground_truth: "A" }))).status, 401);
  // Health stays open, for probes.
  assert.equal((await instance.request("/health")).status, 200);
});

test("service: a token past ASCII is compared as its UTF-8 bytes: right passes, a near miss is 401", async () => {
  // The token is hashed before the constant-time comparison. Hashed over fewer bytes than UTF-8 gives
  // (latin1 keeps each character's low byte), "秘" (U+79D8) and "Ø" (U+00D8) would hash alike and a
  // wrong token would pass.
  const token = "clé-秘密-🔑";
  const { instance } = app({ token });
  const body = openRlhfBody("x</think>[[A]]", "A");
  const withToken = (given: string) => post(instance, `/get_reward?token=${encodeURIComponent(given)}`, body);
  assert.equal((await withToken(token)).status, 200);
  assert.equal((await withToken(token.replace("秘", "\u00d8"))).status, 401);
  assert.equal((await withToken(token.replace("é", "e"))).status, 401);
  assert.equal((await withToken(token.slice(0, -2))).status, 401);
});

test("service: /health counts what was scored and what was refused; refusals are logged", async () => {
  const refusals: Array<[number, string]> = [];
  const { instance } = app({ logRefusal: (status, message) => refusals.push([status, message]) });
  await post(instance, "/get_reward", openRlhfBody("x</think>[[A]]", "A"));
  await post(instance, "/get_reward", JSON.stringify({ query: ["x"], labels: ["C"] }));
  await instance.request("/nope");
  const reply = await instance.request("/health");
  assert.equal(reply.status, 200);
  const body = (await reply.json()) as { status: string; served: { outputs: number; correct: number }; refused: Record<string, number> };
  assert.equal(body.status, "ok");
  assert.deepEqual([body.served.outputs, body.served.correct], [1, 1]);
  assert.deepEqual(body.refused, { 400: 1, 404: 1 });
  assert.deepEqual(refusals.map(([status]) => status), [400, 404]);
  assert.match(refusals[0][1], /labels\[0\]/);
});

test("service: unknown routes are 404 JSON", async () => {
  const { instance } = app();
  const reply = await instance.request("/nope");
  assert.equal(reply.status, 404);
  assert.match(((await reply.json()) as { error: string }).error, /POST \/get_reward/);
});

test("service: internal errors are 500 and say nothing about the inside", async () => {
  const broken = new RewardScorer(resolveRewardOptions());
  broken.scoreBatch = () => {
    throw new Error("secret internal detail at /home/user/path");
  };
  const { instance, errors } = app({ scorer: broken });
  const reply = await post(instance, "/get_reward", openRlhfBody("x</think>[[A]]", "A"));
  assert.equal(reply.status, 500);
  assert.equal(reply.text, '{"error":"internal error"}');
  assert.equal(errors.length, 1, "the error is logged on the server side");
});

test("service: /score speaks verl's compute_score arguments", async () => {
  const { instance } = app();
  const reply = await post(instance, "/score", JSON.stringify({ data_source: "j1/pairwise", solution_str: "<think>x</think>[[B]]", ground_truth: "B", extra_info: { index: 3 } }));
  assert.equal(reply.status, 200);
  const body = JSON.parse(reply.text);
  assert.equal(body.reward, 1);
  assert.deepEqual(body.parts, { format: 1, correct: 1 });
  assert.equal(body.status, "correct");
  const malformed = JSON.parse((await post(instance, "/score", JSON.stringify({ solution_str: "<think>x</think>【B】", ground_truth: "B" }))).text);
  assert.equal(malformed.problem, "lookalike-verdict");
  const missing = await post(instance, "/score", JSON.stringify({ solution_str: "x" }));
  assert.equal(missing.status, 400);
  assert.match(JSON.parse(missing.text).error, /ground_truth/);
});

test("service: --consistency pairs the two orders of a pair within a request", async () => {
  const { instance } = app({ consistency: true });
  // Pair p1: position-biased (says A in both orders). Pair p2: consistent. Pair p3: only one order here.
  const rows = [
    { response: "x</think>[[A]]", label: { verdict: "A", pair: "p1", order: "AB" } },
    { response: "x</think>[[A]]", label: { verdict: "B", pair: "p1", order: "BA" } },
    { response: "x</think>[[B]]", label: { verdict: "B", pair: "p2", order: "AB" } },
    { response: "x</think>[[A]]", label: { verdict: "A", pair: "p2", order: "BA" } },
    { response: "x</think>[[A]]", label: { verdict: "A", pair: "p3", order: "AB" } },
  ];
  const body = JSON.stringify({ query: rows.map((row) => `${PROMPT}${row.response}`), prompts: rows.map(() => PROMPT), labels: rows.map((row) => row.label) });
  const parsed = JSON.parse((await post(instance, "/get_reward", body)).text);
  assert.deepEqual(parsed.rewards, [0, 0, 1, 1, 1]);
  assert.deepEqual(parsed.extra_logs.correct, [1, 0, 1, 1, 1]);
  assert.deepEqual(parsed.extra_logs.consistency_checked, [1, 1, 1, 1, 0]);
  assert.deepEqual(parsed.extra_logs.consistent, [0, 0, 1, 1, 0]);
});
