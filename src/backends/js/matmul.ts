/**
 * The reference GEMM: plain TypeScript, each row accumulated in float64. The oracle that the
 * WASM and WebGPU backends are tested against.
 *
 * @module
 */
import type { MatmulArgs, MatmulKernels } from "../matmul.ts";

/** Computes C = alpha · op(A) · op(B) + beta · C in this thread. */
export function matmulReference(args: MatmulArgs): void {
  const { a, b, c, m, n, k, transposeA, transposeB, alpha, beta } = args;
  // op(B) row-major K×N, so the inner loop walks both B and the accumulator contiguously.
  let bt = b;
  if (transposeB) {
    bt = new Float32Array(k * n);
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bt[p * n + j] = b[j * k + p];
  }
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const aip = transposeA ? a[p * m + i] : a[i * k + p];
      if (aip === 0) continue;
      const row = p * n;
      for (let j = 0; j < n; j++) acc[j] += aip * bt[row + j];
    }
    const out = i * n;
    for (let j = 0; j < n; j++) {
      c[out + j] = beta === 0 ? alpha * acc[j] : alpha * acc[j] + beta * c[out + j];
    }
  }
}

export const jsMatmul: MatmulKernels = {
  name: "js",
  matmul(args) {
    matmulReference(args);
    return Promise.resolve();
  },
};
