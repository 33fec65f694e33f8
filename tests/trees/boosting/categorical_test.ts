/**
 * Categorical splits (`categoricalFeatures`, `maxCatToOnehot`) against XGBoost 1.7's `hist` with
 * `enable_categorical`: the split search by brute force, the trees XGBoost grows on the same
 * data and parameters (tests/fixtures/make_categorical_fixtures.py), accuracy on a real set,
 * the export back to XGBoost, and bit-identical fits on every backend and thread count.
 */
import assert from "node:assert/strict";
import { dispose, init } from "../../../src/runtime/mod.ts";
import { Rng } from "../../../src/_random.ts";
import { XGBClassifier, XGBRegressor } from "../../../src/trees/mod.ts";
import { findSplitsRef } from "../../../src/backends/js/trees.ts";
import { SPLIT_PARAM, SPLIT_PARAM_COUNT, SplitScorer } from "../../../src/backends/trees.ts";

const FIXTURES = new URL("../../fixtures/categorical/", import.meta.url);
const load = (name: string) => JSON.parse(Deno.readTextFileSync(new URL(name, FIXTURES)));
const rowsOf = (X: (number | null)[][]) => X.map((r) => r.map((v) => (v === null ? NaN : v)));

interface XGBTree {
  left: number[];
  right: number[];
  feature: number[];
  defaultLeft: number[];
  splitType: number[];
  categories: number[][];
  value: number[];
}

/** The trees of a model in XGBoost's JSON, in the fixture's shape. */
function treesOf(text: string): XGBTree[] {
  const model = JSON.parse(text);
  return model.learner.gradient_booster.model.trees.map((t: Record<string, number[]>) => {
    const categories = t.left_children.map(() => [] as number[]);
    t.categories_nodes.forEach((node, k) => {
      const begin = t.categories_segments[k];
      categories[node] = t.categories.slice(begin, begin + t.categories_sizes[k]);
    });
    return {
      left: t.left_children,
      right: t.right_children,
      feature: t.split_indices,
      defaultLeft: t.default_left,
      splitType: t.split_type,
      categories,
      value: t.base_weights,
    };
  });
}

/** Walks both trees from their roots: same splits, same category sets, leaves within 1e-5. */
function assertSameTree(ours: XGBTree, theirs: XGBTree, where: string): void {
  const walk = (a: number, b: number, path: string) => {
    const leafA = ours.left[a] < 0, leafB = theirs.left[b] < 0;
    assert.equal(leafA, leafB, `${where} ${path}: leaf`);
    if (leafA) {
      assert.ok(Math.abs(ours.value[a] - theirs.value[b]) <= 1e-5, `${where} ${path}: leaf value`);
      return;
    }
    assert.equal(ours.feature[a], theirs.feature[b], `${where} ${path}: feature`);
    assert.equal(ours.splitType[a], theirs.splitType[b], `${where} ${path}: split type`);
    assert.equal(ours.defaultLeft[a], theirs.defaultLeft[b], `${where} ${path}: default left`);
    if (theirs.splitType[b] === 1) {
      assert.deepEqual(ours.categories[a], theirs.categories[b], `${where} ${path}: categories`);
    }
    walk(ours.left[a], theirs.left[b], `${path}L`);
    walk(ours.right[a], theirs.right[b], `${path}R`);
  };
  walk(0, 0, "root ");
}

function optionsOf(params: Record<string, number | string>) {
  return {
    nEstimators: 5,
    learningRate: params.eta as number,
    maxDepth: params.max_depth as number,
    regLambda: (params.reg_lambda as number) ?? 1,
    minChildWeight: (params.min_child_weight as number) ?? 1,
    maxCatToOnehot: params.max_cat_to_onehot as number,
    baseScore: params.base_score as number,
    categoricalFeatures: [0, 1],
  };
}

Deno.test("XGBRegressor and XGBClassifier grow XGBoost 1.7's categorical trees", async () => {
  const fx = load("first_trees.json");
  assert.equal(fx.cases.length, 4);
  for (const c of fx.cases) {
    const X = rowsOf(c.X);
    for (const backend of ["js", "wasm"] as const) {
      const options = { ...optionsOf(c.params), backend };
      const model = c.objective.startsWith("binary")
        ? await new XGBClassifier(options).fit(X, c.y)
        : await new XGBRegressor(options).fit(X, c.y);
      const trees = treesOf(model.toXGBoostJSON());
      assert.equal(trees.length, c.trees.length);
      trees.forEach((t, i) => assertSameTree(t, c.trees[i], `${c.name} (${backend}) tree ${i}`));
      const margin = await model.predictMargin(X);
      let worst = 0;
      for (let i = 0; i < c.margin.length; i++) {
        worst = Math.max(worst, Math.abs(margin.data[i] - c.margin[i]));
      }
      assert.ok(worst <= 1e-5, `${c.name} (${backend}): margins differ by ${worst}`);
    }
  }
});

/** Sums of a category histogram over a set of categories (bit c of `mask`). */
function sums(hist: Float64Array, mask: number, n: number): [number, number] {
  let g = 0, h = 0;
  for (let c = 0; c < n; c++) {
    if ((mask >>> c) & 1) {
      g += hist[2 * c];
      h += hist[2 * c + 1];
    }
  }
  return [g, h];
}

Deno.test("findSplitsRef's partition split is the best of all category subsets (λ = 0)", () => {
  const rng = new Rng(11);
  for (let trial = 0; trial < 40; trial++) {
    const n = 4 + (trial % 9); // 4 .. 12 categories: 2^n subsets
    // n category slots and an empty missing slot.
    const hist = new Float64Array(2 * (n + 1));
    let G = 0, H = 0;
    for (let c = 0; c < n; c++) {
      hist[2 * c] = rng.next() * 4 - 2;
      hist[2 * c + 1] = 0.5 + rng.next() * 3;
      G += hist[2 * c];
      H += hist[2 * c + 1];
    }
    const params = new Float64Array(SPLIT_PARAM_COUNT);
    params[SPLIT_PARAM.lowerBound] = -Infinity;
    params[SPLIT_PARAM.upperBound] = Infinity;
    params[SPLIT_PARAM.sumGrad] = G;
    params[SPLIT_PARAM.sumHess] = H;
    const out = new Float64Array(6);
    findSplitsRef({
      hist,
      nChannels: 2,
      features: Int32Array.of(0),
      featureCount: 1,
      binOffsets: Int32Array.of(0, n + 1),
      monotone: null,
      categorical: { mask: Uint8Array.of(1), maxCatToOnehot: 4 },
      params,
      out,
    });
    const scorer = new SplitScorer(params, false);
    const parent = scorer.score(G, H);
    let best = -Infinity;
    for (let mask = 1; mask < (1 << n) - 1; mask++) {
      const [g, h] = sums(hist, mask, n);
      best = Math.max(best, scorer.score(g, h) + scorer.score(G - g, H - h) - parent);
    }
    assert.ok(Math.abs(out[0] - best) <= 1e-9 * Math.max(1, best), `${n} categories`);
    // The left sums reported are those of a real subset with that gain.
    const [lg, lh] = [out[3], out[4]];
    const gain = scorer.score(lg, lh) + scorer.score(G - lg, H - lh) - parent;
    assert.ok(Math.abs(gain - out[0]) <= 1e-9 * Math.max(1, best));
  }
});

Deno.test("findSplitsRef's one-hot split is the best single category, missing either way", () => {
  const rng = new Rng(12);
  for (let trial = 0; trial < 30; trial++) {
    const n = 2 + (trial % 5);
    const hist = new Float64Array(2 * (n + 1));
    let G = 0, H = 0;
    for (let c = 0; c <= n; c++) {
      hist[2 * c] = rng.next() * 4 - 2;
      hist[2 * c + 1] = 0.5 + rng.next() * 3;
      G += hist[2 * c];
      H += hist[2 * c + 1];
    }
    const params = new Float64Array(SPLIT_PARAM_COUNT);
    params[SPLIT_PARAM.lambda] = 1;
    params[SPLIT_PARAM.lowerBound] = -Infinity;
    params[SPLIT_PARAM.upperBound] = Infinity;
    params[SPLIT_PARAM.sumGrad] = G;
    params[SPLIT_PARAM.sumHess] = H;
    const out = new Float64Array(6);
    findSplitsRef({
      hist,
      nChannels: 2,
      features: Int32Array.of(0),
      featureCount: 1,
      binOffsets: Int32Array.of(0, n + 1),
      monotone: null,
      categorical: { mask: Uint8Array.of(1), maxCatToOnehot: 8 },
      params,
      out,
    });
    const scorer = new SplitScorer(params, false);
    const parent = scorer.score(G, H);
    let best = -Infinity, bestAt = "";
    const [mg, mh] = [hist[2 * n], hist[2 * n + 1]];
    for (let c = 0; c < n; c++) {
      for (const missingRight of [0, 1]) {
        const rg = hist[2 * c] + missingRight * mg, rh = hist[2 * c + 1] + missingRight * mh;
        const gain = scorer.score(G - rg, H - rh) + scorer.score(rg, rh) - parent;
        if (gain > best) [best, bestAt] = [gain, `${c}/${1 - missingRight}`];
      }
    }
    assert.ok(Math.abs(out[0] - best) <= 1e-9 * Math.max(1, best));
    assert.equal(`${out[1]}/${out[2]}`, bestAt);
  }
});

Deno.test("XGBRegressor with categorical columns is on a par with XGBoost 1.7 on Boston housing", async () => {
  const fx = load("boston.json");
  const X = rowsOf(fx.X);
  const scores: number[] = [];
  for (let k = 0; k < 5; k++) {
    const train = fx.folds.map((f: number) => f !== k);
    const Xtr = X.filter((_, i) => train[i]), ytr = fx.y.filter((_: number, i: number) => train[i]);
    const Xte = X.filter((_, i) => !train[i]),
      yte = fx.y.filter((_: number, i: number) => !train[i]);
    const model = await new XGBRegressor({
      nEstimators: fx.rounds,
      learningRate: fx.params.eta,
      maxDepth: fx.params.max_depth,
      baseScore: fx.params.base_score,
      maxCatToOnehot: fx.params.max_cat_to_onehot,
      categoricalFeatures: fx.categorical,
      backend: "js",
    }).fit(Xtr, ytr);
    const p = await model.predict(Xte);
    let se = 0;
    for (let i = 0; i < yte.length; i++) se += (p[i] - yte[i]) ** 2;
    scores.push(Math.sqrt(se / yte.length));
  }
  const rmse = scores.reduce((a, b) => a + b) / scores.length;
  assert.ok(
    rmse <= fx.rmseCategorical * 1.05,
    `RMSE ${rmse} against XGBoost's ${fx.rmseCategorical}`,
  );
});

/** XGBoost's margins for a model file, through the io tests' helper script. */
async function xgboostMargins(text: string, X: number[][]): Promise<number[] | null> {
  try {
    const probe = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import xgboost"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!probe.success) return null;
  } catch {
    return null;
  }
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/model.json`, text);
    const rows = X.map((r) => r.map((v) => (Number.isNaN(v) ? null : v)));
    await Deno.writeTextFile(
      `${dir}/cases.json`,
      JSON.stringify([{ model: `${dir}/model.json`, X: rows }]),
    );
    const script = new URL("../io/_xgboost_predict.py", import.meta.url).pathname;
    const run = await new Deno.Command("/usr/bin/python3", {
      args: [script, `${dir}/cases.json`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!run.success) throw new Error(new TextDecoder().decode(run.stderr));
    return JSON.parse(new TextDecoder().decode(run.stdout)).results[0].margin;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a model trained with categorical splits predicts the same in XGBoost (toXGBoostJSON)", async () => {
  const c = load("first_trees.json").cases[0];
  const X = rowsOf(c.X);
  // Unseen codes (4, 9, 200), a negative and a fractional value: XGBoost sends them left.
  X.push([0, 4, 1], [2, 9, 0], [1, 200, -1], [-1, 3, 0], [0.5, 2.5, 1], [NaN, NaN, NaN]);
  const model = await new XGBRegressor({
    ...optionsOf(c.params),
    nEstimators: 20,
    maxDepth: 5,
    backend: "js",
  }).fit(rowsOf(c.X), c.y);
  const theirs = await xgboostMargins(model.toXGBoostJSON(), X);
  if (theirs === null) {
    console.warn("Skipping the XGBoost round trip: /usr/bin/python3 has no xgboost");
    return;
  }
  const ours = (await model.predictMargin(X)).data;
  let worst = 0;
  for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
  assert.ok(worst <= 1e-6, `margins differ by ${worst}`);
});

Deno.test("categorical fits are bit-identical on js and on wasm with 1, 2 or 4 threads", async () => {
  const rng = new Rng(3);
  const n = 20000, cols = 6;
  const data = new Float32Array(n * cols);
  const y: number[] = [], labels: number[] = [];
  const effect = Array.from({ length: 40 }, () => rng.next() * 4 - 2);
  for (let r = 0; r < n; r++) {
    const row = r * cols;
    data[row] = Math.floor(rng.next() * 40);
    data[row + 1] = rng.next() < 0.05 ? NaN : Math.floor(rng.next() * 3);
    for (let f = 2; f < cols; f++) data[row + f] = rng.next() * 2 - 1;
    const t = effect[data[row]] + (data[row + 1] === 1 ? 1 : 0) + data[row + 2];
    y.push(t + rng.next());
    labels.push(t > 0 ? 1 : 0);
  }
  const X = { data, shape: [n, cols] };
  const fits = async (backend: "js" | "wasm") => {
    const options = { nEstimators: 4, maxDepth: 5, categoricalFeatures: [0, 1], backend };
    const a = await new XGBRegressor(options).fit(X, y);
    const b = await new XGBClassifier({ ...options, growPolicy: "lossguide", maxLeaves: 12 })
      .fit(X, labels);
    return [a, b].map((m) => JSON.stringify((m.toJSON() as { fitted: unknown }).fitted));
  };
  const reference = await fits("js");
  assert.ok(reference[0].includes("catBits"));
  for (const threads of [1, 2, 4]) {
    await init({ threads });
    try {
      const results = await fits("wasm");
      results.forEach((r, i) => assert.equal(r, reference[i], `model ${i}, ${threads} thread(s)`));
    } finally {
      await dispose();
    }
  }
});

Deno.test("XGB fit checks categorical columns and options", async () => {
  const X = [[0, 1], [1, 2], [2, 0], [1, 1]], y = [1, 2, 3, 2];
  const fit = (options: Record<string, unknown>, x: number[][] = X) =>
    new XGBRegressor({ nEstimators: 1, backend: "js", ...options }).fit(x, y);
  await assert.rejects(
    fit({ categoricalFeatures: [0] }, [[0, 1], [1.5, 2], [2, 0], [1, 1]]),
    (e: Error) =>
      e instanceof RangeError && /column 0 of "X" \(categorical\)/.test(e.message) &&
      /found 1.5 in row 1/.test(e.message),
  );
  await assert.rejects(
    fit({ categoricalFeatures: [1] }, [[0, 1], [1, -1], [2, 0], [1, 1]]),
    RangeError,
  );
  await assert.rejects(
    fit({ categoricalFeatures: [1] }, [[0, 1], [1, 255], [2, 0], [1, 1]]),
    RangeError,
  );
  await assert.rejects(fit({ categoricalFeatures: [2] }), /below 2 but found 2/);
  await assert.rejects(fit({ categoricalFeatures: [0, 0] }), TypeError);
  await assert.rejects(fit({ categoricalFeatures: "0" }), TypeError);
  await assert.rejects(fit({ maxCatToOnehot: 0 }), RangeError);
  await assert.rejects(
    fit({ categoricalFeatures: [0], monotoneConstraints: [1, 0] }),
    /categorical feature 0 to have no monotone constraint/,
  );
  // NaN is a missing category, not an error.
  await fit({ categoricalFeatures: [0] }, [[0, 1], [NaN, 2], [2, 0], [1, 1]]);
});
