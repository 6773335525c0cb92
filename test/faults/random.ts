/**
 * A seeded random source, so a failing run can be repeated exactly with
 * `--seed N`: the workload, the bad messages and the moments of every fault
 * all come from it. mulberry32: tiny, fast, and good enough to pick things;
 * nothing here needs cryptographic randomness.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A bigint in [min, max], both included (amounts in minor units stay exact). */
  bigint(min: bigint, max: bigint): bigint {
    const span = max - min + 1n;
    // Two draws give 2^64 of resolution, far beyond any amount range used here.
    const wide = (BigInt(this.int(0, 0xffffffff)) << 32n) | BigInt(this.int(0, 0xffffffff));
    return min + (wide % span);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Random.pick was given no items to pick from');
    return items[Math.floor(this.next() * items.length)]!;
  }

  bytes(length: number): Buffer {
    const buffer = Buffer.alloc(length);
    for (let i = 0; i < length; i++) buffer[i] = this.int(0, 255);
    return buffer;
  }
}

export const newSeed = (): number => Math.floor(Math.random() * 2 ** 31);
