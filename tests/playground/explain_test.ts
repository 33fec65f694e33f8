// The waterfall of one row's contributions (examples/playground/lib/explain.js), in Deno, on a
// real TreeSHAP output of Tessera's source.
import assert from "node:assert/strict";
import {
  contributionsOf,
  explainedOutput,
  signed,
  waterfallSteps,
  waterfallSvg,
} from "../../examples/playground/lib/explain.js";
import { DecisionTreeRegressor, XGBClassifier } from "../../src/mod.ts";

Deno.test("contributionsOf() reads XGBoost's [n, F + 1] and [n, K, F + 1] layouts", () => {
  const two = { data: [1, 2, 3, 4, 5, 6], shape: [2, 3] };
  assert.deepEqual(Array.from(contributionsOf(two, 1)), [4, 5, 6]);
  const three = { data: Array.from({ length: 12 }, (_, i) => i), shape: [2, 2, 3] };
  assert.deepEqual(Array.from(contributionsOf(three, 1, 0)), [6, 7, 8]);
  assert.deepEqual(Array.from(contributionsOf(three, 1, 1)), [9, 10, 11]);
  assert.throws(
    () => contributionsOf(three, 2, 0),
    /"row" to be an integer in \[0, 1\] but found 2/,
  );
  assert.throws(
    () => contributionsOf(three, 0, 2),
    /"output" to be an integer in \[0, 1\] but found 2/,
  );
});

Deno.test("explainedOutput() picks the largest raw output, or the only one", () => {
  assert.equal(explainedOutput({ data: [0.1, 0.7, 0.2, 0.5, 0.4, 0.1], shape: [2, 3] }, 0), 1);
  assert.equal(explainedOutput({ data: [0.1, 0.7, 0.2, 0.5, 0.4, 0.1], shape: [2, 3] }, 1), 0);
  assert.equal(explainedOutput({ data: [-3, 2], shape: [2, 1] }, 0), 0);
  assert.equal(explainedOutput({ data: [-3, 2], shape: [2] }, 1), 0);
});

Deno.test("waterfallSteps(): bias, largest |φ| first, the rest summed, ending at Σφ", () => {
  const phi = [0.5, -2, 0.25, 1, -0.125, 3]; // 5 features, bias 3
  const w = waterfallSteps(phi, ["a", "b", "c", "d", "e"], {
    top: 2,
    output: 2.625,
    values: [1, NaN, 3, 4, 5],
    outputLabel: "margin",
  });
  assert.deepEqual(w.steps.map((s) => [s.kind, s.label, s.value, s.start, s.end]), [
    ["bias", "bias (expected output)", 3, 0, 3],
    ["feature", "b = missing", -2, 3, 1],
    ["feature", "d = 4", 1, 1, 2],
    ["rest", "3 other features", 0.625, 2, 2.625],
    ["output", "margin", 2.625, 0, 2.625],
  ]);
  assert.equal(w.sum, 2.625);
  assert.equal(w.difference, 0);
  assert.equal(w.tolerance, 1e-4 * (1 + 6.875));
  // All features shown: no "other" step; a wrong output shows as a difference.
  const all = waterfallSteps(phi, ["a", "b", "c", "d", "e"], { top: 10, output: 3 });
  assert.equal(all.steps.length, 7);
  assert.ok(!all.steps.some((s) => s.kind === "rest"));
  assert.equal(all.difference, 0.375);
  assert.throws(
    () => waterfallSteps(phi, ["a"], { output: 0 }),
    /Expected 5 feature names but found 1/,
  );
});

Deno.test("waterfallSvg() draws one bar a step and escapes the names", () => {
  const { steps } = waterfallSteps([1, -0.5, 0.2], ['<b>"x"&', "y"], { output: 0.7 });
  const svg = waterfallSvg(steps);
  assert.match(svg, /^<svg [^>]*viewBox="0 0 640 /);
  assert.equal(svg.match(/<rect /g)?.length, 4);
  assert.ok(svg.includes("&#60;b&#62;&#34;x&#34;&#38;"));
  assert.ok(!svg.includes('<b>"x"'));
  assert.equal(svg.match(/data-kind="feature"/g)?.length, 2);
  assert.ok(svg.includes(">+1</text>") && svg.includes(">−0.5</text>"));
  // A narrow plot cuts long names to its label column (120 px: 16 characters).
  const long = waterfallSteps([1, 2], ["a very long feature name indeed"], { output: 3 });
  const narrow = waterfallSvg(long.steps, { width: 320, label: 120 });
  assert.match(narrow, /viewBox="0 0 320 /);
  assert.ok(narrow.includes(">a very long fea…</text>"), narrow);
  assert.ok(narrow.includes("<title>a very long feature name indeed: +1</title>"));
  assert.equal(signed(-1.5e-5), "−1.5e-5");
  assert.equal(signed(0.12345), "+0.123");
});

Deno.test("a real model's contributions add up to its raw output in the waterfall", async () => {
  // A regression tree: the documented example (bias 1.5, x0 adds 1, x1 adds 0.5: 3).
  const X = [[0, 0], [0, 1], [1, 0], [1, 1]];
  const tree = await new DecisionTreeRegressor().fit(X, [0, 1, 2, 3]);
  const phi = contributionsOf(await tree.predictContributions([[1, 1]]), 0);
  const w = waterfallSteps(phi, ["x0", "x1"], { output: (await tree.predict([[1, 1]]))[0] });
  assert.deepEqual(w.steps.map((s) => s.value), [1.5, 1, 0.5, 3]);
  assert.ok(w.difference <= w.tolerance);
  // A three-class booster: [n, K, F + 1], the predicted class's block sums to its margin.
  const rows = Array.from({ length: 60 }, (_, i) => [i % 3 + 0.1 * (i % 7), (i * 37) % 11]);
  const y = rows.map((_, i) => i % 3);
  const model = await new XGBClassifier({ nEstimators: 10, maxDepth: 3 }).fit(rows, y);
  const contributions = await model.predictContributions(rows.slice(0, 5));
  const margin = await model.predictMargin(rows.slice(0, 5));
  assert.deepEqual(contributions.shape, [5, 3, 3]);
  for (let r = 0; r < 5; r++) {
    const k = explainedOutput(margin, r);
    assert.equal(k, y[r]);
    const row = waterfallSteps(contributionsOf(contributions, r, k), ["a", "b"], {
      output: margin.data[r * 3 + k],
    });
    assert.ok(row.difference <= row.tolerance, `row ${r}: ${row.difference}`);
  }
});
