import assert from "node:assert/strict";
import { LogisticRegression } from "../../src/linear/mod.ts";
import {
  loadDataSet,
  loadFixture,
  sampleWeights,
  standardise,
} from "../fixtures/ensembles/_load.ts";
import { assertClose } from "./_assert.ts";

interface LogisticCase {
  name: string;
  data: string;
  params: { C?: number; fit_intercept?: boolean };
  classes: number[];
  coef: number[][];
  intercept: number[];
  rows: number[];
  proba: number[][];
  decision: number[][];
  predict: number[];
  standardise?: { mean: number[]; scale: number[] };
  sampleWeight?: string;
}

const fixture = await loadFixture<{ logistic: LogisticCase[] }>("linear");

async function inputs(c: LogisticCase) {
  const data = await loadDataSet(c.data);
  const X = c.standardise ? standardise(data.X, c.standardise.mean, c.standardise.scale) : data.X;
  const sampleWeight = c.sampleWeight ? sampleWeights(data.y.length) : undefined;
  return { X, y: data.y, sampleWeight };
}

async function checkAgainstSklearn(
  c: LogisticCase,
  solver: "lbfgs" | "newton-cholesky",
  tol: number,
) {
  const { X, y, sampleWeight } = await inputs(c);
  const model = await new LogisticRegression({
    C: c.params.C ?? 1,
    fitIntercept: c.params.fit_intercept ?? true,
    solver,
    tol: solver === "lbfgs" ? 1e-7 : 1e-9,
    maxIter: 5000,
  }).fit(X, y, { sampleWeight });
  assert.deepEqual(Array.from(model.classes), c.classes);
  assertClose(model.coef, c.coef.flat(), tol, `${c.name} coef`);
  assertClose(model.intercept, c.intercept, tol, `${c.name} intercept`);
  const probe = c.rows.map((i) => X[i]);
  const proba = await model.predictProba(probe);
  assert.deepEqual(proba.shape, [probe.length, c.classes.length]);
  assertClose(proba.data, c.proba.flat(), tol, `${c.name} proba`);
  const decision = await model.decisionFunction(probe);
  assertClose(decision.data, c.decision.flat(), tol * 10, `${c.name} decision`);
  assert.deepEqual(Array.from(await model.predict(X)), c.predict);
}

Deno.test("LogisticRegression({ solver: 'newton-cholesky' }) reaches scikit-learn's optimum", async () => {
  for (const c of fixture.logistic) await checkAgainstSklearn(c, "newton-cholesky", 1e-6);
});

Deno.test("LogisticRegression({ solver: 'lbfgs' }) reaches scikit-learn's optimum", async () => {
  for (const c of fixture.logistic) await checkAgainstSklearn(c, "lbfgs", 2e-5);
});

Deno.test("LogisticRegression() with default options predicts as scikit-learn's optimum", async () => {
  for (const c of fixture.logistic.filter((c) => !c.sampleWeight)) {
    const { X, y } = await inputs(c);
    const model = await new LogisticRegression({
      C: c.params.C,
      fitIntercept: c.params.fit_intercept,
    })
      .fit(X, y);
    const predicted = await model.predict(X);
    const agree = c.predict.filter((label, i) => predicted[i] === label).length;
    assert.ok(agree >= 0.98 * y.length, `${c.name}: ${agree} of ${y.length} agree`);
  }
});

Deno.test("LogisticRegression() treats weight 2 like a duplicated row", async () => {
  const { X, y } = await loadDataSet("iris");
  const opts = { solver: "newton-cholesky" as const, tol: 1e-10 };
  const weights = y.map((_, i) => (i % 3 === 0 ? 2 : 1));
  const weighted = await new LogisticRegression(opts).fit(X, y, { sampleWeight: weights });
  const Xd = X.flatMap((row, i) => (i % 3 === 0 ? [row, row] : [row]));
  const yd = y.flatMap((v, i) => (i % 3 === 0 ? [v, v] : [v]));
  const duplicated = await new LogisticRegression(opts).fit(Xd, yd);
  assertClose(weighted.coef, Array.from(duplicated.coef), 1e-7, "coef");
});

Deno.test("LogisticRegression() classes are the sorted labels, whatever their values", async () => {
  const { X, y } = await loadDataSet("iris");
  const relabel = [10, -1, 2.5];
  const model = await new LogisticRegression({ solver: "newton-cholesky" }).fit(
    X,
    y.map((v) => relabel[v]),
  );
  assert.deepEqual(Array.from(model.classes), [-1, 2.5, 10]);
  const reference = await new LogisticRegression({ solver: "newton-cholesky" }).fit(X, y);
  const [a, b] = [
    await model.predictProba(X.slice(0, 5)),
    await reference.predictProba(X.slice(0, 5)),
  ];
  // Class 0 of the reference is label 10, now the last column.
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(a.data[i * 3 + 2] - b.data[i * 3]) < 1e-6);
  assert.equal((await model.predict([X[0]]))[0], 10);
});

Deno.test("LogisticRegression() gives one decision column for two classes and rows of proba sum to 1", async () => {
  const X = [[0, 1], [1, 0], [2, 2], [3, 1], [4, 0], [5, 2]];
  const model = await new LogisticRegression().fit(X, [0, 0, 0, 1, 1, 1]);
  assert.deepEqual((await model.decisionFunction(X)).shape, [6]);
  assert.deepEqual(model.coef.length, 2);
  const proba = await model.predictProba(X);
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(proba.data[2 * i] + proba.data[2 * i + 1] - 1) < 1e-6);
  }
  const three = await new LogisticRegression().fit(X, [0, 0, 1, 1, 2, 2]);
  assert.deepEqual((await three.decisionFunction(X)).shape, [6, 3]);
});

Deno.test("LogisticRegression toJSON() / fromJSON() round trip predicts the same", async () => {
  const { X, y } = await loadDataSet("wine");
  const model = await new LogisticRegression({ C: 0.01, maxIter: 50 }).fit(X, y);
  const copy = LogisticRegression.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(copy.options, { C: 0.01, maxIter: 50 });
  assert.deepEqual(await copy.predictProba(X), await model.predictProba(X));
  assert.equal(copy.nIter, model.nIter);
  const unfitted = LogisticRegression.fromJSON(new LogisticRegression({ C: 3 }).toJSON());
  await assert.rejects(unfitted.predict(X), /not fitted/);
  assert.throws(
    () => LogisticRegression.fromJSON({ format: "tessera.linear", estimator: "Ridge" }),
    RangeError,
  );
  const bad = { ...model.toJSON(), fitted: { ...(model.toJSON().fitted as object), coef: [1, 2] } };
  assert.throws(() => LogisticRegression.fromJSON(bad), /json.fitted.coef/);
});

Deno.test("LogisticRegression rejects bad input, naming the argument", async () => {
  const X = [[0], [1], [2], [3]];
  const y = [0, 0, 1, 1];
  await assert.rejects(new LogisticRegression().predict(X), /not fitted/);
  await assert.rejects(
    new LogisticRegression({ C: 0 }).fit(X, y),
    (e) => e instanceof RangeError && /"C"/.test(e.message),
  );
  await assert.rejects(
    new LogisticRegression({ C: "1" as unknown as number }).fit(X, y),
    TypeError,
  );
  await assert.rejects(new LogisticRegression({ solver: "sag" as "lbfgs" }).fit(X, y), /"solver"/);
  await assert.rejects(new LogisticRegression({ maxIter: 1.5 }).fit(X, y), /"maxIter"/);
  await assert.rejects(new LogisticRegression({ tol: -1 }).fit(X, y), /"tol"/);
  await assert.rejects(
    new LogisticRegression({ penalty: "l1" } as object).fit(X, y),
    /Unknown option "penalty"/,
  );
  await assert.rejects(new LogisticRegression().fit([[0], [NaN], [2], [3]], y), /"X".*row 1/);
  await assert.rejects(new LogisticRegression().fit(X, [0, 1, 1]), /"y"/);
  await assert.rejects(new LogisticRegression().fit(X, [1, 1, 1, 1]), /two classes/);
  await assert.rejects(new LogisticRegression().fit(X, [0, 0, 1, NaN]), /"y"/);
  await assert.rejects(
    new LogisticRegression().fit(X, y, { sampleWeight: [1, -1, 1, 1] }),
    /"sampleWeight"/,
  );
  await assert.rejects(
    new LogisticRegression().fit(X, y, { weights: [1] } as object),
    /Unknown option "weights"/,
  );
  const model = await new LogisticRegression().fit(X, y);
  await assert.rejects(model.predict([[1, 2]]), /"X".*1 columns/);
});
