import assert from "node:assert/strict";
import { Rng } from "../../../src/_random.ts";
import { XGBClassifier, XGBRegressor } from "../../../src/trees/mod.ts";
import {
  crossValidate,
  loadDataFixture,
  loadParityFixture,
  SCORES,
  TARGETS,
  xgbOptions,
} from "../_fixtures.ts";

/** Largest error relative to max(1, |expected|). */
function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  }
  return worst;
}

Deno.test("XGBRegressor grows XGBoost's trees where its cut points are exact", async () => {
  const fx = loadParityFixture();
  const wine = loadDataFixture("wine");
  assert.equal(fx.cases.length, 11);
  for (const c of fx.cases) {
    const data = c.data === "wine" ? wine : fx.diabetes;
    const y = data.y.map(TARGETS[c.target]);
    const options = { ...xgbOptions(c.params), backend: "js" as const };
    const fitOptions = c.weights ? { sampleWeight: c.weights } : {};
    let output: Float32Array;
    if (c.data === "wine") {
      output =
        (await (await new XGBClassifier(options).fit(data.X, y, fitOptions)).predictProba(data.X))
          .data;
    } else {
      output = await (await new XGBRegressor(options).fit(data.X, y, fitOptions)).predict(data.X);
    }
    const error = maxRelativeError(output, c.output);
    assert.ok(error < 2e-6, `${c.name}: relative error ${error}`);
  }
});

Deno.test("XGBRegressor matches XGBoost's cross-validated RMSE on diabetes", async () => {
  const data = loadDataFixture("diabetes");
  for (const ref of data.references.filter((r) => r.library === "xgboost")) {
    const rmse = await crossValidate(
      data,
      () => new XGBRegressor({ ...xgbOptions(ref.params), backend: "js" }),
      SCORES.rmse(ref.params),
    );
    assert.ok(
      rmse <= ref.cvScore * 1.005,
      `${JSON.stringify(ref.params)}: ${rmse} vs ${ref.cvScore}`,
    );
  }
});

function synthetic(seed: number, n: number) {
  const rng = new Rng(seed);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [rng.next() * 4 - 2, rng.next() * 4 - 2, rng.next()];
    X.push(row);
    y.push(Math.sin(row[0] * 2) + row[1] + 0.1 * (rng.next() - 0.5));
  }
  return { X, y };
}

Deno.test("XGBRegressor objectives lower their own loss and honour their links", async () => {
  const { X, y } = synthetic(1, 300);
  const cases: [string, number[], (p: number, t: number) => number][] = [
    ["reg:squarederror", y, (p, t) => (p - t) ** 2],
    ["reg:absoluteerror", y, (p, t) => Math.abs(p - t)],
    ["reg:pseudohubererror", y, (p, t) => Math.sqrt(1 + (p - t) ** 2) - 1],
    [
      "reg:logistic",
      y.map((v) => 1 / (1 + Math.exp(-v))),
      (p, t) => -(t * Math.log(p) + (1 - t) * Math.log(1 - p)),
    ],
    ["count:poisson", y.map((v) => Math.round(Math.exp(v))), (p, t) => p - t * Math.log(p)],
  ];
  for (const [objective, target, loss] of cases) {
    const mean = (pred: ArrayLike<number>) =>
      target.reduce((s, t, i) => s + loss(pred[i], t), 0) / target.length;
    const few = await new XGBRegressor({ objective, nEstimators: 2, backend: "js" }).fit(X, target);
    const many = await new XGBRegressor({ objective, nEstimators: 40, backend: "js" }).fit(
      X,
      target,
    );
    const early = mean(await few.predict(X)), late = mean(await many.predict(X));
    assert.ok(late < early, `${objective}: ${late} !< ${early}`);
    const predictions = await many.predict(X);
    if (objective === "reg:logistic") assert.ok(predictions.every((p) => p > 0 && p < 1));
    if (objective === "count:poisson") assert.ok(predictions.every((p) => p > 0));
  }
  const absolute = await new XGBRegressor({
    objective: "reg:absoluteerror",
    nEstimators: 1,
    backend: "js",
  }).fit(X, y);
  const sorted = [...y].sort((a, b) => a - b);
  // reg:absoluteerror starts from the median (the mean of the middle two of 300 targets).
  const baseMargin =
    (absolute.toJSON().fitted as { model: { baseMargin: number[] } }).model.baseMargin[0];
  assert.equal(Math.fround(baseMargin), Math.fround((sorted[149] + sorted[150]) / 2));
});

Deno.test("XGBRegressor baseScore shifts the starting margin", async () => {
  const { X, y } = synthetic(2, 50);
  const model = await new XGBRegressor({
    nEstimators: 1,
    learningRate: 1e-9,
    baseScore: 7,
    backend: "js",
  }).fit(X, y);
  const margins = await model.predictMargin(X);
  assert.ok(margins.data.every((m) => Math.abs(m - 7) < 1e-6));
  await assert.rejects(
    new XGBRegressor({ objective: "reg:logistic", baseScore: 1.5, backend: "js" }).fit(
      X,
      y.map(() => 0.5),
    ),
    /baseScore/,
  );
});

Deno.test("XGBRegressor monotone constraints hold on a grid", async () => {
  const rng = new Rng(4);
  const X: number[][] = [], y: number[] = [];
  for (let i = 0; i < 400; i++) {
    const a = rng.next() * 10, b = rng.next();
    X.push([a, b]);
    y.push(Math.sin(a) * 3 - a + b + rng.next());
  }
  const model = await new XGBRegressor({
    monotoneConstraints: [-1, 1],
    nEstimators: 30,
    backend: "js",
  }).fit(X, y);
  for (const b of [0.1, 0.5, 0.9]) {
    const grid = Array.from({ length: 101 }, (_, i) => [i / 10, b]);
    const p = await model.predict(grid);
    for (let i = 1; i < p.length; i++) assert.ok(p[i] <= p[i - 1], `rises at a=${i / 10}`);
  }
  for (const a of [1, 5, 9]) {
    const p = await model.predict(Array.from({ length: 21 }, (_, i) => [a, i / 20]));
    for (let i = 1; i < p.length; i++) assert.ok(p[i] >= p[i - 1]);
  }
  await assert.rejects(
    new XGBRegressor({ monotoneConstraints: [1], backend: "js" }).fit(X, y),
    /2 entries/,
  );
});

Deno.test("XGBRegressor samples rows and features reproducibly by seed", async () => {
  const { X, y } = synthetic(3, 200);
  const options = {
    subsample: 0.7,
    colsampleBytree: 0.67,
    colsampleBylevel: 0.9,
    colsampleBynode: 0.6,
    nEstimators: 15,
    backend: "js" as const,
  };
  const a = await (await new XGBRegressor({ ...options, seed: 5 }).fit(X, y)).predict(X);
  const b = await (await new XGBRegressor({ ...options, seed: 5 }).fit(X, y)).predict(X);
  const c = await (await new XGBRegressor({ ...options, seed: 6 }).fit(X, y)).predict(X);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // Trees with one feature per tree each split on a single feature.
  const single = await new XGBRegressor({
    colsampleBytree: 0.34,
    nEstimators: 10,
    maxDepth: 3,
    backend: "js",
  }).fit(X, y);
  const model =
    (single.toJSON().fitted as { model: { feature: number[]; treeStart: number[] } }).model;
  for (let t = 0; t + 1 < model.treeStart.length; t++) {
    const used = new Set(
      model.feature.slice(model.treeStart[t], model.treeStart[t + 1]).filter((f) => f >= 0),
    );
    assert.ok(used.size <= 1);
  }
});

Deno.test("XGBRegressor stops early on its evaluation set and keeps the best round", async () => {
  const train = synthetic(5, 200), valid = synthetic(6, 100);
  const seen: { iteration: number; total: number; metrics?: Record<string, number> }[] = [];
  const model = await new XGBRegressor({
    nEstimators: 300,
    learningRate: 0.5,
    maxDepth: 6,
    evalMetric: ["mae", "rmse"],
    backend: "js",
  })
    .fit(train.X, train.y, {
      evalSet: [valid.X, valid.y],
      earlyStoppingRounds: 5,
      onProgress: (p) => seen.push(p),
    });
  assert.ok(seen.length < 300, "stopped early");
  assert.deepEqual(seen.map((p) => p.iteration), seen.map((_, i) => i + 1));
  assert.ok(
    seen.every((p) =>
      p.total === 300 && p.metrics !== undefined && "mae" in p.metrics && "rmse" in p.metrics
    ),
  );
  const rmse = model.evalHistory.rmse;
  const best = rmse.indexOf(Math.min(...rmse));
  assert.equal(model.bestIteration, best);
  assert.equal(seen.length, best + 6);
  // The kept model is the best round's: its RMSE on the evaluation set is the recorded one.
  const p = await model.predict(valid.X);
  const actual = Math.sqrt(valid.y.reduce((s, v, i) => s + (p[i] - v) ** 2, 0) / valid.y.length);
  assert.ok(Math.abs(actual - rmse[best]) < 1e-5);
});

Deno.test("XGBRegressor round-trips through toJSON() and fromJSON()", async () => {
  const { X, y } = synthetic(7, 120);
  const model = await new XGBRegressor({
    nEstimators: 12,
    objective: "reg:pseudohubererror",
    huberSlope: 2,
    backend: "js",
  }).fit(X, y);
  const copy = XGBRegressor.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual(await copy.predict(X), await model.predict(X));
  assert.deepEqual(copy.featureImportances, model.featureImportances);
  assert.deepEqual(copy.options, model.options);
  const unfitted = XGBRegressor.fromJSON(new XGBRegressor({ maxDepth: 2 }).toJSON());
  await assert.rejects(unfitted.predict(X), /not fitted/);
  assert.throws(() => XGBClassifier.fromJSON(model.toJSON()), /XGBClassifier/);
  const broken = structuredClone(model.toJSON()) as { fitted: { model: { left: number[] } } };
  broken.fitted.model.left[0] = 0;
  assert.throws(() => XGBRegressor.fromJSON(broken), RangeError);
});

Deno.test("XGBRegressor feature importances rank the informative features", async () => {
  const { X, y } = synthetic(8, 300);
  const model = await new XGBRegressor({ nEstimators: 20, backend: "js" }).fit(X, y);
  const gain = model.featureImportances;
  assert.ok(Math.abs(gain.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(gain[2] < gain[0] && gain[2] < gain[1], `noise feature ranks ${gain}`);
  const weight = model.featureScores("weight");
  const total = model.featureScores("totalGain");
  const mean = model.featureScores("gain");
  for (let f = 0; f < 3; f++) {
    if (weight[f] > 0) assert.ok(Math.abs(mean[f] - total[f] / weight[f]) <= 1e-9 * total[f]);
  }
  const byWeight = await new XGBRegressor({
    nEstimators: 20,
    importanceType: "weight",
    backend: "js",
  }).fit(X, y);
  const w = byWeight.featureImportances;
  const count = weight.reduce((a, b) => a + b, 0);
  for (let f = 0; f < 3; f++) assert.ok(Math.abs(w[f] - weight[f] / count) < 1e-6);
});
