/**
 * The tiny model through the real engine (node-llama-cpp / llama.cpp on CPU): its
 * tokenizer, its greedy trajectory with and without an injected "Wait", and its
 * known verdict probabilities.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, readGgufFileInfo, type Llama, type LlamaContext, type LlamaModel, type Token } from "node-llama-cpp";
import {
    TINY_MODEL_NOTE,
    TINY_TRAJECTORY,
    TINY_VERDICT_PROBABILITIES,
    buildTinyModel,
    defaultTinySpec,
    ensureTinyModel,
} from "../src/engines/tiny/tiny-model.js";

let tmp: string;
let llama: Llama;
let model: LlamaModel;
let context: LlamaContext;

before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "j1-tiny-"));
    const modelPath = await ensureTinyModel({ cacheDir: tmp });
    llama = await getLlama({ gpu: false, build: "never" });
    model = await llama.loadModel({ modelPath });
    context = await model.createContext({ contextSize: 2048, threads: 1 });
});

after(async () => {
    await context?.dispose();
    await model?.dispose();
    await llama?.dispose();
    if (tmp) await rm(tmp, { recursive: true, force: true });
});

const one = (text: string): Token => {
    const tokens = model.tokenize(text);
    assert.equal(tokens.length, 1, `${JSON.stringify(text)} should be one token, got ${tokens.length}`);
    return tokens[0];
};

/** A ChatML judge prompt ending with the assistant prefill "<think>\n", as j1 sends it. */
function judgePrompt(): Token[] {
    const text =
        "<|im_start|>user\nWhich response is better? [The Start of Assistant A's Answer] 4 [The End]<|im_end|>\n" +
        "<|im_start|>assistant\n" +
        TINY_TRAJECTORY.promptSuffix;
    return [model.tokens.bos!, ...model.tokenize(text, true)];
}

/** Greedy generation on a fresh sequence state until `stop` (inclusive), EOG, or `max` tokens. */
async function greedy(input: Token[], stop?: (t: Token) => boolean, max = 30): Promise<Token[]> {
    const sequence = context.getSequence();
    try {
        const out: Token[] = [];
        for await (const token of sequence.evaluate(input, { temperature: 0, yieldEogToken: true })) {
            out.push(token);
            if (model.isEogToken(token) || stop?.(token) || out.length >= max) break;
        }
        return out;
    } finally {
        sequence.dispose();
    }
}

const texts = (tokens: Token[]): string[] => tokens.map((t) => model.detokenize([t], true));

test("the file is valid GGUF that node-llama-cpp's own reader parses", async () => {
    const path = await ensureTinyModel({ cacheDir: tmp });
    const info = await readGgufFileInfo(path);
    assert.equal(info.version, 3);
    assert.equal(info.metadata.general.architecture, "llama");
    assert.equal(info.metadata.general.name, "j1-tiny");
    assert.equal(info.tensorInfo?.length, 3 + 2 * 9);
    assert.equal(model.trainContextSize, 32768);
    assert.ok(TINY_MODEL_NOTE.length > 0 && !TINY_MODEL_NOTE.includes("\n"));
});

test("every trajectory text is one token and detokenizes back", () => {
    const spec = defaultTinySpec();
    const all = new Set<string>([TINY_TRAJECTORY.wait, TINY_TRAJECTORY.endThink, "<think>"]);
    for (const [from, row] of Object.entries(spec.transitions)) {
        all.add(from);
        for (const { to } of row) all.add(to);
    }
    all.delete(TINY_TRAJECTORY.eos); // a control token: only with special tokens on
    for (const text of all) {
        const token = one(text);
        assert.equal(model.detokenize([token]), text);
    }
    assert.equal(model.tokenize(" me")[0], one(" me"));
    assert.notDeepEqual(model.tokenize("me"), [one(" me")], '" me" is the piece "▁me", with its leading space');
    assert.deepEqual(model.tokenize(TINY_TRAJECTORY.eos, true), [model.tokens.eos]);
});

test("arbitrary text round-trips through byte tokens", () => {
    for (const text of ["héllo 2+2?", "  two  spaces\tand\ttabs\n", "日本語 ✓ 🙂", "[[A]] vs [[B]]"]) {
        assert.equal(model.detokenize(model.tokenize(text)), text);
    }
    // A sentence made of trajectory words stays one token per word.
    assert.equal(model.tokenize(TINY_TRAJECTORY.start.join("")).length, TINY_TRAJECTORY.start.length);
});

test("greedy trajectory: think, try to end, verdict, EOS", async () => {
    const out = await greedy(judgePrompt());
    assert.deepEqual(texts(out), [...TINY_TRAJECTORY.start, TINY_TRAJECTORY.endThink, ...TINY_TRAJECTORY.verdict, TINY_TRAJECTORY.eos]);
    const endThinkAt = out.indexOf(one("</think>"));
    assert.equal(model.detokenize(out.slice(0, endThinkAt)), "Let me compare both.");
    assert.equal(out.at(-1), model.tokens.eos);
    assert.ok(model.isEogToken(out.at(-1)!));
});

test('after an injected "Wait" it thinks 4 more tokens, then tries to end again', async () => {
    const thought = model.tokenize(TINY_TRAJECTORY.start.join(""));
    const input = [...judgePrompt(), ...thought, ...model.tokenize(TINY_TRAJECTORY.wait)];
    const endThink = one(TINY_TRAJECTORY.endThink);
    const out = await greedy(input, (t) => t === endThink);
    assert.deepEqual(texts(out), [...TINY_TRAJECTORY.afterWait, TINY_TRAJECTORY.endThink]);
    assert.equal(model.detokenize(out.slice(0, -1)), ", check again.");
});

test("tokens without a row go to EOS", async () => {
    const out = await greedy([model.tokens.bos!, ...model.tokenize("zebra")]);
    assert.deepEqual(out, [model.tokens.eos]);
});

test('verdict probabilities at "[[" are the softmax of the row: P(A | A or B) ≈ 0.731', async () => {
    const input = [...judgePrompt(), ...model.tokenize("Let me compare both.</think>[[")];
    const sequence = context.getSequence();
    try {
        // temperature 0: greedy pick, but `probabilities` is still the plain softmax (no top-k/top-p cut).
        for await (const output of sequence.evaluateWithMetadata(input, { probabilities: true, confidence: true }, { temperature: 0 })) {
            const p = (text: string): number => output.probabilities.get(one(text)) ?? 0;
            assert.equal(output.token, one("A"));
            assert.ok(Math.abs(output.confidence - TINY_VERDICT_PROBABILITIES.A) < 1e-3, `confidence ${output.confidence}`);
            for (const [text, expected] of Object.entries(TINY_VERDICT_PROBABILITIES)) {
                assert.ok(Math.abs(p(text) - expected) < 1e-3, `P(${text}) = ${p(text)}, expected ${expected}`);
            }
            const pA = p("A") / (p("A") + p("B"));
            assert.ok(Math.abs(pA - TINY_TRAJECTORY.pAGivenAOrB) < 1e-4, `P(A | A or B) = ${pA}`);
            assert.ok(Math.abs(TINY_TRAJECTORY.pAGivenAOrB - 0.7311) < 1e-4);
            break;
        }
    } finally {
        sequence.dispose();
    }
});

test("ensureTinyModel is content-addressed and does not rewrite an existing file", async () => {
    const first = await ensureTinyModel({ cacheDir: tmp });
    const before = await stat(first);
    const second = await ensureTinyModel({ cacheDir: tmp });
    const afterStat = await stat(second);
    assert.equal(second, first);
    assert.match(first, /[/\\]models[/\\]tiny-[0-9a-f]{16}\.gguf$/);
    assert.equal(afterStat.ino, before.ino);
    assert.equal(afterStat.mtimeMs, before.mtimeMs);
    assert.deepEqual(await readFile(first), buildTinyModel());
    // Concurrent callers all get the same complete file.
    const other = join(tmp, "concurrent");
    const paths = await Promise.all([1, 2, 3, 4].map(() => ensureTinyModel({ cacheDir: other })));
    assert.equal(new Set(paths).size, 1);
    assert.deepEqual(await readFile(paths[0]), buildTinyModel());
    // A different spec is a different file.
    const spec = defaultTinySpec();
    spec.transitions["\n"] = [{ to: "Wait", logit: 30 }];
    assert.notEqual(await ensureTinyModel({ cacheDir: tmp, spec }), first);
});

test("specs that cannot be built are rejected with a reason", () => {
    const bad = defaultTinySpec();
    bad.transitions["x<think>y"] = [{ to: "A", logit: 1 }];
    assert.throws(() => buildTinyModel(bad), /special token/);
    const dup = defaultTinySpec();
    dup.transitions["[["] = [{ to: "A", logit: 1 }, { to: "A", logit: 2 }];
    assert.throws(() => buildTinyModel(dup), /listed twice/);
});
