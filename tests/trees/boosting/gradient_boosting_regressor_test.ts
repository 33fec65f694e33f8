import assert from "node:assert/strict";
import { Rng } from "../../../src/_random.ts";
import { type GBOptions, GradientBoostingRegressor } from "../../../src/trees/mod.ts";
import { crossValidate, gbOptions, loadDataFixture, SCORES } from "../_fixtures.ts";

Deno.test("GradientBoostingRegressor reaches scikit-learn's cross-validated scores on diabetes", async () => {
  const data = loadDataFixture("diabetes");
  const references = data.references.filter((r) => r.library === "sklearn");
  assert.equal(references.length, 4);
  for (const ref of references) {
    const metric = (ref as unknown as { metric: string }).metric;
    const score = await crossValidate(
      data,
      () => new GradientBoostingRegressor({ ...gbOptions(ref.params), backend: "js" }),
      SCORES[metric](ref.params),
    );
    // Lower is better for every regression metric here.
    assert.ok(
      score <= ref.cvScore * 1.005,
      `${ref.params.loss ?? "squared_error"}: ${metric} ${score} vs ${ref.cvScore}`,
    );
  }
});

function synthetic(seed: number, n: number) {
  const rng = new Rng(seed);
  const X: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [
      Math.round(rng.next() * 20),
      Math.round(rng.next() * 20),
      Math.round(rng.next() * 20),
    ];
    X.push(row);
    y.push(row[0] * 2 + (row[1] > 10 ? 15 : 0) + 3 * (rng.next() - 0.5));
  }
  return { X, y };
}

Deno.test("GradientBoostingRegressor line searches: mean, median and quantile leaves", async () => {
  // Identical rows give one leaf: the initial value plus the leaf's line search, which
  // scikit-learn 1.2 predicts as 22, 3, 4 and 3 here.
  const y = [1, 2, 3, 4, 100];
  const X = y.map(() => [0]);
  const single = async (loss: string, extra = {}) =>
    (await (await new GradientBoostingRegressor({
      loss,
      nEstimators: 1,
      learningRate: 1,
      backend: "js",
      ...extra,
    }).fit(X, y)).predict([[0]]))[0];
  assert.ok(Math.abs(await single("squared_error") - 22) < 1e-5);
  assert.ok(Math.abs(await single("absolute_error") - 3) < 1e-5);
  // Quantile: NumPy's interpolated 0.8 quantile 23.2, then the lower weighted quantile of the
  // residuals, −19.2.
  assert.ok(Math.abs(await single("quantile", { alpha: 0.8 }) - 4) < 1e-4);
  assert.ok(Math.abs(await single("huber", { alpha: 0.5 }) - 3) < 1e-5);
});

Deno.test("GradientBoostingRegressor weights act like repeated rows", async () => {
  const { X, y } = synthetic(1, 60);
  const weights = y.map((_, i) => 1 + (i % 3));
  const repeatedX: number[][] = [], repeatedY: number[] = [];
  X.forEach((row, i) => {
    for (let k = 0; k < weights[i]; k++) {
      repeatedX.push(row);
      repeatedY.push(y[i]);
    }
  });
  const weighted = await new GradientBoostingRegressor({ nEstimators: 10, backend: "js" }).fit(
    X,
    y,
    { sampleWeight: weights },
  );
  const repeated = await new GradientBoostingRegressor({ nEstimators: 10, backend: "js" }).fit(
    repeatedX,
    repeatedY,
  );
  const a = await weighted.predict(X), b = await repeated.predict(X);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) < 1e-3 * Math.max(1, Math.abs(b[i])));
  }
});

Deno.test("GradientBoostingRegressor honours minSamplesLeaf, maxLeafNodes and maxDepth", async () => {
  const { X, y } = synthetic(2, 200);
  /** The trees of 5 stages fitted with these options. */
  const treesOf = async (options: GBOptions) => {
    const model = await new GradientBoostingRegressor({ ...options, nEstimators: 5, backend: "js" })
      .fit(X, y);
    return (model.toJSON().fitted as {
      model: { feature: number[]; cover: number[]; treeStart: number[] };
    }).model;
  };
  const sparse = await treesOf({ maxDepth: 6, minSamplesLeaf: 17 });
  sparse.feature.forEach((f, i) =>
    f < 0 && assert.ok(sparse.cover[i] >= 17, `leaf with ${sparse.cover[i]} rows`)
  );
  const best = await treesOf({ maxDepth: 0, maxLeafNodes: 5 });
  for (let t = 0; t + 1 < best.treeStart.length; t++) {
    const count = best.feature.slice(best.treeStart[t], best.treeStart[t + 1]).filter((f) =>
      f < 0
    ).length;
    assert.equal(count, 5);
  }
  const stumps = await treesOf({ maxDepth: 1 });
  assert.equal(stumps.feature.length, 15);
});

Deno.test("GradientBoostingRegressor subsampling and maxFeatures follow the seed", async () => {
  const { X, y } = synthetic(3, 150);
  const options = {
    nEstimators: 10,
    subsample: 0.6,
    maxFeatures: "sqrt" as const,
    backend: "js" as const,
  };
  const a = await (await new GradientBoostingRegressor({ ...options, seed: 1 }).fit(X, y)).predict(
    X,
  );
  const b = await (await new GradientBoostingRegressor({ ...options, seed: 1 }).fit(X, y)).predict(
    X,
  );
  const c = await (await new GradientBoostingRegressor({ ...options, seed: 2 }).fit(X, y)).predict(
    X,
  );
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("GradientBoostingRegressor importances and serialisation", async () => {
  const { X, y } = synthetic(4, 200);
  const progress: number[] = [];
  const model = await new GradientBoostingRegressor({
    nEstimators: 20,
    loss: "huber",
    backend: "js",
  })
    .fit(X, y, { onProgress: (p) => progress.push(p.iteration) });
  assert.deepEqual(progress, Array.from({ length: 20 }, (_, i) => i + 1));
  const importances = model.featureImportances;
  assert.ok(Math.abs(importances.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(importances[2] < 0.1 && importances[0] > importances[2]);
  const copy = GradientBoostingRegressor.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predict(X), await model.predict(X));
  assert.deepEqual(copy.featureImportances, importances);
});
