/**
 * Determinism (invariant 3): one seed per (item, order, sample), derived from a base seed by hashing, so a
 * resumed run, a one-pass sweep and a separate run all draw the same numbers for the same judgment.
 */
export function deriveSeed(base: number, ...parts: Array<string | number>): number {
  // FNV-1a over the parts, then a murmur3-style finaliser for avalanche; kept to 31 bits so every engine
  // (and JSON) takes it as a plain non-negative integer.
  let hash = 0x811c9dc5 ^ (base >>> 0);
  for (const part of parts) {
    const text = `${String(part)}\u0000`;
    for (let index = 0; index < text.length; index++) {
      hash ^= text.charCodeAt(index);
      hash = Math.imul(hash, 0x01000193);
    }
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) & 0x7fffffff;
}
