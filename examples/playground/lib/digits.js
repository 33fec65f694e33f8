// @ts-check
/**
 * What the Digits part of the diffusion panel computes without a DOM: the class label of each
 * sampled row and the ink of each pixel. tests/playground/digits_test.ts checks them in Deno.
 *
 * @module
 */

/** The label that asks the digits network (examples/digits/train.py) for its unconditional
 * denoiser: classifier-free guidance's second half. */
export const NULL_CLASS = 10;

/**
 * The label of each of `count` rows: a digit 0–9 for every row, "all" for 0, 1, …, 9 in turn,
 * or "none" for the null class (the unconditional model), as examples/digits/digits.mjs labels
 * them.
 *
 * @param {number} count
 * @param {number | "all" | "none"} classLabel
 * @returns {Int32Array}
 */
export function digitsLabels(count, classLabel) {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Expected "count" to be an integer >= 0 but found ${count}`);
  }
  if (
    classLabel !== "all" && classLabel !== "none" &&
    !(Number.isInteger(classLabel) && classLabel >= 0 && classLabel <= 9)
  ) {
    throw new RangeError(
      `Expected "classLabel" to be a digit 0–9, "all" or "none" but found ${String(classLabel)}`,
    );
  }
  return Int32Array.from(
    { length: count },
    (_, r) => classLabel === "all" ? r % 10 : classLabel === "none" ? NULL_CLASS : classLabel,
  );
}

/**
 * Ink in [0, 1] of pixels on scikit-learn's 0–16 scale (values outside are clipped; NaN is 0).
 *
 * @param {ArrayLike<number>} pixels
 * @returns {Float32Array}
 */
export function toInk(pixels) {
  const ink = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] / 16;
    ink[i] = v > 0 ? Math.min(1, v) : 0;
  }
  return ink;
}
