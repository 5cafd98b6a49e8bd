/**
 * Test fixture for a real `llama-server` process (built by scripts/build-llama-server.sh
 * from the llama.cpp source bundled in node-llama-cpp).
 *
 *   const bin = findLlamaServer();            // undefined when not built
 *   const server = await startLlamaServer({ modelPath, binary: bin });
 *   await fetch(`${server.baseUrl}/health`);
 *   await server.stop();
 *
 * Every started server is killed when this process exits (normally or by SIGINT/SIGTERM/
 * SIGHUP), so a failing test never leaves a llama-server behind.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, accessSync, constants as fsConstants } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface StartLlamaServerOptions {
  modelPath: string;
  /** Path of the llama-server binary; default: findLlamaServer(). */
  binary?: string;
  /** Total context size (`-c`), shared by the parallel slots. Default 2048. */
  contextSize?: number;
  /** Number of parallel slots (`-np`). Default 1. */
  parallel?: number;
  /** CPU threads (`-t`). Default 1. */
  threads?: number;
  /** When set, passed as `--api-key` (then every endpoint but /health needs `Authorization: Bearer <key>`). */
  apiKey?: string;
  /** Extra command-line arguments, appended last. */
  extraArgs?: string[];
  /** How long to wait for GET /health to answer 200. Default 60 000 ms. */
  startTimeoutMs?: number;
  /** Listen on this port (a server restarted where a killed one was); default: a free port. */
  port?: number;
}

export interface RunningLlamaServer {
  /** e.g. "http://127.0.0.1:41234" (no trailing slash) */
  baseUrl: string;
  port: number;
  /** Process id of the llama-server process. */
  pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
  /** Everything the process wrote to stdout and stderr so far (the last ~1 MB). */
  logs(): string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const MAX_LOG_CHARS = 1_000_000;
const SETPRIV_PATHS = ["/usr/bin/setpriv", "/bin/setpriv"];

/** node_modules/node-llama-cpp, found by walking up from this file (works from test/ and dist/test/). */
function findNodeLlamaCppDir(): string | undefined {
  const fromEnv = process.env.J1_NODE_LLAMA_CPP_DIR;
  if (fromEnv) return resolve(fromEnv);
  let dir = HERE;
  for (;;) {
    const candidate = join(dir, "node_modules", "node-llama-cpp");
    if (existsSync(join(candidate, "llama"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function sanitizeKey(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, "_");
}

/**
 * The cache directory name the build script uses: the "tag" of
 * node-llama-cpp/llama/llama.cpp.info.json, else the commit of the bundle's HEAD
 * (or its first ref), with characters outside [A-Za-z0-9._-] replaced by "_".
 * Keep in sync with scripts/build-llama-server.sh.
 */
export function llamaServerCacheKey(): string | undefined {
  const nlc = findNodeLlamaCppDir();
  if (!nlc) return undefined;
  const llamaDir = join(nlc, "llama");
  const infoPath = join(llamaDir, "llama.cpp.info.json");
  if (existsSync(infoPath)) {
    try {
      const info = JSON.parse(readFileSync(infoPath, "utf8")) as { tag?: unknown };
      if (typeof info.tag === "string" && info.tag !== "") return sanitizeKey(info.tag);
    } catch {
      // fall through to the bundle
    }
  }
  const bundle = join(llamaDir, "gitRelease.bundle");
  if (!existsSync(bundle)) return undefined;
  try {
    const heads = execFileSync("git", ["bundle", "list-heads", bundle], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    })
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((parts) => parts.length >= 2 && /^[0-9a-f]{40,64}$/.test(parts[0]));
    const head = heads.find((parts) => parts[1] === "HEAD") ?? heads[0];
    return head ? sanitizeKey(head[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** Where scripts/build-llama-server.sh installs the binary (whether or not it is there). */
export function cachedLlamaServerPath(): string | undefined {
  const key = llamaServerCacheKey();
  if (!key) return undefined;
  const cacheRoot = process.env.J1_CACHE_DIR || join(homedir(), ".cache", "j1");
  return join(cacheRoot, "llama-server", key, "bin", "llama-server");
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `J1_LLAMA_SERVER` if set (and executable), else the cached build, else undefined. */
export function findLlamaServer(): string | undefined {
  const fromEnv = process.env.J1_LLAMA_SERVER;
  if (fromEnv) return isExecutable(fromEnv) ? resolve(fromEnv) : undefined;
  const cached = cachedLlamaServerPath();
  return cached && isExecutable(cached) ? cached : undefined;
}

/** A port that was free a moment ago on 127.0.0.1. */
export function getFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error("could not read the listening port"));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolvePort(port)));
    });
  });
}

// ---- orphan protection --------------------------------------------------------------------

const liveChildren = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killAllNow(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on("exit", killAllNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const handler = (): void => {
      killAllNow();
      // Re-raise with the default disposition when nobody else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.once(signal, handler);
  }
}

// ---- start / stop ---------------------------------------------------------------------------

function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

async function startOnce(options: StartLlamaServerOptions, binary: string): Promise<RunningLlamaServer> {
  const port = options.port ?? (await getFreePort());
  const args = [
    "-m", options.modelPath,
    "--host", "127.0.0.1",
    "--port", String(port),
    "-c", String(options.contextSize ?? 2048),
    "-t", String(options.threads ?? 1),
    "-np", String(options.parallel ?? 1),
  ];
  if (options.apiKey !== undefined) args.push("--api-key", options.apiKey);
  if (options.extraArgs) args.push(...options.extraArgs);

  installExitHooks();
  // Through `setpriv --pdeathsig SIGKILL` (util-linux) where available, so the kernel kills
  // llama-server even if this process dies by SIGKILL and no exit hook runs. setpriv execs
  // the binary, so the pid is llama-server's own.
  const setpriv = SETPRIV_PATHS.find((p) => isExecutable(p));
  const child = setpriv
    ? spawn(setpriv, ["--pdeathsig", "SIGKILL", "--", binary, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    : spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  liveChildren.add(child);

  let logText = "";
  const append = (chunk: Buffer): void => {
    logText += chunk.toString("utf8");
    if (logText.length > MAX_LOG_CHARS) logText = logText.slice(-MAX_LOG_CHARS);
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);

  let exited = false;
  let exitDescription = "";
  const exitPromise = new Promise<void>((resolveExit) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      exited = true;
      exitDescription = signal ? `signal ${signal}` : `code ${code}`;
      liveChildren.delete(child);
      resolveExit();
    };
    child.once("close", done); // after exit and after stdout/stderr are drained
    child.once("error", (err) => {
      append(Buffer.from(`\n[spawn error] ${err.message}\n`));
      if (child.exitCode === null && child.signalCode === null && child.pid === undefined) done(null, null);
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (exited) return Promise.resolve();
    stopping ??= (async () => {
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, 5000);
      timer.unref();
      await exitPromise;
      clearTimeout(timer);
    })();
    return stopping;
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let lastStatus = "no answer";
  while (!exited) {
    if (Date.now() > deadline) {
      await stop();
      throw new StartError(
        `llama-server did not become healthy within ${options.startTimeoutMs ?? 60_000} ms ` +
          `(last /health: ${lastStatus}); log tail:\n${tail(logText)}`,
        false,
      );
    }
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) {
        return { baseUrl, port, pid: child.pid!, stop, logs: () => logText };
      }
      lastStatus = `HTTP ${res.status}`;
    } catch (err) {
      lastStatus = err instanceof Error ? err.message : String(err);
    }
    await Promise.race([sleep(100), exitPromise]);
  }
  await exitPromise;
  const portInUse = /address already in use|couldn't bind|failed to bind|bind.*fail/i.test(logText);
  throw new StartError(
    `llama-server exited (${exitDescription}) before becoming healthy; ` +
      `command: ${binary} ${args.join(" ")}\nlog tail:\n${tail(logText)}`,
    portInUse,
  );
}

/**
 * Spawn llama-server on a free 127.0.0.1 port and resolve once GET /health answers 200.
 * Rejects (with the log tail) if the process exits first or the deadline passes.
 */
export async function startLlamaServer(options: StartLlamaServerOptions): Promise<RunningLlamaServer> {
  const binary = options.binary ?? findLlamaServer();
  if (!binary) {
    throw new Error("llama-server not found: set J1_LLAMA_SERVER or run scripts/build-llama-server.sh");
  }
  if (!isExecutable(binary)) throw new Error(`llama-server binary is not executable: ${binary}`);
  if (!existsSync(options.modelPath)) throw new Error(`model not found: ${options.modelPath}`);
  // The free port can be taken between our probe and llama-server's bind: retry a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, binary);
    } catch (err) {
      if (err instanceof StartError && err.portInUse && attempt < 3) continue;
      throw err;
    }
  }
}
