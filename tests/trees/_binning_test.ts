import assert from "node:assert/strict";
import { jsTrees } from "../../src/backends/js/trees.ts";
import { Rng } from "../../src/_random.ts";
import { binMatrix, computeCuts, midpointThreshold, valueBins } from "../../src/trees/_binning.ts";

Deno.test("computeCuts() gives each of few distinct values its own bin", async () => {
  const x = Float32Array.of(3, NaN, 1, 2, 3, 1, -4);
  const cuts = await computeCuts(jsTrees, x, 7, 1, { weights: null, maxBin: 256 });
  assert.equal(valueBins(cuts, 0), 4);
  const split = Array.from(cuts.splitValues);
  // Below −4, then the lower edges 1, 2, 3, then above the maximum 3.
  assert.ok(split[0] < -4);
  assert.deepEqual(split.slice(1, 4), [1, 2, 3]);
  assert.ok(split[4] > 3);
  assert.deepEqual(Array.from(cuts.binMax.subarray(0, 4)), [-4, 1, 2, 3]);
});

Deno.test("computeCuts() spreads many values over maxBin − 1 bins of similar weight", async () => {
  const n = 2000;
  const rng = new Rng(1);
  const x = Float32Array.from({ length: n }, () => rng.next() ** 3);
  const binned = await binMatrix(jsTrees, x, n, 1, { weights: null, maxBin: 17 });
  assert.equal(valueBins(binned, 0), 16);
  const counts = new Array(17).fill(0);
  for (const b of binned.bins) counts[b]++;
  assert.equal(counts[16], 0, "no missing values");
  for (let b = 0; b < 16; b++) {
    assert.ok(Math.abs(counts[b] - n / 16) < 0.1 * (n / 16), `bin ${b}: ${counts[b]}`);
  }
});

Deno.test("computeCuts() follows sample weights", async () => {
  const n = 1000;
  const x = Float32Array.from({ length: n }, (_, i) => i);
  const weights = Float64Array.from({ length: n }, (_, i) => (i < 100 ? 9 : 1));
  const cuts = await computeCuts(jsTrees, x, n, 1, { weights, maxBin: 11 });
  // Total weight 1800: the first 100 values hold half, so half the edges lie below 100.
  const edges = Array.from(cuts.splitValues.subarray(1, 10));
  assert.equal(edges.filter((e) => e < 100).length, 4);
  assert.ok(Math.abs(edges[4] - 100) <= 1);
});

Deno.test("binMatrix() writes column-major bytes with the missing bin last", async () => {
  const x = Float32Array.of(
    0,
    10,
    NaN,
    1,
    NaN,
    NaN,
    2,
    30,
    NaN,
  );
  const binned = await binMatrix(jsTrees, x, 3, 3, { weights: null, maxBin: 256 });
  assert.ok(binned.bins instanceof Uint8Array);
  assert.deepEqual(Array.from(binned.bins), [
    0,
    1,
    2,
    /* f1 */ 0,
    2,
    1,
    /* f2: all missing */ 1,
    1,
    1,
  ]);
  assert.equal(valueBins(binned, 2), 1);
});

Deno.test("binMatrix() with maxBin 256 uses at most 255 value bins", async () => {
  const n = 1000;
  const x = Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? NaN : i));
  const binned = await binMatrix(jsTrees, x, n, 1, { weights: null, maxBin: 256 });
  assert.equal(valueBins(binned, 0), 255);
  assert.equal(Math.max(...binned.bins), 255, "the missing bin");
  const twoBins = await binMatrix(jsTrees, x, n, 1, { weights: null, maxBin: 2 });
  assert.equal(valueBins(twoBins, 0), 1);
});

Deno.test("midpointThreshold() turns scikit-learn's x <= t into an exact float32 x < threshold", async () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 200; trial++) {
    const a = Math.fround((rng.next() - 0.5) * 10 ** (rng.nextInt(8) - 3));
    const gap = trial % 3 === 0 ? 1e-7 * Math.abs(a) : rng.next();
    const b = Math.fround(a + gap) > a
      ? Math.fround(a + gap)
      : Math.fround(a + Math.abs(a) * 2e-7 + 1e-30);
    const x = Float32Array.of(a, b);
    const cuts = await computeCuts(jsTrees, x, 2, 1, { weights: null, maxBin: 256 });
    const threshold = midpointThreshold(cuts, 0, 0, 1);
    const t = a / 2 + b / 2 === b ? a : a / 2 + b / 2;
    assert.equal(Math.fround(threshold), threshold);
    assert.ok(a < threshold && threshold <= b, `${a} ${b} → ${threshold}`);
    // Probe float32 values around t: both tests must agree.
    for (
      const v of [
        a,
        b,
        Math.fround(t),
        Math.fround(threshold),
        threshold - Math.abs(threshold) * 1e-7,
      ]
    ) {
      const f = Math.fround(v);
      assert.equal(f < threshold, f <= t, `x=${f}, t=${t}, threshold=${threshold}`);
    }
  }
});

Deno.test("computeCuts() cuts a column of a wide matrix as it cuts the column alone", async () => {
  // Ten columns: a whole group of eight (gathered together) and a group of two, with missing
  // values at different rows in each column, and few distinct values in some.
  const n = 600, nCols = 10;
  const rng = new Rng(9);
  const x = Float32Array.from({ length: n * nCols }, (_, i) => {
    const col = i % nCols;
    if (rng.next() < 0.05 * (col % 4)) return NaN;
    return col % 3 === 0 ? Math.floor(rng.next() * 5) : rng.next() * 100 - 50;
  });
  const whole = await computeCuts(jsTrees, x, n, nCols, { weights: null, maxBin: 32 });
  for (let f = 0; f < nCols; f++) {
    const column = Float32Array.from({ length: n }, (_, r) => x[r * nCols + f]);
    const alone = await computeCuts(jsTrees, column, n, 1, { weights: null, maxBin: 32 });
    const from = whole.binOffsets[f], to = whole.binOffsets[f + 1];
    const label = `column ${f}`;
    assert.deepEqual(
      Array.from(whole.splitValues.subarray(from, to)),
      Array.from(alone.splitValues),
      label,
    );
    assert.deepEqual(Array.from(whole.binMax.subarray(from, to)), Array.from(alone.binMax), label);
  }
});
