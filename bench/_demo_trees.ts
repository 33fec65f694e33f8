/**
 * The trees section of `npm run demo`: XGBClassifier and RandomForestClassifier on a real data
 * set (R mlbench's Vehicle silhouettes, 846 rows × 18 features, 4 classes; the fixture's fold 0
 * is held out), with progress, test accuracy and fit time; then a model trained by native
 * XGBoost 1.7 on scikit-learn's breast cancer data, imported from XGBoost's JSON, predicting
 * the rows XGBoost predicted, with the largest difference from XGBoost's own probabilities.
 *
 * @module
 */
import type { DemoKit } from "./_demo_diffusion.ts";

const ROOT = new URL("../", import.meta.url);

async function gunzipText(url: URL): Promise<string> {
  const stream = new Blob([await Deno.readFile(url)]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

/** Vehicle from tests/fixtures/ensembles: rows, labels and the 5-fold ids. */
async function vehicle() {
  const text = await gunzipText(new URL("tests/fixtures/ensembles/data_vehicle.csv.gz", ROOT));
  const rows = text.trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
  const split = (test: boolean) => {
    const part = rows.filter((r) => (r[r.length - 1] === 0) === test);
    return {
      X: { data: Float32Array.from(part.flatMap((r) => r.slice(0, -2))), shape: [part.length, 18] },
      y: part.map((r) => r[r.length - 2]),
    };
  };
  return { train: split(false), test: split(true) };
}

function accuracy(truth: number[], predicted: ArrayLike<number>): number {
  let hits = 0;
  truth.forEach((t, i) => (hits += t === predicted[i] ? 1 : 0));
  return hits / truth.length;
}

/** Fits two ensembles on Vehicle, then predicts with a model XGBoost trained. */
export async function treesSection({ tessera, progress, bold }: DemoKit): Promise<void> {
  console.log(bold("\nTree ensembles (XGBClassifier, RandomForestClassifier, fromXGBoostJSON)"));
  const { train, test } = await vehicle();
  console.log(
    `  Vehicle silhouettes (R mlbench): ${train.y.length} rows train, ${test.y.length} test, ` +
      `18 features, 4 classes (bus, opel, saab, van)`,
  );
  const runs = [
    {
      name: "XGBClassifier",
      options: { nEstimators: 100, maxDepth: 4, learningRate: 0.3, seed: 0 },
    },
    { name: "RandomForestClassifier", options: { nEstimators: 200, seed: 0 } },
  ];
  const rows: string[][] = [];
  for (const { name, options } of runs) {
    const model = new tessera[name](options);
    const t0 = performance.now();
    await model.fit(train.X, train.y, {
      onProgress: (p: { iteration: number; total: number }) =>
        progress(name.padEnd(24), p.iteration, p.total),
    });
    const ms = performance.now() - t0;
    const acc = accuracy(test.y, await model.predict(test.X));
    const opts = Object.entries(options).filter(([k]) => k !== "seed").map(([k, v]) => `${k} ${v}`)
      .join(", ");
    rows.push([name, opts, acc.toFixed(3), `${(ms / 1000).toFixed(2)} s`]);
  }
  const header = ["estimator", "options", "test accuracy", "fit"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => "  " + cells.map((s, c) => s.padEnd(widths[c])).join("   ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));

  const file = JSON.parse(
    await Deno.readTextFile(new URL("examples/playground/xgboost_breast_cancer.json", ROOT)),
  );
  const imported = tessera.fromXGBoostJSON(file.model);
  const X = { data: Float32Array.from(file.X.flat()), shape: [file.X.length, file.X[0].length] };
  const proba = await imported.predictProba(X);
  let worst = 0;
  file.prediction.forEach((
    p: number,
    i: number,
  ) => (worst = Math.max(worst, Math.abs(proba.data[2 * i + 1] - p))));
  const acc = accuracy(file.y, await imported.predict(X));
  console.log(
    `  imported from XGBoost ${file.xgboost} JSON (examples/playground/xgboost_breast_cancer.json): ` +
      `${file.model.learner.gradient_booster.model.trees.length} trees, breast cancer, ${file.X.length} held-out rows: ` +
      `accuracy ${acc.toFixed(3)}, max |Tessera − XGBoost| = ${worst.toExponential(2)}`,
  );
}
