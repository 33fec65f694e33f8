// Lane helpers shared by every kernel. The relaxed build (`--enable relaxed-simd`) turns
// `madd4_f32` into one fused multiply-add; the plain build keeps a separate mul and add.
// ASC_FEATURE_RELAXED_SIMD is a compile-time constant, so the untaken branch is never emitted.

// How the 4-row micro-kernels (matmul's 4×8, attention's scores and weights 4×8) splat a
// value of A across a vector: `v128.load32_splat` (LoadSplat), or a scalar load then
// `f32x4.splat` (ScalarSplat). They take it as a type argument, so each form is compiled on its
// own with no test in the loop, and read `scalarSplats` once per call to pick one. The same
// value lands in every lane either way: the same bits. V8 compiles the first to one broadcast
// from memory; JavaScriptCore on x86-64 runs the second faster (WebKitGTK 2.50's `jsc`, kernels
// called straight, Intel Sapphire Rapids: matmul 512³ 30.6 → 37.3 GFLOP/s, flash attention at
// N = 512 27.8 → 32.8), where V8 runs it slower (Node 20: 42.6 → 32.3 and 37.5 → 29.8). The
// runtime sets it per instance (src/runtime/_engine.ts, tuneInstance).
export type LoadSplat = u32;
export type ScalarSplat = i32;

/** Whether the micro-kernels splat by scalar loads (see LoadSplat / ScalarSplat). */
export let scalarSplats: bool = false;

/** Sets how this instance's 4-row micro-kernels splat (1: scalar loads, 0: v128.load32_splat). */
export function simd_set_scalar_splats(on: i32): void {
  scalarSplats = on != 0;
}

/**
 * The sign bit of the NaN that 0 / 0 gives on this processor (`zero` must be 0): 1 on x86
 * (its default NaN is negative), 0 on Arm. WebAssembly leaves a NaN's sign to the hardware.
 */
export function simd_nan_sign(zero: f32): i32 {
  return reinterpret<u32>(zero / zero) >>> 31;
}

/** Whether S (a micro-kernel's type argument) is ScalarSplat. */
// @ts-ignore: decorator
@inline export function isScalarSplat<S>(): bool {
  return isSigned<S>();
}

/**
 * Vector `i` (16 bytes each) of `table`, a `memory.data` block of vector constants. Kernels keep
 * the constants of their hot loops in such tables: written as v128 constants, V8 (x64) builds
 * each one again at every use inside a loop (a 64-bit immediate moved to a general register,
 * then to a vector register and duplicated: two µops on the shuffle port, of which Intel's
 * cores have one), where a load is one µop on the load ports. Same values, same bits; the
 * kernels' own figures stand by their tables (bench/NOTES.md, "V8 and vector constants in
 * loops").
 */
// @ts-ignore: decorator
@inline export function vectorAt(table: usize, i: i32): v128 {
  return v128.load(table + (<usize>i << 4));
}

/** a·b + c on four f32 lanes:  [a0 b0+c0 | a1 b1+c1 | a2 b2+c2 | a3 b3+c3] */
// @ts-ignore: decorator
@inline export function madd4_f32(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Sum of the four lanes, added in the fixed order ((x0 + x2) + (x1 + x3)). */
// @ts-ignore: decorator
@inline export function hsum4_f32(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

// Rows go through the micro-kernels (attention.ts, matmul.ts) in groups: 6 where the build
// has a fused multiply-add (12 accumulators + 2 vectors + 1 splat fill 15 of V8's 16 vector
// registers), 4 without one (each step needs a temporary for the product, so 6 rows would
// spill), then single rows; 6s and 4s chosen so that at most one row is left over
// (8 = 4 + 4 and 9 = 4 + 4 + 1, not 6 + 1 + 1 and 6 + 1 + 1 + 1).
//
// `wide` = false keeps the relaxed build to groups of 4 as well, for engines that leave the
// 6-row kernels fewer registers (see attention.ts, attention_set_wide_rows). A row's sums run
// in the same order in either group, so the results are the same bits.
/** Rows in the group that starts `left` rows before the end of a block. */
// @ts-ignore: decorator
@inline export function groupRows(left: i32, wide: bool = true): i32 {
  if (ASC_FEATURE_RELAXED_SIMD && wide && left >= 6 && left != 8 && left != 9) return 6;
  return left >= 4 ? 4 : 1;
}

/**
 * Copies `count` columns of `rows` rows (element (i, c) at src + i·rowBytes + c·colBytes) into
 * row groups (groupRows): the group of rows i .. i + g − 1 occupies g·count floats from
 * dst + i·count·4, column-major,
 *
 *   (i, 0) .. (i+g−1, 0) | (i, 1) .. (i+g−1, 1) | ...
 *
 * so a micro-kernel step reads its g values at constant offsets from one pointer.
 */
export function packRowGroups(
  src: usize, rowBytes: usize, colBytes: usize, rows: i32, count: i32, dst: usize,
  wide: bool = true,
): void {
  let i = 0;
  while (i < rows) {
    const g = groupRows(rows - i, wide);
    const from = src + <usize>i * rowBytes, out = dst + (<usize>(i * count) << 2);
    const step = <usize>g << 2;
    let c = 0;
    if (g >= 4 && colBytes == 4) {
      // Rows contiguous in c: four columns at a time through a 4×4 transpose.
      for (; c + 4 <= count; c += 4) interleave4Columns(from + (<usize>c << 2), rowBytes, g, out + <usize>c * step, step);
    } else if (g >= 4 && rowBytes == 4) {
      // Columns contiguous (a transposed matrix): each column's group is already one run.
      for (; c < count; c++) {
        const at = from + <usize>c * colBytes, to = out + <usize>c * step;
        v128.store(to, v128.load(at));
        if (g == 6) v128.store64_lane(to, v128.load64_zero(at, 16), 0, 16);
      }
    }
    for (; c < count; c++) {
      const at = from + <usize>c * colBytes, to = out + <usize>c * step;
      for (let r = 0; r < g; r++) store<f32>(to + (<usize>r << 2), load<f32>(at + <usize>r * rowBytes));
    }
    i += g;
  }
}

/**
 * Four columns of a group of g (4 or 6) rows, rowBytes apart from `at`, written column-major
 * from `out`, `step` = 4·g bytes per column:
 *
 *   out:  row0[0] .. row(g−1)[0] | row0[1] .. row(g−1)[1] | ... (four columns)
 *
 * through a 4×4 transpose, rows 4 and 5 as pairs.
 */
// @ts-ignore: decorator
@inline function interleave4Columns(at: usize, rowBytes: usize, g: i32, out: usize, step: usize): void {
  const r0 = v128.load(at), r1 = v128.load(at + rowBytes);
  const r2 = v128.load(at + 2 * rowBytes), r3 = v128.load(at + 3 * rowBytes);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(out, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(out + step, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(out + 2 * step, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(out + 3 * step, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
  if (g == 6) {
    const r4 = v128.load(at + 4 * rowBytes), r5 = v128.load(at + 5 * rowBytes);
    const lo = v128.shuffle<f32>(r4, r5, 0, 4, 1, 5), hi = v128.shuffle<f32>(r4, r5, 2, 6, 3, 7);
    v128.store64_lane(out, lo, 0, 16);
    v128.store64_lane(out + step, lo, 1, 16);
    v128.store64_lane(out + 2 * step, hi, 0, 16);
    v128.store64_lane(out + 3 * step, hi, 1, 16);
  }
}
