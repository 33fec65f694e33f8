/**
 * Kernel family `matmul`: C = alpha · op(A) · op(B) + beta · C on row-major float32.
 *
 * @module
 */

/** One GEMM call. `c` holds beta's input and receives the result (M×N). */
export interface MatmulArgs {
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  m: number;
  n: number;
  k: number;
  /** A is stored K×M and used transposed. */
  transposeA: boolean;
  /** B is stored N×K and used transposed. */
  transposeB: boolean;
  alpha: number;
  /** 0 means C's input is never read (NaN in it does not propagate), as in BLAS. */
  beta: number;
  /**
   * C is a fresh array nothing has written yet (no `out` was lent), whose pages the host maps
   * when they are first written (see touchPages). The backend may then resolve to another fresh
   * array holding the result instead of writing C.
   */
  freshOutput?: boolean;
}

/** What every backend of the family implements. */
export interface MatmulKernels {
  readonly name: "js" | "wasm" | "webgpu";
  /** Writes the result into `c`, or (`freshOutput` only) resolves to the array that holds it. */
  matmul(args: MatmulArgs): Promise<Float32Array | void>;
}
