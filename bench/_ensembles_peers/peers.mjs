// The npm peers of bench/ensembles_bench.ts: trains ml-cart's DecisionTreeClassifier and
// ml-random-forest's RandomForestClassifier on the first `peerRows` training rows of the
// benchmark (their fits on all rows take minutes) and prints the timings as one JSON line.
// Usage: node peers.mjs <folder with x.f32, y.f64, meta.json> <peer>
import { readFileSync } from "node:fs";
import { DecisionTreeClassifier } from "ml-cart";
import { RandomForestClassifier } from "ml-random-forest";

const [dir, peer] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(`${dir}/meta.json`, "utf8"));
const x = new Float32Array(readFileSync(`${dir}/x.f32`).buffer.slice(0));
const y = new Float64Array(readFileSync(`${dir}/y.f64`).buffer.slice(0));
const rows = (begin, end) => {
  const out = [];
  for (let r = begin; r < end; r++) out.push(Array.from(x.subarray(r * meta.cols, (r + 1) * meta.cols)));
  return out;
};
const Xtrain = rows(0, meta.peerRows), Xtest = rows(meta.nTrain, meta.nTrain + meta.nTest);
const ytrain = Array.from(y.subarray(0, meta.peerRows)), ytest = y.subarray(meta.nTrain);

const model = peer === "ml-cart"
  ? new DecisionTreeClassifier({ gainFunction: "gini" })
  : new RandomForestClassifier({
    nEstimators: meta.trees,
    maxFeatures: Math.floor(Math.sqrt(meta.cols)) / meta.cols,
    replacement: true,
    seed: 1,
  });
let t0 = performance.now();
model.train(Xtrain, ytrain);
const fitMs = performance.now() - t0;
t0 = performance.now();
const predicted = model.predict(Xtest);
const predictMs = performance.now() - t0;
let correct = 0;
predicted.forEach((v, i) => (correct += v === ytest[i] ? 1 : 0));
console.log(JSON.stringify({ fitMs, predictMs, accuracy: correct / meta.nTest }));
