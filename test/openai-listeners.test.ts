import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { HttpClient } from "../src/engines/openai/http-client.js";

// A judgment sends many small requests under one abort signal (one tokenize per piece of the prompt):
// however many, the signal must not collect one listener per request (MaxListenersExceededWarning at 11).
test("twelve concurrent requests under one signal raise no MaxListenersExceededWarning", async (t) => {
  const server = http.createServer((request, response) => setTimeout(() => response.end(JSON.stringify({ ok: true })), 20));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on("warning", onWarning);
  t.after(() => process.off("warning", onWarning));
  const client = new HttpClient({ timeoutMs: 10_000, maxRetries: 0, concurrency: 4 });
  const controller = new AbortController();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tokenize`;
  const answers = await Promise.all(Array.from({ length: 12 }, () => client.postJson(url, { content: "<piece>" }, { signal: controller.signal })));
  assert.equal(answers.length, 12);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings.filter((name) => name === "MaxListenersExceededWarning"), []);
});
