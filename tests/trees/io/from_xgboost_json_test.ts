import assert from "node:assert/strict";
import { fromXGBoostJSON, XGBClassifier, XGBRegressor } from "../../../src/trees/mod.ts";
import { loadModelFixture, modelFixtureNames } from "../_fixtures.ts";

/** Largest |a − float32(b)| over the arrays. */
function maxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - Math.fround(expected[i])));
  }
  return worst;
}

Deno.test("fromXGBoostJSON() reproduces XGBoost's margins bit for bit on every fixture", async () => {
  const names = modelFixtureNames();
  assert.ok(names.length >= 12, `only ${names.length} fixtures`);
  for (const name of names) {
    const fx = loadModelFixture(name);
    const model = fromXGBoostJSON(fx.model);
    const margin = await model.predictMargin(fx.X);
    assert.equal(maxError(margin.data, fx.margin), 0, `${name}: margins differ`);
  }
});

Deno.test("fromXGBoostJSON() predicts within 1e-6 of XGBoost in output space", async () => {
  for (const name of modelFixtureNames()) {
    const fx = loadModelFixture(name);
    const model = fromXGBoostJSON(JSON.stringify(fx.model));
    const objective = fx.params.objective as string;
    if (model instanceof XGBRegressor) {
      assert.ok(maxError(await model.predict(fx.X), fx.prediction) <= 1e-6, name);
      continue;
    }
    assert.ok(model instanceof XGBClassifier, name);
    const proba = await model.predictProba(fx.X);
    const labels = await model.predict(fx.X);
    if (objective === "multi:softmax") {
      assert.deepEqual(Array.from(labels), fx.prediction, name);
    } else if (objective === "binary:logitraw") {
      const p = fx.prediction.map((m) => 1 / (1 + Math.exp(-m)));
      assert.ok(maxError(proba.data.filter((_, i) => i % 2 === 1), p) <= 1e-6, name);
    } else if (proba.shape[1] === 2) {
      assert.ok(maxError(proba.data.filter((_, i) => i % 2 === 1), fx.prediction) <= 1e-6, name);
    } else {
      assert.ok(maxError(proba.data, fx.prediction) <= 1e-6, name);
    }
    // XGBoost's wrapper thresholds logitraw margins at 0.5 as if they were probabilities;
    // Tessera takes the class whose probability exceeds 0.5 (margin > 0).
    if (fx.predictedLabels && objective !== "binary:logitraw") {
      assert.deepEqual(Array.from(labels), fx.predictedLabels, name);
    }
  }
});

Deno.test("fromXGBoostJSON() sends all-missing rows down the default branches", async () => {
  const fx = loadModelFixture("missing");
  assert.ok(fx.X[0].every((v) => Number.isNaN(v)));
  const model = fromXGBoostJSON(fx.model);
  const margin = await model.predictMargin(fx.X.slice(0, 10));
  // All ten rows are identical, so one path; it must be XGBoost's.
  for (let i = 0; i < 10; i++) assert.equal(margin.data[i], Math.fround(fx.margin[i]));
});

Deno.test("fromXGBoostJSON() picks the estimator and classes from the objective", () => {
  const binary = fromXGBoostJSON(loadModelFixture("binary").model);
  assert.ok(binary instanceof XGBClassifier);
  assert.deepEqual(Array.from(binary.classes), [0, 1]);
  const multi = fromXGBoostJSON(loadModelFixture("multiclass").model);
  assert.ok(multi instanceof XGBClassifier);
  assert.deepEqual(Array.from(multi.classes), [0, 1, 2]);
  assert.ok(fromXGBoostJSON(loadModelFixture("logistic").model) instanceof XGBRegressor);
  assert.equal(binary.nFeatures, 5);
});

Deno.test("fromXGBoostJSON() models survive toJSON()/fromJSON()", async () => {
  const fx = loadModelFixture("multiclass");
  const model = fromXGBoostJSON(fx.model) as XGBClassifier;
  const copy = XGBClassifier.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual((await copy.predictMargin(fx.X)).data, (await model.predictMargin(fx.X)).data);
});

Deno.test("fromXGBoostJSON() importances follow XGBoost's gain definition", () => {
  const fx = loadModelFixture("regression");
  const model = fromXGBoostJSON(fx.model);
  // Recompute total gain per feature straight from the XGBoost JSON.
  const booster = fx.model.learner as {
    gradient_booster: { model: { trees: Record<string, number[]>[] } };
  };
  const total = new Float64Array(5), count = new Float64Array(5);
  for (const tree of booster.gradient_booster.model.trees) {
    tree.left_children.forEach((l, i) => {
      if (l === -1) return;
      total[tree.split_indices[i]] += Math.fround(tree.loss_changes[i]);
      count[tree.split_indices[i]] += 1;
    });
  }
  const totalGain = model.featureScores("totalGain");
  const weight = model.featureScores("weight");
  for (let f = 0; f < 5; f++) {
    assert.ok(Math.abs(totalGain[f] - total[f]) <= 1e-6 * Math.max(1, total[f]));
    assert.equal(weight[f], count[f]);
  }
  const importances = model.featureImportances;
  assert.ok(Math.abs(importances.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(importances[0] > importances[1], "feature 0 drives the target");
});

Deno.test("fromXGBoostJSON() rejects what it cannot read", () => {
  const fx = loadModelFixture("regression");
  const learner = fx.model.learner as Record<string, Record<string, unknown>>;
  const withLearner = (patch: Record<string, unknown>) => ({
    ...fx.model,
    learner: { ...learner, ...patch },
  });
  assert.throws(() => fromXGBoostJSON("{not json"), TypeError);
  assert.throws(() => fromXGBoostJSON({}), /learner/);
  assert.throws(
    () => fromXGBoostJSON(withLearner({ objective: { name: "rank:pairwise" } })),
    /objective/,
  );
  assert.throws(
    () => fromXGBoostJSON(withLearner({ gradient_booster: { name: "gblinear", model: {} } })),
    /"gbtree" or "dart"/,
  );
  const model = learner.gradient_booster.model as { trees: Record<string, unknown>[] };
  const tree = model.trees[0];
  /** The model with `only` as its one tree. */
  const withTree = (only: Record<string, unknown>) =>
    withLearner({
      gradient_booster: { name: "gbtree", model: { ...model, trees: [only], tree_info: [0] } },
    });
  const categorical = { ...tree, split_type: (tree.split_type as number[]).map(() => 1) };
  assert.throws(() => fromXGBoostJSON(withTree(categorical)), /categorical/);
  const cyclic = {
    ...tree,
    left_children: (tree.left_children as number[]).map((c) => (c === -1 ? -1 : 0)),
  };
  assert.throws(() => fromXGBoostJSON(withTree(cyclic)), RangeError);
});
