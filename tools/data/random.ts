/** A small seeded PRNG (mulberry32): the same seed gives the same batches, run after run. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded permutation of 0..n-1. */
export function shuffledIndices(n: number, seed: number): Int32Array {
  return shuffleInPlace(Int32Array.from({ length: n }, (_, i) => i), seededRandom(seed));
}

/** Fisher-Yates, in place; returns its argument. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(items: T, random: Random): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i]; items[i] = items[j]; items[j] = t;
  }
  return items;
}
