// The Digits part's helpers (examples/playground/lib/digits.js), in Deno.
import assert from "node:assert/strict";
import { digitsLabels, NULL_CLASS, toInk } from "../../examples/playground/lib/digits.js";

Deno.test("digitsLabels() labels rows as examples/digits/digits.mjs does", () => {
  assert.deepEqual(Array.from(digitsLabels(12, "all")), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  assert.deepEqual(Array.from(digitsLabels(3, 7)), [7, 7, 7]);
  assert.deepEqual(Array.from(digitsLabels(2, "none")), [NULL_CLASS, NULL_CLASS]);
  assert.equal(NULL_CLASS, 10);
  assert.equal(digitsLabels(0, "all").length, 0);
});

Deno.test("digitsLabels() names a bad class or count", () => {
  assert.throws(
    () => digitsLabels(4, 10),
    /"classLabel" to be a digit 0–9, "all" or "none" but found 10/,
  );
  // @ts-expect-error: a string digit is not a class
  assert.throws(() => digitsLabels(4, "3"), /but found 3/);
  assert.throws(() => digitsLabels(-1, 1), /"count" to be an integer >= 0 but found -1/);
});

Deno.test("toInk() maps 0–16 to [0, 1], clipping, NaN blank", () => {
  assert.deepEqual(Array.from(toInk([0, 8, 16, 20, -3, NaN])), [0, 0.5, 1, 1, 0, 0]);
});
