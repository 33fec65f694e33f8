// A Node user of the installed package: `import … from "tessera-ml"`, then a fit, attention and
// a sampler run, and no dispose(). Prints one JSON line of results for
// tests/package/package_test.mjs to check; the process must then exit by itself.
import {
  GaussianMixture, init, karrasSigmas, linearAttention, runtimeInfo, sample,
  scaledDotProductAttention, XGBClassifier,
} from "tessera-ml";

await init({ threads: 2 });

// Two interleaved half-moons' worth of rule: y = 1 where x0 + x1² > 0.5.
const n = 400;
const X = [], y = [];
let s = 7;
const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
for (let i = 0; i < n; i++) {
  const row = [uniform(), uniform(), uniform()];
  X.push(row);
  y.push(row[0] + row[1] * row[1] > 0.5 ? 1 : 0);
}
let rounds = 0;
const model = await new XGBClassifier({ nEstimators: 30, maxDepth: 3, seed: 1 })
  .fit(X, y, { onProgress: () => rounds++ });
const labels = await model.predict(X);
const accuracy = labels.reduce((a, label, i) => a + (label === y[i] ? 1 : 0), 0) / n;

const shape = [1, 2, 33, 8];
const tensor = (seed) => {
  s = seed;
  return { data: Float32Array.from({ length: 2 * 33 * 8 }, uniform), shape };
};
const [q, k, v] = [tensor(1), tensor(2), tensor(3)];
const wasm = await scaledDotProductAttention(q, k, v, { causal: true, backend: "wasm" });
const js = await scaledDotProductAttention(q, k, v, { causal: true, backend: "js" });
const attentionError = Math.max(...wasm.data.map((x, i) => Math.abs(x - js.data[i])));
const linear = await linearAttention(q, k, v);

const mixture = new GaussianMixture({ means: [[-2, 0], [2, 0]], variances: [[0.1, 0.1], [0.1, 0.1]], weights: [0.5, 0.5] });
const x = await sample({ denoiser: mixture.denoiser, batch: 64, dim: 2, sigmas: karrasSigmas({ steps: 20 }), sampler: "heun", seed: 3 });
// Each sample lands near one of the two modes.
const nearMode = Array.from({ length: 64 }, (_, i) => Math.abs(Math.abs(x[2 * i]) - 2) < 1.2).filter(Boolean).length;

const info = runtimeInfo();
// No dispose(): idle workers must not keep the process alive (the harness times it out).
console.log(JSON.stringify({
  accuracy, rounds, attentionError, linearShape: linear.shape, nearMode,
  threads: info.threads, simd: info.simd,
}));
