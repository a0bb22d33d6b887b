import { Rng } from '../sandbox/rng';

/**
 * The chaos suite's and the benchmark's random source: the sandbox's seeded mulberry32
 * ({@link Rng}, the one implementation) with the draws scenarios are written in, so every
 * scenario and benchmark fleet is a pure function of its seed (the same seed gives the same run,
 * which is what makes a printed reproduction command trustworthy).
 */
export class Prng {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.rng.next();
  }

  /** Integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /**
   * True with probability p. Unlike {@link Rng.chance} it draws even when p <= 0: the pinned
   * chaos seeds were drawn this way, and skipping a draw would change every later choice.
   */
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
