import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { badInput } from "../../core/errors.js";
import type { Benchmark, BenchmarkItem, LoadOptions } from "../types.js";
import { scoreBenchmark } from "../scoring/official-rule.js";
import { RMBENCH_STYLES, rmBenchScore } from "../scoring/rmbench-matrix.js";
import { isDirectory, resolveDataPaths } from "./data-location.js";
import { ItemIds, itemsFromRows } from "./load-rows.js";
import { readRows } from "./read-rows.js";
import type { RowFields } from "./row-fields.js";

const NAME = "rmbench";

/** RM-Bench's source domains; the two safety files form one scored domain. */
const SOURCE_DOMAINS = ["chat", "code", "math", "safety-refuse", "safety-response"] as const;

export function rmBenchDomain(sourceDomain: string): string {
  return sourceDomain.startsWith("safety") ? "safety" : sourceDomain;
}

/** "chat_filtered.json" -> "chat"; undefined for a file that does not name its domain (total_dataset.json). */
function domainFromFileName(file: string): string | undefined {
  const stem = basename(file).replace(/\.gz$/, "").replace(/\.(json|jsonl)$/, "").replace(/_filtered$/, "");
  return (SOURCE_DOMAINS as readonly string[]).includes(stem) ? stem : undefined;
}

/** One file, or a folder's per-domain *_filtered.json files (else its total_dataset.json). */
function rmBenchFiles(path: string): string[] {
  if (!isDirectory(path)) return [path];
  const names = readdirSync(path);
  const perDomain = names
    .filter((name) => /_filtered\.jsonl?(\.gz)?$/.test(name) && domainFromFileName(name) !== undefined)
    .sort((x, y) => SOURCE_DOMAINS.indexOf(domainFromFileName(x) as never) - SOURCE_DOMAINS.indexOf(domainFromFileName(y) as never));
  if (perDomain.length > 0) return perDomain.map((name) => join(path, name));
  const total = names.find((name) => /^total_dataset\.jsonl?(\.gz)?$/.test(name));
  if (total !== undefined) return [join(path, total)];
  throw badInput("no RM-Bench data in this folder: expected <domain>_filtered.json files or total_dataset.json", { file: path });
}

/** The 3x3 items of one prompt: chosen[i] (A) against rejected[j] (B), for every pair of styles. */
function toItems(fields: RowFields, fileDomain: string | undefined, ids: ItemIds): BenchmarkItem[] {
  const sourceDomain = fields.has("domain") ? fields.oneOf("domain", SOURCE_DOMAINS) : fileDomain;
  if (sourceDomain === undefined) throw fields.fault("domain", "missing, and the file name does not name the domain (chat_filtered.json, ...)");
  const rowId = fields.identifier("id");
  const chosen = fields.responseList("chosen", RMBENCH_STYLES);
  const rejected = fields.responseList("rejected", RMBENCH_STYLES);
  const question = fields.string("prompt");
  // Ids repeat across domain files (chat and code both have id 8), so the source domain is part of the key.
  const group = `${sourceDomain}/${rowId}`;
  ids.claim(group, fields, "id");
  const items: BenchmarkItem[] = [];
  for (let i = 0; i < RMBENCH_STYLES; i++) {
    for (let j = 0; j < RMBENCH_STYLES; j++) {
      items.push({
        id: `${group}/${i}${j}`,
        benchmark: NAME,
        category: rmBenchDomain(sourceDomain),
        question,
        a: chosen[i],
        b: rejected[j],
        label: "A",
        group,
        meta: { i, j },
      });
    }
  }
  return items;
}

async function* load(options: LoadOptions): AsyncGenerator<BenchmarkItem> {
  const paths = resolveDataPaths(NAME, options.data, "rm-bench", "an RM-Bench file (chat_filtered.json, ..., total_dataset.json) or folder");
  const ids = new ItemIds();
  for (const file of paths.flatMap(rmBenchFiles)) {
    const fileDomain = domainFromFileName(file);
    yield* itemsFromRows(readRows(file), (fields) => toItems(fields, fileDomain, ids), options);
  }
}

export const rmbench: Benchmark = {
  name: NAME,
  description:
    "RM-Bench (THU-KEG): each prompt has 3 chosen and 3 rejected responses in styles concise / detailed plain / " +
    "detailed markdown, giving 9 items chosen[i] vs rejected[j] (group = the prompt). Official score: per domain, " +
    "hard = mean over i<j, normal = i=j, easy = i>j of the share of prompts where chosen[i] won (a tie or no verdict " +
    "is not a win); domain = mean of the three; total = mean over domains (chat, code, math, safety; the two safety " +
    "files form one). The shared copy has chat (129 prompts) and code (228). Protocol: one seeded random order per item.",
  protocol: "shuffle",
  load,
  score: (items, decisions, options) => scoreBenchmark(NAME, rmBenchScore, items, decisions, options),
};
