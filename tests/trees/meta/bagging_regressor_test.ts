import assert from "node:assert/strict";
import { init } from "../../../src/runtime/mod.ts";
import { Ridge } from "../../../src/linear/mod.ts";
import { BaggingRegressor } from "../../../src/trees/mod.ts";
import { assertReferenceScores, r2, reference, trainTest } from "../_ensembles.ts";

// WASM in this thread: no worker to start.
await init({ threads: 1 });

Deno.test("BaggingRegressor reaches scikit-learn's held-out R² and OOB score", async () => {
  for (const name of ["diabetes", "boston"]) {
    const d = await trainTest(name);
    await assertReferenceScores(name, d, reference(name, "bagging"), async (seed) => {
      const model = await new BaggingRegressor({ nEstimators: 50, oobScore: true, seed }).fit(
        d.Xtrain,
        d.ytrain,
      );
      return { score: r2(await model.predict(d.Xtest), d.ytest), oob: model.oobScore };
    });
  }
});

Deno.test("BaggingRegressor without bootstrap on every row averages identical fits", async () => {
  const d = await trainTest("diabetes");
  const model = await new BaggingRegressor({
    estimator: new Ridge({ alpha: 0.5 }),
    nEstimators: 3,
    bootstrap: false,
  }).fit(d.Xtrain, d.ytrain);
  const single = await new Ridge({ alpha: 0.5 }).fit(d.Xtrain, d.ytrain);
  const a = await model.predict(d.Xtest), b = await single.predict(d.Xtest);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-4 * Math.max(1, Math.abs(b[i]))));
});

Deno.test("BaggingRegressor with feature subsets round-trips through toJSON()/fromJSON()", async () => {
  const d = await trainTest("boston");
  const model = await new BaggingRegressor({ nEstimators: 6, maxFeatures: 0.5, maxSamples: 200 })
    .fit(d.Xtrain, d.ytrain);
  assert.ok(model.estimatorsFeatures.every((c) => c.length === 6));
  assert.ok(r2(await model.predict(d.Xtest), d.ytest) > 0.7);
  const copy = BaggingRegressor.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predict(d.Xtest), await model.predict(d.Xtest));
});

Deno.test("BaggingRegressor refuses bad input", async () => {
  const X = [[0], [1], [2]];
  await assert.rejects(() => new BaggingRegressor().predict(X), /not fitted yet/);
  await assert.rejects(() => new BaggingRegressor().fit(X, [1, 2]), /3 entries/);
  await assert.rejects(
    () => new BaggingRegressor({ bootstrap: 0 as never }).fit(X, [1, 2, 3]),
    /"bootstrap"/,
  );
  await assert.rejects(
    () => new BaggingRegressor().fit(X, [1, 2, 3], { onProgress: "log" } as object),
    /"onProgress" to be a function/,
  );
  assert.throws(() => BaggingRegressor.fromJSON(null as never), /"json" to be an object/);
});
