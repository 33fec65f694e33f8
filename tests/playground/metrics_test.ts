// The playground's scores (examples/playground/lib/metrics.js), in Deno.
import assert from "node:assert/strict";
import {
  accuracy,
  confusionMatrix,
  maxAbsDifference,
  regressionScores,
  slicedWasserstein2d,
} from "../../examples/playground/lib/metrics.js";
import { mulberry32 } from "../../examples/playground/lib/table.js";

Deno.test("accuracy() and confusionMatrix() count hits per class", () => {
  const truth = [0, 1, 2, 2, 1], predicted = [0, 2, 2, 2, 1];
  assert.equal(accuracy(truth, predicted), 0.8);
  assert.deepEqual(confusionMatrix(truth, predicted, 3), [[1, 0, 0], [0, 1, 1], [0, 0, 2]]);
});

Deno.test("regressionScores() gives RMSE, MAE and R²", () => {
  const s = regressionScores([1, 2, 3, 4], [1, 2, 3, 6]);
  assert.equal(s.rmse, 1);
  assert.equal(s.mae, 0.5);
  assert.equal(s.r2, 1 - 4 / 5);
});

Deno.test("maxAbsDifference() reports NaN and mismatched lengths", () => {
  assert.equal(maxAbsDifference([1, 2], [1.5, 0]), 2);
  assert.ok(Number.isNaN(maxAbsDifference([1, NaN], [1, 2])));
  assert.throws(() => maxAbsDifference([1], [1, 2]), RangeError);
});

/** n standard normal 2-D points shifted by (dx, 0). */
function gaussianCloud(n: number, dx: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  const out = new Float64Array(2 * n);
  for (let i = 0; i < 2 * n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random())), t = 2 * Math.PI * random();
    out[i] = r * Math.cos(t) + dx;
    out[i + 1] = r * Math.sin(t);
  }
  return out;
}

Deno.test("slicedWasserstein2d() is 0 for equal clouds and |shift|·√(1/2) for a translation", () => {
  const a = gaussianCloud(500, 0, 1);
  assert.equal(slicedWasserstein2d(a, a.slice()), 0);
  // Translating by d moves every projection by d·cos θ: the mean of cos² over [0, π) is 1/2.
  const shifted = a.map((v, i) => (i % 2 === 0 ? v + 3 : v));
  assert.ok(Math.abs(slicedWasserstein2d(a, shifted) - 3 * Math.SQRT1_2) < 1e-9);
  const far = slicedWasserstein2d(a, gaussianCloud(500, 2, 2));
  const near = slicedWasserstein2d(a, gaussianCloud(500, 0, 2));
  assert.ok(near < 0.2 && far > 1.2, `near ${near}, far ${far}`);
  assert.throws(() => slicedWasserstein2d([1, 2], [1, 2, 3, 4]), RangeError);
});
