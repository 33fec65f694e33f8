/**
 * Input checks shared by the linear models. Linear models have no notion of a missing value,
 * so NaN in X is refused along with ±Infinity.
 *
 * @module
 */
import { type Features, toFeatures } from "../estimators/_input.ts";

/** Serialised linear models carry this tag. */
export const FORMAT = "tessera.linear";

/**
 * A Matrix of finite numbers as float32 rows. With `expectedCols` the column count must match
 * the one seen at fit.
 *
 * @throws {TypeError} When `value` is not a Matrix.
 * @throws {RangeError} On an empty matrix, a wrong column count, NaN or ±Infinity.
 */
export function toFiniteMatrix(name: string, value: unknown, expectedCols?: number): Features {
  return toFeatures(name, value, expectedCols, false);
}
