import { MAX_ROW_CHARS } from "./row-limit.js";
import { badInput } from "../../core/errors.js";

/** One element of a top-level JSON array, still as text, with the line on which it starts. */
export interface ArrayElementText {
  text: string;
  /** 1-based line of the element's first character. */
  line: number;
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r", "\ufeff"]);

/**
 * Splits a top-level JSON array into its elements without parsing the whole file, so a large array is
 * never held whole and every element keeps the line where it starts (for error messages). Only the
 * structure is tracked here (strings, escapes, nesting depth); each element is parsed by the caller, so
 * one malformed element is a row-level fault while a file that is not an array at all is fatal.
 */
export async function* splitJsonArray(chunks: AsyncIterable<string>, file: string): AsyncGenerator<ArrayElementText> {
  let line = 1;
  let depth = 0; // 0: before or after the top-level array; 1: directly inside it; >1: inside an element
  let started = false;
  let ended = false;
  let inString = false;
  let escaped = false;
  let inElement = false;
  let elementLine = 0;
  let parts: string[] = [];
  let partsLength = 0;

  for await (const chunk of chunks) {
    let sliceStart = inElement ? 0 : -1;
    for (let index = 0; index < chunk.length; index++) {
      const char = chunk[index];
      if (char === "\n") line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (char === "\\") escaped = true;
        else if (char === '"') inString = false;
        continue;
      }
      if (!started) {
        if (WHITESPACE.has(char)) continue;
        if (char !== "[") throw badInput(`expected a JSON array (a file starting with "["), found ${JSON.stringify(char)}`, { file, line });
        started = true;
        depth = 1;
        continue;
      }
      if (ended) {
        if (WHITESPACE.has(char)) continue;
        throw badInput(`unexpected ${JSON.stringify(char)} after the end of the JSON array`, { file, line });
      }
      if (depth === 1 && (char === "," || char === "]")) {
        if (inElement) {
          parts.push(chunk.slice(sliceStart, index));
          yield { text: parts.join(""), line: elementLine };
        } else if (char === ",") {
          yield { text: "", line };
        }
        parts = [];
        partsLength = 0;
        inElement = false;
        sliceStart = -1;
        if (char === "]") {
          depth = 0;
          ended = true;
        }
        continue;
      }
      if (!inElement) {
        if (WHITESPACE.has(char)) continue;
        inElement = true;
        elementLine = line;
        sliceStart = index;
      }
      if (char === '"') inString = true;
      else if (char === "{" || char === "[") depth++;
      else if (char === "}" || char === "]") depth--;
    }
    if (inElement) {
      parts.push(chunk.slice(sliceStart));
      partsLength += chunk.length - Math.max(0, sliceStart);
      if (partsLength > MAX_ROW_CHARS) throw badInput(`the element starting here is longer than ${MAX_ROW_CHARS.toLocaleString("en-US")} characters: not a benchmark row (a device or a broken file?)`, { file, line: elementLine });
    }
  }
  if (!started) throw badInput("empty file: expected a JSON array", { file });
  if (!ended) throw badInput("the JSON array is not closed (truncated file?)", { file, line });
}
