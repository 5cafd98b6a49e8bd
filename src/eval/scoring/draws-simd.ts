/**
 * The bootstrap's commonest loop (draws.ts, Draws.sumOfBytes: draw `units` indices, add up a byte table at
 * them) as a WebAssembly function hashing four counters at once with 128-bit SIMD: a 100k-item report
 * draws 1e8 indices, about 0.45 s in the JavaScript loop and a quarter of that here. The module is a few
 * hundred bytes, written below instruction by instruction (no toolchain, nothing downloaded), compiled
 * once, on first use. Where WebAssembly SIMD is missing, simdSumOfBytes is undefined and Draws keeps its
 * JavaScript loop.
 *
 * It computes what the JavaScript loop computes, bit for bit:
 * - the counter and mulberry32's hash in 32-bit lanes: add, xor, or, shift right (unsigned) and multiply
 *   keep the low 32 bits, as Math.imul, `^`, `|` and `>>>` do;
 * - the index: the hash converted exactly to a double (f64x2.convert_low_i32x4_u), multiplied by the same
 *   double `units x 2^-32` (f64x2.mul rounds to nearest as JavaScript's `*` does), truncated
 *   (i32x4.trunc_sat_f64x2_u_zero: the value is in [0, units), so truncating is JavaScript's `| 0`);
 * - the sum of bytes in a 32-bit register, which the caller keeps below 2^31 (Draws: fewer than 2^23 units).
 * test/bootstrap-draws.test.ts compares it with seededRandom's draws.
 *
 * The function, in WebAssembly's text form:
 *   (func (param $state i32) (param $units i32) (param $quads i32) (param $table i32) (result i32)
 *     counters = splat(state) + [STEP, 2 STEP, 3 STEP, 4 STEP]; scale = splat(f64(units) x 2^-32)
 *     repeat $quads times: h = hash(counters); sum += table[index(h lanes 0, 1)] + table[index(h lanes 2, 3)];
 *                          counters += splat(4 STEP)
 *     memory[0] = state + quads x 4 STEP (the counter of the last draw); return sum)
 */

/** Where the tables start in the module's memory: below it, the 4 bytes of the state handed back. */
export const TABLES_AT = 16;

/** Unsigned LEB128, as the binary format writes indices, sizes and SIMD opcodes. */
function unsigned(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128, as i32.const writes its number. */
function signed(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

function littleEndian(view: (data: DataView) => void, bytes: number): number[] {
  const data = new DataView(new ArrayBuffer(bytes));
  view(data);
  return [...new Uint8Array(data.buffer)];
}

// The instructions used, by their names in the WebAssembly specification.
const simd = (opcode: number) => [0xfd, ...unsigned(opcode)];
const local = { get: (index: number) => [0x20, index], set: (index: number) => [0x21, index] };
const i32 = {
  const: (value: number) => [0x41, ...signed(value | 0)],
  add: [0x6a],
  mul: [0x6c],
  geU: [0x4f],
  load8U: [0x2d, 0, 0], // alignment 1, offset 0
  store: [0x36, 2, 0], // alignment 4, offset 0
};
const f64 = {
  const: (value: number) => [0x44, ...littleEndian((data) => data.setFloat64(0, value, true), 8)],
  convertI32U: [0xb8],
  mul: [0xa2],
};
const v128 = {
  constI32x4: (lanes: readonly number[]) => [...simd(0x0c), ...littleEndian((data) => lanes.forEach((lane, at) => data.setInt32(4 * at, lane | 0, true)), 16)],
  or: simd(0x50),
  xor: simd(0x51),
};
const i8x16 = { shuffle: (lanes: readonly number[]) => [...simd(0x0d), ...lanes] };
const i32x4 = {
  splat: simd(0x11),
  extractLane: (lane: number) => [...simd(0x1b), lane],
  shrU: simd(0xad),
  add: simd(0xae),
  mul: simd(0xb5),
  truncSatF64x2UZero: simd(0xfd),
};
const f64x2 = { splat: simd(0x14), mul: simd(0xf2), convertLowI32x4U: simd(0xff) };
const control = { block: [0x02, 0x40], loop: [0x03, 0x40], br: (depth: number) => [0x0c, depth], brIf: (depth: number) => [0x0d, depth], end: [0x0b] };

// Locals: the four parameters, then five v128 and two i32.
const STATE = 0;
const UNITS = 1;
const QUADS = 2;
const TABLE = 3;
const COUNTERS = 4;
const VALUE = 5;
const INDICES = 6;
const SCALE = 7;
const STEP4 = 8;
const SUM = 9;
const QUAD = 10;

/** The table's byte at the index in lane `lane` of INDICES, added to the sum on the stack. */
const addByteAt = (lane: number) => [...local.get(INDICES), ...i32x4.extractLane(lane), ...local.get(TABLE), ...i32.add, ...i32.load8U, ...i32.add];

/** The indices of the two hashes in VALUE's lanes 0 and 1, into INDICES' lanes 0 and 1. */
const indicesOfLowLanes = [...f64x2.convertLowI32x4U, ...local.get(SCALE), ...f64x2.mul, ...i32x4.truncSatF64x2UZero, ...local.set(INDICES)];

/** Lanes 2 and 3 of a vector moved to lanes 0 and 1 (bytes 8 to 15, twice). */
const HIGH_LANES = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

/** The function's code, for mulberry32's counter step `step` (draws.ts, STEP). */
const bodyOf = (step: number) => [
  ...local.get(STATE), ...i32x4.splat, ...v128.constI32x4([step, 2 * step, 3 * step, 4 * step]), ...i32x4.add, ...local.set(COUNTERS),
  ...i32.const(4 * step), ...i32x4.splat, ...local.set(STEP4),
  ...local.get(UNITS), ...f64.convertI32U, ...f64.const(2 ** -32), ...f64.mul, ...f64x2.splat, ...local.set(SCALE),
  ...control.block, ...control.loop,
  ...local.get(QUAD), ...local.get(QUADS), ...i32.geU, ...control.brIf(1),
  // value = imul(c ^ (c >>> 15), c | 1)
  ...local.get(COUNTERS), ...local.get(COUNTERS), ...i32.const(15), ...i32x4.shrU, ...v128.xor,
  ...local.get(COUNTERS), ...v128.constI32x4([1, 1, 1, 1]), ...v128.or, ...i32x4.mul, ...local.set(VALUE),
  // value ^= value + imul(value ^ (value >>> 7), value | 61)
  ...local.get(VALUE), ...local.get(VALUE), ...i32.const(7), ...i32x4.shrU, ...v128.xor,
  ...local.get(VALUE), ...v128.constI32x4([61, 61, 61, 61]), ...v128.or, ...i32x4.mul,
  ...local.get(VALUE), ...i32x4.add, ...local.get(VALUE), ...v128.xor, ...local.set(VALUE),
  // value ^= value >>> 14: the four hashes
  ...local.get(VALUE), ...local.get(VALUE), ...i32.const(14), ...i32x4.shrU, ...v128.xor, ...local.set(VALUE),
  ...local.get(SUM),
  ...local.get(VALUE), ...indicesOfLowLanes, ...addByteAt(0), ...addByteAt(1),
  ...local.get(VALUE), ...local.get(VALUE), ...i8x16.shuffle(HIGH_LANES), ...indicesOfLowLanes, ...addByteAt(0), ...addByteAt(1),
  ...local.set(SUM),
  ...local.get(COUNTERS), ...local.get(STEP4), ...i32x4.add, ...local.set(COUNTERS),
  ...local.get(QUAD), ...i32.const(1), ...i32.add, ...local.set(QUAD),
  ...control.br(0), ...control.end, ...control.end,
  // memory[0] = state + quads x 4 STEP; return sum
  ...i32.const(0), ...local.get(STATE), ...local.get(QUADS), ...i32.const(4 * step), ...i32.mul, ...i32.add, ...i32.store,
  ...local.get(SUM), ...control.end,
];

const section = (id: number, content: number[]) => [id, ...unsigned(content.length), ...content];
const name = (text: string) => [text.length, ...Array.from(text, (char) => char.charCodeAt(0))];
const I32 = 0x7f;
const V128 = 0x7b;

function moduleOf(step: number): Uint8Array {
  const func = [2, 5, V128, 2, I32, ...bodyOf(step)]; // locals: 5 x v128, 2 x i32
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [1, 0x60, 4, I32, I32, I32, I32, 1, I32]), // type: (i32, i32, i32, i32) -> i32
    ...section(3, [1, 0]), // one function, of that type
    ...section(5, [1, 0, 1]), // one memory, one page to start
    ...section(7, [2, ...name("sum"), 0, 0, ...name("memory"), 2, 0]), // exports
    ...section(10, [1, ...unsigned(func.length), ...func]), // the code
  ]);
}

/** The WebAssembly API used here (the project's TypeScript libraries leave it undeclared: no DOM types). */
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

export interface SimdSums {
  /** Sums the table at `table` (an offset in memory) over 4 x quads draws from `state`; memory[0..4) gets the last counter. */
  sum(state: number, units: number, quads: number, table: number): number;
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
}

const compiled = new Map<number, SimdSums | null>();

/** The compiled module for the generator's step, or undefined where WebAssembly or its SIMD is missing. */
export function simdSums(step: number): SimdSums | undefined {
  let sums = compiled.get(step);
  if (sums === undefined) {
    try {
      const bytes = moduleOf(step);
      sums = typeof WebAssembly === "object" && WebAssembly.validate(bytes) ? (new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as SimdSums) : null;
    } catch {
      sums = null;
    }
    compiled.set(step, sums);
  }
  return sums ?? undefined;
}
