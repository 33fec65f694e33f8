import assert from "node:assert/strict";
import type { Matrix, Tensor } from "../../../src/tensor.ts";
import { init } from "../../../src/runtime/mod.ts";
import { Ridge } from "../../../src/linear/mod.ts";
import { AdaBoostRegressor, DecisionTreeRegressor } from "../../../src/trees/mod.ts";
import { assertReferenceScores, r2, reference, trainTest } from "../_ensembles.ts";

// WASM in this thread: no worker to start.
await init({ threads: 1 });

Deno.test("AdaBoostRegressor (R2) reaches scikit-learn's held-out R² with every loss", async () => {
  for (const name of ["diabetes", "boston"]) {
    const d = await trainTest(name);
    for (const loss of ["linear", "square", "exponential"] as const) {
      const ref = reference(name, `adaboost_r2_${loss}`);
      await assertReferenceScores(`${name} ${loss}`, d, ref, async (seed) => {
        const model = await new AdaBoostRegressor({
          estimator: new DecisionTreeRegressor({ maxDepth: 3 }),
          nEstimators: 50,
          loss,
          seed,
        }).fit(d.Xtrain, d.ytrain);
        return { score: r2(await model.predict(d.Xtest), d.ytest) };
      });
    }
  }
});

Deno.test("AdaBoostRegressor weights estimators by ln(1/β) of their average loss", async () => {
  const d = await trainTest("boston");
  const model = await new AdaBoostRegressor({ nEstimators: 10, learningRate: 0.5 }).fit(
    d.Xtrain,
    d.ytrain,
  );
  const errors = model.estimatorErrors;
  assert.equal(errors.length, 10);
  model.estimatorWeights.forEach((w, m) => {
    assert.ok(errors[m] > 0 && errors[m] < 0.5);
    assert.ok(Math.abs(w - 0.5 * Math.log((1 - errors[m]) / errors[m])) < 1e-12, `round ${m}`);
  });
  const staged = await model.stagedPredict(d.Xtest);
  assert.equal(staged.length, 10);
  assert.deepEqual(staged.at(-1), await model.predict(d.Xtest));
});

/** A test estimator whose prediction is a fixed value (its `value` option). */
class ConstantRegressor {
  readonly options: { value: number };
  constructor(options: { value: number }) {
    this.options = { ...options };
  }
  fit(): Promise<this> {
    return Promise.resolve(this);
  }
  predict(X: Matrix): Promise<Float32Array> {
    const n = Array.isArray(X) ? X.length : (X as Tensor).shape[0];
    return Promise.resolve(new Float32Array(n).fill(this.options.value));
  }
  toJSON() {
    return { estimator: "ConstantRegressor", options: this.options };
  }
}

Deno.test("AdaBoostRegressor stops at a perfect fit and keeps a poor first estimator alone", async () => {
  const X = [[0], [1], [2], [3]];
  const perfect = await new AdaBoostRegressor({ estimator: new ConstantRegressor({ value: 3 }) })
    .fit(X, [3, 3, 3, 3]);
  assert.equal(perfect.estimators.length, 1);
  assert.deepEqual(Array.from(perfect.estimatorWeights), [1]);
  assert.deepEqual(Array.from(perfect.estimatorErrors), [0]);
  // A constant 0 against targets 1..4: scaled losses 1/4 .. 1, their mean 0.625 ≥ 0.5.
  const poor = await new AdaBoostRegressor({ estimator: new ConstantRegressor({ value: 0 }) }).fit(
    X,
    [1, 2, 3, 4],
  );
  assert.equal(poor.estimators.length, 1);
  assert.deepEqual(Array.from(await poor.predict(X)), [0, 0, 0, 0]);
});

Deno.test("AdaBoostRegressor predicts the weighted median of its estimators", async () => {
  const d = await trainTest("diabetes");
  const model = await new AdaBoostRegressor({ nEstimators: 7, loss: "square" }).fit(
    d.Xtrain,
    d.ytrain,
  );
  const each = await Promise.all(model.estimators.map((e) => e.predict(d.Xtest.slice(0, 20))));
  const weights = model.estimatorWeights;
  const total = weights.reduce((a, b) => a + b, 0);
  const predicted = await model.predict(d.Xtest.slice(0, 20));
  predicted.forEach((v, r) => {
    // Weight of estimators predicting below v is under half; at or below v, at least half.
    let below = 0, atOrBelow = 0;
    each.forEach((p, m) => {
      if (p[r] < v) below += weights[m];
      if (p[r] <= v) atOrBelow += weights[m];
    });
    assert.ok(below < 0.5 * total && atOrBelow >= 0.5 * total, `row ${r}`);
  });
});

Deno.test("AdaBoostRegressor takes any estimator as its base and round-trips through JSON", async () => {
  const d = await trainTest("diabetes");
  const model = await new AdaBoostRegressor({
    estimator: new Ridge({ alpha: 0.1 }),
    nEstimators: 4,
  })
    .fit(d.Xtrain, d.ytrain);
  assert.ok(model.estimators.every((e) => e instanceof Ridge));
  assert.ok(r2(await model.predict(d.Xtest), d.ytest) > 0.3);
  const copy = AdaBoostRegressor.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predict(d.Xtest), await model.predict(d.Xtest));
});

Deno.test("AdaBoostRegressor refuses bad input", async () => {
  const X = [[0], [1], [2]];
  await assert.rejects(() => new AdaBoostRegressor().predict(X), /not fitted yet/);
  await assert.rejects(
    () => new AdaBoostRegressor({ loss: "huber" as "linear" }).fit(X, [0, 1, 2]),
    /"loss" to be one of "linear", "square", "exponential"/,
  );
  await assert.rejects(() => new AdaBoostRegressor().fit(X, [0, NaN, 2]), /finite numbers/);
  await assert.rejects(
    () => new AdaBoostRegressor({ estimator: 3 as never }).fit(X, [0, 1, 2]),
    /"estimator" to be an estimator/,
  );
  await assert.rejects(
    () => new AdaBoostRegressor().fit(X, [0, 1, 2], { sampleWeight: [-1, 1, 1] }),
    /weights >= 0/,
  );
});
