import assert from "node:assert/strict";
import { Rng } from "../../../src/_random.ts";
import { XGBClassifier } from "../../../src/trees/mod.ts";
import { crossValidate, loadDataFixture, SCORES, xgbOptions } from "../_fixtures.ts";

Deno.test("XGBClassifier reaches XGBoost's cross-validated accuracy on bundled data sets", async () => {
  for (const name of ["breast_cancer", "wine", "iris"]) {
    const data = loadDataFixture(name);
    for (const ref of data.references.filter((r) => r.library === "xgboost")) {
      const accuracy = await crossValidate(
        data,
        () => new XGBClassifier({ ...xgbOptions(ref.params), backend: "js" }),
        SCORES.accuracy(ref.params),
      );
      assert.ok(
        accuracy >= ref.cvScore - 0.005,
        `${name} ${JSON.stringify(ref.params)}: ${accuracy} vs ${ref.cvScore}`,
      );
    }
  }
});

function blobs(seed: number, n: number, labels: number[]) {
  const rng = new Rng(seed);
  const X: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % labels.length;
    X.push([
      k + rng.next() * 1.5,
      (k % 2) * 2 + rng.next() * 1.5,
      rng.next() < 0.1 ? NaN : rng.next(),
    ]);
    y.push(labels[k]);
  }
  return { X, y };
}

Deno.test("XGBClassifier maps any labels to sorted classes", async () => {
  const { X, y } = blobs(1, 150, [10, -3, 2.5]);
  const model = await new XGBClassifier({ nEstimators: 20, backend: "js" }).fit(X, y);
  assert.deepEqual(Array.from(model.classes), [-3, 2.5, 10]);
  const proba = await model.predictProba(X);
  assert.deepEqual(proba.shape, [150, 3]);
  for (let i = 0; i < 150; i++) {
    const row = proba.data.subarray(3 * i, 3 * i + 3);
    assert.ok(Math.abs(row[0] + row[1] + row[2] - 1) < 1e-5);
  }
  const labels = await model.predict(X);
  assert.ok(labels.every((l) => l === -3 || l === 2.5 || l === 10));
  assert.ok(labels.filter((l, i) => l === y[i]).length > 140);
  // Three classes train one tree per class per round.
  const trees = (model.toJSON().fitted as { model: { treeGroup: number[] } }).model.treeGroup;
  assert.deepEqual(trees.slice(0, 6), [0, 1, 2, 0, 1, 2]);
});

Deno.test("XGBClassifier binary models give two probability columns", async () => {
  const { X, y } = blobs(2, 100, [5, 9]);
  const model = await new XGBClassifier({ nEstimators: 10, backend: "js" }).fit(X, y);
  const proba = await model.predictProba(X);
  assert.deepEqual(proba.shape, [100, 2]);
  const labels = await model.predict(X);
  for (let i = 0; i < 100; i++) {
    assert.ok(Math.abs(proba.data[2 * i] + proba.data[2 * i + 1] - 1) < 1e-6);
    assert.equal(labels[i], proba.data[2 * i + 1] > 0.5 ? 9 : 5);
  }
  const margin = await model.predictMargin(X);
  assert.deepEqual(margin.shape, [100, 1]);
  const softprob = await new XGBClassifier({
    nEstimators: 10,
    objective: "multi:softprob",
    backend: "js",
  }).fit(X, y);
  assert.deepEqual((await softprob.predictProba(X)).shape, [100, 2]);
});

Deno.test("XGBClassifier evaluates and stops early on classification metrics", async () => {
  const train = blobs(3, 200, [0, 1]), valid = blobs(4, 100, [0, 1]);
  for (const metric of ["auc", "logloss", "error"]) {
    const model = await new XGBClassifier({ nEstimators: 200, evalMetric: metric, backend: "js" })
      .fit(train.X, train.y, { evalSet: [valid.X, valid.y], earlyStoppingRounds: 3 });
    const history = model.evalHistory[metric];
    assert.ok(history.length < 200, metric);
    const best = metric === "auc"
      ? history.indexOf(Math.max(...history))
      : history.indexOf(Math.min(...history));
    assert.equal(model.bestIteration, best, metric);
  }
  const multi = blobs(5, 150, [0, 1, 2]), multiValid = blobs(6, 60, [0, 1, 2]);
  const model = await new XGBClassifier({
    nEstimators: 5,
    evalMetric: ["merror", "mlogloss"],
    backend: "js",
  })
    .fit(multi.X, multi.y, { evalSet: [multiValid.X, multiValid.y] });
  const mlogloss = model.evalHistory.mlogloss;
  assert.equal(mlogloss.length, 5);
  assert.ok(mlogloss[4] < mlogloss[0]);
  // The last recorded mlogloss is that of the final model's probabilities.
  const proba = await model.predictProba(multiValid.X);
  const direct = multiValid.y.reduce((s, k, i) => s - Math.log(proba.data[3 * i + k]), 0) / 60;
  assert.ok(Math.abs(direct - mlogloss[4]) < 1e-5);
});

Deno.test("XGBClassifier round-trips through toJSON() and fromJSON()", async () => {
  const { X, y } = blobs(7, 90, [1, 2, 3]);
  const model = await new XGBClassifier({ nEstimators: 8, maxDepth: 2, backend: "js" }).fit(X, y);
  const copy = XGBClassifier.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predictProba(X), await model.predictProba(X));
  assert.deepEqual(copy.classes, model.classes);
});
