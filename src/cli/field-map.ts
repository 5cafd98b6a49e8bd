import { badInput } from "../core/errors.js";

/**
 * `--map question=prompt,a=chosen` -> {question: "prompt", a: "chosen"}; the loader checks the keys and
 * that the named columns exist. Each entry is `name=column` with both sides non-empty and one "="; a name
 * given twice (`question=q,question=x`, or in two --map flags) is refused rather than the last one winning
 * silently. Errors name the entry.
 */
export function parseFieldMap(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const map: Record<string, string> = {};
  for (const part of text.split(",")) {
    const entry = JSON.stringify(part.trim());
    if (part.trim() === "") throw badInput(`an empty entry in ${JSON.stringify(text)}; write name=column pairs separated by commas`, { field: "--map" });
    const [key, value, ...rest] = part.split("=").map((piece) => piece.trim());
    if (rest.length > 0) throw badInput(`entry ${entry} has more than one "="; write name=column`, { field: "--map" });
    if (value === undefined) throw badInput(`entry ${entry} has no "="; write name=column`, { field: "--map" });
    if (!key) throw badInput(`entry ${entry} has no name before "="; write name=column`, { field: "--map" });
    if (!value) throw badInput(`entry ${entry} has no column after "="; write name=column`, { field: "--map" });
    if (Object.hasOwn(map, key)) throw badInput(`"${key}" is mapped twice (to "${map[key]}" and to "${value}")`, { field: "--map" });
    map[key] = value;
  }
  return map;
}

/**
 * Commander's argument parser for `--map`: repeated flags add up (`--map question=q --map a=x` is
 * `question=q,a=x`), so a name mapped in two flags reaches parseFieldMap twice and is refused there. Each
 * value is checked as it comes, so the error names the entry.
 */
export function collectFieldMap(value: string, previous: string | undefined): string {
  if (value.trim() === "") throw badInput("empty; write name=column pairs separated by commas", { field: "--map" });
  const joined = previous === undefined || previous.trim() === "" ? value : `${previous},${value}`;
  parseFieldMap(joined);
  return joined;
}
