/**
 * The sandbox's only source of randomness: a small seeded PRNG (mulberry32) whose whole state
 * is one 32-bit number, so it survives `toJSON`/`fromJSON` and the same seed gives the same run.
 */
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `p`. Draws nothing when p <= 0, so turning a fault off never perturbs the run. */
  chance(p: number): boolean {
    if (!(p > 0)) return false;
    return this.next() < p;
  }

  /** Uniform in [min, max]. */
  uniform(min: number, max: number): number {
    if (max <= min) return min;
    return min + (max - min) * this.next();
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** `n` lowercase hex digits. */
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += Math.floor(this.next() * 0x10000).toString(16).padStart(4, '0');
    return s.slice(0, n);
  }
}
