// The `trees` family's TreeSHAP kernel: exact path-dependent SHAP values (Lundberg et al.
// 2020, Algorithm 2), as the reference src/backends/js/tree_shap.ts computes them, row by row.
//
//   recurse(node, path):  extend path by (parent's feature, zero fraction, one fraction)
//     leaf:      φ[path feature i] += unwoundSum(path, i) · (one_i − zero_i) · value · fraction
//     internal:  if the node's feature is on the path, unwind it (keeping its fractions);
//                recurse(hot child, zero = cover_hot / cover, one = 1)
//                recurse(cold child, zero = cover_cold / cover, one = 0)
//
// Path scratch, one 32-byte entry per element; a node's path lies right after its parent's,
// which it copies (d + 1 entries) and extends:
//
//   entry e at path + 32e:  [ feature i32 | pad ][ zero f64 ][ one f64 ][ weight f64 ]
//   [·] [root] [root, f1] [root, f1, f2] …        (maxDepth + 3)(maxDepth + 4) / 2 entries
//
// The weights' updates divide once per call, not per step, as the reference does: 1 / k comes
// from a table in front of the path entries (scratch: 1 / k for k = 0 .. maxDepth + 3, then
// path = scratch + 8·(maxDepth + 4)), and each loop's constant factor is formed before it.
//
// The recursion keeps the model in module globals (each WASM instance runs one call at a time)
// so that the recursive function has only the per-node arguments. Sums run in the reference's
// order, in f64.

const ENTRY: usize = 32;

let gX: usize = 0;
let gFeature: usize = 0;
let gThreshold: usize = 0;
let gDefaultLeft: usize = 0;
let gLeft: usize = 0;
let gRight: usize = 0;
let gValue: usize = 0;
let gCover: usize = 0;
let gSplitType: usize = 0;
let gCatBegin: usize = 0;
let gCatBits: usize = 0;
let gPath: usize = 0;
let gReciprocal: usize = 0;
let gPhi: usize = 0;
let gLeafWidth: i32 = 1;
let gStride: i32 = 0;
let gGroup: i32 = 0;
let gCondition: i32 = 0;
let gConditionFeature: i32 = 0;

// @ts-ignore: decorator
@inline function entry(e: i32): usize {
  return gPath + <usize>e * ENTRY;
}

// @ts-ignore: decorator
@inline function featureOf(e: i32): i32 {
  return load<i32>(entry(e));
}

// @ts-ignore: decorator
@inline function zeroOf(e: i32): f64 {
  return load<f64>(entry(e), 8);
}

// @ts-ignore: decorator
@inline function oneOf(e: i32): f64 {
  return load<f64>(entry(e), 16);
}

// @ts-ignore: decorator
@inline function reciprocal(k: i32): f64 {
  return load<f64>(gReciprocal + (<usize>k << 3));
}

// @ts-ignore: decorator
@inline function weightOf(e: i32): f64 {
  return load<f64>(entry(e), 24);
}

// @ts-ignore: decorator
@inline function setWeight(e: i32, w: f64): void {
  store<f64>(entry(e), w, 24);
}

function extendPath(at: i32, depth: i32, zero: f64, one: f64, feature: i32): void {
  const e = entry(at + depth);
  store<i32>(e, feature);
  store<f64>(e, zero, 8);
  store<f64>(e, one, 16);
  store<f64>(e, depth == 0 ? 1.0 : 0.0, 24);
  const inv = reciprocal(depth + 1);
  for (let i = depth - 1; i >= 0; i--) {
    const w = weightOf(at + i);
    setWeight(at + i + 1, weightOf(at + i + 1) + one * w * <f64>(i + 1) * inv);
    setWeight(at + i, zero * w * <f64>(depth - i) * inv);
  }
}

function unwindPath(at: i32, depth: i32, index: i32): void {
  const one = oneOf(at + index), zero = zeroOf(at + index);
  if (one != 0) {
    const scale = <f64>(depth + 1) / one, inv = reciprocal(depth + 1);
    let next = weightOf(at + depth);
    for (let i = depth - 1; i >= 0; i--) {
      const kept = weightOf(at + i);
      const w = next * scale * reciprocal(i + 1);
      setWeight(at + i, w);
      next = kept - w * zero * <f64>(depth - i) * inv;
    }
  } else {
    const scale = <f64>(depth + 1) / zero;
    for (let i = depth - 1; i >= 0; i--) {
      setWeight(at + i, weightOf(at + i) * scale * reciprocal(depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    // feature, zero and one move down one entry; weights stay.
    const to = entry(at + i), from = entry(at + i + 1);
    store<i32>(to, load<i32>(from));
    store<f64>(to, load<f64>(from, 8), 8);
    store<f64>(to, load<f64>(from, 16), 16);
  }
}

function unwoundSum(at: i32, depth: i32, index: i32): f64 {
  const one = oneOf(at + index), zero = zeroOf(at + index);
  let total: f64 = 0;
  if (one != 0) {
    const scale = <f64>(depth + 1) / one, inv = reciprocal(depth + 1);
    let next = weightOf(at + depth);
    for (let i = depth - 1; i >= 0; i--) {
      const t = next * scale * reciprocal(i + 1);
      total += t;
      next = weightOf(at + i) - t * zero * <f64>(depth - i) * inv;
    }
  } else if (zero != 0) {
    const scale = <f64>(depth + 1) / zero;
    for (let i = depth - 1; i >= 0; i--) {
      total += weightOf(at + i) * scale * reciprocal(depth - i);
    }
  }
  return total;
}

function hotChild(node: i32): i32 {
  const f = load<i32>(gFeature + (<usize>node << 2));
  const v = load<f32>(gX + (<usize>f << 2));
  if (v != v) {
    return load<u8>(gDefaultLeft + <usize>node) != 0
      ? load<i32>(gLeft + (<usize>node << 2))
      : load<i32>(gRight + (<usize>node << 2));
  }
  if (gSplitType != 0 && load<u8>(gSplitType + <usize>node) != 0) {
    // Categorical: a value whose category is in the node's set goes right, any other left.
    let right = false;
    if (v >= 0 && v < 16777216) {
      const c = <i32>v;
      const word = load<i32>(gCatBegin + (<usize>node << 2)) + (c >>> 5);
      if (word < load<i32>(gCatBegin + (<usize>(node + 1) << 2))) {
        right = ((load<u32>(gCatBits + (<usize>word << 2)) >>> (c & 31)) & 1) != 0;
      }
    }
    return right ? load<i32>(gRight + (<usize>node << 2)) : load<i32>(gLeft + (<usize>node << 2));
  }
  return v < load<f32>(gThreshold + (<usize>node << 2))
    ? load<i32>(gLeft + (<usize>node << 2))
    : load<i32>(gRight + (<usize>node << 2));
}

function addLeaf(node: i32, at: i32, depth: i32, fraction: f64): void {
  for (let i = 1; i <= depth; i++) {
    const scale = unwoundSum(at, depth, i) * (oneOf(at + i) - zeroOf(at + i)) * fraction;
    const column = gPhi + (<usize>featureOf(at + i) << 3);
    for (let k = 0; k < gLeafWidth; k++) {
      const o = column + (<usize>((gGroup + k) * gStride) << 3);
      const v = <f64>load<f32>(gValue + (<usize>(node * gLeafWidth + k) << 2));
      store<f64>(o, load<f64>(o) + scale * v);
    }
  }
}

function visit(
  node: i32, depth: i32, parentAt: i32, zero: f64, one: f64, parentFeature: i32, fraction: f64,
): void {
  if (fraction == 0) return;
  const at = parentAt + depth + 1;
  memory.copy(entry(at), entry(parentAt), <usize>(depth + 1) * ENTRY);
  if (gCondition == 0 || gConditionFeature != parentFeature) {
    extendPath(at, depth, zero, one, parentFeature);
  }
  const split = load<i32>(gFeature + (<usize>node << 2));
  if (split < 0) {
    addLeaf(node, at, depth, fraction);
    return;
  }
  const left = load<i32>(gLeft + (<usize>node << 2));
  const right = load<i32>(gRight + (<usize>node << 2));
  const hot = hotChild(node);
  const cold = hot == left ? right : left;
  const cover = <f64>load<f32>(gCover + (<usize>node << 2));
  const hotZero = <f64>load<f32>(gCover + (<usize>hot << 2)) / cover;
  const coldZero = <f64>load<f32>(gCover + (<usize>cold << 2)) / cover;
  let inZero: f64 = 1, inOne: f64 = 1;
  let index = 0;
  while (index <= depth && featureOf(at + index) != split) index++;
  if (index <= depth) {
    inZero = zeroOf(at + index);
    inOne = oneOf(at + index);
    unwindPath(at, depth, index);
    depth--;
  }
  let hotFraction = fraction, coldFraction = fraction;
  if (gCondition > 0 && split == gConditionFeature) {
    coldFraction = 0;
    depth--;
  } else if (gCondition < 0 && split == gConditionFeature) {
    hotFraction *= hotZero;
    coldFraction *= coldZero;
    depth--;
  }
  visit(hot, depth + 1, at, hotZero * inZero, inOne, split, hotFraction);
  visit(cold, depth + 1, at, coldZero * inZero, 0, split, coldFraction);
}

/**
 * Adds the SHAP values of trees [treeBegin, treeEnd) for rows [rowBegin, rowEnd) to `out`
 * (f64, rows × nOutputs × (nCols + 1), row 0 at `out`; the bias column untouched). `x` holds
 * the same rows from row 0 (f32, row-major). `scratch` holds the path entries. `splitType`,
 * `catBegin` and `catBits` (src/trees/_tree_model.ts) are 0 for models without categorical
 * splits.
 */
export function trees_shap_f64(
  out: usize, x: usize, feature: usize, threshold: usize, defaultLeft: usize, left: usize,
  right: usize, value: usize, cover: usize, treeStart: usize, treeGroup: usize, splitType: usize,
  catBegin: usize, catBits: usize, scratch: usize, maxDepth: i32, nCols: i32, leafWidth: i32,
  nOutputs: i32, treeBegin: i32, treeEnd: i32, condition: i32, conditionFeature: i32, rowBegin: i32,
  rowEnd: i32,
): void {
  const levels = maxDepth + 3;
  gReciprocal = scratch;
  for (let k = 0; k <= levels; k++) store<f64>(scratch + (<usize>k << 3), 1 / <f64>k);
  gFeature = feature;
  gThreshold = threshold;
  gDefaultLeft = defaultLeft;
  gLeft = left;
  gRight = right;
  gValue = value;
  gCover = cover;
  gSplitType = splitType;
  gCatBegin = catBegin;
  gCatBits = catBits;
  gPath = scratch + (<usize>(levels + 1) << 3);
  gLeafWidth = leafWidth;
  gStride = nCols + 1;
  gCondition = condition;
  gConditionFeature = conditionFeature;
  for (let r = rowBegin; r < rowEnd; r++) {
    gX = x + ((<usize>r * <usize>nCols) << 2);
    gPhi = out + ((<usize>r * <usize>nOutputs * <usize>(nCols + 1)) << 3);
    for (let t = treeBegin; t < treeEnd; t++) {
      gGroup = load<i32>(treeGroup + (<usize>t << 2));
      visit(load<i32>(treeStart + (<usize>t << 2)), 0, 0, 1, 1, -1, 1);
    }
  }
}
