import assert from "node:assert/strict";
import {
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  XGBClassifier,
  XGBRegressor,
} from "../../../src/mod.ts";

/** 300 rows, 4 features; the label is a threshold rule, so every round changes the model. */
function data() {
  const X: number[][] = [], y: number[] = [];
  let s = 11;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < 300; i++) {
    const row = [u(), u(), u(), u()];
    X.push(row);
    y.push(row[0] + 0.5 * row[1] > 0.8 ? 1 : 0);
  }
  return { X, y };
}

// The reference backend: its kernels return without waiting on anything, so only the fit's own
// turns of the event loop let a timer run (worker-backed kernels would give turns by themselves).
const backend = "js";
const BOOSTERS = [
  ["XGBClassifier", (n: number) => new XGBClassifier({ nEstimators: n, maxDepth: 3, backend })],
  ["XGBRegressor", (n: number) => new XGBRegressor({ nEstimators: n, maxDepth: 3, backend })],
  ["GradientBoostingClassifier", (n: number) => new GradientBoostingClassifier({ nEstimators: n, maxDepth: 3, backend })],
  ["GradientBoostingRegressor", (n: number) => new GradientBoostingRegressor({ nEstimators: n, maxDepth: 3, backend })],
] as const;

for (const [name, make] of BOOSTERS) {
  Deno.test(`${name}.fit({ signal }): aborting stops before the next round and keeps the previous model`, async () => {
    const { X, y } = data();
    const model = await make(8).fit(X, y);
    const before = await model.predict(X);

    const controller = new AbortController();
    let rounds = 0;
    const fit = model.fit(X, y, {
      signal: controller.signal,
      onProgress: () => {
        if (++rounds === 3) controller.abort();
      },
    });
    await assert.rejects(fit, { name: "AbortError" });
    assert.equal(rounds, 3);
    assert.deepEqual(await model.predict(X), before, "the previous fitted state stays");

    const aborted = AbortSignal.abort(new RangeError("stop"));
    await assert.rejects(make(8).fit(X, y, { signal: aborted }), { name: "RangeError", message: "stop" });
    // @ts-expect-error not a signal
    await assert.rejects(make(8).fit(X, y, { signal: "soon" }), { name: "TypeError", message: /"signal"/ });
  });

  Deno.test(`${name}.fit({ signal }): a timer's abort arrives during rounds that never wait; a live signal changes nothing`, async () => {
    const { X, y } = data();
    const controller = new AbortController();
    let rounds = 0;
    const timer = setTimeout(() => controller.abort(), 30);
    const total = 100_000;
    await assert.rejects(
      make(total).fit(X, y, { signal: controller.signal, onProgress: () => rounds++ }),
      { name: "AbortError" },
    );
    clearTimeout(timer);
    assert.ok(rounds > 0 && rounds < total, `${rounds} rounds ran`);

    const plain = await (await make(6).fit(X, y)).predict(X);
    const watched = await (await make(6).fit(X, y, { signal: new AbortController().signal })).predict(X);
    assert.deepEqual(watched, plain);
  });
}

Deno.test("XGBClassifier.fit({ onProgress }): the event loop gets turns during a fit, so a page can repaint", async () => {
  const { X, y } = data();
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 1);
  const started = performance.now();
  let rounds = 0;
  await new XGBClassifier({ nEstimators: 3000, maxDepth: 4, backend }).fit(X, y, { onProgress: () => rounds++ });
  clearInterval(ticker);
  const elapsed = performance.now() - started;
  assert.equal(rounds, 3000);
  assert.ok(elapsed > 60, `the fit should take a while here, took ${elapsed.toFixed(0)} ms`);
  // A turn at least every 10 ms of work: without them the ticker could not tick at all.
  assert.ok(ticks >= 3, `${ticks} timer ticks in ${elapsed.toFixed(0)} ms`);
});
