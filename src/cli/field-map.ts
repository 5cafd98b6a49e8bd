import { badInput } from "../core/errors.js";

/** `--map question=prompt,a=chosen` -> {question: "prompt", a: "chosen"}; the loader checks the keys. */
export function parseFieldMap(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const map: Record<string, string> = {};
  for (const part of text.split(",")) {
    const [key, value, ...rest] = part.split("=").map((piece) => piece.trim());
    if (!key || !value || rest.length > 0) throw badInput(`expected name=field pairs separated by commas, got ${JSON.stringify(part)}`, { field: "--map" });
    map[key] = value;
  }
  return map;
}
