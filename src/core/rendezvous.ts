import { deriveSeed } from "./seed.js";

/**
 * Rendezvous (highest random weight) hashing: each key goes to the server whose hash of (key, server)
 * is highest. Every client computes the same choice from the key alone, and when a server leaves only
 * its own keys move (each to its next-highest server); the others stay where their prefix is cached.
 * Returns the servers ordered by weight for the key, best first (ties, which need equal 31-bit hashes,
 * by the order given).
 */
export function rendezvousOrder<T extends string>(key: string, servers: readonly T[]): T[] {
  const weighted = servers.map((server, index) => ({ server, index, weight: deriveSeed(0x5eed, key, server) }));
  weighted.sort((left, right) => right.weight - left.weight || left.index - right.index);
  return weighted.map((entry) => entry.server);
}

/**
 * A short, stable, header-safe token for a routing key (a judgment's item id may hold any characters):
 * what j1 sends routers as its affinity key. 62 bits from two derived hashes, as hexadecimal.
 */
export function affinityToken(key: string): string {
  const high = deriveSeed(1, "affinity", key).toString(16).padStart(8, "0");
  const low = deriveSeed(2, "affinity", key).toString(16).padStart(8, "0");
  return `${high}${low}`;
}
