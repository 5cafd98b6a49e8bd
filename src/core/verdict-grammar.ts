/**
 * The verdict as a GBNF grammar: one of the valid choices, then the closing brackets. Pure text, shared
 * by every engine that can constrain generation with GBNF (llama.cpp in process, llama-server over HTTP).
 */
function gbnfLiteral(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`;
}

export function choiceGrammarText(choices: readonly string[], suffix: string): string {
  const alternatives = choices.map(gbnfLiteral).join(" | ");
  return suffix.length > 0 ? `root ::= (${alternatives}) ${gbnfLiteral(suffix)}` : `root ::= ${alternatives}`;
}
