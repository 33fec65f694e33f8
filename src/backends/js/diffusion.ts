/**
 * Reference implementation of the `diffusion` kernel family in plain TypeScript: the oracle
 * every other backend is tested against. Step updates compute in float64 and round once on
 * store; the Gaussian fill is specified in float32 so that other backends reproduce it bit for
 * bit (see {@link gaussianPair}).
 *
 * @module
 */
import { drawU32, mix32, streamKey } from "../../_random.ts";
import { firstNonFinite } from "../../_validate.ts";
import {
  type DiffusionKernels,
  type DiffusionWorkspace,
  type MixtureArgs,
  NONE,
} from "../diffusion.ts";

const f32 = Math.fround;

/**
 * The key of draw `draw` of sample `sample` under `seed`. Every noise value of a sampling run is
 * addressed by (seed, sample, draw, counter), so it never depends on the batch a sample ran in.
 */
export function noiseKey(seed: number, sample: number, draw: number): number {
  return mix32((streamKey(seed, sample) ^ mix32((draw + 0x3c6ef372) >>> 0)) >>> 0);
}

// The float32 elementary functions below are written so that an AssemblyScript port gives the
// same bits: every operation is one IEEE float32 operation (Math.fround after each; float64
// evaluation of a single +, −, ×, ÷ or √ on float32 inputs rounds to the same float32), no
// fused multiply-add, no library log/sin/cos, and range reduction done on integers.

const SQRT2_F32 = f32(Math.SQRT2);
const LN2_HI = f32(6.9313812256e-01); // 0x3f317180: trailing zero bits make e·LN2_HI exact
const LN2_LO = f32(9.0580006145e-06); // 0x3717f7d1: ln 2 − LN2_HI
const LOG_C3 = f32(1 / 3);
const LOG_C5 = f32(1 / 5);
const LOG_C7 = f32(1 / 7);
const LOG_C9 = f32(1 / 9);
const TWO_PI_F32 = f32(2 * Math.PI);
const SIN_C3 = f32(-1 / 6);
const SIN_C5 = f32(1 / 120);
const SIN_C7 = f32(-1 / 5040);
const SIN_C9 = f32(1 / 362880);
const COS_C2 = f32(-1 / 2);
const COS_C4 = f32(1 / 24);
const COS_C6 = f32(-1 / 720);
const COS_C8 = f32(1 / 40320);
const COS_C10 = f32(-1 / 3628800);

/**
 * `ln(k · 2⁻²⁴)` in float32 for an integer `k` in [1, 2²⁴]: the logarithm of a 24-bit uniform.
 * `k = m · 2^e` with m in [√½, √2) is split on the integer, then
 * `ln m = 2f + 2f·s·(1/3 + s/5 + s²/7 + s³/9)` with `f = (m−1)/(m+1)`, `s = f²` (|f| ≤ 0.172).
 */
export function logUniformF32(k: number): number {
  let e = 31 - Math.clz32(k);
  let m = f32(k * 2 ** -e); // exact: k has at most 24 significant bits
  if (m > SQRT2_F32) {
    m = f32(m * 0.5);
    e += 1;
  }
  e -= 24;
  const fr = f32(f32(m - 1) / f32(m + 1));
  const s = f32(fr * fr);
  let r = f32(s * LOG_C9);
  r = f32(LOG_C7 + r);
  r = f32(s * r);
  r = f32(LOG_C5 + r);
  r = f32(s * r);
  r = f32(LOG_C3 + r);
  r = f32(s * r);
  const t = f32(fr + fr);
  const lnm = f32(t + f32(t * r));
  return f32(f32(e * LN2_HI) + f32(lnm + f32(e * LN2_LO)));
}

/** `sin a` in float32 for |a| ≤ π/4 (Taylor to a⁹; truncation < 2e-9). */
function sinSmallF32(a: number): number {
  const z = f32(a * a);
  let p = f32(z * SIN_C9);
  p = f32(SIN_C7 + p);
  p = f32(z * p);
  p = f32(SIN_C5 + p);
  p = f32(z * p);
  p = f32(SIN_C3 + p);
  p = f32(z * p);
  return f32(a + f32(a * p));
}

/** `cos a` in float32 for |a| ≤ π/4 (Taylor to a¹⁰; truncation < 2e-10). */
function cosSmallF32(a: number): number {
  const z = f32(a * a);
  let p = f32(z * COS_C10);
  p = f32(COS_C8 + p);
  p = f32(z * p);
  p = f32(COS_C6 + p);
  p = f32(z * p);
  p = f32(COS_C4 + p);
  p = f32(z * p);
  p = f32(COS_C2 + p);
  p = f32(z * p);
  return f32(1 + p);
}

/** Scratch for {@link cosSinTurnInto}: [cos, sin]. */
const turn = new Float64Array(2);

/** {@link cosSinTurnF32} without allocating: writes into `turn`. */
function cosSinTurnInto(k: number): void {
  const quarter = (k + 0x200000) >>> 22; // nearest multiple of 2²² (a quarter turn)
  const rest = k - quarter * 0x400000; // in [−2²¹, 2²¹)
  const a = f32(f32(rest * 2 ** -24) * TWO_PI_F32);
  const s = sinSmallF32(a), c = cosSmallF32(a);
  switch (quarter & 3) {
    case 0:
      turn[0] = c, turn[1] = s;
      break;
    case 1:
      turn[0] = -s, turn[1] = c;
      break;
    case 2:
      turn[0] = -c, turn[1] = -s;
      break;
    default:
      turn[0] = s, turn[1] = -c;
  }
}

/**
 * `[cos 2πu, sin 2πu]` in float32 for `u = k · 2⁻²⁴`, `k` an integer in [0, 2²⁴). The nearest
 * quarter turn is taken off on the integer, so the polynomial argument is exact up to one
 * rounding and lies in [−π/4, π/4].
 */
export function cosSinTurnF32(k: number): [number, number] {
  cosSinTurnInto(k);
  return [turn[0], turn[1]];
}

/** Writes the Box–Muller pair of (bits1, bits2) to out[at] and, when `both`, out[at + 1]. */
function gaussianPairInto(
  out: Float32Array,
  at: number,
  bits1: number,
  bits2: number,
  both: boolean,
): void {
  const r = f32(Math.sqrt(f32(-2 * logUniformF32((bits1 >>> 8) + 1))));
  cosSinTurnInto(bits2 >>> 8);
  out[at] = r * turn[0];
  if (both) out[at + 1] = r * turn[1];
}

/**
 * Two standard normals from two u32 draws by float32 Box–Muller:
 * `r = √(−2 ln u₁)`, `u₁ = (⌊b₁/2⁸⌋ + 1)·2⁻²⁴ ∈ (0, 1]`, `θ = 2π·⌊b₂/2⁸⌋·2⁻²⁴`,
 * returning `[r cos θ, r sin θ]` (each product rounded to float32). |z| ≤ √(48 ln 2) ≈ 5.77.
 */
export function gaussianPair(bits1: number, bits2: number): [number, number] {
  const pair = new Float32Array(2);
  gaussianPairInto(pair, 0, bits1, bits2, true);
  return [pair[0], pair[1]];
}

function fillGaussian(
  out: Float32Array,
  batch: number,
  dim: number,
  seed: number,
  firstSample: number,
  draw: number,
): void {
  for (let row = 0; row < batch; row++) {
    const key = noiseKey(seed, (firstSample + row) >>> 0, draw);
    const base = row * dim;
    for (let j = 0; j < dim; j += 2) {
      gaussianPairInto(out, base + j, drawU32(key, j), drawU32(key, j + 1), j + 1 < dim);
    }
  }
}

/**
 * The mixture kernel: per row, responsibilities by log-sum-exp, then either the posterior mean
 * or the score.
 */
function mixture(args: MixtureArgs): void {
  const { out, x, batch, dim, sigma, means, variances, logWeights, components } = args;
  const wantScore = args.output === "score";
  const s2 = sigma * sigma;
  const precision = new Float64Array(components * dim);
  const logNorm = new Float64Array(components);
  const logp = new Float64Array(components);
  const acc = new Float64Array(dim);
  for (let k = 0; k < components; k++) {
    let logDet = 0;
    for (let j = 0; j < dim; j++) {
      const v = variances[k * dim + j] + s2;
      precision[k * dim + j] = 1 / v;
      logDet += Math.log(2 * Math.PI * v);
    }
    logNorm[k] = logWeights[k] - 0.5 * logDet;
  }
  for (let row = 0; row < batch; row++) {
    const base = row * dim;
    let best = -Infinity;
    for (let k = 0; k < components; k++) {
      let q = 0;
      for (let j = 0; j < dim; j++) {
        const diff = x[base + j] - means[k * dim + j];
        q += diff * diff * precision[k * dim + j];
      }
      logp[k] = logNorm[k] - 0.5 * q;
      if (logp[k] > best) best = logp[k];
    }
    let total = 0;
    for (let k = 0; k < components; k++) {
      logp[k] = Math.exp(logp[k] - best);
      total += logp[k];
    }
    acc.fill(0);
    for (let k = 0; k < components; k++) {
      const r = logp[k] / total;
      if (r === 0) continue;
      for (let j = 0; j < dim; j++) {
        const mu = means[k * dim + j], p = precision[k * dim + j];
        const diff = x[base + j] - mu;
        acc[j] += wantScore ? -r * diff * p : r * (mu + variances[k * dim + j] * p * diff);
      }
    }
    for (let j = 0; j < dim; j++) out[base + j] = acc[j];
  }
}

/**
 * Whether every value is finite: v·0 is 0 for finite v and NaN otherwise, so one branch-free
 * sum answers it.
 */
function allFinite(values: Float32Array): boolean {
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i] * 0;
  return probe === 0;
}

/** A workspace of plain arrays; every buffer is its own view. */
class JsWorkspace implements DiffusionWorkspace {
  readonly size: number;
  #buffers: Float32Array[] = [];

  constructor(readonly batch: number, readonly dim: number) {
    this.size = batch * dim;
  }

  buffer(): number {
    this.#buffers.push(new Float32Array(this.size));
    return this.#buffers.length - 1;
  }

  view(slot: number): Float32Array {
    return this.#at(slot);
  }

  gather(slot: number): Promise<void> {
    this.#at(slot);
    return Promise.resolve();
  }

  read(slot: number, out: Float32Array): void {
    out.set(this.#at(slot));
  }

  write(slot: number, data: Float32Array): void {
    const target = this.#at(slot);
    if (data !== target) target.set(data.subarray(0, this.size));
  }

  firstNonFinite(slot: number): number {
    return firstNonFinite(this.#at(slot));
  }

  copy(dst: number, src: number): void {
    this.#at(dst).set(this.#at(src));
  }

  // Each update reports allFinite() of the buffer it wrote, read back after the update (so a
  // float32 overflow counts): a second pass, which the reference can afford.

  eulerStep(x: number, denoised: number, sigma: number, sigmaNext: number, into = x): boolean {
    const y = this.#at(x), d = this.#at(denoised), out = this.#at(into);
    const ratio = sigmaNext / sigma;
    for (let i = 0; i < this.size; i++) out[i] = d[i] + ratio * (y[i] - d[i]);
    return allFinite(out);
  }

  heunStep(
    x: number,
    denoised: number,
    xNext: number,
    denoisedNext: number,
    sigma: number,
    sigmaNext: number,
  ): boolean {
    const y = this.#at(x), d = this.#at(denoised);
    const y2 = this.#at(xNext), d2 = this.#at(denoisedNext);
    const half = 0.5 * (sigmaNext - sigma), a = half / sigma, b = half / sigmaNext;
    for (let i = 0; i < this.size; i++) y[i] = y[i] + a * (y[i] - d[i]) + b * (y2[i] - d2[i]);
    return allFinite(y);
  }

  derivativeStep(
    x: number,
    xEval: number,
    denoisedEval: number,
    sigmaEval: number,
    h: number,
  ): boolean {
    const y = this.#at(x), ye = this.#at(xEval), de = this.#at(denoisedEval);
    const scale = h / sigmaEval;
    for (let i = 0; i < this.size; i++) y[i] += scale * (ye[i] - de[i]);
    return allFinite(y);
  }

  ancestralStep(
    x: number,
    denoised: number,
    noise: number,
    sigma: number,
    sigmaDown: number,
    sigmaUp: number,
  ): boolean {
    const y = this.#at(x), d = this.#at(denoised), z = this.#at(noise);
    const ratio = sigmaDown / sigma;
    for (let i = 0; i < this.size; i++) y[i] = d[i] + ratio * (y[i] - d[i]) + sigmaUp * z[i];
    return allFinite(y);
  }

  dpmppStep(
    x: number,
    denoised: number,
    denoisedPrev: number,
    noise: number,
    a: number,
    b: number,
    c: number,
    d: number,
  ): boolean {
    const y = this.#at(x), den = this.#at(denoised), n = this.size;
    const prev = denoisedPrev === NONE ? null : this.#at(denoisedPrev);
    const z = noise === NONE ? null : this.#at(noise);
    if (prev === null && z === null) {
      for (let i = 0; i < n; i++) y[i] = a * y[i] + b * den[i];
    } else if (z === null) {
      for (let i = 0; i < n; i++) y[i] = a * y[i] + b * den[i] + c * prev![i];
    } else if (prev === null) {
      for (let i = 0; i < n; i++) y[i] = a * y[i] + b * den[i] + d * z[i];
    } else {
      for (let i = 0; i < n; i++) y[i] = a * y[i] + b * den[i] + c * prev[i] + d * z[i];
    }
    return allFinite(y);
  }

  axpby(y: number, x: number, a: number, b: number): boolean {
    const out = this.#at(y), src = this.#at(x);
    for (let i = 0; i < this.size; i++) out[i] = a * out[i] + b * src[i];
    return allFinite(out);
  }

  blend(x: number, y: number, mask: number): boolean {
    const out = this.#at(x), src = this.#at(y), m = this.#at(mask);
    for (let i = 0; i < this.size; i++) out[i] = (1 - m[i]) * out[i] + m[i] * src[i];
    return allFinite(out);
  }

  fillGaussian(slot: number, seed: number, firstSample: number, draw: number): void {
    fillGaussian(this.#at(slot), this.batch, this.dim, seed, firstSample, draw);
  }

  release(): void {
    this.#buffers = [];
  }

  #at(slot: number): Float32Array {
    const buffer = this.#buffers[slot];
    if (buffer === undefined) throw new RangeError(`No buffer in slot ${slot} of this workspace`);
    return buffer;
  }
}

/** The plain-TypeScript diffusion kernels. */
export const jsDiffusionKernels: DiffusionKernels = {
  name: "js",

  workspace: (batch, dim) => new JsWorkspace(batch, dim),

  fillGaussian,

  mixture,
};
