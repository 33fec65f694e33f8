// A user's script that never calls dispose(): run as a child process by
// tests/runtime/exit_test.ts (Deno) and tests/node/node_test.mjs (Node).
//
// Usage: <node|deno run -A> _no_dispose.mjs MODULE [throw]
//   MODULE: path of the module to import (dist/tessera.js, or src/mod.ts under Deno).
//   throw:  throw an error after the first call instead of finishing.
// Prints `fit`, `attention`, `sample` as each call returns, then `done`; exits by itself.
import { pathToFileURL } from "node:url";

const [modulePath, mode] = (globalThis.Deno?.args ?? process.argv.slice(2));
const t = await import(pathToFileURL(modulePath).href);

const info = await t.init({ threads: 2 });
if (info.threads !== 2) throw new Error(`expected 2 threads, got ${info.threads}`);

// XGBClassifier fit on two separable blobs.
const X = [], y = [];
for (let i = 0; i < 400; i++) {
  const label = i % 2;
  X.push([label * 2 + Math.sin(i), label * 2 + Math.cos(i * 7), (i % 13) / 13, (i % 5) / 5]);
  y.push(label);
}
const model = await new t.XGBClassifier({ nEstimators: 8, maxDepth: 3, seed: 1 }).fit(X, y);
const predicted = await model.predict(X);
let right = 0;
for (let i = 0; i < y.length; i++) right += predicted[i] === y[i] ? 1 : 0;
if (right < 390) throw new Error(`fit: only ${right} of 400 right`);
console.log("fit");
if (mode === "throw") throw new Error("Thrown by the script after a call");

// Attention, split across the pool.
const shape = [1, 4, 256, 32];
const data = (seed) => {
  const a = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37 + seed);
  return { data: a, shape };
};
const out = await t.scaledDotProductAttention(data(1), data(2), data(3), { causal: true });
if (out.data.length !== 4 * 256 * 32 || !out.data.every(Number.isFinite)) {
  throw new Error("attention: bad output");
}
console.log("attention");

// Diffusion sampling of a two-component mixture.
const mixture = new t.GaussianMixture({
  means: [[-2, 0], [2, 0]],
  variances: [[0.1, 0.1], [0.1, 0.1]],
  weights: [0.5, 0.5],
});
const x = await t.sample({
  denoiser: mixture.denoiser,
  batch: 64,
  dim: 2,
  sigmas: t.karrasSigmas({ steps: 12, sigmaMin: 0.002, sigmaMax: 40 }),
  sampler: "heun",
  seed: 3,
});
if (x.length !== 128 || !x.every(Number.isFinite)) throw new Error("sample: bad output");
console.log("sample");
console.log("done");
