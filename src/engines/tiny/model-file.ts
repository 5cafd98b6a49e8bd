import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** Size of the file at `path`, or undefined when there is none. */
export async function fileSize(path: string): Promise<number | undefined> {
    try {
        return (await stat(path)).size;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
    }
}

/**
 * Writes `chunks` to `path` through a temporary file in the same directory and a rename, so that
 * concurrent writers and readers never see a partial model: a file at `path` is always complete.
 * Parent directories are created.
 */
export async function writeFileAtomically(path: string, chunks: readonly Uint8Array[]): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
        await pipeline(Readable.from(chunks), createWriteStream(tmp));
        await rename(tmp, path);
    } catch (err) {
        await unlink(tmp).catch(() => {});
        throw err;
    }
}
