/**
 * Minimal cost-complexity pruning (Breiman et al., CART, chapter 3), as scikit-learn's
 * `ccp_alpha` and `cost_complexity_pruning_path`. The cost of a subtree T is
 * R_α(T) = Σ over its leaves of R(leaf) + α·|leaves|, with R(node) = (wₙ/W)·impurityₙ. The
 * weakest link, the internal node t with the smallest
 *
 * ```
 *   α_eff(t) = (R(t) − R(branch t)) / (|leaves of branch t| − 1)
 * ```
 *
 * is collapsed into a leaf, again and again (ties: the lowest node index), until the root is a
 * leaf (the path) or the weakest link's α_eff exceeds `ccpAlpha` (pruning).
 *
 * @module
 */
import type { CartTree } from "./_cart_exact.ts";

/** The pruning path: effective alphas and the total leaf impurity after each pruning step. */
export interface PruningPath {
  /** Starts with 0 (the full tree); increasing. */
  ccpAlphas: Float64Array;
  /** Σ R(leaf) of the tree pruned at each alpha; the last is the root's R. */
  impurities: Float64Array;
}

/**
 * Runs weakest-link pruning on `tree`; `stop(alpha)` ends it before collapsing a branch of
 * that effective alpha, `record(alpha, impurity)` sees every subtree of the sequence.
 *
 * @returns Per node, 1 where the node is a leaf of the final subtree.
 */
function weakestLinkPruning(
  tree: CartTree,
  stop: (alpha: number) => boolean,
  record: (alpha: number, impurity: number) => void,
): Uint8Array {
  const n = tree.nodeCount;
  const { left, right } = tree;
  const total = tree.weightedNNodeSamples[0];
  const parent = new Int32Array(n).fill(-1);
  const leafCount = new Int32Array(n);
  const rNode = new Float64Array(n);
  const rBranch = new Float64Array(n);
  const isLeaf = new Uint8Array(n);
  const candidate = new Uint8Array(n);
  const inSubtree = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    rNode[i] = (tree.weightedNNodeSamples[i] * tree.impurity[i]) / total;
    if (left[i] < 0) isLeaf[i] = 1;
    else parent[left[i]] = parent[right[i]] = i;
  }
  for (let i = 0; i < n; i++) {
    if (!isLeaf[i]) continue;
    rBranch[i] = rNode[i];
    for (let node = i; node !== 0;) {
      node = parent[node];
      rBranch[node] += rNode[i];
      leafCount[node]++;
    }
  }
  for (let i = 0; i < n; i++) candidate[i] = isLeaf[i] ? 0 : 1;
  record(0, rBranch[0]);
  while (candidate[0]) {
    let alpha = Number.MAX_VALUE, weakest = -1;
    for (let i = 0; i < n; i++) {
      if (!candidate[i]) continue;
      const a = (rNode[i] - rBranch[i]) / (leafCount[i] - 1);
      if (a < alpha) {
        alpha = a;
        weakest = i;
      }
    }
    if (weakest < 0 || stop(alpha)) break;
    // Everything below the weakest link leaves the subtree; the link itself becomes a leaf.
    const stack = [weakest];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (!inSubtree[node]) continue;
      candidate[node] = isLeaf[node] = inSubtree[node] = 0;
      if (left[node] >= 0) stack.push(left[node], right[node]);
    }
    isLeaf[weakest] = inSubtree[weakest] = 1;
    const removedLeaves = leafCount[weakest] - 1;
    leafCount[weakest] = 0;
    const gain = rNode[weakest] - rBranch[weakest];
    rBranch[weakest] = rNode[weakest];
    for (let node = parent[weakest]; node >= 0; node = parent[node]) {
      leafCount[node] -= removedLeaves;
      rBranch[node] += gain;
    }
    record(alpha, rBranch[0]);
  }
  return isLeaf;
}

/**
 * The sequence of subtrees minimal cost-complexity pruning visits, as scikit-learn's
 * `cost_complexity_pruning_path` returns it for the same (unpruned) tree.
 */
export function pruningPath(tree: CartTree): PruningPath {
  const alphas: number[] = [], impurities: number[] = [];
  weakestLinkPruning(tree, () => false, (alpha, impurity) => {
    alphas.push(alpha);
    impurities.push(impurity);
  });
  return { ccpAlphas: Float64Array.from(alphas), impurities: Float64Array.from(impurities) };
}

/**
 * The subtree of `tree` that minimal cost-complexity pruning keeps at `ccpAlpha`: branches
 * whose effective alpha is at most `ccpAlpha` become leaves. Nodes are renumbered in preorder
 * (left child first), as scikit-learn rebuilds a pruned tree; `ccpAlpha` 0 returns `tree`.
 */
export function pruneCostComplexity(tree: CartTree, ccpAlpha: number): CartTree {
  if (ccpAlpha === 0) return tree;
  const keepLeaf = weakestLinkPruning(tree, (alpha) => ccpAlpha < alpha, () => {});
  const order: number[] = [];
  const stack = [0];
  while (stack.length > 0) {
    const node = stack.pop()!;
    order.push(node);
    if (!keepLeaf[node]) stack.push(tree.right[node], tree.left[node]);
  }
  const newIndex = new Map(order.map((node, i) => [node, i]));
  const width = tree.leafWidth;
  const count = order.length;
  const pruned: CartTree = {
    nFeatures: tree.nFeatures,
    leafWidth: width,
    nodeCount: count,
    feature: new Int32Array(count),
    threshold: new Float64Array(count),
    missingLeft: new Uint8Array(count),
    left: new Int32Array(count),
    right: new Int32Array(count),
    value: new Float64Array(count * width),
    impurity: new Float64Array(count),
    nNodeSamples: new Int32Array(count),
    weightedNNodeSamples: new Float64Array(count),
    maxDepth: 0,
  };
  const depth = new Int32Array(count);
  order.forEach((node, i) => {
    const leaf = keepLeaf[node] === 1;
    pruned.feature[i] = leaf ? -1 : tree.feature[node];
    pruned.threshold[i] = leaf ? 0 : tree.threshold[node];
    pruned.missingLeft[i] = leaf ? 0 : tree.missingLeft[node];
    pruned.left[i] = leaf ? -1 : newIndex.get(tree.left[node])!;
    pruned.right[i] = leaf ? -1 : newIndex.get(tree.right[node])!;
    pruned.value.set(tree.value.subarray(node * width, node * width + width), i * width);
    pruned.impurity[i] = tree.impurity[node];
    pruned.nNodeSamples[i] = tree.nNodeSamples[node];
    pruned.weightedNNodeSamples[i] = tree.weightedNNodeSamples[node];
    if (!leaf) depth[pruned.left[i]] = depth[pruned.right[i]] = depth[i] + 1;
    pruned.maxDepth = Math.max(pruned.maxDepth, depth[i]);
  });
  return pruned;
}
