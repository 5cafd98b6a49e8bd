/**
 * Reading a verdict from the answer region (the text after the last end of thinking; see trace.ts). The
 * answer region starts with j1's own answer prefix ("[[") and continues with what the model generated, so
 * the verdict is the first bracketed choice there. Anything else is a parse error, recorded with its reason.
 */
export type VerdictParse = { ok: true; verdict: string; index: number } | { ok: false; reason: string };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function parseVerdict(answer: string, choices: readonly string[], brackets: { open: string; close: string }): VerdictParse {
  if (answer.trim().length === 0) return { ok: false, reason: "empty answer after thinking" };
  // Longest first, so "10" is not read as "1".
  const alternatives = [...choices].sort((x, y) => y.length - x.length).map(escapeRegExp).join("|");
  const pattern = new RegExp(`${escapeRegExp(brackets.open)}\\s*(${alternatives})\\s*${escapeRegExp(brackets.close)}`, "i");
  const match = pattern.exec(answer);
  if (!match) {
    const shown = answer.length > 80 ? `${answer.slice(0, 77)}...` : answer;
    return { ok: false, reason: `no verdict of the form ${brackets.open}${choices.join("|")}${brackets.close} in the answer ${JSON.stringify(shown)}` };
  }
  const raw = match[1];
  const verdict = choices.find((choice) => choice.toLowerCase() === raw.toLowerCase()) ?? raw;
  return { ok: true, verdict, index: match.index };
}
