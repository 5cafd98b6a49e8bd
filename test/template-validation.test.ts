/**
 * Templates are refused rather than silently accepted: each rule of validateTemplate / readTemplateFile,
 * with the message naming the file and the field, the error a bad-input one (exit code 2, checked on the
 * real CLI); the default templates and every template file under test/fixtures pass.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { J1Error } from "../src/core/errors.js";
import { DEFAULT_CHOICE_TEMPLATE, DEFAULT_PAIRWISE_TEMPLATE, DEFAULT_POINTWISE_TEMPLATE, validateTemplate } from "../src/core/template.js";
import { readTemplateFile } from "../src/judge/template-file.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const work = mkdtempSync(path.join(os.tmpdir(), "j1-template-"));

/** Refused as bad input, naming the file and the field, with the message matching `pattern`. */
function refused(template: unknown, field: string, pattern: RegExp) {
  assert.throws(
    () => validateTemplate(template, "t.json"),
    (error: unknown) => {
      assert.ok(error instanceof J1Error, String(error));
      assert.equal(error.code, "bad-input");
      assert.equal(error.context.field, field);
      assert.ok(error.message.startsWith(`t.json: field "${field}" `), error.message);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("template fields", () => {
  it("an unknown top-level field is refused, with the closest known one suggested", () => {
    refused({ sytem: "be strict" }, "sytem", /is not a template field: did you mean "system"\?/);
    refused({ User: "{a} {b}" }, "User", /did you mean "user"\?/);
    refused({ answerPrefx: "<<" }, "answerPrefx", /did you mean "answerPrefix"\?/);
    refused({ thinkend: "</t>" }, "thinkend", /did you mean "thinkEnd"\?/);
    // Nothing close: no suggestion, but the known fields are listed.
    assert.throws(() => validateTemplate({ temperature: 0.7 }, "t.json"), (error: Error) => !/did you mean/.test(error.message) && /field "temperature" is not a template field \(fields: name, kind, system/.test(error.message));
  });

  it("kind must be one of the three; scale belongs to pointwise templates only, with min and max alone", () => {
    refused({ kind: "ranking" }, "kind", /must be "pairwise", "pointwise" or "choice"/);
    refused({ kind: "pairwise", scale: { min: 1, max: 5 } }, "scale", /only for pointwise templates \(this one is pairwise\)/);
    refused({ kind: "pointwise", scale: { min: 1, max: 5, step: 1 } }, "scale", /unknown field "step"/);
    refused({ kind: "pointwise", scale: { min: 1.5, max: 5 } }, "scale", /"min": integer/);
    assert.deepEqual(validateTemplate({ kind: "pointwise", scale: { min: 0, max: 4 } }).scale, { min: 0, max: 4 });
  });
});

describe("placeholders", () => {
  it("an unknown placeholder is refused, with the one meant when it is close", () => {
    refused({ user: "{questoin}\n{a}\n{b}" }, "user", /unknown placeholder \{questoin\}: did you mean \{question\}\?/);
    refused({ system: "Judge {criteria} carefully." }, "system", /unknown placeholder \{criteria\} \(a pairwise template's placeholders: \{question\}, \{context\}, \{a\}, \{b\}\)/);
    refused({ user: "{ question }\n{a}\n{b}" }, "user", /has \{ question \}: write it as \{question\}/);
    // Braces that are not a placeholder (JSON in an instruction) are text.
    assert.equal(validateTemplate({ system: 'Answer like {"verdict": "A"}, or {1, 2}.' }).system, 'Answer like {"verdict": "A"}, or {1, 2}.');
  });

  it("a placeholder of another kind is refused", () => {
    refused({ kind: "pointwise", user: "{question} {a} {response}" }, "user", /has \{a\}, which a pointwise template does not fill \(its placeholders: \{question\}, \{context\}, \{response\}, \{min\}, \{max\}\)/);
    refused({ user: "{question} {a} {b} {responses}" }, "user", /has \{responses\}, which a pairwise template does not fill/);
    refused({ kind: "pointwise", user: "{response} {responses}" }, "user", /has \{responses\}, which a pointwise template does not fill/);
    refused({ system: "Rate from {min} to {max}." }, "system", /has \{min\}, which a pairwise template does not fill/);
    refused({ kind: "choice", system: "Compare {a} and {b}." }, "system", /has \{a\}, which a choice template does not fill \(its placeholders: \{question\}, \{context\}, \{responses\}, \{n\}, \{letters\}\)/);
  });

  it("each kind needs its own placeholders in the user turn, outside the {#context} block", () => {
    refused({ user: "{question} {a}" }, "user", /must contain \{b\}/);
    refused({ kind: "pointwise", user: "{question}" }, "user", /must contain \{response\}/);
    refused({ kind: "choice", user: "{question}\n{n} responses" }, "user", /must contain \{responses\}/);
    refused({ user: "{#context}{context} {a}{/context} {b}" }, "user", /has \{a\} only inside the \{#context\} block/);
  });

  it("{#context} blocks must be balanced and not nested; no other block exists", () => {
    refused({ user: "{#context}{context}\n{a} {b}" }, "user", /\{#context\} block that is never closed/);
    refused({ user: "{context}{/context}\n{a} {b}" }, "user", /\{\/context\} without a \{#context\} before it/);
    refused({ user: "{#context}a{#context}{context}{/context}{/context}\n{a} {b}" }, "user", /inside another: blocks cannot be nested/);
    refused({ system: "{/context}{#context}x" }, "system", /\{\/context\} without a \{#context\}/);
    refused({ user: "{#question}{question}{/question} {a} {b}" }, "user", /unknown block \{#question\}/);
    // Two blocks one after the other are fine.
    assert.ok(validateTemplate({ user: "{#context}[C]\n{context}{/context}{question}{#context}(end){/context} {a} {b}" }));
  });
});

describe("delimiters", () => {
  it("an empty answer prefix or end of thinking is refused", () => {
    refused({ answerPrefix: "" }, "answerPrefix", /must not be empty/);
    refused({ thinkEnd: "" }, "thinkEnd", /must not be empty/);
  });

  it("the end of thinking and the answer prefix must not be the same or contain each other", () => {
    refused({ thinkEnd: "[[", answerPrefix: "[[" }, "answerPrefix", /contains field "thinkEnd"/);
    refused({ answerPrefix: "</think>[[" }, "answerPrefix", /\("<\/think>\[\["\) contains field "thinkEnd" \("<\/think>"\)/);
    refused({ thinkEnd: "</think>[[" }, "thinkEnd", /contains field "answerPrefix" \("\[\["\)/);
  });

  it("the start and end of thinking must differ, and so must the answer's prefix and suffix", () => {
    refused({ thinkStart: "</think>" }, "thinkStart", /same as field "thinkEnd"/);
    refused({ thinkStart: "##", thinkEnd: "##" }, "thinkStart", /same as field "thinkEnd" \("##"\)/);
    refused({ answerPrefix: "**", answerSuffix: "**" }, "answerSuffix", /same as field "answerPrefix"/);
    // Distinct delimiters of one's own are fine, an empty suffix too.
    const own = validateTemplate({ thinkStart: "<reason>", thinkEnd: "</reason>", answerPrefix: "Verdict: ", answerSuffix: "" });
    assert.deepEqual([own.thinkStart, own.thinkEnd, own.answerPrefix, own.answerSuffix], ["<reason>", "</reason>", "Verdict: ", ""]);
  });
});

describe("choice templates", () => {
  it("are validated like the others and keep the choice defaults", () => {
    const template = validateTemplate({ kind: "choice", name: "mine", system: "Pick the best of {n}: answer {letters}." });
    assert.equal(template.kind, "choice");
    assert.equal(template.user, DEFAULT_CHOICE_TEMPLATE.user);
    refused({ kind: "choice", user: "{question} {response}" }, "user", /has \{response\}, which a choice template does not fill/);
    refused({ kind: "choice", scale: { min: 1, max: 3 } }, "scale", /only for pointwise templates \(this one is choice\)/);
  });
});

describe("template files", () => {
  const write = (name: string, text: string) => {
    const file = path.join(work, name);
    writeFileSync(file, text);
    return file;
  };

  it("a UTF-8 byte order mark at the start is accepted", async () => {
    const file = write("bom.json", `\uFEFF${JSON.stringify({ name: "bom", system: "be fair" })}`);
    const template = await readTemplateFile(file);
    assert.equal(template.name, "bom");
    assert.equal(template.system, "be fair");
  });

  it("not JSON, unreadable, or refused: bad input naming the file (and the field)", async () => {
    const notJson = write("broken.json", "{ name: ");
    await assert.rejects(readTemplateFile(notJson), (error: unknown) => error instanceof J1Error && error.code === "bad-input" && error.message.startsWith(`${notJson}: not valid JSON`));
    const missing = path.join(work, "absent.json");
    await assert.rejects(readTemplateFile(missing), (error: unknown) => error instanceof J1Error && error.code === "bad-input" && error.message.startsWith(`${missing}: cannot read the template`));
    const typo = write("typo.json", JSON.stringify({ sytem: "x" }));
    await assert.rejects(readTemplateFile(typo), (error: unknown) => error instanceof J1Error && error.code === "bad-input" && error.message === `${typo}: field "sytem" is not a template field: did you mean "system"? (fields: name, kind, system, user, thinkStart, thinkEnd, answerPrefix, answerSuffix, scale)`);
    const array = write("array.json", "[]");
    await assert.rejects(readTemplateFile(array), /a template must be a JSON object/);
  });

  it("j1 judge --template with a refused template exits 2 with the message, before loading a model", () => {
    const file = write("cli-typo.json", JSON.stringify({ user: "{questoin} {a} {b}" }));
    const result = spawnSync(process.execPath, [path.join(root, "bin/j1"), "judge", "--model", "tiny", "-q", "q", "-a", "x", "-b", "y", "--template", file], { cwd: work, encoding: "utf8", timeout: 60_000, env: { ...process.env, J1_CACHE_DIR: path.join(work, "cache") } });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /field "user" has an unknown placeholder \{questoin\}: did you mean \{question\}\?/);
  });
});

describe("templates that must pass", () => {
  it("the default templates pass unchanged", () => {
    for (const template of [DEFAULT_PAIRWISE_TEMPLATE, DEFAULT_POINTWISE_TEMPLATE, DEFAULT_CHOICE_TEMPLATE]) {
      assert.deepEqual(validateTemplate(JSON.parse(JSON.stringify(template))), template, template.name);
      assert.deepEqual(validateTemplate({ kind: template.kind }), template, `${template.name} from its kind alone`);
    }
    assert.deepEqual(validateTemplate({}), DEFAULT_PAIRWISE_TEMPLATE);
  });

  it("every template file under test/fixtures passes", async () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else if (/template.*\.json$/i.test(entry)) files.push(full);
      }
    };
    walk(path.join(root, "test/fixtures"));
    for (const file of files) {
      const template = await readTemplateFile(file);
      assert.ok(["pairwise", "pointwise", "choice"].includes(template.kind), file);
      assert.equal(template.name, (JSON.parse(readFileSync(file, "utf8").replace(/^\uFEFF/, "")) as { name?: string }).name ?? template.name);
    }
    // The README's example template passes too.
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    const example = /```json\n(\{ "name": "strict-math"[\s\S]*?)\n```/.exec(readme);
    assert.ok(example, "the README's template example is found");
    assert.equal(validateTemplate(JSON.parse(example[1])).name, "strict-math");
  });
});
