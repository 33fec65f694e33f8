/**
 * Input checks and serialisation helpers shared by the linear models. Linear models have no
 * notion of a missing value, so NaN in X is refused along with ±Infinity.
 *
 * @module
 */
import { show, toMatrix } from "../_validate.ts";

/** A row-major float32 matrix of finite values. */
export interface FiniteMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/** Serialised linear models carry this tag. */
export const FORMAT = "tessera.linear";

/**
 * A Matrix of finite numbers as float32 rows. With `expectedCols` the column count must match
 * the one seen at fit.
 *
 * @throws {TypeError} When `value` is not a Matrix.
 * @throws {RangeError} On an empty matrix, a wrong column count, NaN or ±Infinity.
 */
export function toFiniteMatrix(name: string, value: unknown, expectedCols?: number): FiniteMatrix {
  const m = toMatrix(name, value);
  if (m.cols === 0) {
    throw new RangeError(`Expected "${name}" to have at least one column but found 0`);
  }
  if (expectedCols !== undefined && m.cols !== expectedCols) {
    throw new RangeError(
      `Expected "${name}" to have ${expectedCols} columns (as at fit) but found ${m.cols}`,
    );
  }
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      const row = Math.floor(i / m.cols);
      throw new RangeError(
        `Expected "${name}" to hold finite numbers but row ${row}, column ${i - row * m.cols} is ${
          m.data[i]
        }`,
      );
    }
  }
  return m;
}

/** A plain array of finite numbers of the given length, read from serialised state. */
export function finiteArray(name: string, value: unknown, length: number): Float64Array {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new TypeError(
      `Expected "${name}" to be an array of finite numbers but found ${show(value)}`,
    );
  }
  if (value.length !== length) {
    throw new RangeError(`Expected "${name}" to have ${length} entries but found ${value.length}`);
  }
  return Float64Array.from(value);
}

/** The fields of a `toJSON()` object after checking its tag and estimator name. */
export function readSerialised(json: unknown, estimator: string): Record<string, unknown> {
  if (json === null || typeof json !== "object") {
    throw new TypeError(
      `Expected "json" to be an object written by toJSON() but found ${show(json)}`,
    );
  }
  const o = json as Record<string, unknown>;
  if (o.format !== FORMAT || o.estimator !== estimator) {
    throw new RangeError(
      `Expected "json" to hold a serialised ${estimator} but found format ${
        show(o.format)
      }, estimator ${show(o.estimator)}`,
    );
  }
  if (o.options !== undefined && (o.options === null || typeof o.options !== "object")) {
    throw new TypeError(`Expected "json.options" to be an object but found ${show(o.options)}`);
  }
  return o;
}

/** Throws the error of every estimator used before `fit`. */
export function notFitted(estimator: string): never {
  throw new RangeError(`This ${estimator} is not fitted yet; call fit() first`);
}

/**
 * Runs synchronous work as the body of an async API call: its result, or its error as a
 * rejection, so callers see the same contract as the kernel-backed estimators.
 */
export function asPromise<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
