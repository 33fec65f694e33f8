// Lane helpers shared by every kernel. The relaxed build (`--enable relaxed-simd`) turns
// `madd4_f32` into one fused multiply-add; the plain build keeps a separate mul and add.
// ASC_FEATURE_RELAXED_SIMD is a compile-time constant, so the untaken branch is never emitted.

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
