// Diffusion sampling kernels: fused sampler step updates, the counter-based Gaussian fill and
// the exact Gaussian-mixture denoiser / score. The TypeScript reference is
// src/backends/js/diffusion.ts; step updates and the mixture agree with it to float32 rounding,
// the Gaussian fill agrees bit for bit.
//
// Buffers are batch-major rows of `dim` f32 values:
//
//   x:  row 0: x00 x01 .. x0(dim-1) | row 1: x10 .. | ...        (n = batch · dim values)
//
// Element-wise kernels run a v128 body over 4 values and a scalar tail. Row kernels take a row
// range [rowStart, rowEnd) so the TypeScript side can deal rows to workers; a row's result never
// depends on the range it was computed in.
//
// The Gaussian fill and the step updates use no fused multiply-add, in any build: the fill must
// round exactly like the reference, and the steps stay identical across builds. The mixture
// kernel multiplies and adds through madd4_f32 (fused in the relaxed build), so its two builds
// agree with the reference to float32 rounding but not bit for bit with each other.
//
// The TypeScript side keeps a sampling run's buffers in WASM memory for the whole run (see
// WasmWorkspace in src/backends/wasm/diffusion.ts), so the step kernels work in place on them,
// and lends them to the denoiser, which may write its result straight into one.

import { hsum4_f32, madd4_f32, vectorAt } from "./_simd";

// ---------------------------------------------------------------------------------------------
// Element-wise step updates. Scalars arrive as f32 and are splatted outside the loops.
//
// Each update also reports whether every value it wrote is finite (1) or not (0), so that a
// sampler needs no separate pass over the denoiser's output: a NaN or ±∞ read from any input
// reaches the result (0·∞ is NaN too). y − y is +0 (all bits clear) for finite y and NaN (bits
// set) otherwise, so OR-ing those differences together leaves a nonzero vector exactly when
// some y was not finite.
//
// One driver runs every update: four vectors (16 values) per trip, then single vectors, then
// scalars. The update's formula is picked by a constant `kind`, so each exported kernel inlines
// a loop with only its own arithmetic. Unrolled, the check costs next to nothing (a step is
// bound by its loads and stores); one vector per trip, it cost a third of the Euler step.
//
//   kind          out ←                                   buffers p0 p1 p2 p3    scalars k0 k1
//   EULER         D + k0·(x − D)                           x D                   ratio
//   HEUN          x + k0·(x − D) + k1·(x' − D')            x D x' D'             a b
//   DERIVATIVE    x + k0·(x_e − D_e)                       x x_e D_e             scale
//   ANCESTRAL     D + k0·(x − D) + k1·z                    x D z                 ratio up
//   COMBINE2..4   k0·p0 + k1·p1 (+ k2·p2) (+ k3·p3)        2 to 4 buffers        k0 .. k3
//   BLEND         (k0 − m)·x + m·y   (k0 = 1)              x y m                 1
//
// BLEND is the masked replacement of inpainting: where m = 1 it stores y exactly (0·x + 1·y),
// where m = 0 it keeps x.

const EULER = 0, HEUN = 1, DERIVATIVE = 2, ANCESTRAL = 3, COMBINE2 = 4, COMBINE3 = 5, COMBINE4 = 6;
const BLEND = 7;

/** One vector of update `kind` at byte offset `at`, stored to `out`; returns its non-finite bits. */
// @ts-ignore: decorator
@inline function updateVector(
  kind: i32, out: usize, p0: usize, p1: usize, p2: usize, p3: usize,
  k0: v128, k1: v128, k2: v128, k3: v128, at: usize,
): v128 {
  let y: v128;
  if (kind == EULER) {
    const d = v128.load(p1 + at);
    y = f32x4.add(d, f32x4.mul(k0, f32x4.sub(v128.load(p0 + at), d)));
  } else if (kind == HEUN) {
    const x = v128.load(p0 + at);
    const first = f32x4.mul(k0, f32x4.sub(x, v128.load(p1 + at)));
    const second = f32x4.mul(k1, f32x4.sub(v128.load(p2 + at), v128.load(p3 + at)));
    y = f32x4.add(f32x4.add(x, first), second);
  } else if (kind == DERIVATIVE) {
    const step = f32x4.mul(k0, f32x4.sub(v128.load(p1 + at), v128.load(p2 + at)));
    y = f32x4.add(v128.load(p0 + at), step);
  } else if (kind == ANCESTRAL) {
    const d = v128.load(p1 + at);
    const det = f32x4.add(d, f32x4.mul(k0, f32x4.sub(v128.load(p0 + at), d)));
    y = f32x4.add(det, f32x4.mul(k1, v128.load(p2 + at)));
  } else if (kind == BLEND) {
    const m = v128.load(p2 + at);
    y = f32x4.add(
      f32x4.mul(f32x4.sub(k0, m), v128.load(p0 + at)),
      f32x4.mul(m, v128.load(p1 + at)),
    );
  } else {
    y = f32x4.add(f32x4.mul(k0, v128.load(p0 + at)), f32x4.mul(k1, v128.load(p1 + at)));
    if (kind >= COMBINE3) y = f32x4.add(y, f32x4.mul(k2, v128.load(p2 + at)));
    if (kind >= COMBINE4) y = f32x4.add(y, f32x4.mul(k3, v128.load(p3 + at)));
  }
  v128.store(out + at, y);
  return f32x4.sub(y, y);
}

/** The same on one value; returns its non-finite bits. */
// @ts-ignore: decorator
@inline function updateScalar(
  kind: i32, out: usize, p0: usize, p1: usize, p2: usize, p3: usize,
  k0: f32, k1: f32, k2: f32, k3: f32, at: usize,
): u32 {
  let y: f32;
  if (kind == EULER) {
    const d = load<f32>(p1 + at);
    y = d + k0 * (load<f32>(p0 + at) - d);
  } else if (kind == HEUN) {
    const x = load<f32>(p0 + at);
    y = x + k0 * (x - load<f32>(p1 + at)) + k1 * (load<f32>(p2 + at) - load<f32>(p3 + at));
  } else if (kind == DERIVATIVE) {
    y = load<f32>(p0 + at) + k0 * (load<f32>(p1 + at) - load<f32>(p2 + at));
  } else if (kind == ANCESTRAL) {
    const d = load<f32>(p1 + at);
    y = d + k0 * (load<f32>(p0 + at) - d) + k1 * load<f32>(p2 + at);
  } else if (kind == BLEND) {
    const m = load<f32>(p2 + at);
    y = (k0 - m) * load<f32>(p0 + at) + m * load<f32>(p1 + at);
  } else {
    y = k0 * load<f32>(p0 + at) + k1 * load<f32>(p1 + at);
    if (kind >= COMBINE3) y += k2 * load<f32>(p2 + at);
    if (kind >= COMBINE4) y += k3 * load<f32>(p3 + at);
  }
  store<f32>(out + at, y);
  return reinterpret<u32>(y - y);
}

/** Update `kind` over n values: 1 when every value written is finite, else 0. */
// @ts-ignore: decorator
@inline function update(
  kind: i32, out: usize, n: i32, p0: usize, p1: usize, p2: usize, p3: usize,
  c0: f32, c1: f32, c2: f32, c3: f32,
): i32 {
  const k0 = f32x4.splat(c0), k1 = f32x4.splat(c1), k2 = f32x4.splat(c2), k3 = f32x4.splat(c3);
  let bits = i32x4.splat(0);
  const quads = <usize>(n & ~15) << 2, vectors = <usize>(n & ~3) << 2, end = <usize>n << 2;
  for (let at: usize = 0; at < quads; at += 64) {
    bits = v128.or(bits, v128.or(
      v128.or(
        updateVector(kind, out, p0, p1, p2, p3, k0, k1, k2, k3, at),
        updateVector(kind, out, p0, p1, p2, p3, k0, k1, k2, k3, at + 16),
      ),
      v128.or(
        updateVector(kind, out, p0, p1, p2, p3, k0, k1, k2, k3, at + 32),
        updateVector(kind, out, p0, p1, p2, p3, k0, k1, k2, k3, at + 48),
      ),
    ));
  }
  for (let at = quads; at < vectors; at += 16) {
    bits = v128.or(bits, updateVector(kind, out, p0, p1, p2, p3, k0, k1, k2, k3, at));
  }
  let tail: u32 = 0;
  for (let at = vectors; at < end; at += 4) {
    tail |= updateScalar(kind, out, p0, p1, p2, p3, c0, c1, c2, c3, at);
  }
  return !v128.any_true(bits) && tail == 0 ? 1 : 0;
}

/**
 * What an update returns (1 when every value it wrote is finite, else 0), also stored as an i32
 * at `flag` unless it is 0: a task run by a worker reports it there (one slot per row range).
 */
// @ts-ignore: decorator
@inline function report(finite: i32, flag: usize): i32 {
  if (flag != 0) store<i32>(flag, finite);
  return finite;
}

/** out ← D + ratio·(x − D)   (Euler step, ratio = σ_next / σ; `out` may be `x`). */
export function diffusion_euler_step_f32(
  out: usize, x: usize, d: usize, n: i32, ratio: f32, flag: usize,
): i32 {
  return report(update(EULER, out, n, x, d, 0, 0, ratio, 0, 0, 0), flag);
}

/** x ← x + a·(x − D) + b·(xNext − DNext)   (Heun's correction, a = h/(2σ), b = h/(2σ_next)). */
export function diffusion_heun_step_f32(
  x: usize, d: usize, xn: usize, dn: usize, n: i32, a: f32, b: f32, flag: usize,
): i32 {
  return report(update(HEUN, x, n, x, d, xn, dn, a, b, 0, 0), flag);
}

/** x ← x + scale·(xEval − DEval)   (a step along a derivative taken elsewhere, scale = h/σ). */
export function diffusion_derivative_step_f32(
  x: usize, xe: usize, de: usize, n: i32, scale: f32, flag: usize,
): i32 {
  return report(update(DERIVATIVE, x, n, x, xe, de, 0, scale, 0, 0, 0), flag);
}

/** x ← D + ratio·(x − D) + up·z   (ancestral step, ratio = σ_down/σ, up = σ_up). */
export function diffusion_ancestral_step_f32(
  x: usize, d: usize, z: usize, n: i32, ratio: f32, up: f32, flag: usize,
): i32 {
  return report(update(ANCESTRAL, x, n, x, d, z, 0, ratio, up, 0, 0), flag);
}

/** x ← (1 − m)·x + m·y   (inpainting's masked replacement: exactly y where m = 1). */
export function diffusion_blend_f32(x: usize, y: usize, m: usize, n: i32, flag: usize): i32 {
  return report(update(BLEND, x, n, x, y, m, 0, 1, 0, 0, 0), flag);
}

/**
 * out ← k0·p0 + k1·p1 (+ k2·p2 (+ k3·p3)), summed in that order: the DPM-Solver++ form
 * a·x + b·D + c·D_prev + e·z with its optional terms, and axpby. Three kernels rather than one
 * with flags: a function holding several of these loops ran 30–50% slower.
 */
export function diffusion_combine2_f32(
  out: usize, n: i32, p0: usize, k0: f32, p1: usize, k1: f32, flag: usize,
): i32 {
  return report(update(COMBINE2, out, n, p0, p1, 0, 0, k0, k1, 0, 0), flag);
}

export function diffusion_combine3_f32(
  out: usize, n: i32, p0: usize, k0: f32, p1: usize, k1: f32, p2: usize, k2: f32, flag: usize,
): i32 {
  return report(update(COMBINE3, out, n, p0, p1, p2, 0, k0, k1, k2, 0), flag);
}

export function diffusion_combine4_f32(
  out: usize, n: i32, p0: usize, k0: f32, p1: usize, k1: f32, p2: usize, k2: f32, p3: usize, k3: f32,
  flag: usize,
): i32 {
  return report(update(COMBINE4, out, n, p0, p1, p2, p3, k0, k1, k2, k3), flag);
}

/**
 * Index of the first value of x[0 .. n) that is not finite, or −1. v − v is 0 for finite v and
 * NaN otherwise, and NaN survives a sum, so a block of 256 values costs one check; only a block
 * that fails is searched value by value. Four accumulators keep the adds independent:
 *
 *   block:  [v0 v1 v2 v3][v4 .. v7][v8 .. v11][v12 .. v15] [v16 ..   ...  256 values
 *   acc:     a0           a1        a2         a3           a0 ...
 */
export function diffusion_first_nonfinite_f32(x: usize, n: i32): i32 {
  const block = 256;
  for (let start = 0; start < n; start += block) {
    const end = min(start + block, n);
    const body = start + ((end - start) & ~15);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let i = start; i < body; i += 16) {
      const p = x + (<usize>i << 2);
      const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      a0 = f32x4.add(a0, f32x4.sub(v0, v0));
      a1 = f32x4.add(a1, f32x4.sub(v1, v1));
      a2 = f32x4.add(a2, f32x4.sub(v2, v2));
      a3 = f32x4.add(a3, f32x4.sub(v3, v3));
    }
    const acc = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
    let tail: f32 = 0;
    for (let i = body; i < end; i++) {
      const v = load<f32>(x + (<usize>i << 2));
      tail += v - v;
    }
    if (v128.any_true(f32x4.ne(acc, acc)) || tail != tail) {
      for (let i = start; i < end; i++) {
        const v = load<f32>(x + (<usize>i << 2));
        if (v - v != 0) return i;
      }
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Gaussian fill. The stream of src/_random.ts (lowbias32 mixing, counter-based) and the float32
// Box–Muller of src/backends/js/diffusion.ts, operation for operation:
//
//   key(row)  = mix(streamKey(seed, firstSample + row) ^ mix(draw + 0x3c6ef372))
//   pair p    = (u32 at counter 2p, u32 at counter 2p + 1) → (z at 2p, z at 2p + 1)
//   u32(c)    = mix(key ^ mix(c + 0x6a09e667))
//
// The v128 body does 4 pairs (8 outputs) per iteration, one pair per lane:
//
//   lane:          0        1        2        3
//   counters u₁:   2p       2p+2     2p+4     2p+6
//   counters u₂:   2p+1     2p+3     2p+5     2p+7
//   stored:        [z0 z1 | z0 z1 | z0 z1 | z0 z1]   via two shuffles

const SQRT2_F32: f32 = <f32>1.4142135623730951;
const LN2_HI: f32 = <f32>6.9313812256e-01;
const LN2_LO: f32 = <f32>9.0580006145e-06;
const LOG_C3: f32 = <f32>(1.0 / 3.0);
const LOG_C5: f32 = <f32>(1.0 / 5.0);
const LOG_C7: f32 = <f32>(1.0 / 7.0);
const LOG_C9: f32 = <f32>(1.0 / 9.0);
const TWO_PI_F32: f32 = <f32>(2.0 * Math.PI);
const SIN_C3: f32 = <f32>(-1.0 / 6.0);
const SIN_C5: f32 = <f32>(1.0 / 120.0);
const SIN_C7: f32 = <f32>(-1.0 / 5040.0);
const SIN_C9: f32 = <f32>(1.0 / 362880.0);
const COS_C2: f32 = <f32>(-1.0 / 2.0);
const COS_C4: f32 = <f32>(1.0 / 24.0);
const COS_C6: f32 = <f32>(-1.0 / 720.0);
const COS_C8: f32 = <f32>(1.0 / 40320.0);
const COS_C10: f32 = <f32>(-1.0 / 3628800.0);
const TWO_POW_M24: f32 = <f32>5.9604644775390625e-8;

// @ts-ignore: decorator
@inline function mix32(x: u32): u32 {
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  x ^= x >>> 16;
  return x;
}

/** mix32 on four u32 lanes. */
// @ts-ignore: decorator
@inline function mix32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, vectorAt(I32V, I_MIX1));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, vectorAt(I32V, I_MIX2));
  x = v128.xor(x, i32x4.shr_u(x, 16));
  return x;
}

// @ts-ignore: decorator
@inline function noiseKey(seed: u32, sample: u32, draw: u32): u32 {
  const stream = mix32(mix32(seed) ^ (sample * 0x9e3779b9));
  return mix32(stream ^ mix32(draw + 0x3c6ef372));
}

// @ts-ignore: decorator
@inline function drawU32(key: u32, counter: u32): u32 {
  return mix32(key ^ mix32(counter + 0x6a09e667));
}

/** ln(k·2⁻²⁴) for k in [1, 2²⁴], as logUniformF32 in the reference. */
function logUniform(k: i32): f32 {
  // k ≤ 2²⁴ is exact in f32, so its exponent and mantissa are exactly k = m·2^e.
  const bits = reinterpret<i32>(<f32>k);
  let e = (bits >>> 23) - 127;
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f800000);
  if (m > SQRT2_F32) {
    m = m * <f32>0.5;
    e += 1;
  }
  e -= 24;
  const fr: f32 = (m - <f32>1) / (m + <f32>1);
  const s: f32 = fr * fr;
  let r: f32 = s * LOG_C9;
  r = LOG_C7 + r;
  r = s * r;
  r = LOG_C5 + r;
  r = s * r;
  r = LOG_C3 + r;
  r = s * r;
  const t: f32 = fr + fr;
  const lnm: f32 = t + t * r;
  const ef = <f32>e;
  return ef * LN2_HI + (lnm + ef * LN2_LO);
}

/** The same on four lanes. */
// @ts-ignore: decorator
@inline function logUniform4(k: v128): v128 {
  const bits = f32x4.convert_i32x4_s(k);
  let e = i32x4.sub(i32x4.shr_u(bits, 23), vectorAt(I32V, I_BIAS));
  let m = v128.or(v128.and(bits, vectorAt(I32V, I_MANTISSA)), vectorAt(I32V, I_ONE_BITS));
  const big = f32x4.gt(m, vectorAt(F32V, F_SQRT2));
  m = v128.bitselect(f32x4.mul(m, vectorAt(F32V, F_HALF)), m, big);
  e = i32x4.sub(e, big); // big lanes are all ones (−1): e + 1
  e = i32x4.sub(e, vectorAt(I32V, I_TWENTY_FOUR));
  const one = vectorAt(F32V, F_ONE);
  const fr = f32x4.div(f32x4.sub(m, one), f32x4.add(m, one));
  const s = f32x4.mul(fr, fr);
  let r = f32x4.mul(s, vectorAt(F32V, F_LOG_C9));
  r = f32x4.add(vectorAt(F32V, F_LOG_C7), r);
  r = f32x4.mul(s, r);
  r = f32x4.add(vectorAt(F32V, F_LOG_C5), r);
  r = f32x4.mul(s, r);
  r = f32x4.add(vectorAt(F32V, F_LOG_C3), r);
  r = f32x4.mul(s, r);
  const t = f32x4.add(fr, fr);
  const lnm = f32x4.add(t, f32x4.mul(t, r));
  const ef = f32x4.convert_i32x4_s(e);
  const hi = f32x4.mul(ef, vectorAt(F32V, F_LN2_HI));
  return f32x4.add(hi, f32x4.add(lnm, f32x4.mul(ef, vectorAt(F32V, F_LN2_LO))));
}

// @ts-ignore: decorator
@inline function sinSmall(a: f32): f32 {
  const z: f32 = a * a;
  let p: f32 = z * SIN_C9;
  p = SIN_C7 + p;
  p = z * p;
  p = SIN_C5 + p;
  p = z * p;
  p = SIN_C3 + p;
  p = z * p;
  return a + a * p;
}

// @ts-ignore: decorator
@inline function cosSmall(a: f32): f32 {
  const z: f32 = a * a;
  let p: f32 = z * COS_C10;
  p = COS_C8 + p;
  p = z * p;
  p = COS_C6 + p;
  p = z * p;
  p = COS_C4 + p;
  p = z * p;
  p = COS_C2 + p;
  p = z * p;
  return <f32>1 + p;
}

/** Two normals from two u32 draws into out[0] and (when `both`) out[1]. */
function gaussianPairInto(out: usize, bits1: u32, bits2: u32, both: bool): void {
  const ln = logUniform(<i32>(bits1 >>> 8) + 1);
  const r: f32 = Mathf.sqrt(<f32>-2 * ln);
  const k = <i32>(bits2 >>> 8);
  const quarter = (k + 0x200000) >>> 22;
  const rest = k - (quarter << 22);
  const a: f32 = (<f32>rest * TWO_POW_M24) * TWO_PI_F32;
  const s = sinSmall(a), c = cosSmall(a);
  let cosT: f32, sinT: f32;
  switch (quarter & 3) {
    case 0: { cosT = c; sinT = s; break; }
    case 1: { cosT = -s; sinT = c; break; }
    case 2: { cosT = -c; sinT = -s; break; }
    default: { cosT = s; sinT = -c; break; }
  }
  store<f32>(out, r * cosT);
  if (both) store<f32>(out, r * sinT, 4);
}

/**
 * Fills rows [rowStart, rowEnd) of `out` (dim values each) with standard normals: row r holds
 * draw `draw` of sample firstSample + r of `seed`. `table` is scratch for 2·⌊dim/8⌋·4 u32.
 *
 * The inner mix of u32(c) = mix(key ^ mix(c + 0x6a09e667)) does not depend on the row, so it is
 * taken once per call for the counters of the vector body, even and odd counters apart so that
 * four lanes load at once:
 *
 *   table: [mix(0+K) mix(2+K) mix(4+K) …] [mix(1+K) mix(3+K) mix(5+K) …]     K = 0x6a09e667
 *           u₁ counters of pairs 0, 1, 2…   u₂ counters of pairs 0, 1, 2…
 */
export function diffusion_fill_gaussian_f32(
  out: usize, rowStart: i32, rowEnd: i32, dim: i32, seed: u32, firstSample: u32, draw: u32,
  table: usize,
): void {
  const fullPairs = dim >> 1;
  const vectorPairs = fullPairs & ~3;
  const odd = table + (<usize>vectorPairs << 2);
  for (let p = 0; p < vectorPairs; p++) {
    store<u32>(table + (<usize>p << 2), mix32(<u32>(p << 1) + 0x6a09e667));
    store<u32>(odd + (<usize>p << 2), mix32(<u32>((p << 1) + 1) + 0x6a09e667));
  }
  for (let row = rowStart; row < rowEnd; row++) {
    const key = noiseKey(seed, firstSample + <u32>row, draw);
    const key4 = i32x4.splat(key);
    const base = out + (<usize>row * <usize>dim << 2);
    for (let p = 0; p < vectorPairs; p += 4) {
      const b1 = mix32x4(v128.xor(key4, v128.load(table + (<usize>p << 2))));
      const b2 = mix32x4(v128.xor(key4, v128.load(odd + (<usize>p << 2))));
      // Radius from u₁.
      const ln = logUniform4(i32x4.add(i32x4.shr_u(b1, 8), vectorAt(I32V, I_ONE)));
      const r = f32x4.sqrt(f32x4.mul(ln, vectorAt(F32V, F_MINUS_TWO)));
      // Angle from u₂: nearest quarter turn off on the integer.
      const k = i32x4.shr_u(b2, 8);
      const quarter = i32x4.shr_u(i32x4.add(k, vectorAt(I32V, I_HALF_QUARTER)), 22);
      const rest = i32x4.sub(k, i32x4.shl(quarter, 22));
      const a = f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(rest), vectorAt(F32V, F_TWO_POW_M24)), vectorAt(F32V, F_TWO_PI));
      const z = f32x4.mul(a, a);
      let ps = f32x4.mul(z, vectorAt(F32V, F_SIN_C9));
      ps = f32x4.add(vectorAt(F32V, F_SIN_C7), ps);
      ps = f32x4.mul(z, ps);
      ps = f32x4.add(vectorAt(F32V, F_SIN_C5), ps);
      ps = f32x4.mul(z, ps);
      ps = f32x4.add(vectorAt(F32V, F_SIN_C3), ps);
      ps = f32x4.mul(z, ps);
      const s = f32x4.add(a, f32x4.mul(a, ps));
      let pc = f32x4.mul(z, vectorAt(F32V, F_COS_C10));
      pc = f32x4.add(vectorAt(F32V, F_COS_C8), pc);
      pc = f32x4.mul(z, pc);
      pc = f32x4.add(vectorAt(F32V, F_COS_C6), pc);
      pc = f32x4.mul(z, pc);
      pc = f32x4.add(vectorAt(F32V, F_COS_C4), pc);
      pc = f32x4.mul(z, pc);
      pc = f32x4.add(vectorAt(F32V, F_COS_C2), pc);
      pc = f32x4.mul(z, pc);
      const c = f32x4.add(vectorAt(F32V, F_ONE), pc);
      // Quadrant q: odd q swaps sin and cos; cos is negated for q ∈ {1, 2}, sin for q ∈ {2, 3}.
      const two = vectorAt(I32V, I_TWO);
      const swap = i32x4.eq(v128.and(quarter, vectorAt(I32V, I_ONE)), vectorAt(I32V, I_ONE));
      const cosBase = v128.bitselect(s, c, swap);
      const sinBase = v128.bitselect(c, s, swap);
      const cosSign = i32x4.shl(v128.and(i32x4.add(quarter, vectorAt(I32V, I_ONE)), two), 30);
      const sinSign = i32x4.shl(v128.and(quarter, two), 30);
      const z0 = f32x4.mul(r, v128.xor(cosBase, cosSign));
      const z1 = f32x4.mul(r, v128.xor(sinBase, sinSign));
      const at = base + (<usize>p << 3);
      v128.store(at, v128.shuffle<f32>(z0, z1, 0, 4, 1, 5));
      v128.store(at, v128.shuffle<f32>(z0, z1, 2, 6, 3, 7), 16);
    }
    for (let p = vectorPairs; p < fullPairs; p++) {
      const c = <u32>(p << 1);
      gaussianPairInto(base + (<usize>p << 3), drawU32(key, c), drawU32(key, c + 1), true);
    }
    if (dim & 1) {
      const c = <u32>(fullPairs << 1);
      gaussianPairInto(base + (<usize>fullPairs << 3), drawU32(key, c), drawU32(key, c + 1), false);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Exact denoiser / score of a diagonal Gaussian mixture. The caller precomputes, for the call's σ,
// component-major tables (k·dim + j):
//
//   precision_kj = 1 / (Σ_kj + σ²)
//   offset_kj    = denoise: μ_kj·σ²·precision_kj    score: μ_kj·precision_kj
//   slope_kj     = denoise: Σ_kj·precision_kj       score: −precision_kj
//   logNorm_k    = log w_k − ½ Σ_j log(2π(Σ_kj + σ²)), less its maximum over k
//
// so that both outputs share one form, out_j = Σ_k r_k (offset_kj + slope_kj·x_j)
// (denoise: μ + Σ(Σ+σ²)⁻¹(x − μ); score: (μ − x)(Σ+σ²)⁻¹). Per row, three passes:
//
//   1. logp_k = logNorm_k − ½ Σ_j (x_j − μ_kj)²·precision_kj, four components at a time so the
//      four accumulators hide the add latency:
//
//        j →      x_j (one load)
//        comp k   acc_k += (x_j − μ_kj)²·p_kj      ┐
//        comp k+1 acc_k+1 += …                    │ independent chains
//        comp k+2 …                               │
//        comp k+3 …                               ┘
//
//   2. w_k = exp(logp_k − max logp) four at a time (a polynomial exp); components with
//      w_k < 2⁻²⁴ (their share is below float32 resolution) are dropped, the rest listed with
//      r_k = w_k / Σ w.
//   3. out_j = Σ_listed r_k·offset_kj + x_j·Σ_listed r_k·slope_kj, dims outer, components inner
//      (all components when none was dropped, without the list).
//
// Scratch per task: `components` f32 logp, then `components` v128 of splatted r_k, then
// `components` i32 byte offsets of table rows (mixtureScratchBytes in src/backends/wasm/).

const LOG2E_F32: f32 = 1.4426950408889634;
const EXP_LN2_HI: f32 = 0.693359375; // few mantissa bits: n·EXP_LN2_HI is exact for |n| < 2⁸
const EXP_LN2_LO: f32 = -2.12194440e-4;
const NEGLIGIBLE: f32 = 5.9604644775390625e-8; // 2⁻²⁴

/**
 * The noise's and the mixture's vector constants, four lanes alike each, read with vectorAt (see
 * _simd.ts). Deno, Sapphire Rapids, 4,096 × 64 normals a call: 2.87–2.90 → 2.25–2.38 ns a value
 * against v128 constants, the same bits; the mixture's exponential is a small part of its rows
 * (its calls within the noise).
 */
const F32V: usize = memory.data<f32>([
  SQRT2_F32, SQRT2_F32, SQRT2_F32, SQRT2_F32,
  <f32>0.5, <f32>0.5, <f32>0.5, <f32>0.5,
  <f32>1, <f32>1, <f32>1, <f32>1,
  LOG_C9, LOG_C9, LOG_C9, LOG_C9,
  LOG_C7, LOG_C7, LOG_C7, LOG_C7,
  LOG_C5, LOG_C5, LOG_C5, LOG_C5,
  LOG_C3, LOG_C3, LOG_C3, LOG_C3,
  LN2_HI, LN2_HI, LN2_HI, LN2_HI,
  LN2_LO, LN2_LO, LN2_LO, LN2_LO,
  <f32>-2, <f32>-2, <f32>-2, <f32>-2,
  TWO_POW_M24, TWO_POW_M24, TWO_POW_M24, TWO_POW_M24,
  TWO_PI_F32, TWO_PI_F32, TWO_PI_F32, TWO_PI_F32,
  SIN_C9, SIN_C9, SIN_C9, SIN_C9,
  SIN_C7, SIN_C7, SIN_C7, SIN_C7,
  SIN_C5, SIN_C5, SIN_C5, SIN_C5,
  SIN_C3, SIN_C3, SIN_C3, SIN_C3,
  COS_C10, COS_C10, COS_C10, COS_C10,
  COS_C8, COS_C8, COS_C8, COS_C8,
  COS_C6, COS_C6, COS_C6, COS_C6,
  COS_C4, COS_C4, COS_C4, COS_C4,
  COS_C2, COS_C2, COS_C2, COS_C2,
  <f32>-88, <f32>-88, <f32>-88, <f32>-88,
  LOG2E_F32, LOG2E_F32, LOG2E_F32, LOG2E_F32,
  EXP_LN2_HI, EXP_LN2_HI, EXP_LN2_HI, EXP_LN2_HI,
  EXP_LN2_LO, EXP_LN2_LO, EXP_LN2_LO, EXP_LN2_LO,
  <f32>1.9875691500e-4, <f32>1.9875691500e-4, <f32>1.9875691500e-4, <f32>1.9875691500e-4,
  <f32>1.3981999507e-3, <f32>1.3981999507e-3, <f32>1.3981999507e-3, <f32>1.3981999507e-3,
  <f32>8.3334519073e-3, <f32>8.3334519073e-3, <f32>8.3334519073e-3, <f32>8.3334519073e-3,
  <f32>4.1665795894e-2, <f32>4.1665795894e-2, <f32>4.1665795894e-2, <f32>4.1665795894e-2,
  <f32>1.6666665459e-1, <f32>1.6666665459e-1, <f32>1.6666665459e-1, <f32>1.6666665459e-1,
  <f32>5.0000001201e-1, <f32>5.0000001201e-1, <f32>5.0000001201e-1, <f32>5.0000001201e-1,
]);
const I32V: usize = memory.data<i32>([
  0x7feb352d, 0x7feb352d, 0x7feb352d, 0x7feb352d,
  <i32>0x846ca68b, <i32>0x846ca68b, <i32>0x846ca68b, <i32>0x846ca68b,
  127, 127, 127, 127,
  0x007fffff, 0x007fffff, 0x007fffff, 0x007fffff,
  0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
  24, 24, 24, 24,
  1, 1, 1, 1,
  0x200000, 0x200000, 0x200000, 0x200000,
  2, 2, 2, 2,
]);
const F_SQRT2 = 0;
const F_HALF = 1;
const F_ONE = 2;
const F_LOG_C9 = 3;
const F_LOG_C7 = 4;
const F_LOG_C5 = 5;
const F_LOG_C3 = 6;
const F_LN2_HI = 7;
const F_LN2_LO = 8;
const F_MINUS_TWO = 9;
const F_TWO_POW_M24 = 10;
const F_TWO_PI = 11;
const F_SIN_C9 = 12;
const F_SIN_C7 = 13;
const F_SIN_C5 = 14;
const F_SIN_C3 = 15;
const F_COS_C10 = 16;
const F_COS_C8 = 17;
const F_COS_C6 = 18;
const F_COS_C4 = 19;
const F_COS_C2 = 20;
const F_EXP_FLOOR = 21;
const F_LOG2E = 22;
const F_EXP_LN2_HI = 23;
const F_EXP_LN2_LO = 24;
const F_EXP_P6 = 25;
const F_EXP_P5 = 26;
const F_EXP_P4 = 27;
const F_EXP_P3 = 28;
const F_EXP_P2 = 29;
const F_EXP_P1 = 30;
const I_MIX1 = 0;
const I_MIX2 = 1;
const I_BIAS = 2;
const I_MANTISSA = 3;
const I_ONE_BITS = 4;
const I_TWENTY_FOUR = 5;
const I_ONE = 6;
const I_HALF_QUARTER = 7;
const I_TWO = 8;

/**
 * eˣ on four lanes for x ≤ 0 (relative error ≈ 2e-7): 2ⁿ·e^r with n = round(x·log₂e),
 * r = x − n·ln 2 in [−½ ln 2, ½ ln 2] and a degree-6 polynomial for e^r. Below −87 the
 * exponent field underflows and the lane is 0 (callers treat it as negligible).
 */
// @ts-ignore: decorator
@inline function expNonPositive4(x: v128): v128 {
  x = f32x4.max(x, vectorAt(F32V, F_EXP_FLOOR));
  const n = f32x4.nearest(f32x4.mul(x, vectorAt(F32V, F_LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, vectorAt(F32V, F_EXP_LN2_HI))), f32x4.mul(n, vectorAt(F32V, F_EXP_LN2_LO)));
  let p = vectorAt(F32V, F_EXP_P6);
  p = f32x4.add(f32x4.mul(p, r), vectorAt(F32V, F_EXP_P5));
  p = f32x4.add(f32x4.mul(p, r), vectorAt(F32V, F_EXP_P4));
  p = f32x4.add(f32x4.mul(p, r), vectorAt(F32V, F_EXP_P3));
  p = f32x4.add(f32x4.mul(p, r), vectorAt(F32V, F_EXP_P2));
  p = f32x4.add(f32x4.mul(p, r), vectorAt(F32V, F_EXP_P1));
  const er = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), vectorAt(F32V, F_ONE));
  // 2ⁿ from the exponent field; n ≥ −127 after the clamp, and n = −127 gives +0.
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), vectorAt(I32V, I_BIAS)), 23);
  return f32x4.mul(er, scale);
}

/** Squared distances Σ_j (x_j − μ_kj)²·p_kj of one row to components k .. k+3 into logp[k..k+3]. */
// @ts-ignore: decorator
@inline function distances4(
  xr: usize, means: usize, precision: usize, logNorm: usize, logp: usize, k: i32, dim: i32,
): void {
  const stride = <usize>dim << 2;
  const m0 = means + <usize>k * stride, p0 = precision + <usize>k * stride;
  const m1 = m0 + stride, m2 = m1 + stride, m3 = m2 + stride;
  const p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const body = dim & ~3;
  for (let j = 0; j < body; j += 4) {
    const at = <usize>j << 2;
    const xv = v128.load(xr + at);
    const d0 = f32x4.sub(xv, v128.load(m0 + at)), d1 = f32x4.sub(xv, v128.load(m1 + at));
    const d2 = f32x4.sub(xv, v128.load(m2 + at)), d3 = f32x4.sub(xv, v128.load(m3 + at));
    a0 = madd4_f32(f32x4.mul(d0, d0), v128.load(p0 + at), a0);
    a1 = madd4_f32(f32x4.mul(d1, d1), v128.load(p1 + at), a1);
    a2 = madd4_f32(f32x4.mul(d2, d2), v128.load(p2 + at), a2);
    a3 = madd4_f32(f32x4.mul(d3, d3), v128.load(p3 + at), a3);
  }
  let q0 = hsum4_f32(a0), q1 = hsum4_f32(a1), q2 = hsum4_f32(a2), q3 = hsum4_f32(a3);
  for (let j = body; j < dim; j++) {
    const at = <usize>j << 2;
    const xv = load<f32>(xr + at);
    const d0 = xv - load<f32>(m0 + at), d1 = xv - load<f32>(m1 + at);
    const d2 = xv - load<f32>(m2 + at), d3 = xv - load<f32>(m3 + at);
    q0 += d0 * d0 * load<f32>(p0 + at);
    q1 += d1 * d1 * load<f32>(p1 + at);
    q2 += d2 * d2 * load<f32>(p2 + at);
    q3 += d3 * d3 * load<f32>(p3 + at);
  }
  const ln = logNorm + (<usize>k << 2), out = logp + (<usize>k << 2);
  store<f32>(out, load<f32>(ln) - <f32>0.5 * q0);
  store<f32>(out, load<f32>(ln, 4) - <f32>0.5 * q1, 4);
  store<f32>(out, load<f32>(ln, 8) - <f32>0.5 * q2, 8);
  store<f32>(out, load<f32>(ln, 12) - <f32>0.5 * q3, 12);
}

/** The same for one component k. */
// @ts-ignore: decorator
@inline function distance1(
  xr: usize, means: usize, precision: usize, logNorm: usize, logp: usize, k: i32, dim: i32,
): void {
  const mk = means + (<usize>k * <usize>dim << 2), pk = precision + (<usize>k * <usize>dim << 2);
  let acc = f32x4.splat(0);
  const body = dim & ~3;
  for (let j = 0; j < body; j += 4) {
    const at = <usize>j << 2;
    const diff = f32x4.sub(v128.load(xr + at), v128.load(mk + at));
    acc = madd4_f32(f32x4.mul(diff, diff), v128.load(pk + at), acc);
  }
  let q = hsum4_f32(acc);
  for (let j = body; j < dim; j++) {
    const at = <usize>j << 2;
    const diff = load<f32>(xr + at) - load<f32>(mk + at);
    q += diff * diff * load<f32>(pk + at);
  }
  store<f32>(logp + (<usize>k << 2), load<f32>(logNorm + (<usize>k << 2)) - <f32>0.5 * q);
}

/**
 * Responsibilities of one row from logp[0 .. components): writes the splatted r_k of the
 * components that matter to `weights` and the byte offsets of their table rows (k·rowBytes) to
 * `listed`, returns how many.
 */
// @ts-ignore: decorator
@inline function responsibilities(
  logp: usize, weights: usize, listed: usize, components: i32, rowBytes: i32,
): i32 {
  let best: f32 = -Infinity;
  for (let k = 0; k < components; k++) best = max(best, load<f32>(logp + (<usize>k << 2)));
  const best4 = f32x4.splat(best);
  const body = components & ~3;
  for (let k = 0; k < body; k += 4) {
    const at = logp + (<usize>k << 2);
    v128.store(at, expNonPositive4(f32x4.sub(v128.load(at), best4)));
  }
  if (body < components) {
    // The last partial group through the same polynomial, lane by lane.
    for (let k = body; k < components; k++) {
      const at = logp + (<usize>k << 2);
      store<f32>(at, f32x4.extract_lane(expNonPositive4(f32x4.splat(load<f32>(at) - best)), 0));
    }
  }
  let total: f32 = 0;
  let count = 0;
  for (let k = 0; k < components; k++) {
    const w = load<f32>(logp + (<usize>k << 2));
    if (w < NEGLIGIBLE) continue;
    total += w;
    store<i32>(listed + (<usize>count << 2), k * rowBytes);
    store<f32>(logp + (<usize>count << 2), w); // compacted in place: count ≤ k
    count++;
  }
  const inv: f32 = <f32>1 / total;
  for (let c = 0; c < count; c++) {
    v128.store(weights + (<usize>c << 4), f32x4.splat(load<f32>(logp + (<usize>c << 2)) * inv));
  }
  return count;
}

/**
 * out_j = Σ_k r_k·offset_kj + x_j·Σ_k r_k·slope_kj over every component, two vectors of dims per
 * component visit (its r_k loaded once for both):
 *
 *   j →        [ j .. j+3 ][ j+4 .. j+7 ]
 *   comp 0      o0 s0       o1 s1          four running sums per block of 8 dims
 *   comp 1      +=          +=
 *   …
 */
// @ts-ignore: decorator
@inline function denseSums(
  outRow: usize, xr: usize, offset: usize, slope: usize, weights: usize, components: i32, dim: i32,
): void {
  const stride = <usize>dim << 2, pairs = dim & ~7, body = dim & ~3;
  for (let j = 0; j < pairs; j += 8) {
    const at = <usize>j << 2;
    let o0 = f32x4.splat(0), s0 = f32x4.splat(0), o1 = f32x4.splat(0), s1 = f32x4.splat(0);
    let offsetAt = offset + at, slopeAt = slope + at;
    for (let k = 0; k < components; k++) {
      const r4 = v128.load(weights + (<usize>k << 4));
      o0 = madd4_f32(r4, v128.load(offsetAt), o0);
      s0 = madd4_f32(r4, v128.load(slopeAt), s0);
      o1 = madd4_f32(r4, v128.load(offsetAt, 16), o1);
      s1 = madd4_f32(r4, v128.load(slopeAt, 16), s1);
      offsetAt += stride;
      slopeAt += stride;
    }
    v128.store(outRow + at, madd4_f32(v128.load(xr + at), s0, o0));
    v128.store(outRow + at, madd4_f32(v128.load(xr + at, 16), s1, o1), 16);
  }
  for (let j = pairs; j < body; j += 4) {
    const at = <usize>j << 2;
    let o0 = f32x4.splat(0), s0 = f32x4.splat(0);
    for (let k = 0; k < components; k++) {
      const r4 = v128.load(weights + (<usize>k << 4)), kAt = (<usize>k * stride) + at;
      o0 = madd4_f32(r4, v128.load(offset + kAt), o0);
      s0 = madd4_f32(r4, v128.load(slope + kAt), s0);
    }
    v128.store(outRow + at, madd4_f32(v128.load(xr + at), s0, o0));
  }
  for (let j = body; j < dim; j++) {
    const at = <usize>j << 2;
    let o: f32 = 0, s: f32 = 0;
    for (let k = 0; k < components; k++) {
      const r = f32x4.extract_lane(v128.load(weights + (<usize>k << 4)), 0);
      const kAt = (<usize>k * stride) + at;
      o += r * load<f32>(offset + kAt);
      s += r * load<f32>(slope + kAt);
    }
    store<f32>(outRow + at, o + load<f32>(xr + at) * s);
  }
}

/**
 * The same sums over the `count` listed components only (their table rows at `listed`). Kept
 * apart from denseSums on purpose: walking the tables by a stride instead of reading each row's
 * offset from the list is 20–25% faster when every component counts (σ = 20, 8 components,
 * measured same-process), also when one body with a constant flag serves both.
 */
// @ts-ignore: decorator
@inline function listedSums(
  outRow: usize, xr: usize, offset: usize, slope: usize, weights: usize, listed: usize,
  count: i32, dim: i32,
): void {
  const pairs = dim & ~7, body = dim & ~3;
  for (let j = 0; j < pairs; j += 8) {
    const at = <usize>j << 2;
    const offsetAt = offset + at, slopeAt = slope + at;
    let o0 = f32x4.splat(0), s0 = f32x4.splat(0), o1 = f32x4.splat(0), s1 = f32x4.splat(0);
    for (let c = 0; c < count; c++) {
      const r4 = v128.load(weights + (<usize>c << 4));
      const row = <usize>load<i32>(listed + (<usize>c << 2));
      o0 = madd4_f32(r4, v128.load(offsetAt + row), o0);
      s0 = madd4_f32(r4, v128.load(slopeAt + row), s0);
      o1 = madd4_f32(r4, v128.load(offsetAt + row, 16), o1);
      s1 = madd4_f32(r4, v128.load(slopeAt + row, 16), s1);
    }
    v128.store(outRow + at, madd4_f32(v128.load(xr + at), s0, o0));
    v128.store(outRow + at, madd4_f32(v128.load(xr + at, 16), s1, o1), 16);
  }
  for (let j = pairs; j < body; j += 4) {
    const at = <usize>j << 2;
    let o0 = f32x4.splat(0), s0 = f32x4.splat(0);
    for (let c = 0; c < count; c++) {
      const r4 = v128.load(weights + (<usize>c << 4));
      const kAt = <usize>load<i32>(listed + (<usize>c << 2)) + at;
      o0 = madd4_f32(r4, v128.load(offset + kAt), o0);
      s0 = madd4_f32(r4, v128.load(slope + kAt), s0);
    }
    v128.store(outRow + at, madd4_f32(v128.load(xr + at), s0, o0));
  }
  for (let j = body; j < dim; j++) {
    const at = <usize>j << 2;
    let o: f32 = 0, s: f32 = 0;
    for (let c = 0; c < count; c++) {
      const r = f32x4.extract_lane(v128.load(weights + (<usize>c << 4)), 0);
      const kAt = <usize>load<i32>(listed + (<usize>c << 2)) + at;
      o += r * load<f32>(offset + kAt);
      s += r * load<f32>(slope + kAt);
    }
    store<f32>(outRow + at, o + load<f32>(xr + at) * s);
  }
}

/**
 * Rows [rowStart, rowEnd) of Σ_k r_k (offset_kj + slope_kj·x_j): the mixture's posterior mean or
 * score, depending on the tables (see above).
 */
export function diffusion_gmm_f32(
  out: usize, x: usize, means: usize, precision: usize, offset: usize, slope: usize,
  logNorm: usize, scratch: usize, dim: i32, components: i32, rowStart: i32, rowEnd: i32,
): void {
  gmmRows(out, x, means, precision, offset, slope, logNorm, scratch, dim, components, rowStart,
    rowEnd, false);
}

/**
 * diffusion_gmm_f32 over rows [0, rows) dealt by claims, for lanes that share this memory: each
 * lane claims chunks of `chunk` rows as it goes, so a lane whose core is faster or less busy
 * takes more. `sync` holds i32s: [0] the next chunk to claim, [1] how many rows of x the caller
 * has copied in so far (a lane waits for its chunk's rows; a negative count means the caller gave
 * up and every lane returns), [2] unused, [3] unused, then from [4] one flag per chunk, set once
 * its rows are written (the caller copies them out as they come). A row's result is the same
 * whoever computes it.
 */
export function diffusion_gmm_claimed_f32(
  out: usize, x: usize, means: usize, precision: usize, offset: usize, slope: usize,
  logNorm: usize, scratch: usize, dim: i32, components: i32, rows: i32, chunk: i32, sync: usize,
): void {
  const chunks = (rows + chunk - 1) / chunk;
  for (let c = atomic.add<i32>(sync, 1); c < chunks; c = atomic.add<i32>(sync, 1)) {
    const r0 = c * chunk, r1 = min(rows, r0 + chunk);
    let ready = atomic.load<i32>(sync, 4);
    while (ready >= 0 && ready < r1) ready = atomic.load<i32>(sync, 4);
    if (ready < 0) return;
    gmmRows(out, x, means, precision, offset, slope, logNorm, scratch, dim, components, r0, r1, false);
    atomic.store<i32>(sync + 16 + (<usize>c << 2), 1);
  }
}

/**
 * diffusion_gmm_f32 that also reports, as the step updates do, whether every value it wrote is
 * finite: 1 or 0, returned and stored as an i32 at `flag` unless it is 0; where 0, the index
 * (into `out`, an i32) and the value (f32) of the first one that is not follow it:
 *
 *   flag: [finite i32][index i32][value f32]
 *
 * For a sampling run whose rows stay with the workers (WasmWorkspace's resident lanes), where
 * nothing could scan the output later without fetching it. Each row is checked as it is
 * written, while in L1.
 */
export function diffusion_gmm_checked_f32(
  out: usize, x: usize, means: usize, precision: usize, offset: usize, slope: usize,
  logNorm: usize, scratch: usize, dim: i32, components: i32, rowStart: i32, rowEnd: i32,
  flag: usize,
): i32 {
  const bad = gmmRows(out, x, means, precision, offset, slope, logNorm, scratch, dim,
    components, rowStart, rowEnd, true);
  if (bad < 0) return report(1, flag);
  const row = out + (<usize>bad * <usize>dim << 2);
  const j = diffusion_first_nonfinite_f32(row, dim);
  if (flag != 0) {
    store<i32>(flag, bad * dim + j, 4);
    store<f32>(flag, load<f32>(row + (<usize>j << 2)), 8);
  }
  return report(0, flag);
}

/** Bits set where some value of the row of `dim` values at `row` is not finite (see above). */
// @ts-ignore: decorator
@inline function rowNonFinite(row: usize, dim: i32): v128 {
  const body = dim & ~3;
  let bits = v128.splat<i32>(0);
  for (let j = 0; j < body; j += 4) {
    const v = v128.load(row + (<usize>j << 2));
    bits = v128.or(bits, f32x4.sub(v, v));
  }
  for (let j = body; j < dim; j++) {
    const v = load<f32>(row + (<usize>j << 2));
    bits = v128.or(bits, f32x4.splat(v - v));
  }
  return bits;
}

/**
 * The rows of both mixture kernels; `check` (a constant) adds the finiteness report: the first
 * row holding a value that is not finite, or −1 (always −1 unchecked).
 */
// @ts-ignore: decorator
@inline function gmmRows(
  out: usize, x: usize, means: usize, precision: usize, offset: usize, slope: usize,
  logNorm: usize, scratch: usize, dim: i32, components: i32, rowStart: i32, rowEnd: i32,
  check: bool,
): i32 {
  const logp = scratch;
  const weights = scratch + ((<usize>components * 4 + 15) & ~15);
  const listed = weights + (<usize>components << 4);
  const groups = components & ~3;
  let bad = -1;
  for (let row = rowStart; row < rowEnd; row++) {
    const xr = x + (<usize>row * <usize>dim << 2);
    const outRow = out + (<usize>row * <usize>dim << 2);
    for (let k = 0; k < groups; k += 4) distances4(xr, means, precision, logNorm, logp, k, dim);
    for (let k = groups; k < components; k++) distance1(xr, means, precision, logNorm, logp, k, dim);
    const count = responsibilities(logp, weights, listed, components, dim << 2);
    if (count == components) denseSums(outRow, xr, offset, slope, weights, components, dim);
    else listedSums(outRow, xr, offset, slope, weights, listed, count, dim);
    if (check && bad < 0 && v128.any_true(rowNonFinite(outRow, dim))) bad = row;
  }
  return bad;
}

/** dst[0 .. n) ← src[0 .. n) (a sampler's buffer copy, on the rows a worker holds). */
export function diffusion_copy_f32(dst: usize, src: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
}
