// The cases every runtime runs on the built bundle (Node, Chromium, workerd) and Deno runs on
// src/ (tests/bundle/expected.ts): one per area, on the same inputs, so that the bundle's numbers
// can be compared with the sources' in the same test run. Plain JavaScript with no imports: the
// caller passes the module (the bundle or src/mod.ts), and the results are plain arrays that
// travel as JSON (to and from a page or a worker).

/** A deterministic uniform(−1, 1) stream (a 32-bit LCG), the same in every runtime. */
function uniform(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

function tensor(shape, seed) {
  const next = uniform(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = next();
  return { data, shape };
}

/** Rows of a tabular problem: NaN now and then (missing), a smooth target and 3 classes. */
function table(rows, cols, seed) {
  const next = uniform(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = next() < -0.9 ? NaN : Math.fround(next() * 2);
  const at = (r, c) => (Number.isNaN(data[r * cols + c]) ? 0 : data[r * cols + c]);
  const y = [], labels = [];
  for (let r = 0; r < rows; r++) {
    const v = at(r, 0) + Math.sin(2 * at(r, 1)) - 0.5 * at(r, 2) * at(r, 3) + 0.1 * next();
    y.push(v);
    labels.push(v > 0.5 ? 2 : v > -0.5 ? 1 : 0);
  }
  return { X: { data, shape: [rows, cols] }, y, labels };
}

const list = (a) => Array.from(a);

/** Each case: name → async (tessera) => plain numbers. */
export const CASES = {
  "matmul": async (t) => {
    const out = await t.matmul(tensor([37, 45], 1), tensor([45, 29], 2), { transposeB: false });
    return { shape: out.shape, data: list(out.data) };
  },
  "trees: XGBRegressor fit and predict (missing values)": async (t) => {
    const { X, y } = table(300, 6, 3);
    const model = await new t.XGBRegressor({ nEstimators: 12, maxDepth: 4, learningRate: 0.3, seed: 1 })
      .fit(X, y);
    const test = table(60, 6, 4).X;
    return {
      predict: list(await model.predict(test)),
      importances: list(model.featureImportances),
    };
  },
  "trees: RandomForestClassifier fit, predict and predictProba": async (t) => {
    const { X, labels } = table(240, 5, 5);
    const model = await new t.RandomForestClassifier({ nEstimators: 8, maxDepth: 6, seed: 2 })
      .fit(X, labels);
    const test = table(50, 5, 6).X;
    const proba = await model.predictProba(test);
    return { predict: list(await model.predict(test)), proba: list(proba.data), shape: proba.shape };
  },
  "trees: GradientBoostingClassifier fit and predictProba": async (t) => {
    const { X, labels } = table(200, 4, 7);
    const model = await new t.GradientBoostingClassifier({ nEstimators: 6, maxDepth: 3, seed: 3 })
      .fit(X, labels);
    return { proba: list((await model.predictProba(table(40, 4, 8).X)).data) };
  },
  "linear: Ridge and LogisticRegression fit and predict": async (t) => {
    const { X, y, labels } = table(150, 4, 9);
    const clean = { data: X.data.map((v) => (Number.isNaN(v) ? 0 : v)), shape: X.shape };
    const test = { data: table(30, 4, 10).X.data.map((v) => (Number.isNaN(v) ? 0 : v)), shape: [30, 4] };
    const ridge = await new t.Ridge({ alpha: 0.5 }).fit(clean, y);
    const logistic = await new t.LogisticRegression({ C: 2 }).fit(clean, labels);
    return {
      ridge: list(await ridge.predict(test)),
      logistic: list((await logistic.predictProba(test)).data),
    };
  },
  "attention: scaledDotProductAttention (causal, grouped heads, mask)": async (t) => {
    const q = tensor([2, 4, 19, 16], 11), k = tensor([2, 2, 23, 16], 12), v = tensor([2, 2, 23, 8], 13);
    const mask = tensor([19, 23], 14);
    const out = await t.scaledDotProductAttention(q, k, v, { causal: true, mask });
    return { shape: out.shape, data: list(out.data) };
  },
  "attention: linearAttention (causal elu+1, relu)": async (t) => {
    const q = tensor([1, 2, 33, 8], 15), k = tensor([1, 2, 33, 8], 16), v = tensor([1, 2, 33, 12], 17);
    const causal = await t.linearAttention(q, k, v, { causal: true });
    const relu = await t.linearAttention(q, k, v, { featureMap: "relu" });
    return { causal: list(causal.data), relu: list(relu.data) };
  },
  "attention: mixedChunkAttention (causal, chunk 8, separate linQ/linK)": async (t) => {
    const q = tensor([1, 2, 30, 8], 18), k = tensor([1, 2, 30, 8], 19), v = tensor([1, 2, 30, 8], 20);
    const linQ = tensor([1, 2, 30, 8], 21), linK = tensor([1, 2, 30, 8], 22);
    const out = await t.mixedChunkAttention(q, k, v, { chunkSize: 8, causal: true, linQ, linK });
    return { shape: out.shape, data: list(out.data) };
  },
  "diffusion: sample() with heun, dpmpp-2m and euler-ancestral on a Gaussian mixture": async (t) => {
    const mixture = new t.GaussianMixture({
      means: [[-1, 0.5, 2], [1.5, -1, 0]],
      variances: [[0.1, 0.2, 0.05], [0.3, 0.1, 0.2]],
      weights: [0.3, 0.7],
    });
    const sigmas = t.karrasSigmas({ steps: 12, sigmaMin: 0.01, sigmaMax: 20 });
    const out = {};
    for (const sampler of ["heun", "dpmpp-2m", "euler-ancestral"]) {
      const x = await t.sample({ denoiser: mixture.denoiser, batch: 5, dim: 3, sigmas, sampler, seed: 7 });
      out[sampler] = list(x);
    }
    return out;
  },
};

/**
 * A fit large enough that its growth steps, partitions and predictions split across two threads
 * (70,000 rows × 48 features, uniform(−½, ½) from seed 7, a nonlinear binary label): on a plain
 * page too, where a tree grows on the page's thread and a worker from a root of 3·2²⁰ cells in
 * a fit of 2²⁷ cells of roots (src/backends/wasm/trees.ts, MIN_COPIED_TREE_CELLS and
 * MIN_COPIED_FIT_CELLS: 48 trees here). The browser tests fit it on one and two threads and
 * compare the models.
 */
export function splitFitData() {
  const n = 70000, cols = 48, x = new Float32Array(n * cols), y = new Float64Array(n);
  for (let i = 0, s = 7; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 2 ** 32 - 0.5;
  }
  for (let r = 0; r < n; r++) y[r] = x[r * cols] + Math.sin(6 * x[r * cols + 1]) > 0 ? 1 : 0;
  return { x, y, n, cols };
}

/**
 * A Gaussian mixture's options for the browser tests' sampling runs: 8 components of `dim`
 * dimensions, means sin(k + j), variances 0.1, equal weights.
 */
export function mixtureOptions(dim) {
  const means = [], variances = [];
  for (let k = 0; k < 8; k++) {
    means.push(Array.from({ length: dim }, (_, j) => Math.sin(k + j)));
    variances.push(Array.from({ length: dim }, () => 0.1));
  }
  return { means, variances, weights: Array(8).fill(1 / 8) };
}

/**
 * Runs every case after `init(initOptions)`: `results` maps each name to { value } or the
 * { error } it threw; `info` is the runtime the cases ran on.
 */
export async function runCases(tessera, initOptions) {
  const results = {};
  const info = await tessera.init(initOptions);
  try {
    for (const [name, run] of Object.entries(CASES)) {
      try {
        results[name] = { value: await run(tessera) };
      } catch (error) {
        results[name] = { error: String(error?.stack ?? error) };
      }
    }
  } finally {
    await tessera.dispose();
  }
  return { info, results };
}

/**
 * Compares a runtime's result of one case with Deno's: numbers equal up to `rtol` (relative,
 * on the scale of the largest value of the array, so that near-zero entries are not
 * over-weighted) and everything else equal. Returns null, or what differs.
 */
export function compareResult(actual, expected, rtol, path = "") {
  if (typeof expected === "number") {
    if (typeof actual !== "number") return `${path}: ${actual} is not a number`;
    if (Object.is(actual, expected)) return null;
    return Math.abs(actual - expected) <= rtol ? null : `${path}: ${actual} vs ${expected}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return `${path}: length ${actual?.length} vs ${expected.length}`;
    }
    const scale = Math.max(1, ...expected.filter((v) => typeof v === "number").map(Math.abs));
    for (let i = 0; i < expected.length; i++) {
      const tol = typeof expected[i] === "number" ? rtol * scale : rtol;
      const d = compareResult(actual[i], expected[i], tol, `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (expected !== null && typeof expected === "object") {
    const keys = Object.keys(expected);
    if (actual === null || typeof actual !== "object") return `${path}: not an object`;
    if (Object.keys(actual).sort().join() !== [...keys].sort().join()) {
      return `${path}: keys ${Object.keys(actual)} vs ${keys}`;
    }
    for (const key of keys) {
      const d = compareResult(actual[key], expected[key], rtol, `${path}.${key}`);
      if (d !== null) return d;
    }
    return null;
  }
  return actual === expected ? null : `${path}: ${actual} vs ${expected}`;
}
