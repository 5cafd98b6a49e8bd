import { randomBytes } from "node:crypto";

/**
 * A run id like `r20261127-233000-ab12`: the UTC start time to the second, so ids sort by age and say when a
 * run began, plus 16 random bits so two runs started in the same second (two terminals, a script) do not
 * collide. Short enough to type; a unique prefix is accepted too (see RunStore.getRun).
 */
export function newRunId(now: Date = new Date(), random: () => string = () => randomBytes(2).toString("hex")): string {
  const iso = now.toISOString(); // 2026-11-27T23:30:00.000Z
  const date = iso.slice(0, 10).replaceAll("-", "");
  const time = iso.slice(11, 19).replaceAll(":", "");
  return `r${date}-${time}-${random()}`;
}

const RUN_ID = /^r\d{8}-\d{6}-[0-9a-f]{4}$/;

export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}
