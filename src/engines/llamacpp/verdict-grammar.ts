import type { Llama, LlamaGrammar } from "node-llama-cpp";

/** GBNF string literal: quotes, backslashes and control characters escaped. */
function gbnfLiteral(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`;
}

export function choiceGrammarText(choices: readonly string[], suffix: string): string {
  const alternatives = choices.map(gbnfLiteral).join(" | ");
  return suffix.length > 0 ? `root ::= (${alternatives}) ${gbnfLiteral(suffix)}` : `root ::= ${alternatives}`;
}

const cache = new Map<string, Promise<LlamaGrammar>>();

/** The answer can only be one of the valid verdicts followed by the closing brackets. */
export function choiceGrammar(llama: Llama, choices: readonly string[], suffix: string): Promise<LlamaGrammar> {
  const text = choiceGrammarText(choices, suffix);
  let grammar = cache.get(text);
  if (!grammar) {
    grammar = llama.createGrammar({ grammar: text });
    cache.set(text, grammar);
  }
  return grammar;
}
