import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../src/eval/scoring/bootstrap.js";
import { Draws, STEP } from "../src/eval/scoring/draws.js";
import { simdSums } from "../src/eval/scoring/draws-simd.js";

/**
 * The summed bootstrap's draws (draws.ts) against the rule's path, `Math.floor(seededRandom(seed)() *
 * units)`: the same index at every draw, for stratum sizes from 1 to the largest a typed array holds, so
 * the shortcuts (an int32 counter, one product by units / 2^32, `| 0` for the floor) change no number.
 */
const SIZES = [1, 2, 3, 7, 10, 23, 4348, 65_535, 65_536, 100_000, 1_000_003, (1 << 21) - 1, 1 << 21, (1 << 21) + 1, 9_007_199, 123_456_789, 2 ** 30 + 1, 2 ** 31 - 1];

test("a draw's index is seededRandom's Math.floor(random() x units), at every stratum size", () => {
  for (const seed of [0, 1, 0x7fffffff, 123_456_789]) {
    const random = seededRandom(seed);
    const draws = new Draws(seed);
    for (let draw = 0; draw < 20_000; draw++) {
      const units = SIZES[draw % SIZES.length];
      const expected = Math.floor(random() * units);
      assert.equal(draws.index(units), expected, `seed ${seed}, draw ${draw}, ${units} units`);
    }
  }
});

test("Node runs the SIMD module (else the bootstrap draws in JavaScript, slower, with the same numbers)", () => {
  assert.ok(simdSums(STEP));
});

for (const simd of [true, false]) test(`sums of bytes at the drawn indices, and skipped draws, leave the generator where the rule's path does (${simd ? "SIMD" : "JavaScript"})`, () => {
  const random = seededRandom(7);
  const draws = new Draws(7, { simd });
  const bytes = Uint8Array.from({ length: 5000 }, (_, index) => (index * 2654435761) % 256);
  // Every remainder of the four-at-a-time loop, and lengths past it.
  for (const units of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 4348, 5000, 3, 0, 1]) {
    let expected = 0;
    for (let pick = 0; pick < units; pick++) expected += bytes[Math.floor(random() * units)];
    assert.equal(draws.sumOfBytes(bytes, units), expected, `${units} units`);
    for (let skipped = 0; skipped < units % 5; skipped++) random();
    draws.skip(units % 5);
    assert.equal(draws.index(97), Math.floor(random() * 97), `after ${units} units`);
  }
  // Two tables at once, then another Draws in between (the SIMD module's memory is shared), then a large one.
  const other = Uint8Array.from({ length: 300 }, (_, index) => index % 5);
  const large = Uint8Array.from({ length: 200_003 }, (_, index) => (index * 40503) % 256);
  for (const [table, units] of [[other, 300], [bytes, 4999], [other, 299], [large, 200_003], [bytes, 17]] as const) {
    new Draws(1, { simd }).sumOfBytes(bytes, 64);
    let expected = 0;
    for (let pick = 0; pick < units; pick++) expected += table[Math.floor(random() * units)];
    assert.equal(draws.sumOfBytes(table, units), expected, `a table of ${table.length}, ${units} units`);
  }
  assert.equal(draws.index(1_000_003), Math.floor(random() * 1_000_003));
});

test("a stratum too large for an int32 sum of bytes gets the same sum as a double", () => {
  const units = 1 << 23;
  const bytes = new Uint8Array(units).fill(255);
  bytes[12_345] = 1;
  const random = seededRandom(11);
  let expected = 0;
  for (let pick = 0; pick < units; pick++) expected += bytes[Math.floor(random() * units)];
  const draws = new Draws(11);
  assert.equal(draws.sumOfBytes(bytes, units), expected);
  assert.ok(expected > 2 ** 30, "a sum of the int32 range's size");
  assert.equal(draws.index(1000), Math.floor(random() * 1000));
});

test("a stratum's indices at once (Draws.indices) are seededRandom's, and leave the generator where the rule's path does", () => {
  const random = seededRandom(5);
  const draws = new Draws(5);
  const out = new Int32Array(5000);
  // Every remainder of the four-at-a-time loop, and lengths past it; entries past `units` are left alone.
  for (const units of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 4348, 5000, 3, 0, 1]) {
    out.fill(-1);
    draws.indices(units, out);
    const expected = Array.from({ length: units }, () => Math.floor(random() * units));
    assert.deepEqual([...out.subarray(0, units)], expected, `${units} units`);
    assert.ok(out.subarray(units).every((index) => index === -1), `${units} units: nothing written past them`);
    assert.equal(draws.index(97), Math.floor(random() * 97), `after ${units} units`);
  }
});

test("a stratum's draws as tallies (Draws.tally) count seededRandom's indices, and leave the generator where the rule's path does", () => {
  const random = seededRandom(9);
  const draws = new Draws(9);
  const hits = new Uint32Array(5000);
  for (const units of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 4348, 5000, 3, 0, 1]) {
    hits.fill(0);
    draws.tally(units, hits);
    const expected = new Uint32Array(5000);
    for (let pick = 0; pick < units; pick++) expected[Math.floor(random() * units)]++;
    assert.deepEqual(hits, expected, `${units} units`);
    assert.equal(hits.reduce((sum, count) => sum + count, 0), units);
    assert.equal(draws.index(97), Math.floor(random() * 97), `after ${units} units`);
  }
});
