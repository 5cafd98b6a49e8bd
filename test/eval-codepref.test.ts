import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parser } from "@lezer/python";
import { renderPairwise, validateTemplate } from "../src/core/template.js";
import { CODEPREF_CRITERIA, codePrefTemplate } from "../src/eval/benchmarks/codepref.js";
import { projectRoot, sharedBenchmarksDir } from "../src/eval/benchmarks/data-location.js";
import { loadAll } from "../src/eval/benchmarks/load-rows.js";
import { parsesAsPython3, strippedStatementLines, stripPythonComments } from "../src/eval/benchmarks/python-comments.js";
import { readRows } from "../src/eval/benchmarks/read-rows.js";
import { getBenchmark } from "../src/eval/benchmarks/registry.js";
import { asPair } from "../src/eval/types.js";

const text = (segments: Array<{ text: string }>) => segments.map((segment) => segment.text).join("");

test("stripPythonComments: comments and docstrings go; '#' and triple quotes inside strings stay", () => {
  const code = [
    '"""Module docstring."""',
    "import os  # trailing comment",
    's = "not # a comment"',
    "t = '''triple ' \" # still a string'''",
    "def f(x):",
    "    '''Doc with # and \"\"\" inside",
    "    over two lines'''",
    "    # a whole-line comment",
    '    y = f"{x!r} # inside an f-string"',
    "    if x:",
    '        "a string statement in an if body is not a docstring"',
    "    return y + '#'  # trailing",
    "class C:",
    '    "class doc"',
    "    a = 1",
    "",
  ].join("\n");
  assert.equal(stripPythonComments(code), [
    "import os",
    's = "not # a comment"',
    "t = '''triple ' \" # still a string'''",
    "def f(x):",
    '    y = f"{x!r} # inside an f-string"',
    "    if x:",
    '        "a string statement in an if body is not a docstring"',
    "    return y + '#'",
    "class C:",
    "    a = 1",
    "",
  ].join("\n"));
});

test("stripPythonComments: a body left empty gets pass; unparsable code is kept; code without comments is unchanged", () => {
  assert.equal(stripPythonComments('def f():\n    """Only a docstring."""\n\nx = f()\n'), "def f():\n    pass\n\nx = f()\n");
  const broken = "def f(:\n    # comment\n    return 1\n";
  assert.equal(stripPythonComments(broken), broken);
  // An unterminated docstring (truncated code, as some real rows are): the error is inside the string.
  const unterminated = 'import os  # c\ndef f():\n    """never closed\n';
  assert.equal(stripPythonComments(unterminated), unterminated);
  const plain = "def add(a, b):\n    return a + b\n";
  assert.equal(stripPythonComments(plain), plain);
  // A comment-like line inside a triple-quoted assignment is text, not a comment.
  const data = 'SQL = """\n# not a comment\nSELECT 1\n"""\n';
  assert.equal(stripPythonComments(data), data);
  // A docstring sharing its line with another statement is kept (removing it would break the line).
  assert.equal(stripPythonComments('"doc"; x = 1\n'), '"doc"; x = 1\n');
});

test("codepref official template: names the aspect's criterion, j1's think delimiters and [[A]]/[[B]]", () => {
  for (const aspect of ["correctness", "efficiency", "security", "human-preference"]) {
    const template = codePrefTemplate(aspect);
    assert.ok(template, aspect);
    validateTemplate(template);
    const prompt = renderPairwise(template, { question: "Sort a list.", a: "sorted(x)", b: "x.sort()" });
    const system = text(prompt.system);
    const user = text(prompt.user);
    assert.ok(system.includes(CODEPREF_CRITERIA[aspect]), `${aspect}: the criterion is in the system text`);
    assert.ok(user.includes(`[Criterion]\n${CODEPREF_CRITERIA[aspect]}`));
    assert.match(system, /<think> and <\/think>/);
    assert.match(system, /\[\[A\]\] if Code A is better on the criterion, \[\[B\]\] if Code B is better/);
    assert.match(user, /\[Code A\]\n```python\nsorted\(x\)\n```/);
    assert.equal(prompt.assistantPrefix, "<think>\n");
  }
  assert.match(CODEPREF_CRITERIA.efficiency, /efficient in execution time/);
  assert.match(CODEPREF_CRITERIA.security, /security attacks/);
  assert.notEqual(codePrefTemplate("correctness")?.system, codePrefTemplate("security")?.system);
  assert.equal(codePrefTemplate("other-file"), undefined);
  const benchmark = getBenchmark("codepref");
  assert.equal(benchmark.officialTemplate?.({ id: "x", benchmark: "codepref", category: "efficiency", question: "q", a: "a", b: "b", label: "A" })?.name, "codepref-efficiency");
});

test("real CodePrefBench: the loader strips comments from correctness/efficiency/security code, not human-preference", async (t) => {
  const dir = join(sharedBenchmarksDir(), "codeprefbench");
  if (!existsSync(dir)) {
    if (process.env.CI) assert.fail(`${dir} is missing in CI`);
    t.skip("shared benchmarks absent");
    return;
  }
  const loaded = await loadAll(getBenchmark("codepref"), { data: dir });
  const raw = new Map<string, string[]>();
  for (const file of ["correctness", "efficiency", "security", "human-preference"]) {
    let row = 0;
    for await (const source of readRows(join(dir, `${file}-alignment.jsonl.gz`))) {
      row++;
      raw.set(`${file}/${row}`, (source.value as { choices: string[] }).choices);
    }
  }
  let withComments = 0;
  for (const item of loaded.items) {
    const pair = asPair(item);
    const original = raw.get(item.id);
    assert.ok(original, item.id);
    [pair.a, pair.b].forEach((code, index) => {
      const source = original[index];
      if (item.category === "human-preference") {
        assert.equal(code, source, `${item.id}: human-preference code is shown as written`);
        return;
      }
      if (isBroken(source)) {
        assert.equal(code, source, `${item.id}: unparsable code is kept`);
        return;
      }
      if (comments(source) > 0) withComments++;
      assert.equal(comments(code), 0, `${item.id}: no comment is left`);
      assert.ok(!isBroken(code), `${item.id}: the stripped code still parses`);
    });
  }
  assert.ok(withComments > 50, `the real files have commented code to strip (${withComments})`);
});

function comments(code: string): number {
  let count = 0;
  parser.parse(code).iterate({ enter: (node) => { if (node.name === "Comment") count++; } });
  return count;
}

function isBroken(code: string): boolean {
  return !parsesAsPython3(code);
}

// The official evaluation's stripping, recorded per choice by scripts/codepref-official-strip.py (Python's
// own ast, the version the evaluation ran): whether the choice parses, and which constant statements go.
interface OfficialStrip {
  python: string;
  choices: Array<[file: string, row: number, choice: number, parses: boolean, removed: Array<[number, number]>]>;
}

test("real CodePrefBench: on every one of the 2,728 code choices, j1 strips what the official evaluation strips", async (t) => {
  const dir = join(sharedBenchmarksDir(), "codeprefbench");
  if (!existsSync(dir)) {
    if (process.env.CI) assert.fail(`${dir} is missing in CI`);
    t.skip("shared benchmarks absent");
    return;
  }
  const official = JSON.parse(readFileSync(join(projectRoot(), "test", "fixtures", "codepref-official-strip.json"), "utf8")) as OfficialStrip;
  const expected = new Map(official.choices.map(([file, row, choice, parses, removed]) => [`${file}/${row}/${choice}`, { parses, removed }]));
  let seen = 0;
  const differences: string[] = [];
  for (const file of ["correctness", "efficiency", "human-preference", "security"]) {
    const name = `${file}-alignment.jsonl.gz`;
    for await (const source of readRows(join(dir, name))) {
      (source.value as { choices: string[] }).choices.forEach((code, choice) => {
        seen++;
        const key = `${name}/${source.row}/${choice}`;
        const want = expected.get(key);
        assert.ok(want, `${key} is in the official record`);
        const parses = parsesAsPython3(code);
        const removed = strippedStatementLines(code) ?? [];
        if (parses !== want.parses || JSON.stringify(removed) !== JSON.stringify(want.removed)) differences.push(`${key}: parses ${parses} (official ${want.parses}), removed ${JSON.stringify(removed)} (official ${JSON.stringify(want.removed)})`);
        if (!want.parses) assert.equal(stripPythonComments(code), code, `${key}: code Python does not parse is shown as written`);
      });
    }
  }
  assert.equal(seen, 2728);
  assert.equal(seen, official.choices.length);
  assert.deepEqual(differences, [], `${differences.length} choices differ from the official stripping`);
});

test("stripPythonComments: a float written 1. parses; Python 2 forms and pre-3.12 f-strings are not Python 3 and are kept", () => {
  assert.equal(stripPythonComments('def f():\n    """Doc."""\n    return 1. / 3  # third\n'), "def f():\n    return 1. / 3\n");
  for (const code of ["print 'x'  # py2\n", "raise E, 'v'  # py2\n", "os.chmod(p, 0755)  # octal\n", "try:\n    x = 1  # no except\nx = 2\n", "x = f'{d['k']}'  # same quote\n"]) {
    assert.equal(parsesAsPython3(code), false, code);
    assert.equal(stripPythonComments(code), code, code);
  }
  assert.equal(stripPythonComments("x = f'{d[\"k\"]}'  # other quote\n"), "x = f'{d[\"k\"]}'\n");
  // Any constant statement goes (as ast.Constant), in a plain def but not in an async def.
  assert.equal(stripPythonComments("def f():\n    ...\n    return 1\n"), "def f():\n    return 1\n");
  assert.equal(stripPythonComments('async def f():\n    """Kept."""\n    return 1\n'), 'async def f():\n    """Kept."""\n    return 1\n');
});
