/**
 * An exact set of strings kept outside the JavaScript heap: the strings' characters one after another in
 * a growing buffer, found through an open-addressing table of typed arrays. Loaders keep every item id of
 * a file to refuse a repeat; as a `Set<string>` that is about 75 bytes of heap per id, and a heap that
 * grows with the rows also lets V8 raise its collection threshold with it (j1 eval --dry-run held 0.4 KB
 * per row). Here an id costs its characters (one byte each when they all fit in Latin-1, else two) plus
 * about 16 bytes of typed arrays, none of it scanned by the garbage collector.
 */
export class CompactStringSet {
  /** Slot -> entry index + 1 (0: empty). Its length is a power of two, at most half full. */
  private slots = new Int32Array(1024);
  private hashes = new Uint32Array(512);
  /**
   * Where each entry's bytes start; the top bit set when they are UTF-16 code units (the string has a
   * character above U+00FF), clear when Latin-1. An entry ends where the next one starts (a string already
   * present is not kept), the last one at `used`.
   */
  private starts = new Uint32Array(512);
  private bytes = Buffer.allocUnsafe(16 * 1024);
  private used = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `text`; false when it was already there. */
  add(text: string): boolean {
    let hash = 0x811c9dc5;
    let wide = false;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code > 0xff) wide = true;
      hash = Math.imul(hash ^ code, 0x01000193);
    }
    hash = mix(hash);
    // The candidate's bytes go where they would be kept, so a new string is written once. UTF-16, not
    // UTF-8, for wide strings: UTF-8 would write every lone surrogate as the same U+FFFD.
    const start = this.used;
    const end = start + this.write(text, start, wide);
    const tagged = (wide ? WIDE : 0) | start;
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let entry = this.slots[slot]; entry !== 0; entry = this.slots[slot]) {
      const index = entry - 1;
      if (this.hashes[index] === hash && (this.starts[index] & WIDE) === (tagged & WIDE)) {
        const from = this.starts[index] & ~WIDE;
        const to = index + 1 < this.count ? this.starts[index + 1] & ~WIDE : this.used;
        if (this.bytes.compare(this.bytes, start, end, from, to) === 0) return false;
      }
      slot = (slot + 1) & mask;
    }
    if (end >= WIDE) throw new Error("more than 2 GB of item ids in one file");
    if (this.count === this.hashes.length) this.growEntries();
    this.hashes[this.count] = hash;
    this.starts[this.count] = tagged >>> 0;
    this.slots[slot] = ++this.count;
    this.used = end;
    if (this.count * 2 > this.slots.length) this.rehash();
    return true;
  }

  /** Writes `text` at `offset`, growing the buffer first when it might not fit; returns the bytes written. */
  private write(text: string, offset: number, wide: boolean): number {
    const needed = offset + (wide ? 2 : 1) * text.length;
    if (needed > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.bytes.length));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    return this.bytes.write(text, offset, wide ? "utf16le" : "latin1");
  }

  private growEntries(): void {
    const hashes = new Uint32Array(this.hashes.length * 2);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const starts = new Uint32Array(this.starts.length * 2);
    starts.set(this.starts);
    this.starts = starts;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let index = 0; index < this.count; index++) {
      let slot = this.hashes[index] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.slots = slots;
  }
}

const WIDE = 0x80000000;

/** murmur3's finaliser: FNV-1a's low bits alone index a table poorly. */
function mix(value: number): number {
  let hash = value ^ (value >>> 16);
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
