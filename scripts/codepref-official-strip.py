"""What CodePrefBench's official evaluation strips from each code choice, for j1's test of its own stripper.

The official evaluation parses each choice with Python's `ast` (code that does not parse is shown as
written), drops every expression statement whose value is a constant from the bodies of the module, each
class and each plain `def` (its walk looks at FunctionDef, ClassDef and Module), and regenerates the code,
which drops every comment. This script records, per choice, whether it parses and which statements go (as
1-based line ranges): no benchmark text, only positions. Run with the Python the official evaluation used
(3.11: f-strings with their own quote inside do not parse before 3.12):

    python3 scripts/codepref-official-strip.py ../shared/benchmarks/codeprefbench > test/fixtures/codepref-official-strip.json
"""
import ast
import glob
import gzip
import json
import os
import platform
import sys

folder = sys.argv[1]
choices = []
for path in sorted(glob.glob(os.path.join(folder, "*-alignment.jsonl.gz"))):
    name = os.path.basename(path)
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        for row, line in enumerate(rows, 1):
            for index, code in enumerate(json.loads(line)["choices"]):
                try:
                    tree = ast.parse(code)
                except SyntaxError:
                    choices.append([name, row, index, False, []])
                    continue
                removed = []
                for node in ast.walk(tree):
                    if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)):
                        for statement in node.body:
                            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                                removed.append([statement.lineno, statement.end_lineno])
                choices.append([name, row, index, True, sorted(removed)])
json.dump({"python": platform.python_version(), "choices": choices}, sys.stdout, separators=(",", ":"))
sys.stdout.write("\n")
