// The call families of the memory soak (tests/soak/): the same calls in Deno (on src/), Node (on
// the built bundle) and Chromium (the bundle in a cross-origin-isolated page). Plain JavaScript
// with no imports: the caller passes the module, as in tests/bundle/cases.mjs. Each family's
// `prepare(t)` builds its inputs (and fits its model) once; the returned `call()` is what the
// soak repeats, with the same shapes every time so that steady state is well defined.

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

/** A 3-class tabular problem with missing values now and then. */
function table(rows, cols, seed) {
  const next = uniform(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = next() < -0.9 ? NaN : Math.fround(next() * 2);
  const at = (r, c) => (Number.isNaN(data[r * cols + c]) ? 0 : data[r * cols + c]);
  const labels = [];
  for (let r = 0; r < rows; r++) {
    const v = at(r, 0) + Math.sin(2 * at(r, 1)) - 0.5 * at(r, 2) * at(r, 3) + 0.1 * next();
    labels.push(v > 0.5 ? 2 : v > -0.5 ? 1 : 0);
  }
  return { X: { data, shape: [rows, cols] }, labels };
}

/** A Gaussian mixture of `components` components in `dim` dimensions. */
function mixture(t, components, dim, seed) {
  const next = uniform(seed),
    rows = (f) => Array.from({ length: components }, () => Array.from({ length: dim }, f));
  return new t.GaussianMixture({
    means: rows(() => 2 * next()),
    variances: rows(() => 0.2 + 0.3 * (next() + 1)),
    weights: Array.from({ length: components }, () => 1 + next()),
  });
}

/**
 * name → (tessera) => (() => Promise<unknown>), or a promise of it: one soak call. The first sizes are those
 * of the measurement in issue 15 (sample: batch 16, 5 Heun steps on a Gaussian mixture) and run
 * in the calling thread; the "(workers)" ones are large enough to be dealt to the worker pool
 * (on shared memory this thread takes one share and rings the workers for the rest; on a page
 * every share goes to the workers through comlink).
 */
export const FAMILIES = {
  "sample (GaussianMixture denoiser, heun, batch 16)": (t) => {
    const gmm = new t.GaussianMixture({
      means: [[-2, 0, 1, 0.5], [2, 1, -1, 0], [0, -2, 0, 1]],
      variances: [[0.3, 0.5, 0.2, 0.4], [0.4, 0.2, 0.3, 0.5], [0.5, 0.3, 0.4, 0.2]],
      weights: [1, 2, 1],
    });
    const sigmas = t.karrasSigmas({ steps: 5, sigmaMin: 0.01, sigmaMax: 20 });
    let seed = 0;
    return () =>
      t.sample({
        denoiser: gmm.denoiser,
        batch: 16,
        dim: 4,
        sigmas,
        sampler: "heun",
        seed: seed++ & 1023,
      });
  },
  "scaledDotProductAttention": (t) => {
    const q = tensor([1, 2, 16, 8], 1), k = tensor([1, 2, 16, 8], 2), v = tensor([1, 2, 16, 8], 3);
    return () => t.scaledDotProductAttention(q, k, v, { causal: true });
  },
  "matmul": (t) => {
    const a = tensor([24, 20], 4), b = tensor([20, 16], 5);
    return () => t.matmul(a, b);
  },
  "XGBClassifier predictProba": async (t) => {
    const { X, labels } = table(200, 5, 6);
    const model = await new t.XGBClassifier({ nEstimators: 10, maxDepth: 4, seed: 1 }).fit(
      X,
      labels,
    );
    const test = table(32, 5, 7).X;
    return () => model.predictProba(test);
  },
  "RandomForestClassifier predictProba": async (t) => {
    const { X, labels } = table(200, 5, 8);
    const model = await new t.RandomForestClassifier({ nEstimators: 8, maxDepth: 6, seed: 2 })
      .fit(X, labels);
    const test = table(32, 5, 9).X;
    return () => model.predictProba(test);
  },
  "GaussianMixture denoiser, 4096 × 16 (workers)": (t) => {
    const gmm = mixture(t, 8, 16, 10), x = tensor([4096, 16], 11).data;
    const info = { batch: 4096, dim: 16 };
    return () => gmm.denoiser(x, 0.7, info);
  },
  "scaledDotProductAttention 4 × 128 × 64 (workers)": (t) => {
    const q = tensor([1, 4, 128, 64], 12),
      k = tensor([1, 4, 128, 64], 13),
      v = tensor([1, 4, 128, 64], 14);
    return () => t.scaledDotProductAttention(q, k, v);
  },
  "matmul 128³ (workers)": (t) => {
    const a = tensor([128, 128], 15), b = tensor([128, 128], 16);
    return () => t.matmul(a, b);
  },
  "XGBClassifier predictProba, 4096 rows (workers)": async (t) => {
    const { X, labels } = table(200, 5, 17);
    const model = await new t.XGBClassifier({ nEstimators: 10, maxDepth: 4, seed: 1 }).fit(
      X,
      labels,
    );
    const test = table(4096, 5, 18).X;
    return () => model.predictProba(test);
  },
};
