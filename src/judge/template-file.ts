import { readFile } from "node:fs/promises";
import { J1Error, errorMessage } from "../core/errors.js";
import { validateTemplate, type JudgeTemplate } from "../core/template.js";

/** A custom template: a JSON object whose fields override the default template of its kind. */
export async function readTemplateFile(file: string): Promise<JudgeTemplate> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new J1Error("bad-template", `${file}: cannot read the template (${errorMessage(error)})`, { context: { file }, cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new J1Error("bad-template", `${file}: not valid JSON (${errorMessage(error)})`, { context: { file }, cause: error });
  }
  return validateTemplate(value, file);
}
