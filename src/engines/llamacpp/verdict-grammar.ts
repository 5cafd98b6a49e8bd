import type { Llama, LlamaGrammar } from "node-llama-cpp";
import { choiceGrammarText } from "../../core/verdict-grammar.js";

const cache = new Map<string, Promise<LlamaGrammar>>();

/** The answer can only be one of the valid verdicts followed by the closing brackets (compiled once). */
export function choiceGrammar(llama: Llama, choices: readonly string[], suffix: string): Promise<LlamaGrammar> {
  const text = choiceGrammarText(choices, suffix);
  let grammar = cache.get(text);
  if (!grammar) {
    grammar = llama.createGrammar({ grammar: text });
    cache.set(text, grammar);
  }
  return grammar;
}
