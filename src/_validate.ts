/**
 * Argument checks shared by every public function. Each throws a TypeError or RangeError whose
 * message names the argument, says what was expected and shows what was found.
 *
 * @module
 */
import { type Backend, type Matrix, sizeOf, type Tensor, zeros } from "./tensor.ts";

/** A short printable form of any value, for error messages. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) {
    return String(value);
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === "function") return "a function";
  return `a ${(value as object).constructor?.name ?? "object"}`;
}

/** Throws unless `value` is a tensor with Float32Array data of the shape's size. */
export function checkTensor(name: string, value: unknown, rank?: number): asserts value is Tensor {
  if (value === null || typeof value !== "object") {
    throw new TypeError(`Expected "${name}" to be a Tensor { data, shape } but found ${show(value)}`);
  }
  const t = value as Partial<Tensor>;
  if (!(t.data instanceof Float32Array)) {
    throw new TypeError(`Expected "${name}.data" to be a Float32Array but found ${show(t.data)}`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TypeError(
      `Expected "${name}.shape" to be an array of non-negative integers but found ${show(t.shape)}`,
    );
  }
  if (rank !== undefined && t.shape.length !== rank) {
    throw new RangeError(
      `Expected "${name}" to have rank ${rank} but found shape [${t.shape.join(", ")}]`,
    );
  }
  let n = 1;
  for (const d of t.shape) n *= d;
  if (t.data.length !== n) {
    throw new RangeError(
      `Expected "${name}.data" to hold ${n} elements for shape [${t.shape.join(", ")}] but found ${t.data.length}`,
    );
  }
}

/** Throws unless `value` is one of `choices`. */
export function checkChoice<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
): asserts value is T {
  if (typeof value !== "string" || !choices.includes(value as T)) {
    throw new RangeError(
      `Expected "${name}" to be one of ${choices.map((c) => `"${c}"`).join(", ")} but found ${show(value)}`,
    );
  }
}

export const BACKENDS: readonly Backend[] = ["auto", "js", "wasm", "webgpu"];

/** Throws unless `value` is undefined or a known backend name. */
export function checkBackend(name: string, value: unknown): asserts value is Backend | undefined {
  if (value !== undefined) checkChoice(name, value, BACKENDS);
}

/** Throws unless `value` is a finite number within [min, max] (and an integer when asked). */
export function checkNumber(
  name: string,
  value: unknown,
  opts: { min?: number; max?: number; integer?: boolean; minExclusive?: boolean } = {},
): asserts value is number {
  const { min = -Infinity, max = Infinity, integer = false, minExclusive = false } = opts;
  const kind = integer ? "an integer" : "a finite number";
  if (typeof value !== "number" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new TypeError(`Expected "${name}" to be ${kind} but found ${show(value)}`);
  }
  if (value < min || value > max || (minExclusive && value === min)) {
    const lo = min === -Infinity ? "" : `${minExclusive ? ">" : ">="} ${min}`;
    const hi = max === Infinity ? "" : `<= ${max}`;
    const range = [lo, hi].filter(Boolean).join(" and ");
    throw new RangeError(`Expected "${name}" to be ${kind} ${range} but found ${value}`);
  }
}

/** Throws unless `value` is undefined or a boolean. */
export function checkBoolean(name: string, value: unknown): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`Expected "${name}" to be a boolean but found ${show(value)}`);
  }
}

/** Throws on any key of `opts` not in `known`, so misspelled options never pass silently. */
export function checkOptions(name: string, opts: unknown, known: readonly string[]): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    throw new TypeError(`Expected "${name}" to be an options object but found ${show(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      throw new RangeError(
        `Unknown option "${key}" in "${name}"; expected one of ${known.map((k) => `"${k}"`).join(", ")}`,
      );
    }
  }
}

/** Whether two views share any byte of memory. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * The tensor of `shape` a call writes its results into: over `lent` when the caller lent an
 * array, else over a fresh one. A lent array must be a Float32Array of exactly the shape's size
 * sharing no memory with any of `inputs` (which the kernels read while they write the results).
 *
 * @throws {TypeError} When `lent` is not a Float32Array.
 * @throws {RangeError} When its length differs or it overlaps one of `inputs`.
 */
export function outputTensor(
  name: string,
  lent: unknown,
  shape: number[],
  inputs: Record<string, ArrayBufferView | null | undefined>,
): Tensor {
  if (lent === undefined) return zeros(shape);
  const length = sizeOf(shape);
  if (!(lent instanceof Float32Array)) {
    throw new TypeError(`Expected "${name}" to be a Float32Array but found ${show(lent)}`);
  }
  if (lent.length !== length) {
    throw new RangeError(
      `Expected "${name}" to hold ${length} values (the result's) but found ${lent.length}`,
    );
  }
  for (const [input, view] of Object.entries(inputs)) {
    if (view != null && overlaps(lent, view)) {
      throw new RangeError(`Expected "${name}" to share no memory with "${input}"`);
    }
  }
  return { data: lent, shape: [...shape] };
}

/**
 * Converts a Matrix (rank-2 Tensor or array of rows) to row-major float32 with its dimensions.
 * The Tensor's data is shared, not copied.
 */
export function toMatrix(
  name: string,
  value: unknown,
): { data: Float32Array; rows: number; cols: number } {
  if (Array.isArray(value)) {
    const rows = value.length;
    if (rows === 0) throw new RangeError(`Expected "${name}" to have at least one row but found 0`);
    const first = value[0];
    if (!Array.isArray(first)) {
      throw new TypeError(`Expected "${name}" to be an array of rows but row 0 is ${show(first)}`);
    }
    const cols = first.length;
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = value[i];
      if (!Array.isArray(row) || row.length !== cols) {
        throw new RangeError(
          `Expected every row of "${name}" to have ${cols} columns but row ${i} is ${show(row)}`,
        );
      }
      for (let j = 0; j < cols; j++) data[i * cols + j] = row[j];
    }
    return { data, rows, cols };
  }
  checkTensor(name, value, 2);
  const [rows, cols] = value.shape;
  if (rows === 0) throw new RangeError(`Expected "${name}" to have at least one row but found 0`);
  return { data: value.data, rows, cols };
}

/** Converts labels or weights to float64, rejecting NaN/Infinity and wrong lengths. */
export function toVector(name: string, value: unknown, length?: number): Float64Array {
  if (value === null || typeof value !== "object" || typeof (value as ArrayLike<number>).length !== "number") {
    throw new TypeError(`Expected "${name}" to be an array of numbers but found ${show(value)}`);
  }
  const src = value as ArrayLike<number>;
  if (length !== undefined && src.length !== length) {
    throw new RangeError(`Expected "${name}" to have ${length} entries but found ${src.length}`);
  }
  const out = new Float64Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`Expected "${name}" to hold finite numbers but entry ${i} is ${show(v)}`);
    }
    out[i] = v;
  }
  return out;
}

export type { Matrix };

/**
 * Whether every value is finite: v·0 is 0 for finite v and NaN otherwise, so one branch-free
 * sum answers it.
 */
export function allFinite(values: ArrayLike<number>): boolean {
  let probe = 0;
  for (let i = 0; i < values.length; i++) probe += values[i] * 0;
  return probe === 0;
}

/** The index of the first NaN or ±Infinity (v − v is NaN for both, 0 otherwise), or −1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) return i;
  }
  return -1;
}
