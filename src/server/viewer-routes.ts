import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Context, Hono } from "hono";

/**
 * The web viewer of `j1 serve`, at `/`. Its stack is preact (about 5 kB gzipped, hooks 1.6 kB) with htm
 * (0.7 kB) for templates: plain ES modules the browser loads through an import map, so there is no
 * bundler, no JSX compile and no build step; the files under `src/server/viewer/` are served as written
 * (package.json "files" ships that folder). Charts, traces and the report's tables are not written twice:
 * the report's own pure modules (`dist/src/eval/report/*.js`, which import nothing from Node) are served
 * to the browser as they are compiled.
 *
 * The token rule: everything here (the page and its code) loads without a token, because it holds no
 * data; every /v1 call the page makes sends the token the user typed (kept in sessionStorage).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/src/server -> the source tree's src/server/viewer (in a clone and in the installed package alike). */
const VIEWER_DIR = path.resolve(here, "../../../src/server/viewer");
/** dist/src/eval: the compiled report modules. */
const EVAL_DIR = path.resolve(here, "../eval");
const VIEWER_FILES = new Set(["index.html", "app.js", "api.js", "pages.js", "trace.js", "judge-form.js", "style.css"]);
/**
 * The compiled modules the browser may load: the report's renderers (pure string builders that import
 * nothing from Node; a new one in that folder is served too) and the one eval module they import.
 */
const EVAL_MODULE = /^(report\/[a-z0-9-]+\.js|scaling-trend\.js)$/;

const TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8" };

function vendorFiles(): Record<string, string> {
  const require = createRequire(import.meta.url);
  // preact's "exports" maps both entries to its ESM builds; htm's "require" condition is CJS, so its ESM file is named.
  return {
    "preact.js": require.resolve("preact"),
    "preact-hooks.js": require.resolve("preact/hooks"),
    "htm.js": path.join(path.dirname(require.resolve("htm")), "htm.module.js"),
  };
}

export function addViewerRoutes(app: Hono): void {
  const vendor = vendorFiles();
  const cache = new Map<string, string>();
  const send = (c: Context, file: string) => {
    let body = cache.get(file);
    if (body === undefined) {
      body = readFileSync(file, "utf8");
      cache.set(file, body);
    }
    return c.body(body, 200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-cache", "x-content-type-options": "nosniff" });
  };
  app.get("/", (c) => send(c, path.join(VIEWER_DIR, "index.html")));
  // Browsers ask for it on every page; an empty answer keeps the console free of a 404.
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/viewer/:file", (c) => {
    const name = c.req.param("file");
    return VIEWER_FILES.has(name) ? send(c, path.join(VIEWER_DIR, name)) : c.json({ error: `no viewer file ${JSON.stringify(name)}` }, 404);
  });
  app.get("/viewer/vendor/:file", (c) => {
    // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
    const file = Object.hasOwn(vendor, c.req.param("file")) ? vendor[c.req.param("file")] : undefined;
    return file ? send(c, file) : c.json({ error: `no vendor module ${JSON.stringify(c.req.param("file"))}` }, 404);
  });
  app.get("/viewer/eval/*", (c) => {
    const name = c.req.path.slice("/viewer/eval/".length);
    return EVAL_MODULE.test(name) && existsSync(path.join(EVAL_DIR, name)) ? send(c, path.join(EVAL_DIR, name)) : c.json({ error: `no module ${JSON.stringify(name)}` }, 404);
  });
}
