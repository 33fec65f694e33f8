import assert from "node:assert/strict";
import { jsTrees } from "../../../src/backends/js/trees.ts";
import { Rng } from "../../../src/_random.ts";
import { AbortWatch } from "../../../src/_abort.ts";
import { binMatrix } from "../../../src/trees/_binning.ts";
import {
  type GrowParams,
  growTree,
  withGrowthWorkspace,
} from "../../../src/trees/boosting/_grower.ts";

const BASE: GrowParams = {
  growPolicy: "depthwise",
  maxDepth: 1,
  maxLeaves: 0,
  lambda: 1,
  alpha: 0,
  gamma: 0,
  minChildWeight: 1,
  maxDeltaStep: 0,
  minSamplesLeaf: 0,
  minSamplesSplit: 0,
  minGain: 1e-6,
  minRelativeGain: 0,
  monotone: null,
  colsampleByLevel: 1,
  colsampleByNode: 1,
};

/** Random rows with few distinct values per feature (so bins are exact) and some NaN. */
function problem(seed: number, n: number, nCols: number) {
  const rng = new Rng(seed);
  const x = new Float32Array(n * nCols);
  for (let i = 0; i < x.length; i++) {
    x[i] = rng.next() < 0.15 ? NaN : Math.round(rng.next() * 12) / 4 - 1;
  }
  const values = new Float64Array(n * 2);
  for (let r = 0; r < n; r++) {
    values[2 * r] = (x[r * nCols] > 0 ? 1 : -1) + rng.next() * 2 - 1 +
      (Number.isNaN(x[r * nCols + 1]) ? 1.5 : 0);
    values[2 * r + 1] = 0.2 + rng.next();
  }
  return { x, values, n, nCols };
}

/** The loss reduction of a split computed from scratch: clipped best weight, then score. */
function bruteGain(
  p: GrowParams,
  gl: number,
  hl: number,
  gr: number,
  hr: number,
  monotone: number,
): number {
  const weight = (g: number, h: number) => {
    if (h < p.minChildWeight || h <= 0) return 0;
    const t = Math.sign(g) * Math.max(0, Math.abs(g) - p.alpha);
    let w = -t / (h + p.lambda);
    if (p.maxDeltaStep > 0) w = Math.max(-p.maxDeltaStep, Math.min(p.maxDeltaStep, w));
    return w;
  };
  // XGBoost's scores: the closed form T(G)²/(H + λ) while weights are free, the quadratic at
  // the clipped weight (without an α term) under maxDeltaStep or monotone constraints.
  const clipped = p.maxDeltaStep > 0 || p.monotone !== null;
  const score = (g: number, h: number) => {
    if (h < p.minChildWeight || h <= 0) return 0;
    if (!clipped) return Math.max(0, Math.abs(g) - p.alpha) ** 2 / (h + p.lambda);
    const w = weight(g, h);
    return -(2 * g * w + (h + p.lambda) * w * w);
  };
  const wl = weight(gl, hl), wr = weight(gr, hr);
  if ((monotone > 0 && wl > wr) || (monotone < 0 && wl < wr)) return -Infinity;
  return score(gl, hl) + score(gr, hr) - score(gl + gr, hl + hr);
}

/** Every threshold between distinct values of every feature, missing values left and right. */
function bruteForceSplit(prob: ReturnType<typeof problem>, p: GrowParams) {
  const { x, values, n, nCols } = prob;
  let best = { gain: -Infinity, feature: -1, threshold: 0, missingLeft: false };
  for (let f = 0; f < nCols; f++) {
    const distinct = [
      ...new Set(
        Array.from({ length: n }, (_, r) => x[r * nCols + f]).filter((v) => !Number.isNaN(v)),
      ),
    ].sort((a, b) => a - b);
    // Thresholds: below all values (only missing may go left), between values, above all.
    const thresholds = [distinct[0] - 1, ...distinct.slice(1), distinct[distinct.length - 1] + 1];
    for (const t of thresholds) {
      for (const missingLeft of [false, true]) {
        let gl = 0, hl = 0, gr = 0, hr = 0;
        for (let r = 0; r < n; r++) {
          const v = x[r * nCols + f];
          const left = Number.isNaN(v) ? missingLeft : v < t;
          if (left) {
            gl += values[2 * r];
            hl += values[2 * r + 1];
          } else {
            gr += values[2 * r];
            hr += values[2 * r + 1];
          }
        }
        if (hl < p.minChildWeight || hr < p.minChildWeight || hl <= 0 || hr <= 0) continue;
        const gain = bruteGain(p, gl, hl, gr, hr, p.monotone?.[f] ?? 0);
        if (gain > best.gain + 1e-9) best = { gain, feature: f, threshold: t, missingLeft };
      }
    }
  }
  return best;
}

async function stump(prob: ReturnType<typeof problem>, p: GrowParams, watch?: AbortWatch) {
  const binned = await binMatrix(jsTrees, prob.x, prob.n, prob.nCols, {
    weights: null,
    maxBin: 256,
  });
  const rows = Int32Array.from({ length: prob.n }, (_, i) => i);
  const features = Int32Array.from({ length: prob.nCols }, (_, i) => i);
  const nodes = await withGrowthWorkspace(jsTrees, binned, 2, p.monotone, (workspace) =>
    growTree(
      {
        workspace,
        binned,
        values: prob.values,
        nChannels: 2,
        rows,
        rowCount: prob.n,
        features,
        rng: new Rng(0),
        watch,
      },
      p,
    ));
  return { nodes, rows };
}

Deno.test("growTree() checks the fit's watch before each batch of nodes it splits, and stops there on an abort", async () => {
  const prob = problem(3, 200, 3);
  const p = { ...BASE, maxDepth: 4, minChildWeight: 0 };
  const watch = new AbortWatch(undefined, true);
  let checks = 0;
  watch.check = () => {
    checks++;
    return Promise.resolve();
  };
  const { nodes } = await stump(prob, p, watch);
  // Depthwise: one batch a level that has a node to split.
  const levels = new Set(nodes.filter((node) => node.feature >= 0).map((node) => node.depth));
  assert.equal(levels.size, 4);
  assert.equal(checks, levels.size);
  const stop = new DOMException("stopped", "AbortError");
  checks = 0;
  watch.check = () => ++checks === 2 ? Promise.reject(stop) : Promise.resolve();
  await assert.rejects(stump(prob, p, watch), (error) => error === stop);
  assert.equal(checks, 2);
});

Deno.test("growTree() finds the optimal split by brute force", async () => {
  const settings: Partial<GrowParams>[] = [
    {},
    { lambda: 0.1, alpha: 2 },
    { minChildWeight: 15 },
    { maxDeltaStep: 0.3 },
    { monotone: Int8Array.of(-1, 1, 1) },
    { lambda: 5, alpha: 0.5, maxDeltaStep: 1 },
  ];
  for (let seed = 0; seed < 6; seed++) {
    for (const setting of settings) {
      const p = { ...BASE, ...setting };
      const prob = problem(seed, 60, 3);
      const brute = bruteForceSplit(prob, p);
      const { nodes } = await stump(prob, p);
      const root = nodes[0];
      const label = `seed ${seed} ${JSON.stringify(setting)}`;
      assert.ok(brute.gain > 1e-6, label);
      assert.ok(
        Math.abs(root.gain - brute.gain) <= 1e-9 * Math.max(1, brute.gain),
        `${label}: ${root.gain} vs ${brute.gain}`,
      );
      // The chosen split reaches the optimum: re-score the tree's own partition.
      const partition = (v: number) => (Number.isNaN(v) ? root.defaultLeft : v < root.threshold);
      let gl = 0, hl = 0, gr = 0, hr = 0;
      for (let r = 0; r < prob.n; r++) {
        const left = partition(prob.x[r * prob.nCols + root.feature]);
        if (left) [gl, hl] = [gl + prob.values[2 * r], hl + prob.values[2 * r + 1]];
        else [gr, hr] = [gr + prob.values[2 * r], hr + prob.values[2 * r + 1]];
      }
      const rescored = bruteGain(p, gl, hl, gr, hr, p.monotone?.[root.feature] ?? 0);
      assert.ok(Math.abs(rescored - brute.gain) <= 1e-9 * Math.max(1, brute.gain), label);
      assert.equal(nodes[root.left].count + nodes[root.right].count, prob.n);
    }
  }
});

Deno.test("growTree() learns which side missing values go", async () => {
  // Feature 0 alone decides: x < 0 and missing share the high gradient.
  for (const missingHigh of [true, false]) {
    const n = 40;
    const x = new Float32Array(n);
    const values = new Float64Array(2 * n);
    for (let r = 0; r < n; r++) {
      x[r] = r % 4 === 0 ? NaN : (r % 8) - 4;
      const high = Number.isNaN(x[r]) ? missingHigh : x[r] < 0;
      values[2 * r] = high ? 1 : -1;
      values[2 * r + 1] = 1;
    }
    const { nodes } = await stump({ x, values, n, nCols: 1 }, { ...BASE, minChildWeight: 0 });
    const root = nodes[0];
    assert.equal(root.feature, 0);
    // Values are −3..−1 and 1..3: the edge of the first bin above zero, as XGBoost places it.
    assert.equal(root.threshold, 1);
    // Left (x < 0) holds the high gradients: missing goes left exactly when it is high too.
    assert.equal(root.defaultLeft, missingHigh);
    assert.equal(nodes[root.left].count, missingHigh ? 25 : 15);
  }
});

Deno.test("growTree() respects maxDepth, maxLeaves and row segments", async () => {
  const prob = problem(9, 300, 3);
  const deep = await stump(prob, { ...BASE, maxDepth: 3, minChildWeight: 0 });
  assert.ok(deep.nodes.every((node) => node.depth <= 3));
  assert.ok(deep.nodes.some((node) => node.depth === 3));
  const guided = await stump(prob, {
    ...BASE,
    growPolicy: "lossguide",
    maxDepth: 0,
    maxLeaves: 5,
    minChildWeight: 0,
  });
  const leaves = guided.nodes.filter((node) => node.feature < 0);
  assert.equal(leaves.length, 5);
  // Leaf segments tile the rows exactly once.
  const seen = new Uint8Array(prob.n);
  for (const leaf of leaves) {
    for (let i = leaf.rowBegin; i < leaf.rowEnd; i++) seen[guided.rows[i]]++;
  }
  assert.ok(seen.every((c) => c === 1));
  // Every leaf's rows really satisfy the tests on its path.
  for (const [id, leaf] of guided.nodes.entries()) {
    if (leaf.feature >= 0) continue;
    let node = id;
    const path: [number, boolean][] = [];
    while (node !== 0) {
      const parent = guided.nodes.findIndex((p) => p.left === node || p.right === node);
      path.push([parent, guided.nodes[parent].left === node]);
      node = parent;
    }
    for (let i = leaf.rowBegin; i < leaf.rowEnd; i++) {
      const r = guided.rows[i];
      for (const [parent, isLeft] of path) {
        const p = guided.nodes[parent];
        const v = prob.x[r * prob.nCols + p.feature];
        assert.equal(Number.isNaN(v) ? p.defaultLeft : v < p.threshold, isLeft);
      }
    }
  }
});

Deno.test("growTree() keeps monotone leaves in order", async () => {
  const n = 200;
  const rng = new Rng(2);
  const x = new Float32Array(n);
  const values = new Float64Array(2 * n);
  for (let r = 0; r < n; r++) {
    x[r] = Math.round(rng.next() * 40);
    // A decreasing trend with a bump: unconstrained trees would follow the bump up.
    const target = -x[r] / 10 + (x[r] > 20 && x[r] < 26 ? 6 : 0) + rng.next();
    values[2 * r] = -target;
    values[2 * r + 1] = 1;
  }
  const { nodes } = await stump({ x, values, n, nCols: 1 }, {
    ...BASE,
    maxDepth: 4,
    minChildWeight: 0,
    monotone: Int8Array.of(-1),
  });
  const leafAt = (v: number) => {
    let i = 0;
    while (nodes[i].feature >= 0) i = v < nodes[i].threshold ? nodes[i].left : nodes[i].right;
    return nodes[i].weight;
  };
  let previous = Infinity;
  for (let v = -1; v <= 41; v += 0.5) {
    const w = leafAt(v);
    assert.ok(w <= previous + 1e-12, `weight rises at ${v}`);
    previous = w;
  }
  assert.ok(leafAt(0) > leafAt(40));
});
