import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { parseCsv } from "../src/eval/benchmarks/csv-stream.js";
import { splitJsonArray } from "../src/eval/benchmarks/json-array-stream.js";
import { readRows, type SourceRow } from "../src/eval/benchmarks/read-rows.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";

async function* chunked(text: string, ...cuts: number[]): AsyncGenerator<string> {
  let start = 0;
  for (const cut of cuts) {
    yield text.slice(start, cut);
    start = cut;
  }
  yield text.slice(start);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

test("JSON array splitter: same elements and lines wherever the chunks are cut", async () => {
  const text = '\ufeff[\n  {"a": "x, ]}\\" [", "b": [1, {"c": 2}]},\n  3,\n  "s,]"\n  ,\n  {"d": null}\n]\n';
  const expected = [
    { text: '{"a": "x, ]}\\" [", "b": [1, {"c": 2}]}', line: 2 },
    { text: "3", line: 3 },
    { text: '"s,]"\n  ', line: 4 },
    { text: '{"d": null}\n', line: 6 },
  ];
  for (let cut = 0; cut <= text.length; cut++) {
    const elements = await collect(splitJsonArray(chunked(text, cut), "f.json"));
    assert.deepEqual(elements.map((element) => JSON.parse(element.text)), [{ a: 'x, ]}" [', b: [1, { c: 2 }] }, 3, "s,]", { d: null }], `cut at ${cut}`);
    assert.deepEqual(elements.map((element) => element.line), expected.map((element) => element.line), `cut at ${cut}`);
  }
  assert.deepEqual(await collect(splitJsonArray(chunked("[]"), "f.json")), []);
  await assert.rejects(collect(splitJsonArray(chunked('[{"a": 1}] x'), "f.json")), /f\.json:1: unexpected "x" after the end/);
});

test("CSV parser: quotes, doubled quotes, CRLF and embedded line breaks, wherever the chunks are cut", async () => {
  const text = 'id,text,n\r\n1,"a, ""quoted"" word",2\r\n2,"two\r\nlines",3\r\n\r\n3,,\r\n4,plain,5';
  const expected = [
    { fields: ["id", "text", "n"], line: 1 },
    { fields: ["1", 'a, "quoted" word', "2"], line: 2 },
    { fields: ["2", "two\r\nlines", "3"], line: 3 },
    { fields: ["3", "", ""], line: 6 },
    { fields: ["4", "plain", "5"], line: 7 },
  ];
  for (let first = 0; first <= text.length; first += 3) {
    for (let second = first; second <= text.length; second += 7) {
      assert.deepEqual(await collect(parseCsv(chunked(text, first, second), "f.csv")), expected, `cuts at ${first}, ${second}`);
    }
  }
  await assert.rejects(collect(parseCsv(chunked('a,b\n1,"open'), "f.csv")), /f\.csv:2: a quoted field is not closed/);
});

test("readRows: JSONL (plain and .gz), a .json file holding JSON Lines, and a JSON array agree", async (t) => {
  const folder = await mkdtemp(join(tmpdir(), "j1-rows-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const rows = [{ q: "one", n: 1 }, { q: "two\nlines", n: 2 }];
  const lines = rows.map((row) => JSON.stringify(row)).join("\r\n") + "\r\n\r\n";
  await writeFile(join(folder, "a.jsonl"), lines);
  await writeFile(join(folder, "a.jsonl.gz"), gzipSync(lines));
  await writeFile(join(folder, "lines.json"), lines);
  await writeFile(join(folder, "array.json.gz"), gzipSync(JSON.stringify(rows, null, 2)));
  const values = async (name: string): Promise<SourceRow[]> => collect(readRows(join(folder, name)));
  for (const name of ["a.jsonl", "a.jsonl.gz", "lines.json", "array.json.gz"]) {
    const read = await values(name);
    assert.deepEqual(read.map((row) => row.value), rows, name);
    assert.deepEqual(read.map((row) => row.row), [1, 2], name);
  }
  assert.deepEqual((await values("a.jsonl")).map((row) => row.line), [1, 2]);
  assert.deepEqual((await values("array.json.gz")).map((row) => row.line), [2, 6]);
});

test("loaders stream: the first item arrives while the file is still being written (a FIFO)", async (t) => {
  if (process.platform === "win32") return t.skip("no mkfifo on Windows");
  const folder = await mkdtemp(join(tmpdir(), "j1-fifo-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const fifo = join(folder, "pairs.jsonl");
  execFileSync("mkfifo", [fifo]);
  const writer = createWriteStream(fifo);
  const row = (index: number): string => JSON.stringify({ question: `q${index}`, a: "x", b: "y", label: "A" }) + "\n";
  writer.write(row(1));
  const items = getBenchmark("pairs").load({ data: fifo })[Symbol.asyncIterator]();
  const first = await Promise.race([items.next(), new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 10_000))]);
  assert.notEqual(first, "timeout", "the loader waited for the end of the file");
  assert.equal((first as IteratorResult<{ question: string }>).value.question, "q1");
  writer.end(row(2));
  const second = await items.next();
  assert.equal(second.value?.question, "q2");
  assert.equal((await items.next()).done, true);
});

test("a 100,000-row gzipped JSONL file loads completely", async (t) => {
  const folder = await mkdtemp(join(tmpdir(), "j1-big-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const file = join(folder, "big.jsonl.gz");
  const lines: string[] = [];
  for (let index = 0; index < 100_000; index++) lines.push(JSON.stringify({ question: `q${index}`, a: "a", b: "b", label: index % 3 === 0 ? "B" : "A" }));
  await writeFile(file, gzipSync(lines.join("\n")));
  let count = 0;
  let labelB = 0;
  for await (const item of getBenchmark("pairs").load({ data: file })) {
    count++;
    if (item.label === "B") labelB++;
  }
  assert.equal(count, 100_000);
  assert.equal(labelB, 33_334);
});
