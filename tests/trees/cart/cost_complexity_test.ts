import assert from "node:assert/strict";
import {
  applyCart,
  buildExactTree,
  resolveTreeLimits,
} from "../../../src/trees/cart/_cart_exact.ts";
import { pruneCostComplexity, pruningPath } from "../../../src/trees/cart/_cost_complexity.ts";
import { assertSameTree, cartFixture, growCase } from "../../fixtures/ensembles/_cart.ts";

const withPath = cartFixture.cases.filter((c) => c.path);

Deno.test("pruningPath() matches scikit-learn's cost_complexity_pruning_path", async () => {
  assert.ok(withPath.length >= 5);
  for (const c of withPath) {
    const { tree } = await growCase(c);
    const path = pruningPath(tree);
    const expected = c.path!;
    assert.equal(path.ccpAlphas.length, expected.ccpAlphas.length, `${c.name}: path length`);
    for (let i = 0; i < expected.ccpAlphas.length; i++) {
      const a = path.ccpAlphas[i], b = expected.ccpAlphas[i];
      assert.ok(
        Math.abs(a - b) <= 1e-12 + 1e-8 * Math.abs(b),
        `${c.name}: alpha ${i}: ${a} vs ${b}`,
      );
      const u = path.impurities[i], v = expected.impurities[i];
      assert.ok(
        Math.abs(u - v) <= 1e-12 + 1e-9 * Math.abs(v),
        `${c.name}: impurity ${i}: ${u} vs ${v}`,
      );
    }
    for (let i = 1; i < path.ccpAlphas.length; i++) {
      assert.ok(path.impurities[i] >= path.impurities[i - 1] - 1e-15);
    }
  }
});

Deno.test("pruneCostComplexity() keeps the subtree scikit-learn keeps for ccp_alpha", async () => {
  const pruned = cartFixture.cases.filter((c) => c.params.ccp_alpha);
  assert.ok(pruned.length >= 2);
  for (const c of pruned) {
    const { tree, x, nRows } = await growCase(c);
    const result = pruneCostComplexity(tree, c.params.ccp_alpha as number);
    assert.ok(result.nodeCount < tree.nodeCount, `${c.name}: something was pruned`);
    assertSameTree(result, c.tree, c.name, { x, nRows, weights: c.sampleWeight ?? null });
    assert.deepEqual(Array.from(applyCart(result, x, nRows)), c.apply, `${c.name}: apply`);
  }
});

Deno.test("pruneCostComplexity() at each path alpha has the path's impurity, and 0 keeps the tree", async () => {
  const c = withPath[0];
  const { tree } = await growCase(c);
  assert.equal(pruneCostComplexity(tree, 0), tree);
  const path = pruningPath(tree);
  let previousLeaves = Infinity;
  path.ccpAlphas.forEach((alpha, i) => {
    const subtree = pruneCostComplexity(tree, alpha);
    let impurity = 0, leaves = 0;
    for (let node = 0; node < subtree.nodeCount; node++) {
      if (subtree.feature[node] >= 0) continue;
      leaves++;
      impurity += subtree.weightedNNodeSamples[node] * subtree.impurity[node] /
        subtree.weightedNNodeSamples[0];
    }
    assert.ok(Math.abs(impurity - path.impurities[i]) < 1e-12, `alpha ${alpha}`);
    assert.ok(leaves < previousLeaves || i === 0);
    previousLeaves = leaves;
  });
  assert.equal(pruneCostComplexity(tree, path.ccpAlphas[path.ccpAlphas.length - 1]).nodeCount, 1);
});

Deno.test("pruneCostComplexity() collapses a split that does not pay for its leaf", () => {
  // Two clean splits and one that separates a single noisy row.
  const X = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((v) => [v]);
  const y = [0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1];
  const x = Float32Array.from(X.flat());
  const tree = buildExactTree(
    { x, nRows: 12, nCols: 1, y: Float64Array.from(y), weights: null, nClasses: 2 },
    { ...resolveTreeLimits({}, 12, 1, 12), criterion: "gini" },
  );
  const leaves = (t: typeof tree) => Array.from(t.feature).filter((f) => f < 0).length;
  assert.equal(leaves(tree), 4);
  const path = pruningPath(tree);
  assert.equal(path.ccpAlphas.length, 3);
  const small = pruneCostComplexity(tree, (path.ccpAlphas[1] + path.ccpAlphas[2]) / 2);
  assert.equal(leaves(small), 2);
  assert.equal(small.threshold[0], tree.threshold[0]);
});
