/**
 * The one seeded random source of Tessera: counter-based, so the value drawn for (seed, stream,
 * counter) never depends on how work is split across threads or batches. Only 32-bit integer
 * operations are used, so AssemblyScript kernels reproduce the stream bit for bit.
 *
 * ```
 *  seed ──mix32──┐
 *  stream ───────┴─xor·mix32──► key ──┐
 *  counter ──────────────────mix32────┴─xor·mix32──► u32
 * ```
 *
 * @module
 */

/** A 32-bit avalanche mix (the "lowbias32" constants): every input bit flips ~half the output. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The key of one stream of a seed. */
export function streamKey(seed: number, stream: number): number {
  return mix32((mix32(seed >>> 0) ^ Math.imul(stream >>> 0, 0x9e3779b9)) >>> 0);
}

/** The u32 at position `counter` of the stream with key `key`. */
export function drawU32(key: number, counter: number): number {
  return mix32((key ^ mix32((counter + 0x6a09e667) >>> 0)) >>> 0);
}

/** A uniform float in [0, 1) with 24 random bits (exact in float32). */
export function drawUniform(key: number, counter: number): number {
  return (drawU32(key, counter) >>> 8) * 5.9604644775390625e-8;
}

/** A sequential view of one stream: for shuffles, bootstraps and feature sampling. */
export class Rng {
  #key: number;
  #counter = 0;

  /** Creates the generator for (seed, stream). */
  constructor(seed: number, stream = 0) {
    this.#key = streamKey(seed, stream);
  }

  /** The next u32. */
  nextU32(): number {
    return drawU32(this.#key, this.#counter++);
  }

  /** The next uniform in [0, 1). */
  next(): number {
    return drawUniform(this.#key, this.#counter++);
  }

  /** An integer in [0, n), unbiased by rejection. */
  nextInt(n: number): number {
    if (n <= 1) return 0;
    const limit = Math.floor(4294967296 / n) * n;
    let u = this.nextU32();
    while (u >= limit) u = this.nextU32();
    return u % n;
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /** `k` distinct indices of [0, n), in increasing order (partial Fisher–Yates). */
  sampleIndices(n: number, k: number): Int32Array {
    const pool = new Int32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + this.nextInt(n - i);
      const t = pool[i];
      pool[i] = pool[j];
      pool[j] = t;
    }
    return pool.slice(0, k).sort();
  }
}
