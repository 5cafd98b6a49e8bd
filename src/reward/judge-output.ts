import type { JudgeKind, PairVerdict } from "../core/judgment.js";
import { looseView } from "./lookalikes.js";
import type { JudgeRewardOptions } from "./reward-options.js";

/**
 * The format half of the reward: is the generated text one thinking block followed by exactly one
 * verdict? The rules, in order (the first broken one is the reason):
 *
 * 1. The output is not empty.
 * 2. `</think>` appears exactly once. Missing: thinking never ended (often a cut-off by the token cap).
 *    Twice: the judge echoed a delimiter (perhaps from a judged response), so "after thinking" is ambiguous.
 * 3. `<think>` follows the opening-tag rule (see OpeningTagRule): at the very start, or absent when the
 *    prompt prefilled it; never inside the thinking or after it.
 * 4. The thinking is not empty (unless `requireThinking` is false).
 * 5. The answer (everything after `</think>`) holds exactly one bracketed token `[[…]]`, and it is a valid
 *    verdict: A, B or tie for pairwise labels, a number on the scale for pointwise ones. Verdicts inside the
 *    thinking are never read: the verdict is what the judge says after it stops thinking.
 * 6. No look-alike verdict anywhere in the answer (see lookalikes.ts and VerdictNormalisation).
 * 7. Nothing but whitespace and a final "." or "!" after the verdict (unless afterVerdict is "text").
 *
 * Text before the verdict in the answer ("Final verdict: [[A]]") is allowed.
 */
export type FormatProblem =
  | "empty-output"
  | "no-think-end"
  | "repeated-think-end"
  | "missing-think-start"
  | "repeated-think-start"
  | "misplaced-think-start"
  | "unexpected-think-start"
  | "empty-thinking"
  | "no-verdict"
  | "unknown-verdict"
  | "several-verdicts"
  | "lookalike-verdict"
  | "text-after-verdict"
  | "score-out-of-scale";

export type ReadVerdict = { kind: "pairwise"; value: PairVerdict } | { kind: "pointwise"; value: number };

export type JudgeOutput =
  | { ok: true; thinking: string; answer: string; verdict: ReadVerdict }
  | { ok: false; problem: FormatProblem; reason: string; thinking?: string };

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const PAIR_VERDICT = /^(a|b|tie)$/i;
const ALLOWED_AFTER_VERDICT = /^[\s.!]*$/;
const NON_ASCII = /[^\x00-\x7F]/;

export function readJudgeOutput(text: string, kind: JudgeKind, options: JudgeRewardOptions): JudgeOutput {
  if (!/\S/.test(text)) return fail("empty-output", "the output is empty");
  const thinkEnd = options.template.thinkEnd.trim();
  const thinkStart = options.template.thinkStart.trim();

  const ends = occurrences(text, thinkEnd);
  if (ends.length === 0) return fail("no-think-end", `thinking never ended: no ${thinkEnd}`);
  if (ends.length > 1) return fail("repeated-think-end", `${thinkEnd} appears ${ends.length} times; it must appear once`);
  const end = ends[0];

  const opening = readOpening(text, thinkStart, end, options);
  if ("problem" in opening) return opening;
  const thinking = text.slice(opening.thinkingStart, end);
  if (options.requireThinking && !/\S/.test(thinking)) return fail("empty-thinking", "the thinking block is empty");

  const answer = text.slice(end + thinkEnd.length);
  const verdict = readVerdict(answer, kind, options);
  if ("problem" in verdict) return { ...verdict, thinking };
  return { ok: true, thinking, answer, verdict: verdict.verdict };
}

function readOpening(text: string, thinkStart: string, end: number, options: JudgeRewardOptions): { thinkingStart: number } | Extract<JudgeOutput, { ok: false }> {
  // An empty thinkStart means the template has no opening tag: the thinking starts at the output's start.
  const starts = thinkStart.length === 0 ? [] : occurrences(text, thinkStart);
  if (options.openingTag === "prefilled") {
    if (starts.length > 0) return fail("unexpected-think-start", `${thinkStart} appears, but the prompt already opened the thinking`);
    return { thinkingStart: 0 };
  }
  if (starts.length === 0) {
    if (options.openingTag === "required" && thinkStart.length > 0) return fail("missing-think-start", `the output must start with ${thinkStart}`);
    return { thinkingStart: 0 };
  }
  if (starts.length > 1) return fail("repeated-think-start", `${thinkStart} appears ${starts.length} times; it may appear once, at the start`);
  const start = starts[0];
  if (start > end || text.slice(0, start).trim().length > 0) {
    return fail("misplaced-think-start", `${thinkStart} must come first, before any other text and before the end of thinking`);
  }
  return { thinkingStart: start + thinkStart.length };
}

interface BracketToken {
  content: string;
  index: number;
  end: number;
}

function readVerdict(rawAnswer: string, kind: JudgeKind, options: JudgeRewardOptions): { verdict: ReadVerdict } | Extract<JudgeOutput, { ok: false }> {
  const answer = options.normalisation === "nfkc" ? rawAnswer.normalize("NFKC") : rawAnswer;
  const open = options.template.answerPrefix;
  const close = options.template.answerSuffix;
  const tokens = bracketTokens(answer, open, close);
  const valid = tokens.filter((token) => verdictOf(token.content, kind) !== undefined);

  // Compare with what a careless reader would find: more tokens or more valid verdicts there means the
  // answer holds a look-alike, which is never taken as a verdict. (An all-ASCII answer has none.)
  const looseTokens = NON_ASCII.test(answer) ? bracketTokens(looseView(answer), open, close) : tokens;
  const looseValid = looseTokens === tokens ? valid : looseTokens.filter((token) => verdictOf(token.content, kind) !== undefined);
  if (looseTokens.length > tokens.length || looseValid.length > valid.length) {
    const shown = looseValid.map((token) => `${open}${token.content.trim()}${close}`).join(", ");
    return fail("lookalike-verdict", `the answer holds a look-alike verdict (non-ASCII brackets or letters${shown ? `, read loosely as ${shown}` : ""}); only ASCII ${open}…${close} counts`);
  }

  if (tokens.length === 0) return fail("no-verdict", `no verdict ${open}…${close} after the end of thinking`);
  if (tokens.length > 1) {
    const shown = tokens.map((token) => `${open}${token.content}${close}`).join(", ");
    return fail("several-verdicts", `the answer holds ${tokens.length} bracketed verdicts (${shown}); it must hold exactly one`);
  }
  const token = tokens[0];
  const verdict = verdictOf(token.content, kind);
  if (verdict === undefined) {
    const expected = kind === "pairwise" ? `${open}A${close}, ${open}B${close} or ${open}tie${close}` : `a number such as ${open}${options.pointwise.max}${close}`;
    return fail("unknown-verdict", `${open}${token.content}${close} is not a verdict; expected ${expected}`);
  }
  if (verdict.kind === "pointwise" && (verdict.value < options.pointwise.min || verdict.value > options.pointwise.max)) {
    return fail("score-out-of-scale", `score ${verdict.value} is outside the scale ${options.pointwise.min}..${options.pointwise.max}`);
  }
  const after = answer.slice(token.end);
  if (options.afterVerdict === "nothing" && !ALLOWED_AFTER_VERDICT.test(after)) {
    return fail("text-after-verdict", `text follows the verdict: ${JSON.stringify(after.length > 40 ? `${after.slice(0, 37)}...` : after)}`);
  }
  return { verdict };
}

function verdictOf(content: string, kind: JudgeKind): ReadVerdict | undefined {
  const trimmed = content.trim();
  if (kind === "pairwise") {
    if (!PAIR_VERDICT.test(trimmed)) return undefined;
    const lower = trimmed.toLowerCase();
    return { kind, value: lower === "a" ? "A" : lower === "b" ? "B" : "tie" };
  }
  return NUMBER.test(trimmed) ? { kind: "pointwise", value: Number(trimmed) } : undefined;
}

/**
 * Every `open … close` with short content that holds none of the delimiters' punctuation (so "[[[A]]]"
 * yields "[[A]]"). A template without a closing delimiter ("Verdict: A") takes the word after the opening.
 */
function bracketTokens(text: string, open: string, close: string): BracketToken[] {
  const pattern = bracketPattern(open, close);
  const tokens: BracketToken[] = [];
  // exec on the shared pattern rather than matchAll, which builds a copy of the RegExp on every call
  // (readJudgeOutput on a one-verdict answer: about 0.8 -> 0.5 µs). Every match is non-empty (the
  // opening is), so lastIndex always moves on.
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    tokens.push({ content: match[1], index: match.index, end: match.index + match[0].length });
  }
  return tokens;
}

const patterns = new Map<string, RegExp>();
/** The last pattern asked for: a service scores with one template, so this skips building the map's key. */
let lastPattern: { open: string; close: string; pattern: RegExp } | undefined;

function bracketPattern(open: string, close: string): RegExp {
  if (lastPattern !== undefined && lastPattern.open === open && lastPattern.close === close) return lastPattern.pattern;
  const key = `${open}\u0000${close}`;
  const cached = patterns.get(key);
  if (cached) {
    lastPattern = { open, close, pattern: cached };
    return cached;
  }
  const banned = escapeClass([...`${open}${close}`].filter((character) => !/[\p{L}\p{N}\s]/u.test(character)).join(""));
  const content = banned.length > 0 ? `[^${banned}]` : "[\\s\\S]";
  const pattern =
    close.length > 0
      ? new RegExp(`${escapeRegExp(open)}(${content}{0,32}?)${escapeRegExp(close)}`, "g")
      : new RegExp(`${escapeRegExp(open)}\\s*((?:(?!\\s)${content}){1,32})`, "g");
  patterns.set(key, pattern);
  lastPattern = { open, close, pattern };
  return pattern;
}

function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let index = text.indexOf(needle); index >= 0; index = text.indexOf(needle, index + needle.length)) found.push(index);
  return found;
}

function fail(problem: FormatProblem, reason: string): Extract<JudgeOutput, { ok: false }> {
  return { ok: false, problem, reason };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function escapeClass(characters: string): string {
  return [...new Set(characters)].map((character) => (/[\]\\^-]/.test(character) ? `\\${character}` : character)).join("");
}
