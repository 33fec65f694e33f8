// Single-precision GEMM:  C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C.
//
// B is first packed into panels of 8 columns so the micro-kernel reads it contiguously:
//
//   packed B:  panel 0            panel 1            ...   (the last panel is zero-padded)
//              k=0: b00 .. b07    k=0: b08 .. b0f
//              k=1: b10 .. b17    k=1: b18 .. b1f
//              ...  (K rows)      ...
//
// The 4×8 micro-kernel keeps a 4-row × 8-column block of C in 8 v128 registers and, per k,
// splats one A value per row and does 8 multiply-adds (6×8 with 12 registers where the build
// has a fused multiply-add). Loops are blocked over K (KC) so a micro-panel of B (KC×8 floats =
// 8 KiB) stays in L1 while it is reused for MC rows of A. Each MC×KC block of op(A) is first
// copied into row groups, k-major (packRowGroups in _simd.ts), so a micro-kernel step reads its
// splats at constant offsets from one pointer whatever A's strides: two pointer increments per
// step, not one per row.
// The K blocking is fixed, so every element of C is summed in the same order whatever rows a
// thread is given: results are bit-identical for any split.
//
//
// A micro-kernel ends by storing its accumulators to a small tile in the task's scratch, and
// writeTile (out of line) applies alpha and beta and writes C from there. With that epilogue
// inlined after the loop (lane extractions for a partial panel, beta's branches), Firefox 140's
// compiler slowed the loop itself: the plain build's 512³ product ran at 11–13 GFLOP/s there
// against 45–49 in Chromium, and at 47–50 in Firefox with the epilogue moved out.

import {
  groupRows, isScalarSplat, LoadSplat, madd4_f32, packRowGroups, ScalarSplat, scalarSplats,
} from "./_simd";

const KC: i32 = 256;
const MC: i32 = 72;

// Scratch of one matmul_rows_f32 task: the packed MC×KC block of A, then alpha and beta, then a
// tile of 6 rows × 8 accumulators.
const AB_AT: i32 = (MC * KC) << 2;
const TILE_AT: i32 = AB_AT + 16;

/** Bytes of scratch one matmul_rows_f32 task needs (see TILE_AT). */
export function matmul_rows_scratch_f32(): i32 {
  return TILE_AT + 6 * 32;
}

/** Packs op(B) (K×N; element (k, n) at b[k·strideK + n·strideN]) into 8-column panels. */
export function matmul_pack_b_f32(
  b: usize, packed: usize, K: i32, N: i32, strideK: i32, strideN: i32,
): void {
  const panels = (N + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const n0 = p << 3;
    const cols = min(8, N - n0);
    let dst = packed + (<usize>p * <usize>K << 5);
    for (let k = 0; k < K; k++) {
      const row = b + (<usize>(k * strideK + n0 * strideN) << 2);
      if (cols == 8 && strideN == 1) {
        v128.store(dst, v128.load(row));
        v128.store(dst, v128.load(row, 16), 16);
      } else {
        for (let c = 0; c < 8; c++) {
          const v: f32 = c < cols ? load<f32>(row + (<usize>(c * strideN) << 2)) : 0;
          store<f32>(dst + (<usize>c << 2), v);
        }
      }
      dst += 32;
    }
  }
}

// Writes `rows` rows of a tile (8 floats a row, from `tile`) to C: C = alpha·acc + beta·C on
// the first K block (beta = 0 never reads C, as in BLAS), C += alpha·acc on later blocks.
// `cols` < 8 only on the last panel. alpha and beta are the two floats at `ab`.
function writeTile(
  tile: usize, c: usize, ldc: usize, rows: i32, cols: i32, ab: usize, first: bool, betaZero: bool,
): void {
  const alpha = v128.load32_splat(ab), beta = v128.load32_splat(ab, 4);
  for (let r = 0; r < rows; r++) {
    const from = tile + (<usize>r << 5), to = c + <usize>r * ldc;
    if (cols == 8) {
      let lo = f32x4.mul(v128.load(from), alpha);
      let hi = f32x4.mul(v128.load(from, 16), alpha);
      if (!first) {
        lo = f32x4.add(lo, v128.load(to));
        hi = f32x4.add(hi, v128.load(to, 16));
      } else if (!betaZero) {
        lo = madd4_f32(v128.load(to), beta, lo);
        hi = madd4_f32(v128.load(to, 16), beta, hi);
      }
      v128.store(to, lo);
      v128.store(to, hi, 16);
      continue;
    }
    // The same operations one lane at a time (a scalar f32 product is the lane's).
    const a = load<f32>(ab), b = load<f32>(ab, 4);
    for (let j = 0; j < cols; j++) {
      const at = to + (<usize>j << 2);
      let v = load<f32>(from + (<usize>j << 2)) * a;
      if (!first) v += load<f32>(at);
      else if (!betaZero) v = load<f32>(at) * b + v;
      store<f32>(at, v);
    }
  }
}

// 4 rows × 8 columns over kc steps. a points at a 4-row group of packed A; bp at the panel's
// row k0. S: how A's values are splatted (LoadSplat or ScalarSplat, see _simd.ts).
// @ts-ignore: decorator
@inline function micro4x8<S>(
  a: usize, bp: usize, kc: i32,
  c: usize, ldc: usize, cols: i32, ab: usize, first: bool, betaZero: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let ap = a;
  const end = bp + (<usize>kc << 5);
  while (bp < end) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = isScalarSplat<S>() ? f32x4.splat(load<f32>(ap)) : v128.load32_splat(ap);
    c00 = madd4_f32(x, b0, c00); c01 = madd4_f32(x, b1, c01);
    x = isScalarSplat<S>() ? f32x4.splat(load<f32>(ap, 4)) : v128.load32_splat(ap, 4);
    c10 = madd4_f32(x, b0, c10); c11 = madd4_f32(x, b1, c11);
    x = isScalarSplat<S>() ? f32x4.splat(load<f32>(ap, 8)) : v128.load32_splat(ap, 8);
    c20 = madd4_f32(x, b0, c20); c21 = madd4_f32(x, b1, c21);
    x = isScalarSplat<S>() ? f32x4.splat(load<f32>(ap, 12)) : v128.load32_splat(ap, 12);
    c30 = madd4_f32(x, b0, c30); c31 = madd4_f32(x, b1, c31);
    ap += 16;
    bp += 32;
  }
  const tile = ab + (TILE_AT - AB_AT);
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  writeTile(tile, c, ldc, 4, cols, ab, first, betaZero);
}


// 6 rows × 8 columns: 12 accumulators + 2 B vectors + 1 splat = 15 of the 16 vector registers
// V8 allocates on x64, the largest block that does not spill.
// @ts-ignore: decorator
@inline function micro6x8(
  a: usize, bp: usize, kc: i32,
  c: usize, ldc: usize, cols: i32, ab: usize, first: bool, betaZero: bool,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0);
  let c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  let ap = a;
  const end = bp + (<usize>kc << 5);
  while (bp < end) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load32_splat(ap);
    c00 = madd4_f32(x, b0, c00); c01 = madd4_f32(x, b1, c01);
    x = v128.load32_splat(ap, 4);
    c10 = madd4_f32(x, b0, c10); c11 = madd4_f32(x, b1, c11);
    x = v128.load32_splat(ap, 8);
    c20 = madd4_f32(x, b0, c20); c21 = madd4_f32(x, b1, c21);
    x = v128.load32_splat(ap, 12);
    c30 = madd4_f32(x, b0, c30); c31 = madd4_f32(x, b1, c31);
    x = v128.load32_splat(ap, 16);
    c40 = madd4_f32(x, b0, c40); c41 = madd4_f32(x, b1, c41);
    x = v128.load32_splat(ap, 20);
    c50 = madd4_f32(x, b0, c50); c51 = madd4_f32(x, b1, c51);
    ap += 24;
    bp += 32;
  }
  const tile = ab + (TILE_AT - AB_AT);
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  v128.store(tile, c40, 128); v128.store(tile, c41, 144);
  v128.store(tile, c50, 160); v128.store(tile, c51, 176);
  writeTile(tile, c, ldc, 6, cols, ab, first, betaZero);
}

// 1 row × 8 columns: the row tail (M not a multiple of 4).
// @ts-ignore: decorator
@inline function micro1x8(
  a: usize, bp: usize, kc: i32,
  c: usize, cols: i32, ab: usize, first: bool, betaZero: bool,
): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  const end = bp + (<usize>kc << 5);
  while (bp < end) {
    const x = v128.load32_splat(a);
    c0 = madd4_f32(x, v128.load(bp), c0);
    c1 = madd4_f32(x, v128.load(bp, 16), c1);
    a += 4;
    bp += 32;
  }
  const tile = ab + (TILE_AT - AB_AT);
  v128.store(tile, c0);
  v128.store(tile, c1, 16);
  writeTile(tile, c, 0, 1, cols, ab, first, betaZero);
}

/**
 * The fewest rows a lane claims at a time (see claimRows): 2 groups of 6 rows, or 3 of 4. With
 * 24, two lanes on two cores ran 512³ 2–5% slower than fixed halves (the last claims ended
 * apart); with 12, 0–3%.
 */
const CLAIM_ROWS: i32 = 12;

/** The end of the rows the last claimRows call claimed (this instance's, so this lane's). */
let claimedEnd: i32 = 0;

/**
 * Claims this lane's next rows of [rowStart, rowEnd) through the i32 at `claim` (rows claimed
 * so far by all `lanes` lanes): a share of what is left, (left / 2·lanes) in whole CLAIM_ROWS,
 * at least CLAIM_ROWS, as OpenMP's guided schedule deals. Returns the first row (rowEnd: none
 * left); claimedEnd is the end. Big claims first stream B once for many rows of A, as a static
 * share does; the small ones last let the lanes end together.
 */
function claimRows(claim: usize, rowStart: i32, rowEnd: i32, lanes: i32): i32 {
  let seen = atomic.load<i32>(claim), first = rowStart + seen, rows = 0;
  while (first < rowEnd) {
    const left = rowEnd - first;
    rows = min(left, max(CLAIM_ROWS, left / (2 * lanes) / CLAIM_ROWS * CLAIM_ROWS));
    const was = atomic.cmpxchg<i32>(claim, seen, seen + rows);
    if (was == seen) break;
    seen = was;
    first = rowStart + seen;
  }
  claimedEnd = min(rowEnd, first + rows);
  return min(rowEnd, first);
}

/**
 * Rows [m0, m1) (at most MC) of C against the columns k0 .. k0 + kc − 1 of op(A): packs that
 * block of A into `scratch`, then runs the micro-kernels over every panel of packed B. `first`:
 * these are the first columns (C is then written, else added to).
 */
// @ts-ignore: decorator
@inline function rowBlock(
  a: usize, packed: usize, c: usize, N: i32, K: i32, m0: i32, m1: i32, k0: i32, kc: i32,
  sar: usize, sak: usize, scratch: usize, ab: usize, first: bool, betaZero: bool,
): void {
  const panels = (N + 7) >> 3, ldc = <usize>N << 2;
  packRowGroups(a + <usize>m0 * sar + <usize>k0 * sak, sar, sak, m1 - m0, kc, scratch);
  for (let p = 0; p < panels; p++) {
    const cols = min(8, N - (p << 3));
    const bp = packed + ((<usize>p * <usize>K + <usize>k0) << 5);
    let i = m0;
    while (i < m1) {
      const g = groupRows(m1 - i);
      const ap = scratch + (<usize>((i - m0) * kc) << 2);
      const cp = c + <usize>i * ldc + (<usize>p << 5);
      if (ASC_FEATURE_RELAXED_SIMD && g == 6) micro6x8(ap, bp, kc, cp, ldc, cols, ab, first, betaZero);
      else if (g == 4 && scalarSplats) {
        micro4x8<ScalarSplat>(ap, bp, kc, cp, ldc, cols, ab, first, betaZero);
      } else if (g == 4) micro4x8<LoadSplat>(ap, bp, kc, cp, ldc, cols, ab, first, betaZero);
      else micro1x8(ap, bp, kc, cp, cols, ab, first, betaZero);
      i += g;
    }
  }
}

/**
 * Computes rows [rowStart, rowEnd) of C = alpha·op(A)·B + beta·C with B already packed by
 * matmul_pack_b_f32. Element (i, k) of op(A) is at a[i·strideRow + k·strideK]; C is row-major
 * with N columns. K = 0 gives C = beta·C. `scratch` holds matmul_rows_scratch_f32() bytes.
 *
 * `claim` 0: every row of the range. Otherwise the address of an i32, 0 at the call's start,
 * that the call's `lanes` lanes share (each with its own scratch) on shared memory: each lane
 * claims rows as it goes (claimRows), so that a lane whose core is slower or shared takes fewer.
 * Each element of C sums the same products in the same order either way.
 */
export function matmul_rows_f32(
  a: usize, packed: usize, c: usize, N: i32, K: i32,
  rowStart: i32, rowEnd: i32, strideRow: i32, strideK: i32, alpha: f32, beta: f32, scratch: usize,
  claim: usize, lanes: i32,
): void {
  const betaZero = beta == 0;
  // alpha and beta after the packed block, for writeTile to read.
  const ab = scratch + <usize>AB_AT;
  store<f32>(ab, alpha);
  store<f32>(ab, beta, 4);
  const sar = <usize>strideRow << 2, sak = <usize>strideK << 2;
  if (K == 0) {
    for (let i = rowStart; i < rowEnd; i++) {
      for (let j = 0; j < N; j++) {
        const at = c + (<usize>(i * N + j) << 2);
        store<f32>(at, betaZero ? 0 : beta * load<f32>(at));
      }
    }
    return;
  }
  if (claim == 0) {
    rowsThroughK(a, packed, c, N, K, rowStart, rowEnd, sar, sak, scratch, ab, betaZero);
    return;
  }
  for (let r0 = claimRows(claim, rowStart, rowEnd, lanes); r0 < rowEnd;) {
    rowsThroughK(a, packed, c, N, K, r0, claimedEnd, sar, sak, scratch, ab, betaZero);
    r0 = claimRows(claim, rowStart, rowEnd, lanes);
  }
}

/** Rows [r0, r1) of C through every block of K, each block for all the rows before the next. */
function rowsThroughK(
  a: usize, packed: usize, c: usize, N: i32, K: i32, r0: i32, r1: i32,
  sar: usize, sak: usize, scratch: usize, ab: usize, betaZero: bool,
): void {
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    for (let m0 = r0; m0 < r1; m0 += MC) {
      const m1 = min(m0 + MC, r1);
      rowBlock(a, packed, c, N, K, m0, m1, k0, kc, sar, sak, scratch, ab, k0 == 0, betaZero);
    }
  }
}
