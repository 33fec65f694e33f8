import assert from "node:assert/strict";
import type { Matrix, Tensor } from "../../../src/tensor.ts";
import { init } from "../../../src/runtime/mod.ts";
import { LogisticRegression } from "../../../src/linear/mod.ts";
import { AdaBoostClassifier, DecisionTreeClassifier } from "../../../src/trees/mod.ts";
import { roundSeed } from "../../../src/trees/meta/_ada_boost.ts";
import { replayFeatureDraws } from "../../../src/trees/cart/_decision_tree.ts";
import { SklearnDraws } from "../../fixtures/ensembles/_cart.ts";
import { accuracy, reference, trainTest } from "../_ensembles.ts";

// WASM in this thread: no worker to start.
await init({ threads: 1 });

interface SammeReference {
  score: number;
  nEstimators: number;
  estimatorWeights: number[];
  estimatorErrors: number[];
  stagedScore: number[];
  stagedPredict: number[][];
  splitterSeeds: number[];
}

/**
 * Every reference but iris with stumps, where at round 6 two stumps split the weighted rows
 * differently with the same weighted gini to the last bit or so: scikit-learn's rounding picks
 * one, ours the other, and the runs part from there (both reach the same final accuracy, tested
 * below).
 */
const CASES: [string, string, number, number][] = [[
  "iris",
  "adaboost_samme_depth2_rate0.5",
  2,
  0.5,
]];
for (const name of ["wine", "breast_cancer", "satellite", "vehicle"]) {
  CASES.push([name, "adaboost_samme", 1, 1], [name, "adaboost_samme_depth2_rate0.5", 2, 0.5]);
}

Deno.test("AdaBoostClassifier (SAMME) boosts scikit-learn's stumps with its weights, errors and stages", async () => {
  for (const [name, key, maxDepth, learningRate] of CASES) {
    const d = await trainTest(name);
    const ref = reference(name, key) as unknown as SammeReference;
    // Exact trees whose tie-breaking replays each of scikit-learn's estimators in turn.
    const template = new DecisionTreeClassifier({ maxDepth, splitter: "exact" });
    const seeds = new Map(ref.splitterSeeds.map((s, m) => [roundSeed(0, m), s]));
    replayFeatureDraws(template, (seed) => new SklearnDraws(seeds.get(seed)!));
    const model = await new AdaBoostClassifier({
      estimator: template,
      nEstimators: 50,
      learningRate,
    })
      .fit(d.Xtrain, d.ytrain);
    const at = `${name} ${key}`;
    assert.equal(model.estimators.length, ref.nEstimators, at);
    model.estimatorWeights.forEach((w, m) =>
      assert.ok(Math.abs(w - ref.estimatorWeights[m]) < 1e-9, `${at}: weight ${m}`)
    );
    model.estimatorErrors.forEach((e, m) =>
      assert.ok(Math.abs(e - ref.estimatorErrors[m]) < 1e-12, `${at}: error ${m}`)
    );
    const staged = await model.stagedPredict(d.Xtest);
    staged.forEach((labels, m) => {
      assert.deepEqual(Array.from(labels.slice(0, 10)), ref.stagedPredict[m], `${at}: stage ${m}`);
      assert.ok(Math.abs(accuracy(labels, d.ytest) - ref.stagedScore[m]) < 1e-12);
    });
    assert.equal(accuracy(await model.predict(d.Xtest), d.ytest), ref.score, at);
  }
});

Deno.test("AdaBoostClassifier weights every estimator by SAMME's formula", async () => {
  const d = await trainTest("satellite");
  for (const learningRate of [1, 0.3]) {
    const model = await new AdaBoostClassifier({ nEstimators: 20, learningRate }).fit(
      d.Xtrain,
      d.ytrain,
    );
    const K = model.classes.length;
    assert.equal(K, 6);
    const errors = model.estimatorErrors;
    model.estimatorWeights.forEach((alpha, m) => {
      const expected = learningRate * (Math.log((1 - errors[m]) / errors[m]) + Math.log(K - 1));
      assert.ok(Math.abs(alpha - expected) < 1e-12, `round ${m}`);
    });
    if (learningRate === 1) {
      // The default hist stumps boost as well as scikit-learn's exact ones here (1287 test rows).
      const ref = reference("satellite", "adaboost_samme") as unknown as SammeReference;
      const ours = accuracy(await model.predict(d.Xtest), d.ytest);
      assert.ok(Math.abs(ours - ref.stagedScore[19]) < 0.01, `${ours} vs ${ref.stagedScore[19]}`);
    }
  }
});

/** A test estimator that predicts a fixed label whatever it is fitted on. */
class ConstantClassifier {
  readonly options: { label: number };
  constructor(options: { label: number }) {
    this.options = { ...options };
  }
  fit(): Promise<this> {
    return Promise.resolve(this);
  }
  predict(X: Matrix): Promise<Float32Array> {
    const n = Array.isArray(X) ? X.length : (X as Tensor).shape[0];
    return Promise.resolve(new Float32Array(n).fill(this.options.label));
  }
  toJSON() {
    return { estimator: "ConstantClassifier", options: this.options };
  }
}

Deno.test("AdaBoostClassifier stops after a perfect estimator and before one no better than chance", async () => {
  const X = [[0], [1], [2], [3], [4], [5]];
  const perfect = await new AdaBoostClassifier().fit(X, [0, 0, 0, 1, 1, 1]);
  assert.equal(perfect.estimators.length, 1);
  assert.deepEqual(Array.from(perfect.estimatorWeights), [1]);
  assert.deepEqual(Array.from(perfect.estimatorErrors), [0]);
  assert.deepEqual(Array.from(await perfect.predict([[0.5], [4.5]])), [0, 1]);
  // A constant guess errs on half the weight of two balanced classes: chance, refused.
  await assert.rejects(
    () =>
      new AdaBoostClassifier({ estimator: new ConstantClassifier({ label: 1 }) }).fit(X, [
        0,
        0,
        0,
        1,
        1,
        1,
      ]),
    /beat chance/,
  );
  // XOR: the first stump beats chance on the initial weights; after reweighting, a stump cannot
  // do better than 1/2 again, and boosting stops there without keeping it.
  const xor = [[0, 0], [0, 1], [1, 0], [1, 1], [0, 0], [1, 1]];
  const model = await new AdaBoostClassifier({ nEstimators: 10 }).fit(xor, [0, 1, 1, 0, 0, 0]);
  assert.ok(model.estimators.length < 10, `${model.estimators.length} estimators`);
  assert.ok(model.estimatorErrors.every((e) => e < 0.5));
});

Deno.test("AdaBoostClassifier with stumps on iris reaches scikit-learn's accuracy", async () => {
  const d = await trainTest("iris");
  const model = await new AdaBoostClassifier({
    estimator: new DecisionTreeClassifier({ maxDepth: 1, splitter: "exact" }),
  }).fit(d.Xtrain, d.ytrain);
  const ref = reference("iris", "adaboost_samme").score as number;
  assert.equal(accuracy(await model.predict(d.Xtest), d.ytest), ref);
});

Deno.test("AdaBoostClassifier takes any estimator as its base, and resamples on request", async () => {
  const d = await trainTest("iris");
  const logistic = await new AdaBoostClassifier({
    estimator: new LogisticRegression({ C: 10 }),
    nEstimators: 5,
  }).fit(d.Xtrain, d.ytrain);
  assert.ok(logistic.estimators.every((e) => e instanceof LogisticRegression));
  assert.ok(accuracy(await logistic.predict(d.Xtest), d.ytest) >= 0.9);
  const fit = (seed: number) =>
    new AdaBoostClassifier({ resample: true, nEstimators: 15, seed }).fit(d.Xtrain, d.ytrain);
  const a = await fit(1), b = await fit(1), c = await fit(2);
  assert.deepEqual(a.estimatorWeights, b.estimatorWeights);
  assert.notDeepEqual(a.estimatorWeights, c.estimatorWeights);
  assert.ok(accuracy(await a.predict(d.Xtest), d.ytest) >= 0.9);
});

Deno.test("AdaBoostClassifier probabilities, decisions and stages agree", async () => {
  const d = await trainTest("breast_cancer");
  const model = await new AdaBoostClassifier({ nEstimators: 12 }).fit(d.Xtrain, d.ytrain);
  const decision = await model.decisionFunction(d.Xtest);
  assert.deepEqual(decision.shape, [d.ytest.length]);
  const proba = await model.predictProba(d.Xtest);
  const labels = await model.predict(d.Xtest);
  for (let i = 0; i < d.ytest.length; i++) {
    const [p0, p1] = [proba.data[2 * i], proba.data[2 * i + 1]];
    assert.ok(Math.abs(p0 + p1 - 1) < 1e-6);
    // Softmax of (−d/2, d/2): p1 = sigmoid(d).
    assert.ok(Math.abs(p1 - 1 / (1 + Math.exp(-decision.data[i]))) < 1e-6);
    assert.equal(labels[i], decision.data[i] > 0 ? 1 : 0);
  }
  const staged = await model.stagedPredict(d.Xtest);
  assert.equal(staged.length, 12);
  assert.deepEqual(staged.at(-1), labels);
  assert.ok(model.featureImportances.reduce((a, b) => a + b, 0) > 0.999);
});

Deno.test("AdaBoostClassifier round-trips through toJSON()/fromJSON() with its estimators", async () => {
  const d = await trainTest("wine");
  const model = await new AdaBoostClassifier({
    estimator: new DecisionTreeClassifier({ maxDepth: 2, criterion: "entropy" }),
    nEstimators: 8,
  }).fit(d.Xtrain, d.ytrain);
  const copy = AdaBoostClassifier.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predictProba(d.Xtest), await model.predictProba(d.Xtest));
  assert.deepEqual(copy.estimatorWeights, model.estimatorWeights);
  assert.ok(copy.options.estimator instanceof DecisionTreeClassifier);
  assert.equal(copy.options.estimator!.options.criterion, "entropy");
  const unfitted = AdaBoostClassifier.fromJSON(new AdaBoostClassifier().toJSON());
  await assert.rejects(() => unfitted.predict(d.Xtest), /not fitted yet/);
});

Deno.test("AdaBoostClassifier reports progress and an aborted fit leaves it unfitted", async () => {
  const d = await trainTest("wine");
  const seen: number[] = [];
  await new AdaBoostClassifier({ nEstimators: 5 }).fit(d.Xtrain, d.ytrain, {
    onProgress: ({ iteration }) => seen.push(iteration),
  });
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  const controller = new AbortController();
  const model = new AdaBoostClassifier({ nEstimators: 30 });
  await assert.rejects(
    () =>
      model.fit(d.Xtrain, d.ytrain, {
        signal: controller.signal,
        onProgress: ({ iteration }) => iteration === 3 && controller.abort(),
      }),
    (error: Error) => error.name === "AbortError",
  );
  await assert.rejects(() => model.predict(d.Xtest), /not fitted yet/);
});

Deno.test("AdaBoostClassifier refuses bad input", async () => {
  const X = [[0], [1], [2]];
  await assert.rejects(() => new AdaBoostClassifier().predict(X), /not fitted yet/);
  const bad: [object, RegExp][] = [
    [{ nEstimators: 0 }, /"nEstimators"/],
    [{ learningRate: 0 }, /"learningRate" to be a finite number > 0/],
    [{ estimator: {} }, /"estimator" to be an estimator/],
    [{ resample: 1 }, /"resample" to be a boolean/],
    [{ algorithm: "SAMME.R" }, /Unknown option "algorithm"/],
  ];
  for (const [options, message] of bad) {
    await assert.rejects(() => new AdaBoostClassifier(options).fit(X, [0, 1, 0]), message);
  }
  await assert.rejects(() => new AdaBoostClassifier().fit(X, [1, 1, 1]), /two classes/);
  await assert.rejects(() => new AdaBoostClassifier().fit(X, [0, 1]), /3 entries/);
  const model = await new AdaBoostClassifier({ nEstimators: 2 }).fit(X, [0, 1, 0]);
  await assert.rejects(() => model.predict([[1, 2]]), /1 columns/);
  assert.throws(
    () => AdaBoostClassifier.fromJSON({ format: "x" }),
    /serialised AdaBoostClassifier/,
  );
});
