import assert from "node:assert/strict";
import { Ridge } from "../../src/linear/mod.ts";
import { loadDataSet, loadFixture, sampleWeights } from "../fixtures/ensembles/_load.ts";
import { assertClose } from "./_assert.ts";

interface RidgeCase {
  name: string;
  data: string;
  params: { alpha: number; fit_intercept?: boolean };
  coef: number[][];
  intercept: number[];
  rows: number[];
  predict: number[][];
  sampleWeight?: string;
  X?: number[][];
  y?: number[][];
}

const fixture = await loadFixture<{ ridge: RidgeCase[] }>("linear");

Deno.test("Ridge() matches scikit-learn's Cholesky solution", async () => {
  for (const c of fixture.ridge) {
    const data = c.X ? { X: c.X, y: c.y! } : await loadDataSet(c.data);
    const sampleWeight = c.sampleWeight ? sampleWeights(data.X.length) : undefined;
    const model = await new Ridge({
      alpha: c.params.alpha,
      fitIntercept: c.params.fit_intercept ?? true,
    })
      .fit(data.X, data.y, { sampleWeight });
    assertClose(model.coef, c.coef.flat(), 1e-8, `${c.name} coef`);
    assertClose(model.intercept, c.intercept, 1e-8, `${c.name} intercept`);
    const probe = c.rows.map((i) => data.X[i]);
    assertClose(await model.predict(probe), c.predict.flat(), 1e-6, `${c.name} predict`);
  }
});

Deno.test("Ridge() fitted on a matrix y predicts [n, nTargets]", async () => {
  const c = fixture.ridge.find((c) => c.X)!;
  const model = await new Ridge({ alpha: c.params.alpha }).fit(c.X!, c.y!);
  assert.equal(model.nTargets, 3);
  const out = await model.predictTensor(c.X!.slice(0, 4));
  assert.deepEqual(out.shape, [4, 3]);
  const single = await new Ridge({ alpha: c.params.alpha }).fit(c.X!, c.y!.map((row) => row[1]));
  assert.deepEqual((await single.predictTensor(c.X!.slice(0, 4))).shape, [4]);
  // Each target is an independent ridge problem.
  assertClose(single.coef, Array.from(model.coef.slice(3, 6)), 1e-10, "target 1");
});

Deno.test("Ridge({ alpha: 0 }) is least squares and refuses collinear columns", async () => {
  const X = [[1, 0], [2, 1], [3, 5], [4, 2], [5, 3]];
  const y = X.map(([a, b]) => 3 * a - 2 * b + 7);
  const model = await new Ridge({ alpha: 0 }).fit(X, y);
  assertClose(model.coef, [3, -2], 1e-9, "coef");
  assertClose(model.intercept, [7], 1e-9, "intercept");
  const collinear = X.map(([a]) => [a, 2 * a]);
  await assert.rejects(new Ridge({ alpha: 0 }).fit(collinear, y), /linearly independent/);
  const penalised = await new Ridge({ alpha: 1 }).fit(collinear, y);
  assert.ok(Math.abs(penalised.coef[1] - 2 * penalised.coef[0]) < 1e-9);
});

Deno.test("Ridge toJSON() / fromJSON() round trip predicts the same", async () => {
  const { X, y } = await loadDataSet("diabetes");
  const model = await new Ridge({ alpha: 3 }).fit(X, y);
  const copy = Ridge.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predict(X), await model.predict(X));
  assert.throws(
    () => Ridge.fromJSON({ format: "tessera.linear", estimator: "LogisticRegression" }),
    RangeError,
  );
  assert.throws(
    () => Ridge.fromJSON({ ...model.toJSON(), fitted: { nFeatures: 0, nTargets: 1 } }),
    /nFeatures/,
  );
});

Deno.test("Ridge rejects bad input, naming the argument", async () => {
  const X = [[0], [1], [2]];
  await assert.rejects(new Ridge().predict(X), /not fitted/);
  await assert.rejects(
    new Ridge({ alpha: -1 }).fit(X, [1, 2, 3]),
    (e) => e instanceof RangeError && /"alpha"/.test(e.message),
  );
  await assert.rejects(
    new Ridge({ fitIntercept: 1 as unknown as boolean }).fit(X, [1, 2, 3]),
    TypeError,
  );
  await assert.rejects(
    new Ridge({ solver: "svd" } as object).fit(X, [1, 2, 3]),
    /Unknown option "solver"/,
  );
  await assert.rejects(new Ridge().fit([[0], [Infinity], [2]], [1, 2, 3]), /"X"/);
  await assert.rejects(new Ridge().fit(X, [1, 2]), /"y"/);
  await assert.rejects(new Ridge().fit(X, [[1], [2]]), /"y" to have 3 rows/);
  await assert.rejects(new Ridge().fit(X, [1, NaN, 3]), /"y"/);
  await assert.rejects(
    new Ridge().fit(X, [1, 2, 3], { sampleWeight: [0, 0, 0] }),
    /"sampleWeight"/,
  );
  const model = await new Ridge().fit(X, [1, 2, 3]);
  await assert.rejects(model.predict([[1, 2]]), /"X".*1 columns/);
});
