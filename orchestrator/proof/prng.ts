/**
 * A small seeded PRNG (mulberry32) so every chaos scenario and benchmark fleet is a pure
 * function of its seed: the same seed gives the same run, which is what makes a printed
 * reproduction command trustworthy.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/**
 * The seed of run `index` of a chaos session started with `masterSeed`. Run 0 uses the master
 * seed itself, so `--seed <seedOf(S, i)> --runs 1` replays run i of session S exactly.
 *
 * Example: seedOf(42, 0) = 42; seedOf(42, 1) = (42 + 0x9e3779b9) mod 2^32 = 2654435811.
 */
export function seedOf(masterSeed: number, index: number): number {
  return (masterSeed + Math.imul(index, 0x9e3779b9)) >>> 0;
}
