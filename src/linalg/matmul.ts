/**
 * @module
 */
import type { Backend, Tensor } from "../tensor.ts";
import {
  checkBackend,
  checkBoolean,
  checkNumber,
  checkOptions,
  checkTensor,
  outputTensor,
  overlaps,
} from "../_validate.ts";
import { selectKernels } from "../backends/_select.ts";
import { MATMUL } from "../backends/_families.ts";

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use Aᵀ: `a` is stored K×M. */
  transposeA?: boolean;
  /** Use Bᵀ: `b` is stored N×K. */
  transposeB?: boolean;
  /** Scale of the product (default 1). */
  alpha?: number;
  /** Scale of `c` added to the result (default 0; needs `c`). */
  beta?: number;
  /** M×N addend for beta; it is read, never written (unless it is also `out`). */
  c?: Tensor;
  /**
   * M·N values to write the product into, which the returned tensor then holds (as PyTorch's
   * `out=`): a loop of products reuses one array instead of a fresh one a call, whose pages the
   * host must fault in (see the README's "Fresh output arrays and page faults"). It must not
   * share memory with `a` or `b`; it may be `c.data` itself (C ← alpha·A·B + beta·C in place).
   */
  out?: Float32Array;
  backend?: Backend;
}

const OPTIONS = ["transposeA", "transposeB", "alpha", "beta", "c", "out", "backend"] as const;

/**
 * Matrix product alpha · op(A) · op(B) + beta · C of float32 matrices.
 *
 * @param a M×K (K×M with `transposeA`).
 * @param b K×N (N×K with `transposeB`).
 * @returns An M×N tensor over `opts.out` when given, else over a new array; the inputs are left
 * unchanged (but `c` when it is `out`). Where a call fails after its checks (WASM memory that
 * cannot grow), a lent `out` may have been written.
 * @throws {TypeError} When an argument is not a Tensor with Float32Array data.
 * @throws {RangeError} When shapes do not agree or an option is unknown or out of range.
 * @example
 * ```ts
 * import { matmul } from "./mod.ts";
 * const a = { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] };
 * const b = { data: new Float32Array([5, 6, 7, 8]), shape: [2, 2] };
 * const c = await matmul(a, b, { backend: "js" });
 * if (c.data.join() !== "19,22,43,50") throw new Error("wrong product");
 * ```
 */
export async function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Promise<Tensor> {
  checkOptions("opts", opts, OPTIONS);
  checkTensor("a", a, 2);
  checkTensor("b", b, 2);
  checkBoolean("transposeA", opts.transposeA);
  checkBoolean("transposeB", opts.transposeB);
  checkBackend("backend", opts.backend);
  const alpha = opts.alpha ?? 1;
  const beta = opts.beta ?? 0;
  checkNumber("alpha", alpha);
  checkNumber("beta", beta);
  const transposeA = opts.transposeA ?? false;
  const transposeB = opts.transposeB ?? false;
  const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
  const [kb, n] = transposeB ? [b.shape[1], b.shape[0]] : b.shape;
  if (k !== kb) {
    throw new RangeError(
      `Expected "b" to have ${k} rows (the columns of op(a)) but op(b) has shape [${kb}, ${n}]`,
    );
  }
  if (beta !== 0) {
    if (opts.c === undefined) throw new TypeError(`Expected "c" to be a Tensor when "beta" is ${beta}`);
    checkTensor("c", opts.c, 2);
    if (opts.c.shape[0] !== m || opts.c.shape[1] !== n) {
      throw new RangeError(`Expected "c" to have shape [${m}, ${n}] but found [${opts.c.shape.join(", ")}]`);
    }
  } else if (opts.c !== undefined) {
    checkTensor("c", opts.c, 2);
  }
  const product = outputTensor("out", opts.out, [m, n], { a: a.data, b: b.data });
  const out = product.data;
  const c = beta === 0 ? null : opts.c!.data;
  const inPlace = c !== null && c.buffer === out.buffer && c.byteOffset === out.byteOffset;
  if (c !== null && !inPlace && overlaps(out, c)) {
    throw new RangeError(`Expected "out" to be "c.data" itself or to share no memory with it`);
  }
  const kernels = await selectKernels(MATMUL, opts.backend, {
    flops: 2 * m * n * k,
    inputs: [a.data, b.data, c],
  });
  if (c !== null && !inPlace) out.set(c);
  const fresh = await kernels.matmul({
    a: a.data,
    b: b.data,
    c: out,
    m,
    n,
    k,
    transposeA,
    transposeB,
    alpha,
    beta,
    freshOutput: opts.out === undefined && c === null,
  });
  // A worker on copied memory may hand back the fresh array it wrote its rows into (see
  // src/backends/wasm/matmul.ts, workerRows).
  if (fresh instanceof Float32Array) product.data = fresh;
  return product;
}
