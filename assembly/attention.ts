// The attention kernel family (see src/backends/attention.ts for the layouts).
//
// flash_forward_f32 is the FlashAttention-2 forward pass. One work item is a block of Br query
// rows of one (batch, head); it walks the keys in blocks of 128 and never holds more than a
// Br × 128 tile of logits:
//
//   for each key block j0 .. j0+127 (causal: blocks wholly above the diagonal are skipped)
//     pack K block into 8-key panels      K[j0+8p+c][d] → panel p, row d, lane c
//     S  = log2 e · (scale · Q_blk · K_blkᵀ + mask)   (−inf past the diagonal or the last key)
//     m' = max(m, rowmax S)               running row maximum
//     P  = 2^(S − m')                     vectorised exp2 (exp2x4_f32)
//     l  = l · 2^(m − m') + rowsum P      running row sum
//     O  = O · 2^(m − m') + P · V_blk     rescaled accumulator
//   out = O / l,  lse = m · ln 2 + ln l   (l = 0: zeros and −inf)
//
// Scratch of one task (bytes from `scratch`, sized by flash_forward_scratch_f32):
//
//   | packed K: 128·D or Nk·D | S/P: Br·128 | O: Br·Dv | m: Br | l: Br | alpha: Br | Q: Br·D |
//
// (f32 each; Q packed in row groups). A task packs each key block once for all the query blocks
// of its (batch, kv head) where that head's keys fit PACK_ONCE_BYTES, and again for each query
// block beyond.
//
// The logits tile and O are filled by 6×8 (relaxed build) or 4×8 register micro-kernels (as in
// matmul.ts): per step, one splat per query row times two v128 of packed keys (S), or one splat
// of P per row times two v128 of a V row (O). The query rows are packed once per item into
// row groups and P rows sit a constant stride apart, so each step reads its splats at constant
// offsets from one pointer: the loop carries two pointer increments, not one per row. The
// micro-kernels are separate functions, not inlined: inside the big item loop the engine's
// register allocator spilled their accumulators (~10% slower). Each item runs in a fixed
// order, so results do not depend on how items are split across threads.

import {
  groupRows, hsum4_f32, isScalarSplat, LoadSplat, madd4_f32, packRowGroups, ScalarSplat, scalarSplats, vectorAt,
} from "./_simd";

// Whether the relaxed build's attention takes query rows 6 at a time (6×8 micro-kernels: 12
// accumulators, 15 live vectors) or 4 at a time. SpiderMonkey keeps one of x64's 16 vector
// registers as its scratch, so the 6-row kernels spill there: called straight in Firefox 153,
// flash attention ran at 36 GFLOP/s with 6-row groups and 45 with 4-row ones (plain build 43),
// where Chromium's V8 runs 6-row groups at 45–47 and 4-row ones at 43. The runtime clears it
// in each instance on SpiderMonkey (src/runtime/_engine.ts). Matmul keeps 6-row groups (54
// GFLOP/s either way in Firefox). A row's sums run in the same order either way: same bits.
let wideRows: bool = true;

/** Sets whether the relaxed build's attention kernels take query rows 6 (1) or 4 (0) at a time. */
export function attention_set_wide_rows(wide: i32): void {
  wideRows = wide != 0;
}

// Linear and mixed-chunk attention walk their keys 64 at a time; flash attention 128 at a time
// (its per-block work: a row's maximum, sum and rescale factor, O's rescaling, ran at half the
// cost per key, 3–4% of the kernel at N = 512). Every logits / weights tile is TILE_COLUMNS wide.
const KEY_BLOCK: i32 = 64;
const FLASH_KEY_BLOCK: i32 = 128;
const TILE_COLUMNS: i32 = FLASH_KEY_BLOCK;

// 2^t = 2^n · 2^f with n = round(t), f = t − n in [−1/2, 1/2]; 2^f by a degree-5 polynomial
// fitted here for minimal relative error (1.9e-7 when evaluated in f32). 2^n comes from adding
// 1.5·2^23 to t: the sum's low mantissa bits then hold n + 2^22 as an integer, which is shifted
// straight into the exponent field of 2^n (no float→int conversion). Softmax works in base 2
// throughout (logits are pre-multiplied by log2 e), as FlashAttention does.
const LOG2E: f32 = 1.44269504088896341;
const LN2: f32 = 0.693147180559945309;
const ROUND: f32 = 12582912.0; // 1.5·2^23
const EXP2_MIN: f32 = -126.0; // below: under the smallest normal f32, flushed to 0
const EXP2_MAX: f32 = 127.0;
const C1: f32 = 0.693147;
const C2: f32 = 0.24022242;
const C3: f32 = 0.055507336;
const C4: f32 = 0.009671513;
const C5: f32 = 0.0013264727;

/** 2^t on four lanes; t < −126 (−inf included) gives 0, NaN stays NaN, t is capped at 127. */
// @ts-ignore: decorator
@inline function exp2x4_f32(t: v128): v128 {
  return exp2x4Capped(t, true);
}

// exp2x4_f32, without the cap at 127 where the caller knows t <= 0 (softmax: t = S − max S).
// The polynomial is 1 + f·(C1 + f·(b + f²·c)) with b = C2 + C3·f and c = C4 + C5·f: its longest
// chain of dependent multiply-adds is four where Horner's is five (b, c and f² run side by
// side), and its last two steps are Horner's, so its error stays (1.9e-7 plain, 1.7e-7 relaxed,
// against 1.8e-7 and 1.7e-7). f comes from `nearest`, one step shorter than
// t − ((t + 1.5·2^23) − 1.5·2^23), with the same value. The softmax loop waited on these chains:
// 2^t took 13% of the plain build's SDPA at N = 512, and these forms made the kernel 3–5%
// faster.
// @ts-ignore: decorator
@inline function exp2x4Capped(t: v128, capped: bool): v128 {
  const low = vectorAt(EXP2_CONSTANTS, X_MIN);
  // pmax/pmin keep t when it is NaN (t is the first operand) and map to single instructions.
  let tc = f32x4.pmax(t, low);
  if (capped) tc = f32x4.pmin(tc, vectorAt(EXP2_CONSTANTS, X_MAX));
  const shifted = f32x4.add(tc, vectorAt(EXP2_CONSTANTS, X_ROUND));
  const f = f32x4.sub(tc, f32x4.nearest(tc));
  const f2 = f32x4.mul(f, f);
  const b = madd4_f32(vectorAt(EXP2_CONSTANTS, X_C3), f, vectorAt(EXP2_CONSTANTS, X_C2));
  const c = madd4_f32(vectorAt(EXP2_CONSTANTS, X_C5), f, vectorAt(EXP2_CONSTANTS, X_C4));
  const p = madd4_f32(
    madd4_f32(madd4_f32(c, f2, b), f, vectorAt(EXP2_CONSTANTS, X_C1)),
    f,
    vectorAt(EXP2_CONSTANTS, X_ONE),
  );
  const twoN = i32x4.shl(i32x4.add(shifted, vectorAt(EXP2_BIAS, 0)), 23);
  // 0 below the smallest normal: p·2^n with the lanes where t < −126 cleared.
  return v128.andnot(f32x4.mul(p, twoN), f32x4.lt(t, low));
}

/**
 * exp2x4Capped's constants, four lanes alike each, read with vectorAt (see _simd.ts). Deno,
 * Sapphire Rapids, one thread, SDPA H = 8, D = 64 into `out` (medians of 21 calls, builds
 * alternating), against v128 constants: plain build 24.3–26.2 → 27.0–27.3 GFLOP/s at N = 512 and
 * 25.5–26.1 → 25.8–28.0 at N = 1024; relaxed build 30.6–32.5 → 31.1–34.7. The same bits.
 */
const EXP2_CONSTANTS: usize = memory.data<f32>([
  EXP2_MIN, EXP2_MIN, EXP2_MIN, EXP2_MIN, EXP2_MAX, EXP2_MAX, EXP2_MAX, EXP2_MAX,
  ROUND, ROUND, ROUND, ROUND, C3, C3, C3, C3, C2, C2, C2, C2, C5, C5, C5, C5, C4, C4, C4, C4,
  C1, C1, C1, C1, 1, 1, 1, 1,
]);
/** Indices of EXP2_CONSTANTS's vectors. */
const X_MIN = 0, X_MAX = 1, X_ROUND = 2, X_C3 = 3, X_C2 = 4, X_C5 = 5, X_C4 = 6, X_C1 = 7, X_ONE = 8;
/** 127 − 2^22 on four lanes: `shifted`'s bits plus this, shifted, are 2^n's (see above). */
const EXP2_BIAS: usize = memory.data<i32>([127 - 0x400000, 127 - 0x400000, 127 - 0x400000, 127 - 0x400000]);

/** e^x = 2^(x·log2 e) on four lanes. */
// @ts-ignore: decorator
@inline function exp4_f32(x: v128): v128 {
  return exp2x4_f32(f32x4.mul(x, f32x4.splat(LOG2E)));
}

/** 2^t of one value through the vector path, so scalar and vector results agree. */
// @ts-ignore: decorator
@inline function exp2_f32(t: f32): f32 {
  return f32x4.extract_lane(exp2x4_f32(f32x4.splat(t)), 0);
}

/**
 * out[i] = 2^x[i] (binary != 0) or e^x[i] for i < n, four lanes then a scalar tail: exposes
 * the vectorised exponentials to tests that measure their error.
 */
export function exp_f32_array(x: usize, out: usize, n: i32, binary: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    v128.store(out + (<usize>i << 2), binary != 0 ? exp2x4_f32(v) : exp4_f32(v));
  }
  for (; i < n; i++) {
    const t = load<f32>(x + (<usize>i << 2));
    store<f32>(out + (<usize>i << 2), exp2_f32(binary != 0 ? t : t * LOG2E));
  }
}

/** Largest of the four lanes:  max(max(x0, x2), max(x1, x3)). */
// @ts-ignore: decorator
@inline function hmax4_f32(v: v128): f32 {
  const s = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return max<f32>(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1));
}

/** Σ x[i]·y[i] over n floats, four lanes then a scalar tail (fixed order). */
// @ts-ignore: decorator
@inline function dot_f32(x: usize, y: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    acc = madd4_f32(v128.load(x + o), v128.load(y + o), acc);
  }
  let sum = hsum4_f32(acc);
  for (; i < n; i++) sum += load<f32>(x + (<usize>i << 2)) * load<f32>(y + (<usize>i << 2));
  return sum;
}

/** y[i] += a·x[i] over n floats. */
// @ts-ignore: decorator
@inline function axpy_f32(y: usize, a: f32, x: usize, n: i32): void {
  const va = f32x4.splat(a);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, madd4_f32(va, v128.load(x + o), v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, a * load<f32>(x + o) + load<f32>(y + o));
  }
}

/** dst[i] = factor·src[i] over n floats. */
// @ts-ignore: decorator
@inline function scale_f32(dst: usize, src: usize, factor: f32, n: i32): void {
  const vf = f32x4.splat(factor);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.mul(v128.load(src + o), vf));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)) * factor);
}

/** Fills n floats with a value. */
// @ts-ignore: decorator
@inline function fill_f32(p: usize, value: f32, n: i32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(p + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(p + (<usize>i << 2), value);
}

// ---------------------------------------------------------------------------------------------
// Softmax attention

// Keys of one (batch, kv head) up to this many bytes (1,024 keys of 64 floats) are packed once
// per task and reused by every query block of that head; longer ones a block at a time, into
// one block of scratch. Packing a block again for each of the 8 query blocks of N = 512 took
// 1–2% of the kernel. Every task has scratch of its own: a 1 MiB limit (4,096 keys) ran N = 4096
// 1–2% faster than this one, for up to 16 MiB more scratch on four threads.
const PACK_ONCE_BYTES: i32 = 1 << 18;

/** Key rows the packed-keys region of a flash task holds: every key, or one block. */
function packedKeyRows(keyLength: i32, headDim: i32): i32 {
  const all = (keyLength + FLASH_KEY_BLOCK - 1) & ~(FLASH_KEY_BLOCK - 1);
  return all <= FLASH_KEY_BLOCK || <i64>all * headDim * 4 > PACK_ONCE_BYTES ? FLASH_KEY_BLOCK : all;
}

/** Bytes of scratch one flash task needs. */
export function flash_forward_scratch_f32(
  headDim: i32, valueDim: i32, queryBlock: i32, keyLength: i32,
): i32 {
  return (packedKeyRows(keyLength, headDim) * headDim + queryBlock * TILE_COLUMNS +
    queryBlock * valueDim + 3 * queryBlock + queryBlock * headDim) << 2;
}

// Packs `count` (<= 128) key rows of D floats into 8-key panels, zero-filling the last panel:
//
//   panel p:  d=0: k[8p][0] .. k[8p+7][0]  |  d=1: k[8p][1] .. k[8p+7][1]  | ...  (32 B per d)
//
// Full panels move 4 keys × 4 dims at a time through a 4×4 transpose.
function packKeys(k: usize, packed: usize, count: i32, D: i32): void {
  const rowBytes = <usize>D << 2;
  const panels = (count + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const first = p << 3;
    const cols = min(8, count - first);
    const dst = packed + ((<usize>p * <usize>D) << 5);
    const src = k + <usize>first * rowBytes;
    let d = 0;
    if (cols == 8) {
      for (; d + 4 <= D; d += 4) {
        for (let half = 0; half < 8; half += 4) {
          const r = src + <usize>half * rowBytes + (<usize>d << 2);
          const r0 = v128.load(r), r1 = v128.load(r + rowBytes);
          const r2 = v128.load(r + 2 * rowBytes), r3 = v128.load(r + 3 * rowBytes);
          const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
          const o = dst + (<usize>d << 5) + (<usize>half << 2);
          v128.store(o, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          v128.store(o + 32, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
          v128.store(o + 64, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
          v128.store(o + 96, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
        }
      }
    }
    for (; d < D; d++) {
      const o = dst + (<usize>d << 5);
      for (let c = 0; c < 8; c++) {
        const value: f32 = c < cols ? load<f32>(src + <usize>c * rowBytes + (<usize>d << 2)) : 0;
        store<f32>(o + (<usize>c << 2), value);
      }
    }
  }
}

// Bytes between rows of the logits / weights tile: every tile has TILE_COLUMNS columns, so the
// micro-kernels address its rows with constant offsets (one pointer, no per-row registers).
const TILE_ROW: usize = <usize>TILE_COLUMNS << 2;

// S[4 rows][8 keys] = scale · Q[4 rows] · panel, over D steps. q is a 4-row group
// (packRowGroups); s is the first row of the tile. S: how Q's values are splatted (LoadSplat or
// ScalarSplat, see _simd.ts).
function scores4x8<S>(q: usize, panel: usize, D: i32, s: usize, scale: v128): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let b = panel, qd = q;
  const end = panel + (<usize>D << 5);
  while (b < end) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = isScalarSplat<S>() ? f32x4.splat(load<f32>(qd)) : v128.load32_splat(qd);
    c00 = madd4_f32(x, b0, c00); c01 = madd4_f32(x, b1, c01);
    x = isScalarSplat<S>() ? f32x4.splat(load<f32>(qd, 4)) : v128.load32_splat(qd, 4);
    c10 = madd4_f32(x, b0, c10); c11 = madd4_f32(x, b1, c11);
    x = isScalarSplat<S>() ? f32x4.splat(load<f32>(qd, 8)) : v128.load32_splat(qd, 8);
    c20 = madd4_f32(x, b0, c20); c21 = madd4_f32(x, b1, c21);
    x = isScalarSplat<S>() ? f32x4.splat(load<f32>(qd, 12)) : v128.load32_splat(qd, 12);
    c30 = madd4_f32(x, b0, c30); c31 = madd4_f32(x, b1, c31);
    qd += 16;
    b += 32;
  }
  v128.store(s, f32x4.mul(c00, scale)); v128.store(s, f32x4.mul(c01, scale), 16);
  v128.store(s, f32x4.mul(c10, scale), TILE_ROW); v128.store(s, f32x4.mul(c11, scale), TILE_ROW + 16);
  v128.store(s, f32x4.mul(c20, scale), 2 * TILE_ROW); v128.store(s, f32x4.mul(c21, scale), 2 * TILE_ROW + 16);
  v128.store(s, f32x4.mul(c30, scale), 3 * TILE_ROW); v128.store(s, f32x4.mul(c31, scale), 3 * TILE_ROW + 16);
}

// S[6 rows][8 keys]: as scores4x8 for a 6-row group, with 12 accumulators.
function scores6x8(q: usize, panel: usize, D: i32, s: usize, scale: v128): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  let b = panel, qd = q;
  const end = panel + (<usize>D << 5);
  while (b < end) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(qd);
    c00 = madd4_f32(x, b0, c00); c01 = madd4_f32(x, b1, c01);
    x = v128.load32_splat(qd, 4);
    c10 = madd4_f32(x, b0, c10); c11 = madd4_f32(x, b1, c11);
    x = v128.load32_splat(qd, 8);
    c20 = madd4_f32(x, b0, c20); c21 = madd4_f32(x, b1, c21);
    x = v128.load32_splat(qd, 12);
    c30 = madd4_f32(x, b0, c30); c31 = madd4_f32(x, b1, c31);
    x = v128.load32_splat(qd, 16);
    c40 = madd4_f32(x, b0, c40); c41 = madd4_f32(x, b1, c41);
    x = v128.load32_splat(qd, 20);
    c50 = madd4_f32(x, b0, c50); c51 = madd4_f32(x, b1, c51);
    qd += 24;
    b += 32;
  }
  v128.store(s, f32x4.mul(c00, scale)); v128.store(s, f32x4.mul(c01, scale), 16);
  v128.store(s, f32x4.mul(c10, scale), TILE_ROW); v128.store(s, f32x4.mul(c11, scale), TILE_ROW + 16);
  v128.store(s, f32x4.mul(c20, scale), 2 * TILE_ROW); v128.store(s, f32x4.mul(c21, scale), 2 * TILE_ROW + 16);
  v128.store(s, f32x4.mul(c30, scale), 3 * TILE_ROW); v128.store(s, f32x4.mul(c31, scale), 3 * TILE_ROW + 16);
  v128.store(s, f32x4.mul(c40, scale), 4 * TILE_ROW); v128.store(s, f32x4.mul(c41, scale), 4 * TILE_ROW + 16);
  v128.store(s, f32x4.mul(c50, scale), 5 * TILE_ROW); v128.store(s, f32x4.mul(c51, scale), 5 * TILE_ROW + 16);
}

// One query row × 8 keys: the row tail (a 1-row group is the row itself).
function scores1x8(q: usize, panel: usize, D: i32, s: usize, scale: v128): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let b = panel;
  for (let d = 0; d < D; d++) {
    const x = v128.load32_splat(q);
    c0 = madd4_f32(x, v128.load(b), c0);
    c1 = madd4_f32(x, v128.load(b, 16), c1);
    q += 4;
    b += 32;
  }
  v128.store(s, f32x4.mul(c0, scale));
  v128.store(s, f32x4.mul(c1, scale), 16);
}

// O[4 rows][8 values] = alpha_r · O + Σ_j P[r][j] · V[j], over kc keys. P is a tile (rows
// TILE_ROW apart). S: how P's values are splatted (LoadSplat or ScalarSplat, see _simd.ts).
function accumulate4x8<S>(p: usize, v: usize, vRow: usize, kc: i32, o: usize, oRow: usize, alpha: usize): void {
  const a0 = v128.load32_splat(alpha), a1 = v128.load32_splat(alpha, 4);
  const a2 = v128.load32_splat(alpha, 8), a3 = v128.load32_splat(alpha, 12);
  const o1 = o + oRow, o2 = o + 2 * oRow, o3 = o + 3 * oRow;
  let c00 = f32x4.mul(v128.load(o), a0), c01 = f32x4.mul(v128.load(o, 16), a0);
  let c10 = f32x4.mul(v128.load(o1), a1), c11 = f32x4.mul(v128.load(o1, 16), a1);
  let c20 = f32x4.mul(v128.load(o2), a2), c21 = f32x4.mul(v128.load(o2, 16), a2);
  let c30 = f32x4.mul(v128.load(o3), a3), c31 = f32x4.mul(v128.load(o3, 16), a3);
  let pj = p;
  const end = p + (<usize>kc << 2);
  while (pj < end) {
    const v0 = v128.load(v), v1 = v128.load(v, 16);
    let x = isScalarSplat<S>() ? f32x4.splat(load<f32>(pj)) : v128.load32_splat(pj);
    c00 = madd4_f32(x, v0, c00); c01 = madd4_f32(x, v1, c01);
    x = isScalarSplat<S>() ? f32x4.splat(load<f32>(pj, TILE_ROW)) : v128.load32_splat(pj, TILE_ROW);
    c10 = madd4_f32(x, v0, c10); c11 = madd4_f32(x, v1, c11);
    x = isScalarSplat<S>()
      ? f32x4.splat(load<f32>(pj, 2 * TILE_ROW))
      : v128.load32_splat(pj, 2 * TILE_ROW);
    c20 = madd4_f32(x, v0, c20); c21 = madd4_f32(x, v1, c21);
    x = isScalarSplat<S>()
      ? f32x4.splat(load<f32>(pj, 3 * TILE_ROW))
      : v128.load32_splat(pj, 3 * TILE_ROW);
    c30 = madd4_f32(x, v0, c30); c31 = madd4_f32(x, v1, c31);
    pj += 4;
    v += vRow;
  }
  v128.store(o, c00); v128.store(o, c01, 16);
  v128.store(o1, c10); v128.store(o1, c11, 16);
  v128.store(o2, c20); v128.store(o2, c21, 16);
  v128.store(o3, c30); v128.store(o3, c31, 16);
}

// O[6 rows][8 values]: as accumulate4x8 with 12 accumulators.
function accumulate6x8(p: usize, v: usize, vRow: usize, kc: i32, o: usize, oRow: usize, alpha: usize): void {
  let a = v128.load32_splat(alpha);
  let c00 = f32x4.mul(v128.load(o), a), c01 = f32x4.mul(v128.load(o, 16), a);
  a = v128.load32_splat(alpha, 4);
  let c10 = f32x4.mul(v128.load(o + oRow), a), c11 = f32x4.mul(v128.load(o + oRow, 16), a);
  a = v128.load32_splat(alpha, 8);
  let c20 = f32x4.mul(v128.load(o + 2 * oRow), a), c21 = f32x4.mul(v128.load(o + 2 * oRow, 16), a);
  a = v128.load32_splat(alpha, 12);
  let c30 = f32x4.mul(v128.load(o + 3 * oRow), a), c31 = f32x4.mul(v128.load(o + 3 * oRow, 16), a);
  a = v128.load32_splat(alpha, 16);
  let c40 = f32x4.mul(v128.load(o + 4 * oRow), a), c41 = f32x4.mul(v128.load(o + 4 * oRow, 16), a);
  a = v128.load32_splat(alpha, 20);
  let c50 = f32x4.mul(v128.load(o + 5 * oRow), a), c51 = f32x4.mul(v128.load(o + 5 * oRow, 16), a);
  let pj = p;
  const end = p + (<usize>kc << 2);
  while (pj < end) {
    const v0 = v128.load(v), v1 = v128.load(v, 16);
    let x = v128.load32_splat(pj);
    c00 = madd4_f32(x, v0, c00); c01 = madd4_f32(x, v1, c01);
    x = v128.load32_splat(pj, TILE_ROW);
    c10 = madd4_f32(x, v0, c10); c11 = madd4_f32(x, v1, c11);
    x = v128.load32_splat(pj, 2 * TILE_ROW);
    c20 = madd4_f32(x, v0, c20); c21 = madd4_f32(x, v1, c21);
    x = v128.load32_splat(pj, 3 * TILE_ROW);
    c30 = madd4_f32(x, v0, c30); c31 = madd4_f32(x, v1, c31);
    x = v128.load32_splat(pj, 4 * TILE_ROW);
    c40 = madd4_f32(x, v0, c40); c41 = madd4_f32(x, v1, c41);
    x = v128.load32_splat(pj, 5 * TILE_ROW);
    c50 = madd4_f32(x, v0, c50); c51 = madd4_f32(x, v1, c51);
    pj += 4;
    v += vRow;
  }
  v128.store(o, c00); v128.store(o, c01, 16);
  o += oRow;
  v128.store(o, c10); v128.store(o, c11, 16);
  o += oRow;
  v128.store(o, c20); v128.store(o, c21, 16);
  o += oRow;
  v128.store(o, c30); v128.store(o, c31, 16);
  o += oRow;
  v128.store(o, c40); v128.store(o, c41, 16);
  o += oRow;
  v128.store(o, c50); v128.store(o, c51, 16);
}

// One row of O over `width` values (any width): the row and column tails of accumulate4x8.
function accumulateRow(p: usize, v: usize, vRow: usize, kc: i32, o: usize, width: i32, alpha: f32): void {
  const va = f32x4.splat(alpha);
  let e = 0;
  for (; e + 4 <= width; e += 4) {
    const oe = o + (<usize>e << 2);
    let acc = f32x4.mul(v128.load(oe), va);
    let vj = v + (<usize>e << 2);
    for (let j = 0; j < kc; j++) {
      acc = madd4_f32(v128.load32_splat(p + (<usize>j << 2)), v128.load(vj), acc);
      vj += vRow;
    }
    v128.store(oe, acc);
  }
  for (; e < width; e++) {
    const oe = o + (<usize>e << 2);
    let acc = load<f32>(oe) * alpha;
    let vj = v + (<usize>e << 2);
    for (let j = 0; j < kc; j++) {
      acc += load<f32>(p + (<usize>j << 2)) * load<f32>(vj);
      vj += vRow;
    }
    store<f32>(oe, acc);
  }
}

// accumulateBlock for values that hold NaN or ±∞ (the host scans v and says so): a key whose
// weight P is exactly 0 (masked, past the diagonal, or underflowed) contributes nothing, where
// the micro-kernels would add 0 · ∞ = NaN. One row and four columns at a time; the fast path
// never pays for this.
function accumulateBlockGuarded(
  p: usize, v: usize, vRow: usize, kc: i32, o: usize, oRow: usize, rows: i32, width: i32, alphas: usize,
): void {
  for (let r = 0; r < rows; r++) {
    const pr = p + <usize>r * TILE_ROW, or = o + <usize>r * oRow;
    const alpha = load<f32>(alphas + (<usize>r << 2));
    const va = f32x4.splat(alpha);
    let e = 0;
    for (; e + 4 <= width; e += 4) v128.store(or + (<usize>e << 2), f32x4.mul(v128.load(or + (<usize>e << 2)), va));
    for (; e < width; e++) store<f32>(or + (<usize>e << 2), load<f32>(or + (<usize>e << 2)) * alpha);
    for (let j = 0; j < kc; j++) {
      const w = load<f32>(pr + (<usize>j << 2));
      if (w == 0) continue;
      const vw = f32x4.splat(w), vj = v + <usize>j * vRow;
      e = 0;
      for (; e + 4 <= width; e += 4) {
        const oe = or + (<usize>e << 2);
        v128.store(oe, madd4_f32(vw, v128.load(vj + (<usize>e << 2)), v128.load(oe)));
      }
      for (; e < width; e++) {
        const oe = or + (<usize>e << 2);
        store<f32>(oe, w * load<f32>(vj + (<usize>e << 2)) + load<f32>(oe));
      }
    }
  }
}

// S[rows][0 .. width) = scale · Q[rows] · packed keys into a tile, by 6×8 / 4×8 / 1×8
// micro-kernels per 8-key panel. qp holds the rows packed by packRowGroups; `width` is a
// multiple of 8. `reach` (causal blocks: row r weighs only keys < r + reach): row groups that
// weigh no key of a panel skip it, leaving their entries there as they were; the caller masks
// them. The default weighs every key of the block.
function scoresBlock(
  qp: usize, packed: usize, D: i32, tile: usize, rows: i32, width: i32, scale: v128,
  reach: i32 = TILE_COLUMNS,
): void {
  const qRow = <usize>D << 2;
  for (let p = 0; p < width; p += 8) {
    const panel = packed + ((<usize>(p >> 3) * <usize>D) << 5);
    const s = tile + (<usize>p << 2);
    let r = 0;
    while (r < rows) {
      const g = groupRows(rows - r, wideRows);
      if (r + g - 1 + reach <= p) {
        r += g;
        continue;
      }
      const q = qp + <usize>r * qRow, sr = s + <usize>r * TILE_ROW;
      if (ASC_FEATURE_RELAXED_SIMD && g == 6) scores6x8(q, panel, D, sr, scale);
      else if (g == 4 && scalarSplats) scores4x8<ScalarSplat>(q, panel, D, sr, scale);
      else if (g == 4) scores4x8<LoadSplat>(q, panel, D, sr, scale);
      else scores1x8(q, panel, D, sr, scale);
      r += g;
    }
  }
}

// O[rows][0 .. width) = alpha_r · O + P[rows][0 .. kc) · V[0 .. kc][0 .. width): 8-column strips
// by 6×8 / 4×8 micro-kernels, then row and column tails. P is a tile (kc <= TILE_COLUMNS);
// alphas holds one factor per row. `reach`: P[r][j] is zero for j >= r + reach (a causal
// block), so the row group r .. r + g − 1 reads only its first r + g − 1 + reach keys.
function accumulateBlock(
  p: usize, v: usize, vRow: usize, kc: i32, o: usize, oRow: usize, rows: i32, width: i32, alphas: usize,
  reach: i32 = TILE_COLUMNS,
): void {
  let e = 0;
  for (; e + 8 <= width; e += 8) {
    const ve = v + (<usize>e << 2), oe = o + (<usize>e << 2);
    let r = 0;
    while (r < rows) {
      const g = groupRows(rows - r, wideRows);
      const pr = p + <usize>r * TILE_ROW, or = oe + <usize>r * oRow, ar = alphas + (<usize>r << 2);
      const keys = min(kc, max(0, r + g - 1 + reach));
      if (ASC_FEATURE_RELAXED_SIMD && g == 6) accumulate6x8(pr, ve, vRow, keys, or, oRow, ar);
      else if (g == 4 && scalarSplats) accumulate4x8<ScalarSplat>(pr, ve, vRow, keys, or, oRow, ar);
      else if (g == 4) accumulate4x8<LoadSplat>(pr, ve, vRow, keys, or, oRow, ar);
      else accumulateRow(pr, ve, vRow, keys, or, 8, load<f32>(ar));
      r += g;
    }
  }
  if (e < width) {
    for (let r = 0; r < rows; r++) {
      accumulateRow(
        p + <usize>r * TILE_ROW, v + (<usize>e << 2), vRow, min(kc, max(0, r + reach)),
        o + <usize>r * oRow + (<usize>e << 2), width - e, load<f32>(alphas + (<usize>r << 2)),
      );
    }
  }
}

// Adds the mask (times log2 e) to the first `visible` logits of a row and sets the rest of its `width` to −inf.
// @ts-ignore: decorator
@inline function finishLogits(s: usize, mask: usize, visible: i32, width: i32): void {
  let c = 0;
  if (mask != 0) {
    const log2e = f32x4.splat(LOG2E);
    for (; c + 4 <= visible; c += 4) {
      const o = <usize>c << 2;
      v128.store(s + o, madd4_f32(v128.load(mask + o), log2e, v128.load(s + o)));
    }
    for (; c < visible; c++) {
      const o = <usize>c << 2;
      store<f32>(s + o, load<f32>(mask + o) * LOG2E + load<f32>(s + o));
    }
  }
  fill_f32(s + (<usize>max(visible, 0) << 2), -Infinity, width - max(visible, 0));
}

// The online-softmax update of one row (base 2): P = 2^(S − m'), l = l·2^(m − m') + Σ P.
// Returns the rescale factor 2^(m − m') of the row's accumulator. `width` is a multiple of 8.
// @ts-ignore: decorator
@inline function softmaxRow(s: usize, width: i32, stats: usize, sums: usize): f32 {
  // Two running maxima (width is a multiple of 8): half the chain of dependent pmax.
  let vmax = f32x4.splat(-Infinity), vmax1 = vmax;
  for (let c = 0; c < width; c += 8) {
    vmax = f32x4.pmax(vmax, v128.load(s + (<usize>c << 2)));
    vmax1 = f32x4.pmax(vmax1, v128.load(s + (<usize>c << 2), 16));
  }
  vmax = f32x4.pmax(vmax, vmax1);
  const previous = load<f32>(stats);
  const next = max<f32>(previous, hmax4_f32(vmax));
  if (next == -Infinity) {
    // Nothing finite yet. pmax skipped NaN logits: a NaN among them makes the row's sum NaN
    // (so the row ends NaN, as in the reference); the accumulator stays zero either way.
    for (let c = 0; c < width; c++) {
      const x = load<f32>(s + (<usize>c << 2));
      if (x != x) store<f32>(sums, x);
    }
    fill_f32(s, 0, width);
    return 1;
  }
  const vm = f32x4.splat(next);
  let vsum = f32x4.splat(0);
  for (let c = 0; c < width; c += 4) {
    const o = s + (<usize>c << 2);
    const pr = exp2x4Capped(f32x4.sub(v128.load(o), vm), false);
    v128.store(o, pr);
    vsum = f32x4.add(vsum, pr);
  }
  const alpha = exp2_f32(previous - next);
  store<f32>(stats, next);
  store<f32>(sums, load<f32>(sums) * alpha + hsum4_f32(vsum));
  return alpha;
}

/**
 * The next work item of a lane that claims its items (see flash_forward_f32): `first` plus the
 * count in the i32 at `claim`, which this lane moves on by one.
 */
// @ts-ignore: decorator
@inline function claimItem(claim: usize, first: i32): i32 {
  return first + atomic.add<i32>(claim, 1);
}

/**
 * Softmax attention over work items [firstItem, endItem): item = (b·H + h)·blocks + block with
 * blocks = ceil(Nq / queryBlock). `lse` and `mask` are 0 when absent. Causal alignment is
 * bottom-right: query i sees key j when j <= i + Nk − Nq.
 *
 * `claim` 0: every item of the range. Otherwise the address of an i32, 0 at the call's start,
 * that every lane of the call shares (each with its own scratch) on shared memory: each lane
 * claims the range's items one at a time, so that a lane whose core is slower or shared (more
 * threads than cores, a busy host, efficiency cores) takes fewer. Each item is computed the same
 * way whichever lane claims it.
 */
export function flash_forward_f32(
  out: usize, lse: usize, q: usize, k: usize, v: usize, mask: usize, scratch: usize,
  heads: i32, kvHeads: i32, Nq: i32, Nk: i32, D: i32, Dv: i32,
  maskBatchStride: i32, maskHeadStride: i32, maskRowStride: i32,
  isCausal: i32, queryBlock: i32, firstItem: i32, endItem: i32, scale: f32, guardValues: i32,
  claim: usize,
): void {
  const Br = queryBlock;
  const packed = scratch;
  const packedRows = packedKeyRows(Nk, D), once = packedRows > FLASH_KEY_BLOCK;
  const tile = packed + (<usize>(packedRows * D) << 2);
  const acc = tile + (<usize>(Br * TILE_COLUMNS) << 2);
  const stats = acc + (<usize>(Br * Dv) << 2);
  const sums = stats + (<usize>Br << 2);
  const alphas = sums + (<usize>Br << 2);
  const qPacked = alphas + (<usize>Br << 2);
  const blocks = (Nq + Br - 1) / Br;
  const group = heads / kvHeads;
  const offset = Nk - Nq;
  const vscale = f32x4.splat(scale * LOG2E); // logits in base 2
  const qRow = <usize>D << 2, oRow = <usize>Dv << 2;
  // With `once`, keys kvBase .. kvBase + packedEnd − 1 are packed (by this or an earlier item).
  let packedBase = -1, packedEnd = 0;
  let item = claim == 0 ? firstItem : claimItem(claim, firstItem);
  for (; item < endItem; item = claim == 0 ? item + 1 : claimItem(claim, firstItem)) {
    const block = item % blocks, bh = item / blocks;
    const h = bh % heads, b = bh / heads;
    const kvBase = (b * kvHeads + h / group) * Nk;
    const i0 = block * Br, rows = min(Br, Nq - i0);
    const keyEnd = isCausal ? max(0, min(Nk, i0 + rows + offset)) : Nk;
    const qBlock = q + <usize>(bh * Nq + i0) * qRow;
    packRowGroups(qBlock, qRow, 4, rows, D, qPacked, wideRows);
    fill_f32(stats, -Infinity, rows);
    fill_f32(sums, 0, rows);
    fill_f32(acc, 0, rows * Dv);
    if (once && packedBase != kvBase) {
      packedBase = kvBase;
      packedEnd = 0;
    }
    for (let j0 = 0; j0 < keyEnd; j0 += FLASH_KEY_BLOCK) {
      const kc = min(FLASH_KEY_BLOCK, keyEnd - j0);
      const width = (kc + 7) & ~7;
      const panels = once ? packed + (<usize>(j0 * D) << 2) : packed;
      // A causal item may have packed part of this block only: the block is packed again.
      if (!once || j0 + kc > packedEnd) {
        packKeys(k + <usize>(kvBase + j0) * qRow, panels, kc, D);
        packedEnd = j0 + kc;
      }
      // Causal: row r weighs keys j0 + j for j < r + reach; blocks across the diagonal skip
      // the products of keys no row of a group weighs.
      const reach = isCausal ? min(FLASH_KEY_BLOCK, i0 + offset - j0 + 1) : FLASH_KEY_BLOCK;
      scoresBlock(qPacked, panels, D, tile, rows, width, vscale, reach);
      for (let r = 0; r < rows; r++) {
        const i = i0 + r;
        const visible = isCausal ? min(kc, i + offset - j0 + 1) : kc;
        const maskRow: usize = mask == 0 ? 0
          : mask + (<usize>(b * maskBatchStride + h * maskHeadStride + i * maskRowStride + j0) << 2);
        const s = tile + <usize>r * TILE_ROW;
        finishLogits(s, maskRow, visible, width);
        const alpha = softmaxRow(s, width, stats + (<usize>r << 2), sums + (<usize>r << 2));
        store<f32>(alphas + (<usize>r << 2), alpha);
      }
      const vBlock = v + <usize>(kvBase + j0) * oRow;
      if (guardValues) accumulateBlockGuarded(tile, vBlock, oRow, kc, acc, oRow, rows, Dv, alphas);
      else accumulateBlock(tile, vBlock, oRow, kc, acc, oRow, rows, Dv, alphas, reach);
    }
    for (let r = 0; r < rows; r++) {
      const sum = load<f32>(sums + (<usize>r << 2));
      const row = <usize>(bh * Nq + i0 + r);
      // sum = 0: no visible key (zeros, lse −∞); sum NaN: a NaN logit (the row is NaN).
      scale_f32(out + row * oRow, acc + <usize>r * oRow, sum == 0 ? 0 : 1 / sum, Dv);
      if (lse != 0) {
        const m = load<f32>(stats + (<usize>r << 2));
        store<f32>(lse + (row << 2), sum == 0 ? -Infinity : m * LN2 + Mathf.log(sum));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Linear attention
//
// Per (batch, head) the rows are cut into chunks of `chunk` rows (the host's choice, 64 by
// default); the running sums S = Σ φ(k_j) v_jᵀ (D × Dv) and z = Σ φ(k_j) cover earlier chunks
// (causal) or every key (built before the first chunk otherwise). Each chunk is computed as
// matrix products with the micro-kernels of the softmax kernel, 64 rows at a time:
//
//   O_blk = φQ_blk · S,  den = φQ_blk · z                       addRowsTimes, dot
//   causal, for each key block kb <= the query block:
//     W = φQ_blk · φK_kbᵀ, 0 past the diagonal                  scoresBlock
//     den += rowsum W,  O_blk += W · V_kb                        accumulateBlock
//   out = O / den (0 where den = 0)
//   causal: S += φK_chunkᵀ · V_chunk, z += Σ φK_chunk            addLinearState
//
// A value row past the diagonal must not meet its zero weight when values hold NaN or ±∞
// (0 · ∞ = NaN): then each row of a diagonal block reads only its visible keys. Items run in a
// fixed order, so results do not depend on how items are split across threads.
//
// Scratch of one task (f32 each):
//
//   | S: D·Dv | z: D | φK: 64·D | packed φK: 64·D | φQ: 64·D | packed φQ: 64·D | W: 64·128 |
//   | φKᵀ: D·128 | ones: max(64, D) | den: 64 |   (tiles TILE_COLUMNS wide, 64 columns used)

const LINEAR_ROWS: i32 = 64;

/** φ(x) into dst for n floats: elu(x) + 1 (map 0) or relu (map 1). */
function featureMap(src: usize, dst: usize, n: i32, map: i32): void {
  const one = f32x4.splat(1), zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const x = v128.load(src + o);
    const y = map == 0
      ? v128.bitselect(f32x4.add(x, one), exp4_f32(x), f32x4.gt(x, zero))
      : f32x4.pmax(x, zero);
    v128.store(dst + o, y);
  }
  for (; i < n; i++) {
    const x = load<f32>(src + (<usize>i << 2));
    const y: f32 = map == 0 ? (x > 0 ? x + 1 : exp2_f32(x * LOG2E)) : (x > 0 ? x : 0);
    store<f32>(dst + (<usize>i << 2), y);
  }
}

/** Bytes of scratch one linear-attention task needs (any chunk size). */
export function linear_forward_scratch_f32(headDim: i32, valueDim: i32, chunk: i32): i32 {
  return (headDim * valueDim + headDim + 4 * LINEAR_ROWS * headDim + LINEAR_ROWS * TILE_COLUMNS +
    headDim * TILE_COLUMNS + max(LINEAR_ROWS, headDim) + LINEAR_ROWS) << 2;
}

// S += φK_jᵀ · V_j and z += Σ_j φK_j over `rows` keys from k, 64 at a time (φK: a 64·D buffer).
function addToState(
  k: usize, v: usize, rows: i32, D: i32, Dv: i32, map: i32, state: usize, norm: usize, phiK: usize,
  phiKT: usize, ones: usize,
): void {
  const kRow = <usize>D << 2, vRow = <usize>Dv << 2;
  for (let j0 = 0; j0 < rows; j0 += KEY_BLOCK) {
    const kc = min(KEY_BLOCK, rows - j0);
    featureMap(k + <usize>j0 * kRow, phiK, kc * D, map);
    addLinearState(phiK, v + <usize>j0 * vRow, kc, D, Dv, 1, state, phiKT, ones);
    for (let c = 0; c < kc; c++) axpy_f32(norm, 1, phiK + <usize>c * kRow, D);
  }
}

// The in-chunk terms of one query block (rows r0 .. r0 + rows of a causal chunk that starts at
// k and v): W = φQ · φK_kbᵀ for the key blocks up to the diagonal, den += rowsum W,
// O += W · V_kb. qPacked holds the block's φQ rows packed by packRowGroups.
function chunkTerms(
  k: usize, v: usize, r0: i32, rows: i32, D: i32, Dv: i32, map: i32, qPacked: usize, o: usize,
  den: usize, phiK: usize, packed: usize, tile: usize, ones: usize, guardValues: i32,
): void {
  const kRow = <usize>D << 2, vRow = <usize>Dv << 2;
  const one = f32x4.splat(1);
  for (let kb = 0; kb <= r0; kb += KEY_BLOCK) {
    const kc = min(KEY_BLOCK, r0 + rows - kb);
    featureMap(k + <usize>kb * kRow, phiK, kc * D, map);
    packKeys(phiK, packed, kc, D);
    const diagonal = kb == r0;
    const reach = diagonal ? 1 : KEY_BLOCK;
    scoresBlock(qPacked, packed, D, tile, rows, (kc + 7) & ~7, one, reach);
    for (let r = 0; r < rows; r++) {
      const w = tile + <usize>r * TILE_ROW;
      const visible = diagonal ? r + 1 : kc;
      fill_f32(w + (<usize>visible << 2), 0, kc - visible);
      let sum: f32 = 0;
      for (let c = 0; c < visible; c++) sum += load<f32>(w + (<usize>c << 2));
      store<f32>(den + (<usize>r << 2), load<f32>(den + (<usize>r << 2)) + sum);
    }
    const vBlock = v + <usize>kb * vRow;
    if (diagonal && guardValues) {
      for (let r = 0; r < rows; r++) {
        accumulateRow(tile + <usize>r * TILE_ROW, vBlock, vRow, r + 1, o + <usize>r * vRow, Dv, 1);
      }
    } else {
      accumulateBlock(tile, vBlock, vRow, kc, o, vRow, rows, Dv, ones, reach);
    }
  }
}

/**
 * Linear attention over (batch, head) items [firstItem, endItem). Causal calls keep a running
 * state over earlier chunks of `chunk` rows plus exact in-chunk terms; rows with a zero
 * denominator are written as zeros. guardValues: v holds NaN or ±∞ (see above). `claim`: as
 * flash_forward_f32's (0: every item of the range).
 */
export function linear_forward_f32(
  out: usize, q: usize, k: usize, v: usize, scratch: usize,
  heads: i32, kvHeads: i32, Nq: i32, Nk: i32, D: i32, Dv: i32,
  isCausal: i32, map: i32, chunk: i32, firstItem: i32, endItem: i32, guardValues: i32,
  claim: usize,
): void {
  const group = heads / kvHeads;
  const state = scratch;
  const norm = state + (<usize>(D * Dv) << 2);
  const phiK = norm + (<usize>D << 2);
  const packed = phiK + (<usize>(LINEAR_ROWS * D) << 2);
  const phiQ = packed + (<usize>(LINEAR_ROWS * D) << 2);
  const qPacked = phiQ + (<usize>(LINEAR_ROWS * D) << 2);
  const tile = qPacked + (<usize>(LINEAR_ROWS * D) << 2);
  const phiKT = tile + (<usize>(LINEAR_ROWS * TILE_COLUMNS) << 2);
  const ones = phiKT + (<usize>(D * TILE_COLUMNS) << 2);
  const den = ones + (<usize>max(LINEAR_ROWS, D) << 2);
  const kRow = <usize>D << 2, vRow = <usize>Dv << 2;
  fill_f32(ones, 1, max(LINEAR_ROWS, D));
  let bh = claim == 0 ? firstItem : claimItem(claim, firstItem);
  for (; bh < endItem; bh = claim == 0 ? bh + 1 : claimItem(claim, firstItem)) {
    const h = bh % heads, b = bh / heads;
    const kvBase = <usize>((b * kvHeads + h / group) * Nk);
    const kBase = k + kvBase * kRow, vBase = v + kvBase * vRow;
    fill_f32(state, 0, D * Dv);
    fill_f32(norm, 0, D);
    if (!isCausal) addToState(kBase, vBase, Nk, D, Dv, map, state, norm, phiK, phiKT, ones);
    for (let start = 0; start < Nq; start += chunk) {
      const len = min(chunk, Nq - start);
      for (let r0 = 0; r0 < len; r0 += LINEAR_ROWS) {
        const rows = min(LINEAR_ROWS, len - r0);
        const row = <usize>(bh * Nq + start + r0);
        const o = out + row * vRow;
        featureMap(q + row * kRow, phiQ, rows * D, map);
        fill_f32(o, 0, rows * Dv);
        addRowsTimes(phiQ, kRow, rows, D, state, Dv, o, tile, ones);
        for (let r = 0; r < rows; r++) {
          store<f32>(den + (<usize>r << 2), dot_f32(phiQ + <usize>r * kRow, norm, D));
        }
        if (isCausal) {
          packRowGroups(phiQ, kRow, 4, rows, D, qPacked, wideRows);
          chunkTerms(
            kBase + <usize>start * kRow, vBase + <usize>start * vRow, r0, rows, D, Dv, map, qPacked,
            o, den, phiK, packed, tile, ones, guardValues,
          );
        }
        for (let r = 0; r < rows; r++) {
          const d = load<f32>(den + (<usize>r << 2));
          const or = o + <usize>r * vRow;
          scale_f32(or, or, d == 0 ? 0 : 1 / d, Dv);
        }
      }
      if (isCausal) {
        addToState(
          kBase + <usize>start * kRow, vBase + <usize>start * vRow, len, D, Dv, map, state, norm, phiK,
          phiKT, ones,
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Mixed-chunk attention (FLASH)
//
// Per (batch, head) the sequence is cut into chunks of C rows; the output rows of a chunk are
// the accumulator (zeroed first), built in a fixed order so that results do not depend on how
// items are split across threads:
//
//   for each key block kb of 64 keys in the chunk         packed once into 8-key panels
//     for each query block of 64 rows (causal: from kb on, blocks above the diagonal skipped)
//       S = Q_blk · K_kbᵀ / C                               scores6x8 / 4x8 micro-kernels
//       W = relu(S + bias)²  (0 for keys after the query when causal)
//       O_blk += W · V_kb                                    accumulate6x8 / 4x8
//   O_chunk += linQ_chunk · state                           the global part, same kernels
//   causal: state += (linK_chunk / C)ᵀ · V_chunk            transposed 64 rows at a time
//
// Non-causal calls build state = Σ_all linK_j v_jᵀ / N before the first chunk.
//
// Scratch of one task (f32 each):
//
//   | packed K: 64·D | S/W: 64·128 | ones: max(64, Dl) | state: Dl·Dv | linKᵀ: Dl·128 |
//   | packed Q: 64·D |

const MIXED_ROWS: i32 = 64;

/** Bytes of scratch one mixed-chunk task needs. */
export function mixed_chunk_forward_scratch_f32(headDim: i32, valueDim: i32, linearDim: i32): i32 {
  return (KEY_BLOCK * headDim + MIXED_ROWS * TILE_COLUMNS + max(MIXED_ROWS, linearDim) +
    linearDim * valueDim + linearDim * TILE_COLUMNS + MIXED_ROWS * headDim) << 2;
}

// W = relu(S + bias)² over the first `visible` entries of a row, 0 for the rest up to `count`.
// pmax keeps a NaN sum (first operand), so NaN propagates as in the reference.
// @ts-ignore: decorator
@inline function relu2Row(s: usize, bias: usize, visible: i32, count: i32): void {
  const zero = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= visible; c += 4) {
    const o = <usize>c << 2;
    let t = v128.load(s + o);
    if (bias != 0) t = f32x4.add(t, v128.load(bias + o));
    t = f32x4.pmax(t, zero);
    v128.store(s + o, f32x4.mul(t, t));
  }
  for (; c < visible; c++) {
    const o = <usize>c << 2;
    let t = load<f32>(s + o);
    if (bias != 0) t += load<f32>(bias + o);
    t = t < 0 ? 0 : t;
    store<f32>(s + o, t * t);
  }
  fill_f32(s + (<usize>max(visible, 0) << 2), 0, count - max(visible, 0));
}

// state += Σ_{j in [0, rows)} (linK_j · weight) ⊗ v_j, 64 rows at a time: the rows are
// transposed (and weighted) into linKT, then one accumulateBlock adds linKTᵀ·V.
function addLinearState(
  linK: usize, v: usize, rows: i32, Dl: i32, Dv: i32, weight: f32, state: usize, linKT: usize,
  ones: usize,
): void {
  const lRow = <usize>Dl << 2, vRow = <usize>Dv << 2;
  for (let j0 = 0; j0 < rows; j0 += KEY_BLOCK) {
    const kc = min(KEY_BLOCK, rows - j0);
    for (let c = 0; c < kc; c++) {
      const src = linK + <usize>(j0 + c) * lRow;
      for (let d = 0; d < Dl; d++) {
        store<f32>(linKT + <usize>d * TILE_ROW + (<usize>c << 2), load<f32>(src + (<usize>d << 2)) * weight);
      }
    }
    accumulateBlock(linKT, v + <usize>j0 * vRow, vRow, kc, state, vRow, Dl, Dv, ones);
  }
}

// Copies `rows` rows of `count` (<= KEY_BLOCK) floats, srcRow bytes apart, into a tile.
function copyRows(src: usize, srcRow: usize, rows: i32, count: i32, tile: usize): void {
  for (let r = 0; r < rows; r++) {
    const from = src + <usize>r * srcRow, to = tile + <usize>r * TILE_ROW;
    let c = 0;
    for (; c + 4 <= count; c += 4) v128.store(to + (<usize>c << 2), v128.load(from + (<usize>c << 2)));
    for (; c < count; c++) store<f32>(to + (<usize>c << 2), load<f32>(from + (<usize>c << 2)));
  }
}

// O[rows][0 .. Dv) += A[rows][0 .. width) · M (width × Dv), A's rows aRow bytes apart: A goes
// through the tile KEY_BLOCK columns at a time so that accumulateBlock reads it at its constant
// row stride (rows <= KEY_BLOCK); the sums run in the same order either way.
function addRowsTimes(
  a: usize, aRow: usize, rows: i32, width: i32, m: usize, Dv: i32, o: usize, tile: usize, ones: usize,
): void {
  const vRow = <usize>Dv << 2;
  for (let l0 = 0; l0 < width; l0 += KEY_BLOCK) {
    const lc = min(KEY_BLOCK, width - l0);
    copyRows(a + (<usize>l0 << 2), aRow, rows, lc, tile);
    accumulateBlock(tile, m + <usize>l0 * vRow, vRow, lc, o, vRow, rows, Dv, ones);
  }
}

// The quadratic part of one chunk of `len` rows: out rows += relu(Q Kᵀ / C + bias)² V.
function localChunk(
  out: usize, q: usize, k: usize, v: usize, bias: usize, biasRowStride: i32, len: i32, D: i32,
  Dv: i32, isCausal: i32, scale: v128, packed: usize, tile: usize, qPacked: usize, ones: usize,
  guardValues: i32,
): void {
  const qRow = <usize>D << 2, vRow = <usize>Dv << 2;
  for (let kb = 0; kb < len; kb += KEY_BLOCK) {
    const kc = min(KEY_BLOCK, len - kb);
    const width = (kc + 7) & ~7;
    packKeys(k + <usize>kb * qRow, packed, kc, D);
    for (let r0 = isCausal ? kb : 0; r0 < len; r0 += MIXED_ROWS) {
      const rows = min(MIXED_ROWS, len - r0);
      // A block on the diagonal (causal) weighs only keys <= each row: half the products.
      const reach = isCausal != 0 && r0 == kb ? 1 : KEY_BLOCK;
      packRowGroups(q + <usize>r0 * qRow, qRow, 4, rows, D, qPacked, wideRows);
      scoresBlock(qPacked, packed, D, tile, rows, width, scale, reach);
      for (let r = 0; r < rows; r++) {
        const i = r0 + r;
        const visible = isCausal ? min(kc, i - kb + 1) : kc;
        const biasRow: usize = bias == 0 ? 0 : bias + (<usize>(i * biasRowStride + kb) << 2);
        relu2Row(tile + <usize>r * TILE_ROW, biasRow, visible, kc);
      }
      const vBlock = v + <usize>kb * vRow, outRows = out + <usize>r0 * vRow;
      // Masked pairs and relu(·) = 0 give weight 0, which must not meet a NaN or ±∞ value.
      if (guardValues) accumulateBlockGuarded(tile, vBlock, vRow, kc, outRows, vRow, rows, Dv, ones);
      else accumulateBlock(tile, vBlock, vRow, kc, outRows, vRow, rows, Dv, ones, reach);
    }
  }
}

/**
 * Mixed-chunk attention over (batch, head) items [firstItem, endItem): relu(q·k/C + bias)²
 * within chunks of C rows, plus linQ · (Σ linK ⊗ v) across chunks (earlier chunks / C when
 * causal, all rows / N otherwise). linQ = linK = 0 drops the global part; bias = 0 means none.
 * `claim`: as flash_forward_f32's (0: every item of the range).
 */
export function mixed_chunk_forward_f32(
  out: usize, q: usize, k: usize, v: usize, linQ: usize, linK: usize, bias: usize, scratch: usize,
  heads: i32, kvHeads: i32, N: i32, D: i32, Dv: i32, Dl: i32, C: i32, isCausal: i32,
  biasBatchStride: i32, biasHeadStride: i32, biasRowStride: i32, firstItem: i32, endItem: i32,
  guardValues: i32, claim: usize,
): void {
  const packed = scratch;
  const tile = packed + (<usize>(KEY_BLOCK * D) << 2);
  const ones = tile + (<usize>(MIXED_ROWS * TILE_COLUMNS) << 2);
  const state = ones + (<usize>max(MIXED_ROWS, Dl) << 2);
  const linKT = state + (<usize>(Dl * Dv) << 2);
  const qPacked = linKT + (<usize>(Dl * TILE_COLUMNS) << 2);
  const kRow = <usize>D << 2, vRow = <usize>Dv << 2, lRow = <usize>Dl << 2;
  const group = heads / kvHeads;
  const global = linQ != 0;
  const scale = f32x4.splat(1 / <f32>C);
  fill_f32(ones, 1, max(MIXED_ROWS, Dl));
  let bh = claim == 0 ? firstItem : claimItem(claim, firstItem);
  for (; bh < endItem; bh = claim == 0 ? bh + 1 : claimItem(claim, firstItem)) {
    const h = bh % heads, b = bh / heads;
    const kvBase = <usize>((b * kvHeads + h / group) * N);
    const kBase = k + kvBase * kRow, vBase = v + kvBase * vRow, lkBase = linK + kvBase * lRow;
    const row0 = <usize>(bh * N);
    const biasHead: usize = bias == 0 ? 0
      : bias + (<usize>(b * biasBatchStride + h * biasHeadStride) << 2);
    fill_f32(out + row0 * vRow, 0, N * Dv);
    fill_f32(state, 0, Dl * Dv);
    if (global && !isCausal) addLinearState(lkBase, vBase, N, Dl, Dv, 1 / <f32>N, state, linKT, ones);
    for (let start = 0; start < N; start += C) {
      const len = min(C, N - start);
      const outChunk = out + (row0 + <usize>start) * vRow;
      localChunk(
        outChunk, q + (row0 + <usize>start) * kRow, kBase + <usize>start * kRow,
        vBase + <usize>start * vRow, biasHead, biasRowStride, len, D, Dv, isCausal, scale, packed,
        tile, qPacked, ones, guardValues,
      );
      if (global) {
        for (let r0 = 0; r0 < len; r0 += MIXED_ROWS) {
          const rows = min(MIXED_ROWS, len - r0);
          const lq = linQ + (row0 + <usize>(start + r0)) * lRow, o = outChunk + <usize>r0 * vRow;
          addRowsTimes(lq, lRow, rows, Dl, state, Dv, o, tile, ones);
        }
        if (isCausal) {
          addLinearState(lkBase + <usize>start * lRow, vBase + <usize>start * vRow, len, Dl, Dv, 1 / <f32>C, state, linKT, ones);
        }
      }
    }
  }
}
