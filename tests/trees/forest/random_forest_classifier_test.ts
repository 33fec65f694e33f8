import assert from "node:assert/strict";
import { dispose, init } from "../../../src/runtime/mod.ts";
import { DecisionTreeClassifier, RandomForestClassifier } from "../../../src/trees/mod.ts";
import { accuracy, assertReferenceScores, reference, trainTest } from "../_ensembles.ts";

const wine = await trainTest("wine");

Deno.test("RandomForestClassifier trains the same forest on js and on wasm with 1 or 2 threads", async () => {
  const fit = async (backend: "js" | "wasm") => {
    const forest = await new RandomForestClassifier({
      nEstimators: 12,
      oobScore: true,
      maxSamples: 0.8,
      seed: 7,
      backend,
    }).fit(wine.Xtrain, wine.ytrain);
    return { json: JSON.stringify(forest.toJSON().fitted), oob: forest.oobDecisionFunction.data };
  };
  const reference = await fit("js");
  for (const threads of [2, 1]) {
    await init({ threads });
    const ours = await fit("wasm");
    assert.equal(ours.json, reference.json, `${threads} thread(s)`);
    assert.deepEqual(ours.oob, reference.oob);
    // Leave the in-thread runtime of the last round for the tests below (no workers to end).
    if (threads > 1) await dispose();
  }
});

Deno.test("RandomForestClassifier reaches scikit-learn's held-out accuracy and OOB score", async () => {
  const cases: [string, string, object][] = [
    ["iris", "random_forest", {}],
    ["breast_cancer", "random_forest", {}],
    ["satellite", "random_forest", {}],
    ["vehicle", "random_forest_log2_half", {
      maxFeatures: "log2",
      maxSamples: 0.5,
      minSamplesLeaf: 2,
    }],
  ];
  for (const [name, key, options] of cases) {
    const d = await trainTest(name);
    await assertReferenceScores(name, d, reference(name, key), async (seed) => {
      const forest = await new RandomForestClassifier({ ...options, oobScore: true, seed }).fit(
        d.Xtrain,
        d.ytrain,
      );
      return { score: accuracy(await forest.predict(d.Xtest), d.ytest), oob: forest.oobScore };
    });
  }
});

Deno.test("RandomForestClassifier draws a fresh feature subset at every split", async () => {
  const vehicle = await trainTest("vehicle");
  const forest = await new RandomForestClassifier({ nEstimators: 10, maxFeatures: 2, seed: 3 })
    .fit(vehicle.Xtrain, vehicle.ytrain);
  const model = (forest.toJSON().fitted as { model: { feature: number[]; treeStart: number[] } })
    .model;
  for (let t = 0; t + 1 < model.treeStart.length; t++) {
    const used = new Set(
      model.feature.slice(model.treeStart[t], model.treeStart[t + 1]).filter((f) => f >= 0),
    );
    // A subset drawn per tree would hold 2 of the 18 features; drawn per split, a tree uses many.
    assert.ok(used.size >= 10, `tree ${t} uses ${used.size} features`);
  }
});

Deno.test("RandomForestClassifier reports progress, and an aborted fit leaves it unfitted", async () => {
  const seen: number[] = [];
  const forest = await new RandomForestClassifier({ nEstimators: 20 }).fit(
    wine.Xtrain,
    wine.ytrain,
    { onProgress: ({ iteration, total }) => seen.push(iteration / total) },
  );
  assert.ok(seen.length >= 2 && seen.at(-1) === 1, `progress ${seen}`);
  assert.ok(seen.every((v, i) => i === 0 || v > seen[i - 1]));
  const controller = new AbortController();
  const aborted = new RandomForestClassifier({ nEstimators: 40 });
  await assert.rejects(
    () =>
      aborted.fit(wine.Xtrain, wine.ytrain, {
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    (error: Error) => error.name === "AbortError",
  );
  await assert.rejects(() => aborted.predict(wine.Xtest), /not fitted yet/);
  // The runtime is still usable, and a refit succeeds.
  await aborted.fit(wine.Xtrain, wine.ytrain);
  assert.ok(accuracy(await aborted.predict(wine.Xtest), wine.ytest) > 0.9);
  assert.equal(forest.treeCount, 20);
});

Deno.test("RandomForestClassifier featureImportances average the trees' importances", async () => {
  // Only feature 1 carries the label; 0 and 2 are noise.
  const X = Array.from({ length: 300 }, (_, i) => [(i * 37) % 101, i % 2, (i * 53) % 89]);
  const y = X.map(([, b]) => b);
  const forest = await new RandomForestClassifier({ nEstimators: 15, maxFeatures: null }).fit(X, y);
  const importances = forest.featureImportances;
  assert.ok(Math.abs(importances.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(importances[1] > 0.99, `${importances}`);
  const single = await new DecisionTreeClassifier().fit(X, y);
  assert.deepEqual(Array.from(single.featureImportances), [0, 1, 0]);
});

Deno.test("RandomForestClassifier round-trips through toJSON()/fromJSON()", async () => {
  const forest = await new RandomForestClassifier({ nEstimators: 8, oobScore: true }).fit(
    wine.Xtrain,
    wine.ytrain,
  );
  const copy = RandomForestClassifier.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())));
  assert.deepEqual(await copy.predictProba(wine.Xtest), await forest.predictProba(wine.Xtest));
  assert.equal(copy.oobScore, forest.oobScore);
  assert.deepEqual(await copy.apply(wine.Xtest), await forest.apply(wine.Xtest));
  const proba = await forest.predictProba(wine.Xtest);
  for (let i = 0; i < proba.shape[0]; i++) {
    const sum = proba.data.slice(i * 3, i * 3 + 3).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5);
  }
});

Deno.test("RandomForestClassifier refuses bad input", async () => {
  const X = [[0, 1], [1, 0], [2, 1], [3, 3]];
  const y = [0, 1, 0, 1];
  await assert.rejects(() => new RandomForestClassifier().predict(X), /not fitted yet/);
  const bad: [object, RegExp][] = [
    [{ nEstimators: 0 }, /"nEstimators" to be an integer >= 1/],
    [{ maxSamples: 0 }, /"maxSamples"/],
    [{ maxSamples: 5 }, /"maxSamples" to be at most the 4 rows/],
    [{ oobScore: true, bootstrap: false }, /"oobScore" to be false/],
    [{ criterion: "poisson" }, /"criterion"/],
    [{ bootstrap: "yes" }, /"bootstrap" to be a boolean/],
    [{ trees: 3 }, /Unknown option "trees"/],
  ];
  for (const [options, message] of bad) {
    await assert.rejects(() => new RandomForestClassifier(options).fit(X, y), message);
  }
  await assert.rejects(() => new RandomForestClassifier().fit(X, [1, 1, 1, 1]), /two classes/);
  await assert.rejects(
    () => new RandomForestClassifier().fit(X, y, { onProgress: 3 } as object),
    /"onProgress" to be a function/,
  );
  await assert.rejects(
    () => new RandomForestClassifier().fit(X, y, { signal: "stop" } as object),
    /"signal" to be an AbortSignal/,
  );
  const forest = await new RandomForestClassifier({ nEstimators: 2 }).fit(X, y);
  assert.throws(() => forest.oobScore, /"oobScore: true"/);
  await assert.rejects(() => forest.predict([[1]]), /2 columns/);
});
