import assert from "node:assert/strict";
import { DecisionTreeClassifier } from "../../../src/trees/mod.ts";
import {
  accuracy,
  assertReferenceScores,
  cartFixture,
  caseData,
  checkedPruningPath,
  fitSklearnTree,
  reference,
  trainTest,
} from "../_ensembles.ts";

const CASES = cartFixture.cases.filter((c) => c.task === "classification");
/** The reference kernels: these tests never start the WASM runtime (forest_kernels_test does). */
const backend = "js";

Deno.test("DecisionTreeClassifier({ splitter: 'exact' }) grows scikit-learn's trees", async () => {
  assert.ok(CASES.length >= 10);
  for (const c of CASES) {
    const { tree, X } = await fitSklearnTree(DecisionTreeClassifier, c);
    assert.equal(tree.leafCount, c.tree.feature.filter((f) => f < 0).length, `${c.name}: leaves`);
    const proba = await tree.predictProba(c.rows.map((r) => X[r]));
    c.proba!.forEach((row, i) =>
      row.forEach((p, k) =>
        assert.ok(Math.abs(proba.data[i * row.length + k] - p) < 1e-6, `${c.name}: proba`)
      )
    );
  }
});

Deno.test("DecisionTreeClassifier featureImportances are scikit-learn's", async () => {
  for (const c of CASES) {
    const { tree, X } = await fitSklearnTree(DecisionTreeClassifier, c);
    const sk = new Float64Array(X[0].length);
    const t = c.tree;
    for (let i = 0; i < t.nodeCount; i++) {
      if (t.feature[i] < 0) continue;
      const [l, r] = [t.left[i], t.right[i]];
      sk[t.feature[i]] += t.weightedNNodeSamples[i] * t.impurity[i] -
        t.weightedNNodeSamples[l] * t.impurity[l] - t.weightedNNodeSamples[r] * t.impurity[r];
    }
    const total = sk.reduce((a, b) => a + b, 0);
    const ours = tree.featureImportances;
    sk.forEach((v, f) => assert.ok(Math.abs(ours[f] - v / total) < 1e-6, `${c.name}: ${f}`));
  }
});

Deno.test("DecisionTreeClassifier costComplexityPruningPath() is scikit-learn's path", async () => {
  for (const c of CASES.filter((c) => c.path)) {
    const path = await checkedPruningPath(DecisionTreeClassifier, c);
    c.path!.impurities.forEach((a, i) => assert.ok(Math.abs(path.impurities[i] - a) < 1e-9));
  }
});

Deno.test("DecisionTreeClassifier (hist) reaches scikit-learn's held-out accuracy", async () => {
  for (const name of ["wine", "breast_cancer", "satellite", "vehicle"]) {
    const d = await trainTest(name);
    await assertReferenceScores(name, d, reference(name, "decision_tree"), async (seed) => {
      const tree = await new DecisionTreeClassifier({ seed, backend }).fit(d.Xtrain, d.ytrain);
      return { score: accuracy(await tree.predict(d.Xtest), d.ytest) };
    });
  }
});

Deno.test("DecisionTreeClassifier hist and exact splitters agree where every value has a bin", async () => {
  const { X, y } = await caseData(CASES[0]); // iris: fewer than 255 distinct values a feature
  const exact = await new DecisionTreeClassifier({ splitter: "exact", backend }).fit(X, y);
  const hist = await new DecisionTreeClassifier({ splitter: "hist", backend }).fit(X, y);
  assert.deepEqual(await hist.apply(X), await exact.apply(X));
  assert.deepEqual(await hist.predict(X), await exact.predict(X));
});

Deno.test("DecisionTreeClassifier sends missing values the way each split learnt", async () => {
  // Feature 0 is missing exactly for class 2; feature 1 separates classes 0 and 1.
  const X: number[][] = [], y: number[] = [];
  for (let i = 0; i < 60; i++) {
    const k = i % 3;
    X.push([k === 2 ? NaN : i / 60, k === 1 ? 1 + (i % 5) : -1 - (i % 5)]);
    y.push(k);
  }
  for (const splitter of ["hist", "exact"] as const) {
    const tree = await new DecisionTreeClassifier({ splitter, backend }).fit(X, y);
    assert.deepEqual(Array.from(await tree.predict(X)), y, splitter);
    assert.deepEqual(Array.from(await tree.predict([[NaN, 3], [0.5, -3], [0.2, 4]])), [2, 0, 1]);
  }
});

Deno.test("DecisionTreeClassifier honours sample weights and any label values", async () => {
  const X = [[0], [0], [1], [1]];
  const y = [-3, 8, -3, 8];
  const tree = await new DecisionTreeClassifier({ backend }).fit(X, y, {
    sampleWeight: [1, 3, 2, 1],
  });
  assert.deepEqual(Array.from(tree.classes), [-3, 8]);
  assert.deepEqual(Array.from(await tree.predict([[0], [1]])), [8, -3]);
  const proba = await tree.predictProba([[0]]);
  assert.deepEqual(Array.from(proba.data), [0.25, 0.75]);
});

Deno.test("DecisionTreeClassifier round-trips through toJSON()/fromJSON()", async () => {
  const d = await trainTest("wine");
  const tree = await new DecisionTreeClassifier({ maxDepth: 4, criterion: "entropy", backend }).fit(
    d.Xtrain,
    d.ytrain,
  );
  const copy = DecisionTreeClassifier.fromJSON(JSON.parse(JSON.stringify(tree.toJSON())));
  assert.deepEqual(await copy.predictProba(d.Xtest), await tree.predictProba(d.Xtest));
  assert.deepEqual(copy.featureImportances, tree.featureImportances);
  assert.equal(copy.depth, tree.depth);
  const unfitted = DecisionTreeClassifier.fromJSON(new DecisionTreeClassifier().toJSON());
  await assert.rejects(() => unfitted.predict([[1]]), /not fitted/);
});

Deno.test("DecisionTreeClassifier refuses bad input", async () => {
  const X = [[0, 1], [1, 0], [2, 1]];
  const tree = new DecisionTreeClassifier({ backend });
  await assert.rejects(() => tree.predict(X), /not fitted yet/);
  await assert.rejects(() => tree.fit(X, [1, 1, 1]), /at least two classes/);
  await assert.rejects(() => tree.fit(X, [0, 1]), /"y" to have 3 entries/);
  await assert.rejects(() => tree.fit(X, [0, NaN, 1]), /"y" to hold finite numbers/);
  await assert.rejects(() => tree.fit([], []), /"X" to have at least one row/);
  await assert.rejects(() => tree.fit(X, [0, 1, 0], { sampleWeight: [1, -1, 1] }), /weights >= 0/);
  await assert.rejects(() => tree.fit(X, [0, 1, 0], { sampleWeight: [0, 0, 0] }), /positive sum/);
  await assert.rejects(() => tree.fit([[0, Infinity]], [0]), /finite numbers or NaN/);
  const bad: [object, RegExp][] = [
    [{ maxDepth: 0 }, /"maxDepth" to be an integer >= 1/],
    [{ criterion: "squared_error" }, /"criterion" to be one of "gini"/],
    [{ splitter: "best" }, /"splitter" to be one of "hist", "exact"/],
    [{ maxFeatures: 3 }, /"maxFeatures" to be at most the 2 features/],
    [{ maxFeatures: "half" }, /"maxFeatures" to be "sqrt"/],
    [{ minSamplesLeaf: 0 }, /"minSamplesLeaf"/],
    [{ minSamplesSplit: 0 }, /"minSamplesSplit"/],
    [{ maxLeafNodes: 1 }, /"maxLeafNodes" to be an integer >= 2/],
    [{ ccpAlpha: -1 }, /"ccpAlpha"/],
    [{ maxBin: 300 }, /"maxBin"/],
    [{ depth: 3 }, /Unknown option "depth"/],
  ];
  for (const [options, message] of bad) {
    await assert.rejects(
      () => new DecisionTreeClassifier({ backend, ...options }).fit(X, [0, 1, 0]),
      message,
    );
  }
  const fitted = await tree.fit(X, [0, 1, 0]);
  await assert.rejects(() => fitted.predict([[1, 2, 3]]), /2 columns \(as at fit\)/);
  await assert.rejects(
    () => fitted.fit(X, [0, 1, 0], { weights: [1] } as object),
    /Unknown option/,
  );
  assert.throws(
    () => DecisionTreeClassifier.fromJSON({ format: "tessera.trees", estimator: "XGBRegressor" }),
    /serialised DecisionTreeClassifier/,
  );
});
