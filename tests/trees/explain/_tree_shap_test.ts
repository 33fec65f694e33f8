import assert from "node:assert/strict";
import {
  DecisionTreeClassifier,
  DecisionTreeRegressor,
  fromXGBoostJSON,
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  RandomForestClassifier,
  RandomForestRegressor,
  XGBClassifier,
  XGBRegressor,
} from "../../../src/trees/mod.ts";
import { Rng } from "../../../src/_random.ts";
import type { Tensor } from "../../../src/tensor.ts";
import { loadExplainFixture, SHAP_CASES } from "../_explain_fixtures.ts";

/**
 * Worst |actual − expected| relative to the largest |expected| of its block (one row's values
 * for one output), so values near zero are judged on the scale of their neighbours.
 */
function worstRelative(actual: ArrayLike<number>, expected: ArrayLike<number>, block: number) {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let b = 0; b < expected.length; b += block) {
    let scale = 1e-6;
    for (let i = b; i < b + block; i++) scale = Math.max(scale, Math.abs(expected[i]));
    for (let i = b; i < b + block; i++) {
      worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / scale);
    }
  }
  return worst;
}

for (const name of SHAP_CASES) {
  Deno.test(`predictContributions() matches XGBoost 1.7's pred_contribs (${name})`, async () => {
    const fx = loadExplainFixture(name);
    const model = fromXGBoostJSON(fx.model);
    const phi = await model.predictContributions(fx.X);
    assert.deepEqual(phi.shape, fx.contribsShape);
    const F = fx.contribsShape.at(-1)!;
    const worst = worstRelative(phi.data, fx.contribs, F);
    assert.ok(worst <= 1e-5, `${name}: worst relative error ${worst}`);
  });

  Deno.test(`predictInteractions() matches XGBoost 1.7's pred_interactions (${name})`, async () => {
    const fx = loadExplainFixture(name);
    const model = fromXGBoostJSON(fx.model);
    const phi = await model.predictInteractions(fx.X);
    assert.deepEqual(phi.shape, fx.interactionsShape);
    const S = fx.interactionsShape.at(-1)!;
    const worst = worstRelative(phi.data, fx.interactions, S * S);
    assert.ok(worst <= 1e-5, `${name}: worst relative error ${worst}`);
  });
}

/** Row sums of [n, K, S] blocks. */
function blockSums(t: Tensor): number[] {
  const S = t.shape.at(-1)!;
  const sums: number[] = [];
  for (let b = 0; b < t.data.length; b += S) {
    let s = 0;
    for (let i = b; i < b + S; i++) s += t.data[i];
    sums.push(s);
  }
  return sums;
}

function data(seed: number, n: number, d: number, missingRate: number): number[][] {
  const rng = new Rng(seed);
  return Array.from(
    { length: n },
    () => Array.from({ length: d }, () => (rng.next() < missingRate ? NaN : rng.next() * 4 - 2)),
  );
}

const X = data(7, 200, 4, 0);
const XMissing = data(8, 200, 4, 0.15);
const target = (r: number[]) =>
  (r[0] || 0) + 2 * (r[1] > 0 ? 1 : 0) * (r[2] || 0) - 0.5 * (r[3] || 0);
const y = X.map(target);
const labels = X.map((r) => (target(r) > 0.5 ? 2 : target(r) > -0.5 ? 1 : 0));
const binary = X.map((r) => (target(r) > 0 ? 1 : 0));

/** Fitted estimators of every kind with what their contributions must add up to. */
async function estimators() {
  const xgbOpts = { nEstimators: 6, maxDepth: 3, seed: 1 };
  const rf = { nEstimators: 5, maxDepth: 4, seed: 2 };
  const gb = { nEstimators: 6, maxDepth: 3, seed: 3 };
  const proba = (m: { predictProba(X: number[][]): Promise<Tensor> }) => async (q: number[][]) =>
    Array.from((await m.predictProba(q)).data);
  const margin = (m: { predictMargin(X: number[][]): Promise<Tensor> }) => async (q: number[][]) =>
    Array.from((await m.predictMargin(q)).data);
  const values = (m: { predict(X: number[][]): Promise<Float32Array> }) => async (q: number[][]) =>
    Array.from(await m.predict(q));
  const xgbR = await new XGBRegressor(xgbOpts).fit(XMissing, y);
  const xgbC = await new XGBClassifier(xgbOpts).fit(XMissing, labels);
  const dtR = await new DecisionTreeRegressor({ maxDepth: 5 }).fit(X, y);
  const dtC = await new DecisionTreeClassifier({ maxDepth: 4 }).fit(X, labels);
  const rfR = await new RandomForestRegressor(rf).fit(X, y);
  const rfC = await new RandomForestClassifier(rf).fit(X, labels);
  const gbR = await new GradientBoostingRegressor(gb).fit(X, y);
  const gbC = await new GradientBoostingClassifier(gb).fit(X, binary);
  const gbM = await new GradientBoostingClassifier(gb).fit(X, labels);
  return [
    { name: "XGBRegressor", model: xgbR, total: margin(xgbR), X: XMissing },
    { name: "XGBClassifier", model: xgbC, total: margin(xgbC), X: XMissing },
    { name: "DecisionTreeRegressor", model: dtR, total: values(dtR), X },
    { name: "DecisionTreeClassifier", model: dtC, total: proba(dtC), X },
    { name: "RandomForestRegressor", model: rfR, total: values(rfR), X },
    { name: "RandomForestClassifier", model: rfC, total: proba(rfC), X },
    { name: "GradientBoostingRegressor", model: gbR, total: values(gbR), X },
    { name: "GradientBoostingClassifier", model: gbC, total: decision(gbC), X },
    { name: "GradientBoostingClassifier (3 classes)", model: gbM, total: decision(gbM), X },
  ];
}

/** GradientBoostingClassifier's raw scores, from its probabilities' logit (binary) or log. */
function decision(m: GradientBoostingClassifier) {
  return async (q: number[][]) => {
    const p = await m.predictProba(q);
    const K = p.shape[1];
    if (K === 2) {
      return Array.from(
        { length: p.shape[0] },
        (_, r) => Math.log(p.data[r * 2 + 1] / p.data[r * 2]),
      );
    }
    return Array.from(p.data, (v) => Math.log(v));
  };
}

Deno.test("predictContributions() rows add up to the raw output of every tree estimator", async () => {
  for (const { name, model, total, X: q } of await estimators()) {
    const phi = await model.predictContributions(q.slice(0, 40));
    const expected = await total(q.slice(0, 40));
    const sums = blockSums(phi);
    if (name === "GradientBoostingClassifier (3 classes)") {
      // Log-probabilities differ from the margins by a per-row constant (the softmax's log-sum).
      for (let r = 0; r < 40; r++) {
        const shift = expected[r * 3] - sums[r * 3];
        for (let k = 1; k < 3; k++) {
          assert.ok(Math.abs(expected[r * 3 + k] - sums[r * 3 + k] - shift) < 1e-4, name);
        }
      }
      continue;
    }
    assert.equal(sums.length, expected.length, name);
    for (let i = 0; i < sums.length; i++) {
      assert.ok(
        Math.abs(sums[i] - expected[i]) <= 1e-4 * Math.max(1, Math.abs(expected[i])),
        `${name}: row block ${i} sums to ${sums[i]}, expected ${expected[i]}`,
      );
    }
  }
});

Deno.test("predictContributions() shapes follow XGBoost's layout", async () => {
  const all = await estimators();
  const shapes = await Promise.all(
    all.map(async ({ model }) => (await model.predictContributions(X.slice(0, 3))).shape),
  );
  assert.deepEqual(shapes, [
    [3, 5],
    [3, 3, 5],
    [3, 5],
    [3, 3, 5],
    [3, 5],
    [3, 3, 5],
    [3, 5],
    [3, 5],
    [3, 3, 5],
  ]);
  const inter = await all[1].model.predictInteractions(X.slice(0, 2));
  assert.deepEqual(inter.shape, [2, 3, 5, 5]);
});

/**
 * The definitions, by enumerating feature subsets: v(S) is the tree's output with the features
 * in S known and the others averaged over the children by cover (path-dependent expectation).
 */
function bruteForce(
  tree: {
    feature: number[];
    threshold: number[];
    left: number[];
    right: number[];
    cover: number[];
    value: number[];
    defaultLeft: number[];
  },
  x: number[],
  F: number,
) {
  const v = (S: number, node = 0): number => {
    const f = tree.feature[node];
    if (f < 0) return tree.value[node];
    if (S & (1 << f)) {
      const xv = x[f];
      const goLeft = Number.isNaN(xv) ? tree.defaultLeft[node] === 1 : xv < tree.threshold[node];
      return v(S, goLeft ? tree.left[node] : tree.right[node]);
    }
    const l = tree.left[node], r = tree.right[node];
    return (tree.cover[l] * v(S, l) + tree.cover[r] * v(S, r)) / tree.cover[node];
  };
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const size = (S: number) => [...Array(F).keys()].filter((i) => S & (1 << i)).length;
  const phi = new Array(F + 1).fill(0);
  const inter = Array.from({ length: F + 1 }, () => new Array(F + 1).fill(0));
  for (let i = 0; i < F; i++) {
    for (let S = 0; S < 1 << F; S++) {
      if (S & (1 << i)) continue;
      const s = size(S);
      phi[i] += (fact(s) * fact(F - s - 1)) / fact(F) * (v(S | (1 << i)) - v(S));
      for (let j = 0; j < F; j++) {
        if (j === i || S & (1 << j)) continue;
        const w = (fact(s) * fact(F - s - 2)) / (2 * fact(F - 1));
        inter[i][j] += w * (v(S | (1 << i) | (1 << j)) - v(S | (1 << i)) - v(S | (1 << j)) + v(S));
      }
    }
  }
  phi[F] = v(0);
  for (let i = 0; i < F; i++) {
    inter[i][i] = phi[i] - inter[i].reduce((a, b, j) => (j === i || j === F ? a : a + b), 0);
  }
  inter[F][F] = v(0);
  return { phi, inter };
}

Deno.test("TreeSHAP values and interactions equal their subset definitions on a deep tree", async () => {
  // A deep tree that splits the same features again along its paths (unwinding).
  const tree = await new DecisionTreeRegressor({ maxDepth: 7 }).fit(X, y);
  const json = (tree.toJSON().fitted as { model: Record<string, number[]> }).model;
  const rows = [...X.slice(0, 6), [NaN, 0.3, -1, 2].map((v) => (Number.isNaN(v) ? 0 : v))];
  const phi = await tree.predictContributions(rows);
  const inter = await tree.predictInteractions(rows);
  for (const [r, row] of rows.entries()) {
    const expected = bruteForce(json as never, row, 4);
    for (let i = 0; i <= 4; i++) {
      assert.ok(Math.abs(phi.data[r * 5 + i] - expected.phi[i]) < 1e-4, `row ${r} φ${i}`);
      for (let j = 0; j <= 4; j++) {
        const got = inter.data[r * 25 + i * 5 + j];
        assert.ok(
          Math.abs(got - expected.inter[i][j]) < 1e-4,
          `row ${r} Φ${i}${j}: ${got} vs ${expected.inter[i][j]}`,
        );
      }
    }
  }
});

Deno.test("predictContributions() refuses unfitted models and wrong column counts", async () => {
  await assert.rejects(() => new XGBRegressor().predictContributions([[1]]), RangeError);
  const model = await new DecisionTreeRegressor().fit(X, y);
  await assert.rejects(() => model.predictContributions([[1, 2]]), /4/);
  await assert.rejects(() => model.predictInteractions([[1, 2]]), /4/);
});

Deno.test("predictContributions() is bit-identical on js and on wasm with 1 or 2 threads", async () => {
  const { init, dispose } = await import("../../../src/runtime/mod.ts");
  const fx = loadExplainFixture("shap_multiclass");
  const reference = fromXGBoostJSON(fx.model);
  const js = XGBClassifier.fromJSON({
    ...reference.toJSON(),
    options: { ...(reference.toJSON().options as object), backend: "js" },
  });
  const expected = await js.predictContributions(fx.X);
  const expectedInter = await js.predictInteractions(fx.X);
  for (const threads of [1, 2]) {
    await init({ threads });
    try {
      const wasm = XGBClassifier.fromJSON({
        ...reference.toJSON(),
        options: { ...(reference.toJSON().options as object), backend: "wasm" },
      });
      assert.deepEqual((await wasm.predictContributions(fx.X)).data, expected.data);
      assert.deepEqual((await wasm.predictInteractions(fx.X)).data, expectedInter.data);
    } finally {
      await dispose();
    }
  }
});
