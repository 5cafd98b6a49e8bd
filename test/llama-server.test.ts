/**
 * A real llama-server (built by scripts/build-llama-server.sh from the llama.cpp source
 * bundled in node-llama-cpp) serving j1's tiny model.
 *
 * Skipped when the binary is not built, except under CI (process.env.CI), where it fails.
 * Set J1_TEST_VERBOSE=1 to print every request and full response.
 *
 * What this llama-server reports (llama.cpp tag "v0.4.0", commit 80fb11ac, as bundled by
 * node-llama-cpp 3.21.1; `--version`: "version: 0.4.0-dev (build 1, commit 80fb11a)"),
 * observed with the tiny model:
 *
 * POST /completion {prompt, n_predict: 8, temperature: 0, cache_prompt: true} → 200
 *   { index: 0, content: "Let me compare both.</think>[[A", tokens: [] (ids only with
 *     "return_tokens": true), id_slot: 0, stop: true, model: "<path of the .gguf>",
 *     tokens_predicted: 8, tokens_evaluated: 24,
 *     generation_settings: { seed, temperature, top_k, top_p, min_p, ..., stop: [],
 *       max_tokens, n_predict, ignore_eos, stream, logit_bias: [{bias, token}],
 *       n_probs, grammar, chat_format: "Content-only", reasoning_format: "deepseek",
 *       samplers: [...], post_sampling_probs, lora: [] },
 *     prompt: "<s><|im_start|>user\nhi..."   (detokenized, BOS "<s>" added),
 *     has_new_line, truncated: false,
 *     stop_type: "limit" | "eos" | "word" | "none", stopping_word: "",
 *     tokens_cached: 31                      (tokens in the slot's KV cache = prompt + generated - 1),
 *     timings: { cache_n, prompt_n, prompt_ms, prompt_per_token_ms, prompt_per_second,
 *                predicted_n, predicted_ms, predicted_per_token_ms, predicted_per_second } }
 *   - tokens_evaluated is the whole prompt (24) even when it came from the cache; the
 *     second identical request has timings.cache_n = 23, timings.prompt_n = 1.
 *   - tokens_predicted counts the EOS token: "B]]" then </s> → tokens_predicted 3, stop_type "eos".
 *   - "n_probs": k adds completion_probabilities: [{ id, token, bytes: number[], logprob,
 *     top_logprobs: [{ id, token, bytes, logprob }] × k }] (one per generated token).
 *     They are the model's raw softmax: logit_bias and grammar do not change them (a token
 *     banned by logit_bias still shows its logprob). With "post_sampling_probs": true the
 *     fields are prob / top_probs (probabilities after the sampler chain, so fewer than k
 *     entries when top_k/min_p cut them). Special tokens (</s>, <unk>) have token "".
 *   - "logit_bias": [[305, false]] (ban), [[305, -100]], [["A", -100]] (by text) and the
 *     OpenAI form {"305": -100} all work.
 *   - "grammar": 'root ::= "B" "]]"' constrains the output ("B]]", then EOS).
 *
 * POST /v1/completions {prompt, max_tokens: 8, temperature: 0} → 200
 *   { choices: [{ text, index: 0, logprobs: null, finish_reason: "length" | "stop" }],
 *     created, model, system_fingerprint: "b1-80fb11a", object: "text_completion",
 *     usage: { completion_tokens, prompt_tokens, total_tokens,
 *              prompt_tokens_details: { cached_tokens } },
 *     id: "chatcmpl-...", timings: {...same as above} }
 *   - "logprobs": k gives choices[0].logprobs = { content: [{ id, token, bytes, logprob,
 *     top_logprobs: [{ id, token, bytes, logprob }] × k }] }, i.e. the chat-completions
 *     shape, NOT the legacy completions shape (tokens/token_logprobs/top_logprobs/text_offset);
 *     the EOS token appears as an entry with token "".
 *
 * Gotcha: the output goes through the chat parser ("Content-only" format) even on
 * /completion. Non-streamed output that is invalid UTF-8 (e.g. byte tokens 0xC3 0xC3)
 * answers HTTP 500 {"error": {"code": 500, "message": "The model produced output that does
 * not match the expected Content-only format", "type": "server_error"}}. An incomplete
 * UTF-8 sequence cut by n_predict comes back as U+FFFD; with "stream": true the invalid
 * bytes are withheld (content "") instead of failing. Valid multi-byte text assembled from
 * byte tokens ("é" = <0xC3><0xA9>) is fine.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { j1CacheDir } from "../src/engines/cache-dir.js";
import { ensureTinyModel } from "../src/engines/tiny/tiny-model.js";
import { findLlamaServer, startLlamaServer, type RunningLlamaServer } from "./helpers/llama-server.js";

const PROMPT = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n";
/** The tiny model's greedy continuation of PROMPT, first 8 tokens. */
const GREEDY_8 = "Let me compare both.</think>[[A";
const VERBOSE = process.env.J1_TEST_VERBOSE === "1";

interface Reply {
  status: number;
  json: any;
  text: string;
}

async function postJson(server: RunningLlamaServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (VERBOSE) console.log(`POST ${path} ${JSON.stringify(body)}\n-> HTTP ${res.status}\n${json ? JSON.stringify(json, null, 2) : text}`);
  return { status: res.status, json, text };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("llama-server serves the tiny model", { timeout: 180_000 }, async (t) => {
  const binary = findLlamaServer();
  if (!binary) {
    if (process.env.CI) {
      assert.fail("llama-server not built: CI must run scripts/build-llama-server.sh first (or set J1_LLAMA_SERVER)");
    }
    t.skip("llama-server not built: run scripts/build-llama-server.sh");
    return;
  }

  const modelPath = await ensureTinyModel({ cacheDir: j1CacheDir() });
  const server = await startLlamaServer({ modelPath, binary, contextSize: 2048, parallel: 1, threads: 1 });
  t.after(() => server.stop());
  const expectOk = (what: string, reply: Reply): void => {
    if (reply.status === 200 && reply.json !== undefined) return;
    const logTail = server.logs().split("\n").slice(-30).join("\n");
    assert.fail(`${what}: HTTP ${reply.status} ${reply.text}\n--- llama-server log tail ---\n${logTail}`);
  };

  await t.test("GET /health is 200", async () => {
    const res = await fetch(`${server.baseUrl}/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status?: string };
    assert.equal(body.status, "ok");
  });

  await t.test("POST /completion", async () => {
    const body = { prompt: PROMPT, n_predict: 8, temperature: 0, cache_prompt: true };
    const first = await postJson(server, "/completion", body);
    expectOk("/completion", first);
    const r = first.json;
    assert.equal(typeof r.content, "string");
    assert.equal(r.content, GREEDY_8);
    assert.equal(typeof r.tokens_evaluated, "number");
    assert.ok(r.tokens_evaluated > 0, `tokens_evaluated = ${r.tokens_evaluated}`);
    assert.equal(r.stop_type, "limit");
    assert.equal(r.tokens_predicted, 8);
    assert.equal(typeof r.tokens_cached, "number");
    assert.equal(typeof r.timings, "object");
    assert.equal(typeof r.timings.prompt_n, "number");
    assert.equal(typeof r.timings.predicted_n, "number");

    // The same prompt again: its prefix is reused from the slot's KV cache.
    const again = await postJson(server, "/completion", body);
    expectOk("/completion (cached)", again);
    assert.equal(again.json.content, r.content);
    assert.equal(again.json.tokens_evaluated, r.tokens_evaluated);
    assert.ok(again.json.timings.cache_n > 0, `timings.cache_n = ${again.json.timings.cache_n}`);
    assert.ok(again.json.timings.prompt_n < r.timings.prompt_n);
  });

  await t.test("POST /completion: n_probs, logit_bias, grammar", async () => {
    const atVerdict = `${PROMPT}Let me compare both.</think>[[`;
    const probs = await postJson(server, "/completion", { prompt: atVerdict, n_predict: 1, temperature: 0, n_probs: 5 });
    expectOk("/completion n_probs", probs);
    assert.equal(probs.json.content, "A");
    const [step] = probs.json.completion_probabilities;
    assert.equal(step.token, "A");
    assert.equal(typeof step.id, "number");
    assert.ok(Array.isArray(step.bytes));
    assert.equal(step.top_logprobs.length, 5);
    assert.deepEqual(step.top_logprobs.slice(0, 2).map((p: { token: string }) => p.token), ["A", "B"]);
    // The tiny model's verdict logits: "A" is exactly 1 nat above "B".
    assert.ok(Math.abs(step.top_logprobs[0].logprob - step.top_logprobs[1].logprob - 1) < 1e-3);

    const banA = await postJson(server, "/completion", { prompt: atVerdict, n_predict: 3, temperature: 0, logit_bias: [["A", false]] });
    expectOk("/completion logit_bias", banA);
    assert.equal(banA.json.content, "B]]");
    assert.equal(banA.json.stop_type, "eos");

    const grammar = await postJson(server, "/completion", { prompt: atVerdict, n_predict: 5, temperature: 0, grammar: 'root ::= "tie" "]]"' });
    expectOk("/completion grammar", grammar);
    assert.equal(grammar.json.content, "tie]]");
  });

  await t.test("POST /v1/completions (OpenAI-compatible)", async () => {
    const reply = await postJson(server, "/v1/completions", { prompt: PROMPT, max_tokens: 8, temperature: 0 });
    expectOk("/v1/completions", reply);
    const r = reply.json;
    assert.ok(Array.isArray(r.choices) && r.choices.length === 1);
    assert.equal(typeof r.choices[0].text, "string");
    assert.equal(r.choices[0].text, GREEDY_8);
    assert.equal(r.choices[0].finish_reason, "length");
    assert.equal(typeof r.usage, "object");
    assert.ok(r.usage.prompt_tokens > 0);
    assert.equal(r.usage.completion_tokens, 8);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);

    const withLogprobs = await postJson(server, "/v1/completions", { prompt: PROMPT, max_tokens: 2, temperature: 0, logprobs: 2 });
    expectOk("/v1/completions logprobs", withLogprobs);
    const content = withLogprobs.json.choices[0].logprobs.content;
    assert.deepEqual(content.map((c: { token: string }) => c.token), ["Let", " me"]);
    assert.equal(content[0].top_logprobs.length, 2);
  });

  await t.test("--api-key guards everything but /health; stop() ends the process", async () => {
    const guarded = await startLlamaServer({ modelPath, binary, contextSize: 512, apiKey: "test-key" });
    try {
      assert.equal((await fetch(`${guarded.baseUrl}/health`)).status, 200);
      const body = { prompt: PROMPT, n_predict: 1, temperature: 0 };
      assert.equal((await postJson(guarded, "/completion", body)).status, 401);
      const ok = await postJson(guarded, "/completion", body, { authorization: "Bearer test-key" });
      expectOk("/completion with api key", ok);
      assert.equal(ok.json.content, "Let");
    } finally {
      await guarded.stop();
    }
    assert.equal(isAlive(guarded.pid), false);
    await guarded.stop(); // idempotent
  });
});
