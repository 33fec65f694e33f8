import assert from "node:assert/strict";
import { init } from "../../../src/runtime/mod.ts";
import { Ridge } from "../../../src/linear/mod.ts";
import {
  DecisionTreeRegressor,
  RandomForestRegressor,
  StackingRegressor,
} from "../../../src/trees/mod.ts";
import { kFold } from "../../../src/trees/meta/_meta.ts";
import { assertReferenceScores, r2, reference, trainTest } from "../_ensembles.ts";

// WASM in this thread: no worker to start.
await init({ threads: 1 });

Deno.test("StackingRegressor reaches scikit-learn's held-out R²", async () => {
  for (const name of ["diabetes", "boston"]) {
    const d = await trainTest(name);
    for (const passthrough of [false, true]) {
      const ref = reference(name, passthrough ? "stacking_passthrough" : "stacking");
      await assertReferenceScores(`${name} ${passthrough}`, d, ref, async (seed) => {
        const model = await new StackingRegressor({
          estimators: [
            new RandomForestRegressor({ nEstimators: 50, seed }),
            new DecisionTreeRegressor({ maxDepth: 4, seed }),
          ],
          finalEstimator: new Ridge({ alpha: 1 }),
          passthrough,
        }).fit(d.Xtrain, d.ytrain);
        return { score: r2(await model.predict(d.Xtest), d.ytest) };
      }, [0, 1]);
    }
  }
});

Deno.test("kFold() makes scikit-learn's contiguous folds", () => {
  assert.deepEqual(Array.from(kFold(13, 5)), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4]);
});

Deno.test("StackingRegressor fits Ridge by default on out-of-fold predictions", async () => {
  const d = await trainTest("diabetes");
  const model = await new StackingRegressor({
    estimators: [new DecisionTreeRegressor({ maxDepth: 3 }), new Ridge({ alpha: 0.1 })],
    cv: 4,
  }).fit(d.Xtrain, d.ytrain);
  assert.ok(model.finalEstimator instanceof Ridge);
  const meta = await model.transform(d.Xtest);
  assert.deepEqual(meta.shape, [d.ytest.length, 2]);
  const ridge = await new Ridge({ alpha: 0.1 }).fit(d.Xtrain, d.ytrain);
  const direct = await ridge.predict(d.Xtest);
  for (let i = 0; i < d.ytest.length; i++) {
    assert.ok(Math.abs(meta.data[2 * i + 1] - direct[i]) <= 1e-3 * Math.abs(direct[i]));
  }
  assert.ok(r2(await model.predict(d.Xtest), d.ytest) > 0.4);
  const copy = StackingRegressor.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predict(d.Xtest), await model.predict(d.Xtest));
});

Deno.test("StackingRegressor refuses bad input and stops on abort", async () => {
  const X = [[0], [1], [2], [3]];
  const estimators = [new DecisionTreeRegressor()];
  await assert.rejects(
    () => new StackingRegressor({ estimators, passthrough: 1 as never }).fit(X, [1, 2, 3, 4]),
    /"passthrough" to be a boolean/,
  );
  await assert.rejects(
    () => new StackingRegressor({ estimators, finalEstimator: {} as never }).fit(X, [1, 2, 3, 4]),
    /"finalEstimator" to be an estimator/,
  );
  const controller = new AbortController();
  controller.abort();
  const model = new StackingRegressor({ estimators, cv: 2 });
  await assert.rejects(
    () => model.fit(X, [1, 2, 3, 4], { signal: controller.signal }),
    (error: Error) => error.name === "AbortError",
  );
  await assert.rejects(() => model.predict(X), /not fitted yet/);
});
