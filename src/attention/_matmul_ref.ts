/**
 * A plain TypeScript matrix product for the GAU projections, until the public `matmul` of
 * src/backends/ lands; then gatedAttentionUnit() switches to it and this file goes.
 *
 * @module
 */

/**
 * Returns a [rows, cols] = a [rows, inner] · b [inner, cols] (+ bias [cols] on every row),
 * row-major, accumulated in float64.
 */
export function matmulRef(
  a: Float32Array,
  b: Float32Array,
  rows: number,
  inner: number,
  cols: number,
  bias: Float32Array | null = null,
): Float32Array {
  const out = new Float32Array(rows * cols);
  const acc = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    if (bias === null) acc.fill(0);
    else acc.set(bias);
    for (let p = 0; p < inner; p++) {
      const x = a[i * inner + p];
      const bo = p * cols;
      for (let j = 0; j < cols; j++) acc[j] += x * b[bo + j];
    }
    out.set(acc, i * cols);
  }
  return out;
}
