/**
 * Loaded with `node --import dist/bench/rss-hook.js …`: at exit, writes the process's peak resident set
 * size (kilobytes) to the file named by J1_RSS_FILE. Used by eval-memory.ts to measure a real CLI run.
 */
import { writeFileSync } from "node:fs";

const target = process.env.J1_RSS_FILE;
if (target) process.on("exit", () => writeFileSync(target, String(process.resourceUsage().maxRSS)));
