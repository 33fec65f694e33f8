/**
 * Shared by the linear model tests: closeness to scikit-learn's numbers, relative to each
 * expected value's magnitude (absolute below 1).
 */
import assert from "node:assert/strict";

export function assertClose(
  actual: ArrayLike<number>,
  expected: number[],
  tol: number,
  what: string,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const gap = Math.abs(actual[i] - expected[i]);
    assert.ok(
      gap <= tol * Math.max(1, Math.abs(expected[i])),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}
