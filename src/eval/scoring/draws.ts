/**
 * The bootstrap's draws by sums (bootstrap.ts, summedScores), made as cheaply as JavaScript allows while
 * giving the very indices the rule's path draws: `Math.floor(seededRandom(seed)() * units)`, one
 * generator step per draw. A 100k-item report makes 1e8 of them, so every operation in the loop counts.
 *
 * Why the shortcuts below give the same numbers, bit for bit:
 * - The generator (mulberry32) is a counter stepped by STEP and a hash of the counter. The counter is kept
 *   here as int32 bits (`| 0`) instead of uint32 (`>>> 0`): the same 32 bits, and the hash reads them
 *   only through Math.imul, `^`, `|` and `>>>`, which take the bits and not the number.
 * - The rule's path takes `(h / 2^32) * units` for a hash h in [0, 2^32). Here it is `h * scale` with
 *   `scale = units / 2^32`. Dividing by a power of two is exact (no underflow at these sizes), so both
 *   products are the one real number h x units / 2^32 rounded once, to the same double.
 * - That double is below units (< 2^31, a typed array's length), so `| 0` truncates it as Math.floor does.
 * - A sum of bytes (0 to 255) over fewer than 2^23 draws stays below 2^31, so it is kept as an int32; any
 *   larger stratum uses the same loop with a double sum (exact below 2^53 all the same).
 *
 * - sumOfBytes hands whole quads of draws to a WebAssembly SIMD function where the runtime has one
 *   (draws-simd.ts, which says why its numbers are the same), and draws the rest here.
 *
 * test/bootstrap-draws.test.ts checks the indices against seededRandom's, with and without SIMD, and
 * bootstrap-summed.test.ts every rule's resample scores against the rule's own.
 */

import { simdSums, TABLES_AT, type SimdSums } from "./draws-simd.js";

/** mulberry32's step (seededRandom in bootstrap.ts): the counter the hash is taken of. */
export const STEP = 0x6d2b79f5;

/** 2^-32: a hash times this is seededRandom's number; times `units` as well, the index before its floor. */
const TWO_TO_MINUS_32 = 1 / 4294967296;

/** The largest stratum whose sum of bytes is kept as an int32 (255 x this < 2^31). */
const INT_SUM_UNITS = 1 << 23;

/** mulberry32's hash of a counter value (int32 bits in, the uint32 out), as seededRandom computes it. */
export function hash(state: number): number {
  let value = Math.imul(state ^ (state >>> 15), state | 1);
  value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
  return (value ^ (value >>> 14)) >>> 0;
}

/** Which Draws laid out its byte tables in the SIMD module's memory last (one memory, shared). */
let tablesOwner: Draws | undefined;

/** The generator's state between strata and resamples: one int32 counter, stepped in place. */
export class Draws {
  /** The counter's 32 bits, as an int32. */
  state: number;
  private readonly simd: SimdSums | undefined;
  /** Where each byte table given to sumOfBytes sits in the SIMD module's memory (while tablesOwner is this). */
  private tables = new Map<Uint8Array, number>();
  private tablesEnd = TABLES_AT;

  /** `simd: false` keeps every draw in JavaScript (tests compare the two). */
  constructor(seed: number, options: { simd?: boolean } = {}) {
    this.state = seed | 0;
    this.simd = options.simd === false ? undefined : simdSums(STEP);
  }

  /** Steps past `count` draws without looking at them (a stratum whose draws change no sum). */
  skip(count: number): void {
    this.state = (this.state + Math.imul(STEP, count)) | 0;
  }

  /** The next draw's index in [0, units). */
  index(units: number): number {
    this.state = (this.state + STEP) | 0;
    return (hash(this.state) * (units * TWO_TO_MINUS_32)) | 0;
  }

  /**
   * The next `units` draws' indices in [0, units), into out[0, units): for loops that do more with a draw
   * than add a byte. Unrolled by four like sumOfBytes, the counter kept in a local: the draws alone cost
   * half of a loop that called index() and added a unit's numbers at each.
   */
  indices(units: number, out: Int32Array): void {
    const scale = units * TWO_TO_MINUS_32;
    let state = this.state;
    let pick = 0;
    for (; pick + 4 <= units; pick += 4) {
      const first = (state + STEP) | 0;
      const second = (first + STEP) | 0;
      const third = (second + STEP) | 0;
      state = (third + STEP) | 0;
      out[pick] = (hash(first) * scale) | 0;
      out[pick + 1] = (hash(second) * scale) | 0;
      out[pick + 2] = (hash(third) * scale) | 0;
      out[pick + 3] = (hash(state) * scale) | 0;
    }
    for (; pick < units; pick++) {
      state = (state + STEP) | 0;
      out[pick] = (hash(state) * scale) | 0;
    }
    this.state = state;
  }

  /**
   * The next `units` draws as tallies: hits[index] += 1 for each index drawn in [0, units) (the caller
   * zeroes hits). For sums that do not depend on the order drawn, so a pass over the units in order can
   * follow: the draws then do no random read, and nothing waits on the previous draw's sum.
   */
  tally(units: number, hits: Uint32Array): void {
    const scale = units * TWO_TO_MINUS_32;
    let state = this.state;
    let pick = 0;
    for (; pick + 4 <= units; pick += 4) {
      const first = (state + STEP) | 0;
      const second = (first + STEP) | 0;
      const third = (second + STEP) | 0;
      state = (third + STEP) | 0;
      hits[(hash(first) * scale) | 0]++;
      hits[(hash(second) * scale) | 0]++;
      hits[(hash(third) * scale) | 0]++;
      hits[(hash(state) * scale) | 0]++;
    }
    for (; pick < units; pick++) {
      state = (state + STEP) | 0;
      hits[(hash(state) * scale) | 0]++;
    }
    this.state = state;
  }

  /**
   * `units` draws of an index in [0, units), and the sum of `bytes` at them: the common stratum (one
   * credit per item, as bytes of 4 x the credit). Whole quads of draws go to the SIMD function where
   * there is one; otherwise the loop is unrolled by four, the four counters known in advance, so the
   * processor hashes them side by side.
   */
  sumOfBytes(bytes: Uint8Array, units: number): number {
    if (units >= INT_SUM_UNITS) return this.sumOfBytesAsDouble(bytes, units);
    const scale = units * TWO_TO_MINUS_32;
    let state = this.state;
    let sum = 0;
    let pick = 0;
    if (this.simd !== undefined && units >= 4) {
      const quads = units >>> 2;
      sum = this.simd.sum(state, units, quads, this.tableAt(this.simd, bytes));
      state = new Int32Array(this.simd.memory.buffer, 0, 1)[0];
      pick = 4 * quads;
    }
    for (; pick + 4 <= units; pick += 4) {
      const first = (state + STEP) | 0;
      const second = (first + STEP) | 0;
      const third = (second + STEP) | 0;
      state = (third + STEP) | 0;
      sum = (sum + bytes[(hash(first) * scale) | 0] + bytes[(hash(second) * scale) | 0] + bytes[(hash(third) * scale) | 0] + bytes[(hash(state) * scale) | 0]) | 0;
    }
    for (; pick < units; pick++) {
      state = (state + STEP) | 0;
      sum = (sum + bytes[(hash(state) * scale) | 0]) | 0;
    }
    this.state = state;
    return sum;
  }

  /**
   * The table's offset in the SIMD module's memory, copied there at its first use by this Draws (the
   * tables of one bootstrap are fixed while it draws, and together as large as its units).
   */
  private tableAt(simd: SimdSums, bytes: Uint8Array): number {
    if (tablesOwner !== this) {
      tablesOwner = this;
      this.tables = new Map();
      this.tablesEnd = TABLES_AT;
    }
    let offset = this.tables.get(bytes);
    if (offset === undefined) {
      offset = this.tablesEnd;
      const missing = offset + bytes.length - simd.memory.buffer.byteLength;
      if (missing > 0) simd.memory.grow(Math.ceil(missing / 65_536));
      new Uint8Array(simd.memory.buffer).set(bytes, offset);
      this.tables.set(bytes, offset);
      this.tablesEnd = offset + bytes.length;
    }
    return offset;
  }

  private sumOfBytesAsDouble(bytes: Uint8Array, units: number): number {
    const scale = units * TWO_TO_MINUS_32;
    let state = this.state;
    let sum = 0;
    for (let pick = 0; pick < units; pick++) {
      state = (state + STEP) | 0;
      sum += bytes[(hash(state) * scale) | 0];
    }
    this.state = state;
    return sum;
  }
}
