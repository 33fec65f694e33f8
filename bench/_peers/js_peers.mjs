// JavaScript peers of the trees benchmark, run in Node: ml-xgboost (XGBoost compiled to WASM
// with Emscripten) and ydf-training (Yggdrasil Decision Forests). Reads the JSON config that
// bench/trees_bench.ts writes (raw float32 files) and prints one JSON line of results.
//
// Usage: node js_peers.mjs CONFIG.json
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const read = (path) => {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};
const x = read(config.trainX), y = read(config.trainY);
const tx = read(config.testX), ty = read(config.testY);
const { nTrain, nTest, nCols, params } = config;
// ml-xgboost's API cannot declare NaN as missing (its C side refuses NaN): a sentinel stands in.
const SENTINEL = -999;
const rows = (data, n) =>
  Array.from({ length: n }, (_, r) =>
    Array.from(data.subarray(r * nCols, (r + 1) * nCols), (v) => (Number.isNaN(v) ? SENTINEL : v)));
const accuracy = (scores) => scores.filter((p, r) => (p > 0.5 ? 1 : 0) === ty[r]).length / nTest;
const results = {};

// Emscripten modules print progress; keep stdout for the result line alone.
const log = console.log;
console.log = () => {};

try {
  const XGBoost = await require("ml-xgboost");
  const model = new XGBoost({
    booster: "gbtree",
    objective: "binary:logistic",
    max_depth: params.maxDepth,
    eta: params.learningRate,
    subsample: 1,
    tree_method: "hist",
    max_bin: params.maxBin,
    iterations: params.nEstimators,
  });
  const train = rows(x, nTrain);
  const start = performance.now();
  model.train(train, Array.from(y));
  const fit = (performance.now() - start) / 1000;
  const scores = model.predict(rows(tx, nTest));
  results["ml-xgboost"] = { fit, accuracy: accuracy(scores), params: "same (hist, 256 bins); NaN → −999" };
} catch (error) {
  results["ml-xgboost"] = { error: String(error?.message ?? error).split("\n")[0] };
}

try {
  const { default: YDFTraining } = await import("ydf-training");
  const ydf = await YDFTraining();
  const header = [...Array(nCols).keys()].map((f) => `f${f}`).join(",") + ",label";
  // ydf reads CSV text; the label must be categorical, missing cells are empty.
  const csv = (data, labels, n) => {
    const lines = [header];
    for (let r = 0; r < n; r++) {
      const cells = Array.from(data.subarray(r * nCols, (r + 1) * nCols), (v) => (Number.isNaN(v) ? "" : v));
      lines.push(`${cells.join(",")},${labels ? (labels[r] === 1 ? "p" : "n") : "n"}`);
    }
    return lines.join("\n");
  };
  const start = performance.now();
  const model = new ydf.GradientBoostedTreesLearner("label", "CLASSIFICATION").train(csv(x, y, nTrain));
  const fit = (performance.now() - start) / 1000;
  // Scores are the probability of one of the two label values, which one depending on ydf's
  // dictionary order: read the orientation off training rows.
  const seen = Math.min(nTrain, 2000);
  const trainScores = Array.from(model.predict(csv(x, y, seen)));
  const agree = trainScores.filter((p, r) => (p > 0.5 ? 1 : 0) === y[r]).length;
  const flip = agree < seen / 2;
  const scores = Array.from(model.predict(csv(tx, null, nTest)), (p) => (flip ? 1 - p : p));
  model.unload();
  results["ydf-training"] = {
    fit,
    accuracy: accuracy(scores),
    params: "its defaults (no hyperparameters in the npm API)",
  };
} catch (error) {
  results["ydf-training"] = { error: String(error?.message ?? error).split("\n")[0] };
}

console.log = log;
console.log(JSON.stringify(results));
