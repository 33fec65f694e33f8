import assert from "node:assert/strict";
import { init } from "../../../src/runtime/mod.ts";
import { DecisionTreeRegressor, RandomForestRegressor } from "../../../src/trees/mod.ts";
import { assertReferenceScores, r2, reference, trainTest } from "../_ensembles.ts";

// WASM in this thread: no worker to start (random_forest_classifier_test covers threads).
await init({ threads: 1 });

Deno.test("RandomForestRegressor reaches scikit-learn's held-out R² and OOB score", async () => {
  for (const name of ["diabetes", "boston"]) {
    const d = await trainTest(name);
    await assertReferenceScores(name, d, reference(name, "random_forest"), async (seed) => {
      const forest = await new RandomForestRegressor({ oobScore: true, seed }).fit(
        d.Xtrain,
        d.ytrain,
      );
      assert.equal(forest.oobPrediction.length, d.ytrain.length);
      return { score: r2(await forest.predict(d.Xtest), d.ytest), oob: forest.oobScore };
    });
  }
});

Deno.test("RandomForestRegressor without bootstrap and feature sampling repeats one tree", async () => {
  const d = await trainTest("diabetes");
  const forest = await new RandomForestRegressor({ nEstimators: 4, bootstrap: false, maxDepth: 5 })
    .fit(d.Xtrain, d.ytrain);
  const tree = await new DecisionTreeRegressor({ maxDepth: 5 }).fit(d.Xtrain, d.ytrain);
  const a = await forest.predict(d.Xtest), b = await tree.predict(d.Xtest);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-5 * Math.abs(b[i]), `row ${i}`));
  assert.deepEqual(forest.featureImportances, tree.featureImportances);
});

Deno.test("RandomForestRegressor maxSamples and minSamplesLeaf bound every leaf", async () => {
  const d = await trainTest("boston");
  const forest = await new RandomForestRegressor({
    nEstimators: 5,
    maxSamples: 100,
    minSamplesLeaf: 4,
    oobScore: true,
  }).fit(d.Xtrain, d.ytrain);
  const json = forest.toJSON().fitted as { model: { feature: number[]; cover: number[] } };
  // Bootstrap counts weigh rows, so a leaf of at least 4 distinct rows weighs at least 4.
  json.model.feature.forEach((f, i) => {
    if (f < 0) assert.ok(json.model.cover[i] >= 4, `leaf ${i}: ${json.model.cover[i]}`);
  });
  // 100 draws of 405 rows leave most rows out of bag: the OOB score stays meaningful.
  assert.ok(forest.oobScore > 0.5, `${forest.oobScore}`);
});

Deno.test("RandomForestRegressor trains with poisson and absolute_error criteria", async () => {
  const d = await trainTest("boston");
  for (const criterion of ["poisson", "absolute_error"]) {
    const forest = await new RandomForestRegressor({ criterion, nEstimators: 10, seed: 1 }).fit(
      d.Xtrain,
      d.ytrain,
    );
    const score = r2(await forest.predict(d.Xtest), d.ytest);
    assert.ok(score > 0.8, `${criterion}: ${score}`);
  }
});

Deno.test("RandomForestRegressor round-trips through toJSON()/fromJSON()", async () => {
  const d = await trainTest("diabetes");
  const forest = await new RandomForestRegressor({ nEstimators: 6, maxFeatures: "sqrt" }).fit(
    d.Xtrain,
    d.ytrain,
  );
  const copy = RandomForestRegressor.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())));
  assert.deepEqual(await copy.predict(d.Xtest), await forest.predict(d.Xtest));
  assert.equal(copy.treeCount, 6);
});

Deno.test("RandomForestRegressor refuses bad input", async () => {
  const X = [[0], [1], [2]];
  await assert.rejects(() => new RandomForestRegressor().predict(X), /not fitted yet/);
  await assert.rejects(
    () => new RandomForestRegressor({ criterion: "poisson" }).fit(X, [0, -2, 1]),
    /"y"/,
  );
  await assert.rejects(
    () => new RandomForestRegressor({ criterion: "gini" }).fit(X, [0, 2, 1]),
    /"criterion"/,
  );
  await assert.rejects(
    () => new RandomForestRegressor({ maxFeatures: 0 }).fit(X, [0, 2, 1]),
    /"maxFeatures"/,
  );
  await assert.rejects(
    () => new RandomForestRegressor().fit(X, [0, 2, 1], { sampleWeight: [1, 2] }),
    /"sampleWeight" to have 3 entries/,
  );
  await assert.rejects(() => new RandomForestRegressor().fit([[NaN]], [Infinity]), /"y"/);
});
