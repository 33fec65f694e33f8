/**
 * Tensor and matrix types shared by every area.
 *
 * @module
 */

/** A dense row-major float32 tensor. */
export type Tensor = { data: Float32Array; shape: number[] };

/** Two-dimensional input: a Tensor of rank 2 or an array of rows. Rows are samples. */
export type Matrix = Tensor | number[][];

/** Where a computation runs. `auto` picks WebGPU for large problems where present, else WASM. */
export type Backend = "auto" | "js" | "wasm" | "webgpu";

/** The number of elements a shape holds. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Makes a zero-filled tensor of the given shape. */
export function zeros(shape: number[]): Tensor {
  return { data: new Float32Array(sizeOf(shape)), shape: [...shape] };
}

/** Wraps data in a tensor; the data is not copied. */
export function tensor(data: Float32Array | ArrayLike<number>, shape: number[]): Tensor {
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  return { data: f32, shape: [...shape] };
}
