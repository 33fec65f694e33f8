/**
 * Dense symmetric positive-definite solves in float64: the normal equations of Ridge and the
 * Newton systems of LogisticRegression are small (parameters × parameters), so a plain
 * Cholesky factorisation is both the fastest and the most accurate choice.
 *
 * ```
 *  a   n × n row-major, only the lower triangle is read; overwritten by L (A = L·Lᵀ)
 *  b   n × m row-major right-hand sides; overwritten by the solutions
 * ```
 *
 * @module
 */

/**
 * Factorises `a` in place into its lower Cholesky factor.
 *
 * @returns False when `a` is not (numerically) positive definite; `a` is then garbage.
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let diagonal = a[rowJ + j];
    for (let k = 0; k < j; k++) diagonal -= a[rowJ + k] * a[rowJ + k];
    // Relative to the original diagonal, so a rank-deficient matrix is caught at any scale.
    if (!(diagonal > 0) || diagonal <= 1e-13 * Math.abs(a[rowJ + j])) return false;
    const pivot = Math.sqrt(diagonal);
    a[rowJ + j] = pivot;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) s -= a[rowI + k] * a[rowJ + k];
      a[rowI + j] = s / pivot;
    }
  }
  return true;
}

/** Solves L·Lᵀ·X = B for the `m` columns of `b` in place, L from `choleskyInPlace`. */
export function choleskySolveInPlace(l: Float64Array, n: number, b: Float64Array, m: number): void {
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = b[i * m + c];
      for (let k = 0; k < i; k++) s -= l[i * n + k] * b[k * m + c];
      b[i * m + c] = s / l[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = b[i * m + c];
      for (let k = i + 1; k < n; k++) s -= l[k * n + i] * b[k * m + c];
      b[i * m + c] = s / l[i * n + i];
    }
  }
}

/**
 * Solves the symmetric positive-definite system A·X = B; `a` and `b` are overwritten.
 *
 * @returns False when A is not positive definite.
 */
export function solveSpd(a: Float64Array, n: number, b: Float64Array, m: number): boolean {
  if (!choleskyInPlace(a, n)) return false;
  choleskySolveInPlace(a, n, b, m);
  return true;
}
