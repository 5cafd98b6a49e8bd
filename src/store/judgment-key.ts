import { createHash } from "node:crypto";

/**
 * The judgment key: what makes two judgments "the same computation". The caller passes every input that can
 * change a judgment (engine and model identity, template hash, judging options, item id and content hash,
 * order/sample/seed or the sweep point); equal parts give an equal key whatever the order of their fields,
 * so a judgment computed once is found again by any later run and never computed twice.
 */
export function judgmentKey(parts: object): string {
  return sha256Hex(canonicalJson(parts));
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * JSON with object keys sorted at every depth, so the text (and its hash) depends only on the content.
 * Values JSON cannot represent faithfully (NaN, Infinity, bigint, functions, symbols) are refused rather
 * than silently turned into null, because two different inputs must never share a key. As in JSON.stringify,
 * object fields whose value is undefined are left out and `toJSON` (Date) is honoured.
 */
export function canonicalJson(value: unknown): string {
  return write(value, "$");
}

function write(value: unknown, path: string): string {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`judgment key: ${path} is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        return `[${value.map((element, index) => (element === undefined ? "null" : write(element, `${path}[${index}]`))).join(",")}]`;
      }
      const fields = Object.keys(value)
        .filter((name) => (value as Record<string, unknown>)[name] !== undefined)
        .sort()
        .map((name) => `${JSON.stringify(name)}:${write((value as Record<string, unknown>)[name], `${path}.${name}`)}`);
      return `{${fields.join(",")}}`;
    }
    default:
      throw new TypeError(`judgment key: ${path} is a ${typeof value}, which JSON cannot represent`);
  }
}
