/**
 * Cancellation of the ensembles' fits (README "Guarantees"): a forest, AdaBoost, Bagging or
 * Stacking fit whose kernels all run in this thread, so that nothing in it ever waits, still
 * gives the event loop a turn every 10 ms while a signal watches it, so an abort from a timer
 * (`AbortSignal.timeout`, say) stops it before its next tree, round or inner fit; a live signal
 * changes nothing in the model.
 */
import assert from "node:assert/strict";
import { init } from "../../../src/runtime/mod.ts";
import {
  AdaBoostClassifier,
  AdaBoostRegressor,
  BaggingClassifier,
  BaggingRegressor,
  DecisionTreeClassifier,
  DecisionTreeRegressor,
  RandomForestClassifier,
  RandomForestRegressor,
  StackingClassifier,
  StackingRegressor,
} from "../../../src/trees/mod.ts";

// WASM in this thread: kernel calls return without waiting on a worker.
await init({ threads: 1 });

/** 400 rows, 5 features; classes and targets from a threshold rule plus noise. */
function data() {
  const X: number[][] = [], classes: number[] = [], targets: number[] = [];
  let s = 17;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < 400; i++) {
    const row = [u(), u(), u(), u(), u()];
    X.push(row);
    classes.push(row[0] + 0.5 * row[1] + 0.2 * u() > 0.9 ? 1 : 0);
    targets.push(row[0] + row[1] * row[2] + 0.1 * u());
  }
  return { X, classes, targets };
}

interface Fittable {
  fit(
    X: number[][],
    y: number[],
    opts?: { signal?: AbortSignal },
  ): Promise<{ predict(X: number[][]): Promise<Float32Array> }>;
}

/** Each ensemble, made with `n` members (trees, rounds, or base estimators of a stack). */
const ENSEMBLES: [string, "classes" | "targets", (n: number) => Fittable][] = [
  ["RandomForestClassifier", "classes", (n) => new RandomForestClassifier({ nEstimators: n })],
  ["RandomForestRegressor", "targets", (n) => new RandomForestRegressor({ nEstimators: n })],
  ["AdaBoostClassifier", "classes", (n) => new AdaBoostClassifier({ nEstimators: n })],
  ["AdaBoostRegressor", "targets", (n) => new AdaBoostRegressor({ nEstimators: n })],
  ["BaggingClassifier", "classes", (n) => new BaggingClassifier({ nEstimators: n })],
  ["BaggingRegressor", "targets", (n) => new BaggingRegressor({ nEstimators: n })],
  ["StackingClassifier", "classes", (n) =>
    new StackingClassifier({
      estimators: Array.from({ length: n }, (_, i) =>
        new DecisionTreeClassifier({ maxDepth: 1 + (i % 5) })),
    })],
  ["StackingRegressor", "targets", (n) =>
    new StackingRegressor({
      estimators: Array.from({ length: n }, (_, i) =>
        new DecisionTreeRegressor({ maxDepth: 1 + (i % 5) })),
    })],
];

for (const [name, target, make] of ENSEMBLES) {
  Deno.test(`${name}.fit({ signal }): a timer's abort arrives though nothing waits`, async () => {
    const d = data(), y = d[target];
    // Without the watch's turns, a fit this size ran to its end (0.2–13 s) and resolved.
    const started = performance.now();
    const fit = make(3000).fit(d.X, y, { signal: AbortSignal.timeout(30) });
    await assert.rejects(fit, { name: "TimeoutError" });
    const took = performance.now() - started;
    assert.ok(took < 1000, `the abort took ${took.toFixed(0)} ms to arrive`);

    const plain = await (await make(6).fit(d.X, y)).predict(d.X);
    const live = new AbortController().signal;
    const watched = await (await make(6).fit(d.X, y, { signal: live })).predict(d.X);
    assert.deepEqual(watched, plain);
  });
}
