import { readFile } from "node:fs/promises";
import { J1Error, errorMessage } from "../core/errors.js";
import { validateTemplate, type JudgeTemplate } from "../core/template.js";

/**
 * A custom template: a JSON object whose fields override the default template of its kind. A file that
 * cannot be read, is not JSON, or is refused by `validateTemplate` is bad input (exit code 2), with the
 * file (and field) named. A UTF-8 byte order mark at the start is accepted (editors on Windows write one).
 */
export async function readTemplateFile(file: string): Promise<JudgeTemplate> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new J1Error("bad-input", `${file}: cannot read the template (${errorMessage(error)})`, { context: { file, field: "--template" }, cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new J1Error("bad-input", `${file}: not valid JSON (${errorMessage(error)})`, { context: { file }, cause: error });
  }
  return validateTemplate(value, file);
}
