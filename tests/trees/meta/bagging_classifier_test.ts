import assert from "node:assert/strict";
import type { Matrix, Tensor } from "../../../src/tensor.ts";
import { init } from "../../../src/runtime/mod.ts";
import { LogisticRegression } from "../../../src/linear/mod.ts";
import { BaggingClassifier, DecisionTreeClassifier } from "../../../src/trees/mod.ts";
import { accuracy, assertReferenceScores, reference, trainTest } from "../_ensembles.ts";

// WASM in this thread: no worker to start.
await init({ threads: 1 });

Deno.test("BaggingClassifier reaches scikit-learn's held-out accuracy and OOB score", async () => {
  const cases: [string, string, object][] = [
    ["breast_cancer", "bagging", {}],
    ["satellite", "bagging", {}],
    ["vehicle", "bagging_features", { maxSamples: 0.5, maxFeatures: 0.5, bootstrapFeatures: true }],
    ["satellite", "bagging_features", {
      maxSamples: 0.5,
      maxFeatures: 0.5,
      bootstrapFeatures: true,
    }],
  ];
  for (const [name, key, options] of cases) {
    const d = await trainTest(name);
    await assertReferenceScores(`${name} ${key}`, d, reference(name, key), async (seed) => {
      const model = await new BaggingClassifier({
        ...options,
        nEstimators: 50,
        oobScore: true,
        seed,
      })
        .fit(d.Xtrain, d.ytrain);
      return { score: accuracy(await model.predict(d.Xtest), d.ytest), oob: model.oobScore };
    }, [0, 1]);
  }
});

Deno.test("BaggingClassifier draws rows and features per estimator from its seed", async () => {
  const d = await trainTest("vehicle");
  const fit = (seed: number, bootstrapFeatures: boolean) =>
    new BaggingClassifier({ nEstimators: 6, maxFeatures: 5, bootstrapFeatures, seed }).fit(
      d.Xtrain,
      d.ytrain,
    );
  const plain = await fit(3, false);
  const columns = plain.estimatorsFeatures;
  assert.equal(columns.length, 6);
  for (const c of columns) {
    assert.equal(c.length, 5);
    assert.equal(new Set(c).size, 5, "without replacement");
  }
  assert.notDeepEqual(columns[0], columns[1]);
  const again = await fit(3, false);
  assert.deepEqual(again.estimatorsFeatures, columns);
  assert.deepEqual(await again.predictProba(d.Xtest), await plain.predictProba(d.Xtest));
  const withReplacement = await fit(3, true);
  assert.ok(withReplacement.estimatorsFeatures.some((c) => new Set(c).size < c.length));
  // Each estimator sees only its own columns.
  const first = plain.estimators[0] as DecisionTreeClassifier;
  assert.equal(first.nFeatures, 5);
});

/** A test classifier without predictProba: predicts the label of the nearest training row. */
class NearestClassifier {
  readonly options = {};
  #x: number[][] = [];
  #y: number[] = [];
  fit(X: Matrix, y: ArrayLike<number>, opts: { sampleWeight?: ArrayLike<number> } = {}) {
    const t = X as Tensor;
    const rows = Array.from(
      { length: t.shape[0] },
      (_, i) => Array.from(t.data.subarray(i * t.shape[1], (i + 1) * t.shape[1])),
    );
    const keep = rows.map((_, i) => (opts.sampleWeight?.[i] ?? 1) > 0);
    this.#x = rows.filter((_, i) => keep[i]);
    this.#y = Array.from(y).filter((_, i) => keep[i]);
    return Promise.resolve(this);
  }
  predict(X: Matrix): Promise<Float32Array> {
    const t = X as Tensor;
    const out = new Float32Array(t.shape[0]);
    for (let i = 0; i < t.shape[0]; i++) {
      let best = Infinity;
      this.#x.forEach((row, j) => {
        const dist = row.reduce((s, v, k) => s + (v - t.data[i * t.shape[1] + k]) ** 2, 0);
        if (dist < best) [best, out[i]] = [dist, this.#y[j]];
      });
    }
    return Promise.resolve(out);
  }
  toJSON() {
    return { estimator: "NearestClassifier", options: {} };
  }
}

Deno.test("BaggingClassifier votes with bases lacking predictProba and takes any base", async () => {
  const d = await trainTest("iris");
  const voting = await new BaggingClassifier({ estimator: new NearestClassifier(), nEstimators: 5 })
    .fit(d.Xtrain, d.ytrain);
  const proba = await voting.predictProba(d.Xtest);
  // Vote shares in fifths.
  for (const p of proba.data) assert.ok(Math.abs(p * 5 - Math.round(p * 5)) < 1e-6);
  assert.ok(accuracy(await voting.predict(d.Xtest), d.ytest) >= 0.9);
  const logistic = await new BaggingClassifier({
    estimator: new LogisticRegression({ C: 10 }),
    nEstimators: 4,
  }).fit(d.Xtrain, d.ytrain);
  assert.ok(logistic.estimators.every((e) => e instanceof LogisticRegression));
  assert.ok(accuracy(await logistic.predict(d.Xtest), d.ytest) >= 0.9);
});

Deno.test("BaggingClassifier round-trips through toJSON()/fromJSON()", async () => {
  const d = await trainTest("wine");
  const model = await new BaggingClassifier({ nEstimators: 5, maxFeatures: 0.6, oobScore: true })
    .fit(d.Xtrain, d.ytrain);
  const copy = BaggingClassifier.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predictProba(d.Xtest), await model.predictProba(d.Xtest));
  assert.equal(copy.oobScore, model.oobScore);
});

Deno.test("BaggingClassifier reports progress and stops on abort", async () => {
  const d = await trainTest("wine");
  const seen: number[] = [];
  const controller = new AbortController();
  const model = new BaggingClassifier({ nEstimators: 10 });
  await assert.rejects(
    () =>
      model.fit(d.Xtrain, d.ytrain, {
        signal: controller.signal,
        onProgress: ({ iteration }) => {
          seen.push(iteration);
          if (iteration === 4) controller.abort();
        },
      }),
    (error: Error) => error.name === "AbortError",
  );
  assert.deepEqual(seen, [1, 2, 3, 4]);
  await assert.rejects(() => model.predict(d.Xtest), /not fitted yet/);
});

Deno.test("BaggingClassifier refuses bad input", async () => {
  const X = [[0, 1], [1, 0], [2, 1], [3, 2]];
  const y = [0, 1, 0, 1];
  await assert.rejects(() => new BaggingClassifier().predict(X), /not fitted yet/);
  const bad: [object, RegExp][] = [
    [{ maxSamples: 0 }, /"maxSamples"/],
    [{ maxSamples: 9 }, /"maxSamples" to be at most 4/],
    [{ maxFeatures: 3 }, /"maxFeatures" to be at most 2/],
    [{ oobScore: true, bootstrap: false }, /"oobScore" to be false/],
    [{ estimator: [] }, /"estimator" to be an estimator/],
    [{ nEstimators: 1.5 }, /"nEstimators"/],
  ];
  for (const [options, message] of bad) {
    await assert.rejects(() => new BaggingClassifier(options).fit(X, y), message);
  }
  await assert.rejects(() => new BaggingClassifier().fit(X, [2, 2, 2, 2]), /two classes/);
  const model = await new BaggingClassifier({ nEstimators: 2 }).fit(X, y);
  assert.throws(() => model.oobScore, /"oobScore: true"/);
  await assert.rejects(() => model.predict([[1]]), /2 columns/);
});
