import type { SyntaxNode, Tree } from "@lezer/common";
import { parser } from "@lezer/python";

/** Where a docstring may stand: a module, a function or a class body (as CodeFavor's remove_comments walks). */
const DOC_OWNERS = new Set(["FunctionDefinition", "ClassDefinition"]);

/** What Python's ast makes an `ast.Constant`: literals, implicit string concatenation, `...`, in parentheses too. */
const CONSTANT_NODES = new Set(["String", "ContinuedString", "Number", "None", "Boolean", "Ellipsis"]);

function isConstant(node: SyntaxNode): boolean {
  if (CONSTANT_NODES.has(node.name)) return true;
  if (node.name !== "ParenthesizedExpression") return false;
  const inner = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) if (child.name !== "(" && child.name !== ")") inner.push(child);
  return inner.length === 1 && isConstant(inner[0]);
}

/**
 * A statement the official remove_comments drops: an expression statement that is one constant (a
 * docstring, but also `...` or `None`; an f-string is not a constant), standing in the body of a module, a
 * class or a plain `def` (its walk looks at FunctionDef, ClassDef and Module, so an `async def` keeps its
 * docstring).
 */
function isDocstring(statement: SyntaxNode): boolean {
  if (statement.name !== "ExpressionStatement") return false;
  const child = statement.firstChild;
  if (child === null || child.nextSibling !== null || !isConstant(child)) return false;
  const parent = statement.parent;
  if (parent === null) return false;
  if (parent.name === "Script") return true;
  const owner = parent.parent;
  if (parent.name !== "Body" || owner === null || !DOC_OWNERS.has(owner.name)) return false;
  return owner.firstChild?.name !== "async";
}

/** The code's syntax tree, or undefined where Python 3's `ast.parse` would refuse the code. */
function python3Tree(code: string): Tree | undefined {
  // Lezer gives up on a float written with a trailing dot (`1. / 3`, `-1.)`), which Python reads as 1.0:
  // the parse runs on a copy where that dot is a space (same length, so every position holds).
  const tree = parser.parse(code.replace(TRAILING_DOT_FLOAT, "$1 "));
  // Over the whole tree: an error can sit inside a string (an unterminated docstring).
  let broken = false;
  tree.iterate({ enter: (ref) => { if (ref.type.isError || notPython3(ref.node, code)) broken = true; return !broken; } });
  return broken ? undefined : tree;
}

/** Whether Python 3 (before 3.12's f-string change, as the official evaluation ran) parses the code. */
export function parsesAsPython3(code: string): boolean {
  return python3Tree(code) !== undefined;
}

/** A float with a trailing dot and no fraction (`1.`), not part of a name, an attribute or a longer number. */
const TRAILING_DOT_FLOAT = /(?<![\w.])(\d+)\.(?![\w.])/g;

/**
 * Python 2 forms and pre-3.12 f-strings that lezer's grammar accepts and Python 3's `ast.parse` (as the
 * official script ran it) refuses: a `print` statement, `raise E, value`, a decimal with a leading zero
 * (`0755`), a `try` with neither `except` nor `finally`, an f-string whose replacement field holds its own
 * quote character.
 */
function notPython3(node: SyntaxNode, code: string): boolean {
  switch (node.name) {
    case "PrintStatement":
      return true;
    case "RaiseStatement":
      return childNames(node).includes(",");
    case "Number": {
      const text = code.slice(node.from, node.to);
      return /^0[\d_]+$/.test(text) && /[1-9]/.test(text);
    }
    case "TryStatement": {
      const names = childNames(node);
      return !names.includes("except") && !names.includes("finally");
    }
    case "FormatString":
      return quoteInReplacement(node, code);
    default:
      return false;
  }
}

/** Before Python 3.12 a replacement field of an f-string may not hold the string's own quote. */
function quoteInReplacement(node: SyntaxNode, code: string): boolean {
  const quote = /^[a-zA-Z]*("""|'''|"|')/.exec(code.slice(node.from, node.to))?.[1];
  if (quote === undefined) return false;
  for (let child = node.firstChild; child !== null; child = child.nextSibling) {
    if (child.name === "FormatReplacement" && code.slice(child.from + 1, child.to - 1).includes(quote)) return true;
  }
  return false;
}

function childNames(node: SyntaxNode): string[] {
  const names: string[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) names.push(child.name);
  return names;
}

function lineStart(code: string, at: number): number {
  return code.lastIndexOf("\n", at - 1) + 1;
}

function lineEnd(code: string, at: number): number {
  const end = code.indexOf("\n", at);
  return end < 0 ? code.length : end;
}

/**
 * Python code without its comments and docstrings, as CodePrefBench's official evaluation shows code to a
 * judge (CodeFavor's remove_comments drops every `#` comment and every string-constant statement of a
 * module, function or class body). The code is parsed (@lezer/python), so a `#` or a triple quote inside
 * a string is never mistaken for a comment or a docstring; f-strings and strings in expressions stay.
 * Unlike the official one (which regenerates the code from its AST), the rest of the text is kept as
 * written: a comment or docstring alone on its lines takes its lines with it; a trailing comment takes
 * the spaces before it; a body left with no statement gets `pass`. A docstring that shares its line with
 * another statement is kept. Code that Python 3 does not parse (`ast.parse` fails, so the official script
 * keeps it as written) is returned unchanged: lezer's errors, and what lezer accepts but Python 3 refuses
 * (see `notPython3`).
 */
export function stripPythonComments(code: string): string {
  return stripped(code).code;
}

/**
 * The constant statements (docstrings, `...`) stripping removes, as 1-based [first line, last line], in
 * order; undefined for code Python 3 does not parse. Tests compare these with the official script's.
 */
export function strippedStatementLines(code: string): Array<[number, number]> | undefined {
  return stripped(code).statements;
}

function stripped(code: string): { code: string; statements?: Array<[number, number]> } {
  const tree = python3Tree(code);
  if (tree === undefined) return { code };
  const statements: Array<[number, number]> = [];
  const lineOf = (at: number) => code.slice(0, at).split("\n").length;
  const removals: Array<{ from: number; to: number; replace?: string }> = [];
  const docstrings: SyntaxNode[] = [];
  tree.iterate({
    enter(ref) {
      if (ref.name === "Comment") {
        const start = lineStart(code, ref.from);
        const end = lineEnd(code, ref.to);
        if (code.slice(start, ref.from).trim() === "") removals.push({ from: start, to: Math.min(end + 1, code.length) });
        else {
          let from = ref.from;
          while (from > start && (code[from - 1] === " " || code[from - 1] === "\t")) from--;
          removals.push({ from, to: ref.to });
        }
        return false;
      }
      if (ref.name === "ExpressionStatement" && isDocstring(ref.node)) {
        docstrings.push(ref.node);
        return false;
      }
      return undefined;
    },
  });
  for (const statement of docstrings) {
    const start = lineStart(code, statement.from);
    const end = lineEnd(code, statement.to);
    const before = code.slice(start, statement.from);
    const after = code.slice(statement.to, end).replace(/#.*$/, "");
    if (before.trim() !== "" || after.trim() !== "") continue;
    statements.push([lineOf(statement.from), lineOf(statement.to)]);
    const parent = statement.parent;
    const siblings: SyntaxNode[] = [];
    for (let child = parent?.firstChild ?? null; child !== null; child = child.nextSibling) {
      if (child.name !== ":" && child.name !== "Comment") siblings.push(child);
    }
    // Nodes are compared by position: the tree hands out a new object for each visit of a node.
    const same = (x: SyntaxNode, y: SyntaxNode) => x.from === y.from && x.to === y.to;
    const emptied = parent?.name === "Body" && siblings.every((sibling) => docstrings.some((doc) => same(doc, sibling)));
    if (emptied && same(siblings[0], statement)) removals.push({ from: statement.from, to: statement.to, replace: "pass" });
    else removals.push({ from: start, to: Math.min(end + 1, code.length) });
  }
  return { code: applyRemovals(code, removals), statements: statements.sort((x, y) => x[0] - y[0]) };
}

/** Applies removals (merging overlaps: a trailing comment on a docstring's line goes with the line). */
function applyRemovals(code: string, removals: Array<{ from: number; to: number; replace?: string }>): string {
  const sorted = [...removals].sort((x, y) => x.from - y.from || y.to - x.to);
  let out = "";
  let at = 0;
  for (const removal of sorted) {
    if (removal.to <= at) continue;
    if (removal.from < at) {
      at = removal.to;
      continue;
    }
    out += code.slice(at, removal.from) + (removal.replace ?? "");
    at = removal.to;
  }
  return out + code.slice(at);
}
