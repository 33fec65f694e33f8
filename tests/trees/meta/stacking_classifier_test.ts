import assert from "node:assert/strict";
import { init } from "../../../src/runtime/mod.ts";
import { LogisticRegression } from "../../../src/linear/mod.ts";
import {
  DecisionTreeClassifier,
  RandomForestClassifier,
  StackingClassifier,
} from "../../../src/trees/mod.ts";
import { stratifiedKFold } from "../../../src/trees/meta/_meta.ts";
import { accuracy, assertReferenceScores, reference, trainTest } from "../_ensembles.ts";

// WASM in this thread: no worker to start.
await init({ threads: 1 });

/** The fixture's configuration: a forest and a depth-4 tree under a logistic regression. */
function stack(seed: number, passthrough: boolean) {
  return new StackingClassifier({
    estimators: [
      new RandomForestClassifier({ nEstimators: 50, seed }),
      new DecisionTreeClassifier({ maxDepth: 4, seed }),
    ],
    finalEstimator: new LogisticRegression({ maxIter: 20000 }),
    cv: 5,
    passthrough,
  });
}

Deno.test("StackingClassifier reaches scikit-learn's held-out accuracy", async () => {
  // Test sets of 114 rows and more; passthrough (raw, unscaled features into the logistic
  // regression) only where it converges quickly.
  const cases: [string, boolean][] = [
    ["breast_cancer", false],
    ["breast_cancer", true],
    ["vehicle", false],
    ["satellite", false],
  ];
  for (const [name, passthrough] of cases) {
    const d = await trainTest(name);
    const ref = reference(name, passthrough ? "stacking_passthrough" : "stacking");
    await assertReferenceScores(`${name} ${passthrough}`, d, ref, async (seed) => {
      const model = await stack(seed, passthrough).fit(d.Xtrain, d.ytrain);
      return { score: accuracy(await model.predict(d.Xtest), d.ytest) };
    }, [0, 1]);
  }
});

Deno.test("stratifiedKFold() deals folds as scikit-learn's StratifiedKFold", () => {
  // scikit-learn 1.2: StratifiedKFold(4).split(X, y), test fold of each row.
  const y = [2, 0, 0, 1, 1, 2, 0, 1, 2, 2, 0, 1, 0, 0, 1, 2, 2, 1, 0, 2, 5, 5, 0, 1];
  const expected = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 2, 3, 3, 3];
  assert.deepEqual(Array.from(stratifiedKFold(y, 4)), expected);
  assert.throws(() => stratifiedKFold([0, 1, 1, 0], 3), /"cv"/);
});

Deno.test("StackingClassifier trains its final estimator on out-of-fold probabilities", async () => {
  const d = await trainTest("wine");
  const tree = new DecisionTreeClassifier({ maxDepth: 2 });
  const model = await new StackingClassifier({ estimators: [tree], cv: 3, passthrough: true })
    .fit(d.Xtrain, d.ytrain);
  // Three classes: three probability columns, then the 13 features.
  const meta = await model.transform(d.Xtest);
  assert.deepEqual(meta.shape, [d.ytest.length, 3 + 13]);
  const refit = await new DecisionTreeClassifier({ maxDepth: 2 }).fit(d.Xtrain, d.ytrain);
  const proba = await refit.predictProba(d.Xtest);
  for (let i = 0; i < d.ytest.length; i++) {
    assert.deepEqual(meta.data.slice(i * 16, i * 16 + 3), proba.data.slice(i * 3, i * 3 + 3));
    assert.equal(meta.data[i * 16 + 3], Math.fround(d.Xtest[i][0]));
  }
  // The final estimator was fitted on out-of-fold outputs: rebuild them fold by fold.
  const folds = stratifiedKFold(d.ytrain, 3);
  const oof = new Float32Array(d.ytrain.length * 16);
  for (let k = 0; k < 3; k++) {
    const train = d.ytrain.map((_, r) => r).filter((r) => folds[r] !== k);
    const test = d.ytrain.map((_, r) => r).filter((r) => folds[r] === k);
    const fold = await new DecisionTreeClassifier({ maxDepth: 2 }).fit(
      train.map((r) => d.Xtrain[r]),
      train.map((r) => d.ytrain[r]),
    );
    const p = await fold.predictProba(test.map((r) => d.Xtrain[r]));
    test.forEach((r, i) => {
      oof.set(p.data.slice(i * 3, i * 3 + 3), r * 16);
      oof.set(d.Xtrain[r], r * 16 + 3);
    });
  }
  const expected = await new LogisticRegression().fit(
    { data: oof, shape: [d.ytrain.length, 16] },
    d.ytrain,
  );
  const final = model.finalEstimator as LogisticRegression;
  assert.deepEqual(final.coef, expected.coef);
  assert.deepEqual(final.intercept, expected.intercept);
  // Two classes: one column per base estimator (the second class's probability).
  const binary = await trainTest("breast_cancer");
  const two = await new StackingClassifier({
    estimators: [
      new DecisionTreeClassifier({ maxDepth: 3 }),
      new RandomForestClassifier({ nEstimators: 5 }),
    ],
  }).fit(binary.Xtrain, binary.ytrain);
  assert.deepEqual((await two.transform(binary.Xtest)).shape, [binary.ytest.length, 2]);
  const p = await two.predictProba(binary.Xtest);
  assert.deepEqual(p.shape, [binary.ytest.length, 2]);
});

Deno.test("StackingClassifier round-trips through toJSON()/fromJSON() and reports progress", async () => {
  const d = await trainTest("iris");
  const seen: number[] = [];
  const model = await new StackingClassifier({
    estimators: [new DecisionTreeClassifier({ maxDepth: 3 }), new LogisticRegression()],
    cv: 3,
  }).fit(d.Xtrain, d.ytrain, { onProgress: ({ iteration }) => seen.push(iteration) });
  // Two estimators × (3 folds + 1 refit) + the final estimator.
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const copy = StackingClassifier.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predictProba(d.Xtest), await model.predictProba(d.Xtest));
  assert.ok(accuracy(await copy.predict(d.Xtest), d.ytest) >= 0.9);
  assert.ok(copy.options.estimators![1] instanceof LogisticRegression);
});

Deno.test("StackingClassifier refuses bad input", async () => {
  const X = [[0], [1], [2], [3], [4], [5]];
  const y = [0, 1, 0, 1, 0, 1];
  await assert.rejects(() => new StackingClassifier().fit(X, y), /"estimators"/);
  await assert.rejects(() => new StackingClassifier({ estimators: [] }).fit(X, y), /non-empty/);
  const trees = [new DecisionTreeClassifier()];
  await assert.rejects(
    () => new StackingClassifier({ estimators: trees, cv: 1 }).fit(X, y),
    /"cv" to be an integer >= 2/,
  );
  await assert.rejects(
    () => new StackingClassifier({ estimators: trees, cv: 7 }).fit(X, y),
    /"cv" to be at most the 6 rows/,
  );
  await assert.rejects(
    () => new StackingClassifier({ estimators: [trees[0], "tree" as never] }).fit(X, y),
    /"estimators\[1\]" to be an estimator/,
  );
  await assert.rejects(
    () => new StackingClassifier({ estimators: trees }).predict(X),
    /not fitted/,
  );
});
