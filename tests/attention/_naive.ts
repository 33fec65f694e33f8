/**
 * Straightforward O(N²) definitions of the attention variants, written independently of the
 * kernels (full score matrices, explicit masks, literal zero padding), plus test helpers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Rng } from "../../src/_random.ts";
import type { Tensor } from "../../src/tensor.ts";

/** A tensor of uniform values in [-scale, scale), reproducible from the seed. */
export function randomTensor(shape: number[], seed: number, scale = 1): Tensor {
  const rng = new Rng(seed, 11);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = (2 * rng.next() - 1) * scale;
  return { data, shape };
}

/** Element (indices) of a row-major tensor, with size-1 axes broadcast and leading axes added. */
export function at(t: Tensor, index: number[]): number {
  const offset = index.length - t.shape.length;
  let flat = 0;
  for (let a = 0; a < t.shape.length; a++) {
    flat = flat * t.shape[a] + (t.shape[a] === 1 ? 0 : index[offset + a]);
  }
  return t.data[flat];
}

/** Asserts |actual - expected| <= atol + rtol·|expected| everywhere (NaN only where expected). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5, label = "" } = {},
): void {
  assert.equal(actual.length, expected.length, `${label} length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${label} entry ${i}: expected NaN, found ${a}`);
      continue;
    }
    if (a === e) continue;
    assert.ok(
      Math.abs(a - e) <= atol + rtol * Math.abs(e),
      `${label} entry ${i}: expected ${e}, found ${a}`,
    );
  }
}

export interface NaiveSoftmaxOptions {
  causal?: boolean;
  scale?: number;
  mask?: Tensor;
}

/**
 * Softmax attention from the full [Nq, Nk] logit matrix of each (batch, head), float64.
 * Returns the output and the log-sum-exp; rows without a finite logit give zeros and -Infinity.
 */
export function naiveSoftmax(q: Tensor, k: Tensor, v: Tensor, opts: NaiveSoftmaxOptions = {}) {
  const [B, H, Nq, D] = q.shape, [, Hkv, Nk] = k.shape, Dv = v.shape[3];
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const out = new Float32Array(B * H * Nq * Dv), lse = new Float32Array(B * H * Nq);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h * Hkv / H);
      const logits: number[][] = [];
      for (let i = 0; i < Nq; i++) {
        logits.push([]);
        for (let j = 0; j < Nk; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += at(q, [b, h, i, d]) * at(k, [b, g, j, d]);
          s *= scale;
          if (opts.mask) s += at(opts.mask, [b, h, i, j]);
          if (opts.causal && j - (Nk - Nq) > i) s = -Infinity;
          logits[i].push(s);
        }
      }
      for (let i = 0; i < Nq; i++) {
        const row = (b * H + h) * Nq + i;
        const max = Math.max(-Infinity, ...logits[i]);
        if (max === -Infinity) {
          lse[row] = -Infinity;
          continue;
        }
        const weights = logits[i].map((s) => Math.exp(s - max));
        const total = weights.reduce((a, c) => a + c, 0);
        lse[row] = max + Math.log(total);
        for (let e = 0; e < Dv; e++) {
          let acc = 0;
          for (let j = 0; j < Nk; j++) acc += weights[j] * at(v, [b, g, j, e]);
          out[row * Dv + e] = acc / total;
        }
      }
    }
  }
  return { out, lse };
}

/** φ by name. */
export const PHI = {
  "elu+1": (x: number) => (x > 0 ? x + 1 : Math.exp(x)),
  "relu": (x: number) => Math.max(0, x),
};

/** Linear attention from the full [Nq, Nk] matrix of φ(q_i)·φ(k_j); zero denominator → zeros. */
export function naiveLinear(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  { causal = false, featureMap = "elu+1" as keyof typeof PHI } = {},
): Float32Array {
  const [B, H, Nq, D] = q.shape, [, Hkv, Nk] = k.shape, Dv = v.shape[3];
  const phi = PHI[featureMap];
  const out = new Float32Array(B * H * Nq * Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h * Hkv / H);
      for (let i = 0; i < Nq; i++) {
        const row = (b * H + h) * Nq + i;
        const weights: number[] = [];
        for (let j = 0; j < Nk; j++) {
          let w = 0;
          for (let d = 0; d < D; d++) w += phi(at(q, [b, h, i, d])) * phi(at(k, [b, g, j, d]));
          weights.push(causal && j > i ? 0 : w);
        }
        const den = weights.reduce((a, c) => a + c, 0);
        for (let e = 0; e < Dv; e++) {
          let num = 0;
          for (let j = 0; j < Nk; j++) num += weights[j] * at(v, [b, g, j, e]);
          out[row * Dv + e] = den === 0 ? 0 : num / den;
        }
      }
    }
  }
  return out;
}

/** Copies a [B, H, N, X] tensor into [B, H, padded, X] with zero rows after N. */
function padRows(t: Tensor, padded: number): Tensor {
  const [B, H, N, X] = t.shape;
  const data = new Float32Array(B * H * padded * X);
  for (let bh = 0; bh < B * H; bh++) {
    data.set(t.data.subarray(bh * N * X, (bh + 1) * N * X), bh * padded * X);
  }
  return { data, shape: [B, H, padded, X] };
}

/** A mixed-chunk case: linQ / linK default to q / k; null means no global part. */
export interface MixedOptions {
  chunkSize: number;
  causal?: boolean;
  linQ?: Tensor | null;
  linK?: Tensor | null;
  bias?: Tensor;
}

/** The linQ and linK of a mixed-chunk case, with their defaults applied. */
export function linearPair(
  q: Tensor,
  k: Tensor,
  opts: MixedOptions,
): [Tensor | null, Tensor | null] {
  return [opts.linQ === undefined ? q : opts.linQ, opts.linK === undefined ? k : opts.linK];
}

/**
 * Mixed-chunk attention from its definition, on inputs literally padded with zero rows to a
 * multiple of C; the global part as a full [N, N] sum of (linQ_i·linK_j) v_j.
 */
export function naiveMixedChunk(q: Tensor, k: Tensor, v: Tensor, opts: MixedOptions): Float32Array {
  const [B, H, N] = q.shape, Hkv = k.shape[1], Dv = v.shape[3], C = opts.chunkSize;
  const P = Math.ceil(N / C) * C;
  const [qp, kp, vp] = [q, k, v].map((t) => padRows(t, P));
  const [linQ, linK] = linearPair(q, k, opts);
  const lq = linQ ? padRows(linQ, P) : null, lk = linK ? padRows(linK, P) : null;
  const dot = (a: Tensor, ai: number[], c: Tensor, ci: number[]) => {
    let s = 0;
    for (let d = 0; d < a.shape[3]; d++) s += at(a, [...ai, d]) * at(c, [...ci, d]);
    return s;
  };
  const out = new Float32Array(B * H * N * Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h * Hkv / H);
      for (let i = 0; i < N; i++) {
        const chunk = Math.floor(i / C);
        const acc = new Float64Array(Dv);
        for (let j = chunk * C; j < (chunk + 1) * C; j++) {
          if (opts.causal && j > i) continue;
          let t = dot(qp, [b, h, i], kp, [b, g, j]) / C;
          if (opts.bias) t += at(opts.bias, [b, h, i - chunk * C, j - chunk * C]);
          const w = Math.max(0, t) ** 2;
          for (let e = 0; e < Dv; e++) acc[e] += w * at(vp, [b, g, j, e]);
        }
        for (let j = 0; lq && lk && j < P; j++) {
          if (opts.causal && Math.floor(j / C) >= chunk) continue;
          const w = dot(lq, [b, h, i], lk, [b, g, j]) / (opts.causal ? C : N);
          for (let e = 0; e < Dv; e++) acc[e] += w * at(vp, [b, g, j, e]);
        }
        out.set(acc, ((b * H + h) * N + i) * Dv);
      }
    }
  }
  return out;
}

/** Asserts that `run` rejects with `kind` and a message that names `name` in quotes. */
export async function assertRejectsNaming(
  run: () => Promise<unknown>,
  kind: typeof TypeError | typeof RangeError,
  name: string,
): Promise<void> {
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof kind, `expected a ${kind.name}, found ${error}`);
    assert.ok(
      (error as Error).message.includes(`"${name}"`),
      `message should name "${name}": ${(error as Error).message}`,
    );
    return true;
  });
}

/**
 * Asserts bit-identical float32 arrays, naming the first differing entry (assert.deepEqual's
 * diff of large typed arrays is too slow to be useful when they differ).
 */
export function assertSameBits(actual: Float32Array, expected: Float32Array, label = ""): void {
  assert.equal(actual.length, expected.length, `${label} length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) {
      assert.fail(`${label} entry ${i}: expected ${expected[i]}, found ${actual[i]}`);
    }
  }
}
