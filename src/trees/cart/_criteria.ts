/**
 * Split criteria of CART trees, as scikit-learn defines them (`sklearn/tree/_criterion.pyx`):
 * the impurity of a node, a cheap proxy that ranks the splits of one node exactly as the true
 * impurity decrease does, and the weighted improvement that `minImpurityDecrease`, pruning and
 * importances use.
 *
 * A criterion is a scanner over one node's rows. The splitter sorts the rows by a feature,
 * then moves them from right to left and asks for the proxy at every candidate position:
 *
 * ```
 *  rows   [ begin ........ pos ........ end − nMissing | missing ]
 *           └── left ─────┘└── right ──────────────────┘
 *  reset(nMissing, missingLeft)   all non-missing rows right; the missing block left or right
 *  update(newPos)                 rows[pos .. newPos) move to the left child
 * ```
 *
 * Impurities: gini 1 − Σ pₖ², entropy −Σ pₖ log₂ pₖ (log_loss is the same), squared_error the
 * weighted variance, absolute_error the mean absolute deviation from the weighted median,
 * poisson the half Poisson deviance (1/w) Σ wᵢ yᵢ ln(yᵢ/ȳ).
 *
 * @module
 */

/** Scans the candidate splits of one node for one criterion. */
export interface NodeCriterion {
  /** Takes the node rows[begin .. end) with every row on the right. */
  init(rows: Int32Array, begin: number, end: number): void;
  /**
   * Puts every non-missing row back on the right. The last `nMissing` rows of the node are
   * missing values; they start on the left when `missingLeft`.
   */
  reset(nMissing: number, missingLeft: boolean): void;
  /** Moves the non-missing rows[pos .. newPos) to the left; pos only grows between resets. */
  update(newPos: number): void;
  /** Total weight of the node, of the left and of the right child. */
  readonly weightNode: number;
  readonly weightLeft: number;
  readonly weightRight: number;
  /** Impurity of the whole node. */
  nodeImpurity(): number;
  /** Impurities of the current children, written as [left, right]. */
  childrenImpurity(out: Float64Array): void;
  /** A quantity whose order over one node's splits is that of the impurity decrease. */
  proxyImprovement(): number;
  /** The node's prediction: class fractions (classification) or one value, at `offset`. */
  nodeValue(out: Float64Array, offset: number): void;
}

/** What a registry entry knows about its criterion. */
export interface CriterionSpec {
  name: string;
  task: "classification" | "regression";
  /**
   * A scanner over labels `y` (class indices 0 .. nClasses − 1 for classification) with
   * optional sample weights.
   */
  create(y: Float64Array, weights: Float64Array | null, nClasses: number): NodeCriterion;
  /** Throws a RangeError when targets do not suit the criterion (e.g. negative counts). */
  checkTargets?(name: string, y: Float64Array): void;
}

/** Poisson splits need children with a positive target sum; scikit-learn's slack on zero. */
const POISSON_EPSILON = 10 * Number.EPSILON;

/**
 * The impurity decrease of a split weighted by the node's share of all samples, as
 * scikit-learn's `impurity_improvement`: (wₙ/W)·(iₙ − (w_r/wₙ)·i_r − (w_l/wₙ)·i_l).
 */
export function impurityImprovement(
  weightTotal: number,
  node: { weight: number; impurity: number },
  left: { weight: number; impurity: number },
  right: { weight: number; impurity: number },
): number {
  return (node.weight / weightTotal) *
    (node.impurity - (right.weight / node.weight) * right.impurity -
      (left.weight / node.weight) * left.impurity);
}

/**
 * Criteria whose statistics are sums over rows (class weights; or Σw·y and Σw·y²; or Σw·y
 * and Σw·y·ln y): children are running sums, so each update costs O(channels) per row.
 */
abstract class SumCriterion implements NodeCriterion {
  protected readonly y: Float64Array;
  protected readonly weights: Float64Array | null;
  protected readonly channels: number;
  protected readonly total: Float64Array;
  protected readonly left: Float64Array;
  protected readonly right: Float64Array;
  protected readonly missing: Float64Array;
  #rows: Int32Array = new Int32Array(0);
  #begin = 0;
  #end = 0;
  #pos = 0;
  weightNode = 0;
  weightLeft = 0;
  weightRight = 0;
  #weightMissing = 0;

  constructor(y: Float64Array, weights: Float64Array | null, channels: number) {
    this.y = y;
    this.weights = weights;
    this.channels = channels;
    this.total = new Float64Array(channels);
    this.left = new Float64Array(channels);
    this.right = new Float64Array(channels);
    this.missing = new Float64Array(channels);
  }

  /** Adds row `row` with weight `w` to the statistics `into`. */
  protected abstract accumulate(into: Float64Array, row: number, w: number): void;
  /** Impurity of a child from its statistics and weight. */
  protected abstract impurityOf(stats: Float64Array, weight: number): number;
  abstract nodeValue(out: Float64Array, offset: number): void;

  init(rows: Int32Array, begin: number, end: number): void {
    this.#rows = rows;
    this.#begin = begin;
    this.#end = end;
    this.total.fill(0);
    let weight = 0;
    for (let p = begin; p < end; p++) {
      const row = rows[p];
      const w = this.weights === null ? 1 : this.weights[row];
      this.accumulate(this.total, row, w);
      weight += w;
    }
    this.weightNode = weight;
    this.reset(0, false);
  }

  reset(nMissing: number, missingLeft: boolean): void {
    this.missing.fill(0);
    this.#weightMissing = 0;
    for (let p = this.#end - nMissing; p < this.#end; p++) {
      const row = this.#rows[p];
      const w = this.weights === null ? 1 : this.weights[row];
      this.accumulate(this.missing, row, w);
      this.#weightMissing += w;
    }
    this.#pos = this.#begin;
    if (missingLeft) {
      this.left.set(this.missing);
      for (let c = 0; c < this.channels; c++) this.right[c] = this.total[c] - this.missing[c];
      this.weightLeft = this.#weightMissing;
    } else {
      this.left.fill(0);
      this.right.set(this.total);
      this.weightLeft = 0;
    }
    this.weightRight = this.weightNode - this.weightLeft;
  }

  update(newPos: number): void {
    for (let p = this.#pos; p < newPos; p++) {
      const row = this.#rows[p];
      const w = this.weights === null ? 1 : this.weights[row];
      this.accumulate(this.left, row, w);
      this.weightLeft += w;
    }
    // The right child is the node minus the left, as scikit-learn derives it.
    for (let c = 0; c < this.channels; c++) this.right[c] = this.total[c] - this.left[c];
    this.weightRight = this.weightNode - this.weightLeft;
    this.#pos = newPos;
  }

  nodeImpurity(): number {
    return this.impurityOf(this.total, this.weightNode);
  }

  childrenImpurity(out: Float64Array): void {
    out[0] = this.impurityOf(this.left, this.weightLeft);
    out[1] = this.impurityOf(this.right, this.weightRight);
  }

  proxyImprovement(): number {
    return -this.weightRight * this.impurityOf(this.right, this.weightRight) -
      this.weightLeft * this.impurityOf(this.left, this.weightLeft);
  }
}

/** Class-count criteria: statistics are the weighted count of each class. */
abstract class ClassCriterion extends SumCriterion {
  protected accumulate(into: Float64Array, row: number, w: number): void {
    into[this.y[row]] += w;
  }

  nodeValue(out: Float64Array, offset: number): void {
    for (let k = 0; k < this.channels; k++) out[offset + k] = this.total[k] / this.weightNode;
  }
}

class Gini extends ClassCriterion {
  protected impurityOf(counts: Float64Array, weight: number): number {
    let squares = 0;
    for (let k = 0; k < this.channels; k++) squares += counts[k] * counts[k];
    return 1 - squares / (weight * weight);
  }
}

class Entropy extends ClassCriterion {
  protected impurityOf(counts: Float64Array, weight: number): number {
    let entropy = 0;
    for (let k = 0; k < this.channels; k++) {
      if (counts[k] > 0) {
        const p = counts[k] / weight;
        entropy -= p * (Math.log(p) / Math.LN2);
      }
    }
    return entropy;
  }
}

/** Regression criteria on two statistics, Σw·y first: the leaf value is the weighted mean. */
abstract class MeanCriterion extends SumCriterion {
  constructor(y: Float64Array, weights: Float64Array | null) {
    super(y, weights, 2);
  }

  nodeValue(out: Float64Array, offset: number): void {
    out[offset] = this.total[0] / this.weightNode;
  }
}

/** Squared error: statistics Σw·y and Σw·y². */
class SquaredError extends MeanCriterion {
  protected accumulate(into: Float64Array, row: number, w: number): void {
    const v = this.y[row];
    into[0] += w * v;
    into[1] += w * v * v;
  }

  protected impurityOf(stats: Float64Array, weight: number): number {
    const mean = stats[0] / weight;
    return stats[1] / weight - mean * mean;
  }

  /** Σ_left² / w_left + Σ_right² / w_right: the impurity decrease up to constants. */
  override proxyImprovement(): number {
    return (this.left[0] * this.left[0]) / this.weightLeft +
      (this.right[0] * this.right[0]) / this.weightRight;
  }
}

/** Half Poisson deviance: statistics Σw·y and Σw·y·ln y. */
class Poisson extends MeanCriterion {
  protected accumulate(into: Float64Array, row: number, w: number): void {
    const v = this.y[row];
    into[0] += w * v;
    if (v > 0) into[1] += w * v * Math.log(v);
  }

  protected impurityOf(stats: Float64Array, weight: number): number {
    if (stats[0] <= POISSON_EPSILON) return Infinity;
    return (stats[1] - stats[0] * Math.log(stats[0] / weight)) / weight;
  }

  /** −Σ_left·ln(mean_left) − … negated; −∞ when a child's target sum is not positive. */
  override proxyImprovement(): number {
    const sl = this.left[0], sr = this.right[0];
    if (sl <= POISSON_EPSILON || sr <= POISSON_EPSILON) return -Infinity;
    return sl * Math.log(sl / this.weightLeft) + sr * Math.log(sr / this.weightRight);
  }
}

/**
 * A multiset of weighted values kept sorted, for weighted medians (O(n) insert and remove,
 * as scikit-learn's WeightedMedianCalculator).
 */
class SortedWeights {
  values: Float64Array;
  weights: Float64Array;
  size = 0;
  total = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
    this.weights = new Float64Array(capacity);
  }

  clear(): void {
    this.size = 0;
    this.total = 0;
  }

  /** First index whose value is ≥ v. */
  #lowerBound(v: number): number {
    let lo = 0, hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.values[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  push(v: number, w: number): void {
    const at = this.#lowerBound(v);
    this.values.copyWithin(at + 1, at, this.size);
    this.weights.copyWithin(at + 1, at, this.size);
    this.values[at] = v;
    this.weights[at] = w;
    this.size++;
    this.total += w;
  }

  remove(v: number, w: number): void {
    let at = this.#lowerBound(v);
    while (at < this.size && this.values[at] === v && this.weights[at] !== w) at++;
    this.values.copyWithin(at, at + 1, this.size);
    this.weights.copyWithin(at, at + 1, this.size);
    this.size--;
    this.total -= w;
  }

  /**
   * The weighted median: with k the first count of sorted values whose weight reaches half
   * the total, value k−1, or the mean of values k−1 and k when the half is met exactly.
   */
  median(): number {
    const half = this.total / 2;
    let cumulative = 0;
    for (let k = 0; k < this.size; k++) {
      cumulative += this.weights[k];
      if (cumulative >= half) {
        if (cumulative === half && k + 1 < this.size) {
          return (this.values[k] + this.values[k + 1]) / 2;
        }
        return this.values[k];
      }
    }
    return this.size > 0 ? this.values[this.size - 1] : 0;
  }

  /** Σ w·|v − center|. */
  deviation(center: number): number {
    let s = 0;
    for (let k = 0; k < this.size; k++) s += this.weights[k] * Math.abs(this.values[k] - center);
    return s;
  }
}

/** Mean absolute deviation from the weighted median; O(n) per update and per evaluation. */
class AbsoluteError implements NodeCriterion {
  readonly #y: Float64Array;
  readonly #weights: Float64Array | null;
  readonly #left: SortedWeights;
  readonly #right: SortedWeights;
  #rows: Int32Array = new Int32Array(0);
  #begin = 0;
  #end = 0;
  #pos = 0;
  #nodeMedian = 0;
  #nodeImpurity = 0;
  weightNode = 0;

  constructor(y: Float64Array, weights: Float64Array | null) {
    this.#y = y;
    this.#weights = weights;
    this.#left = new SortedWeights(y.length);
    this.#right = new SortedWeights(y.length);
  }

  get weightLeft(): number {
    return this.#left.total;
  }

  get weightRight(): number {
    return this.#right.total;
  }

  #weight(row: number): number {
    return this.#weights === null ? 1 : this.#weights[row];
  }

  init(rows: Int32Array, begin: number, end: number): void {
    this.#rows = rows;
    this.#begin = begin;
    this.#end = end;
    this.reset(0, false);
    this.weightNode = this.#right.total;
    this.#nodeMedian = this.#right.median();
    this.#nodeImpurity = this.#right.deviation(this.#nodeMedian) / this.weightNode;
  }

  reset(nMissing: number, missingLeft: boolean): void {
    this.#left.clear();
    this.#right.clear();
    const firstMissing = this.#end - nMissing;
    for (let p = this.#begin; p < this.#end; p++) {
      const row = this.#rows[p];
      const side = p >= firstMissing && missingLeft ? this.#left : this.#right;
      side.push(this.#y[row], this.#weight(row));
    }
    this.#pos = this.#begin;
  }

  update(newPos: number): void {
    for (let p = this.#pos; p < newPos; p++) {
      const row = this.#rows[p];
      const v = this.#y[row], w = this.#weight(row);
      this.#right.remove(v, w);
      this.#left.push(v, w);
    }
    this.#pos = newPos;
  }

  nodeImpurity(): number {
    return this.#nodeImpurity;
  }

  childrenImpurity(out: Float64Array): void {
    out[0] = this.#left.deviation(this.#left.median()) / this.#left.total;
    out[1] = this.#right.deviation(this.#right.median()) / this.#right.total;
  }

  proxyImprovement(): number {
    return -this.#left.deviation(this.#left.median()) - this.#right.deviation(this.#right.median());
  }

  nodeValue(out: Float64Array, offset: number): void {
    out[offset] = this.#nodeMedian;
  }
}

function checkCounts(name: string, y: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0) {
      throw new RangeError(
        `Expected "${name}" to hold values >= 0 for the poisson criterion but entry ${i} is ${
          y[i]
        }`,
      );
    }
    sum += y[i];
  }
  if (!(sum > 0)) {
    throw new RangeError(
      `Expected "${name}" to have a positive sum for the poisson criterion but found ${sum}`,
    );
  }
}

const entropy: CriterionSpec = {
  name: "entropy",
  task: "classification",
  create: (y, weights, nClasses) => new Entropy(y, weights, nClasses),
};

/**
 * The split criteria by name. Classification: `gini`, `entropy` (alias `log_loss`);
 * regression: `squared_error`, `absolute_error`, `poisson`.
 */
export const CRITERIA: Readonly<Record<string, CriterionSpec>> = Object.freeze({
  gini: {
    name: "gini",
    task: "classification",
    create: (y, weights, nClasses) => new Gini(y, weights, nClasses),
  },
  entropy,
  log_loss: { ...entropy, name: "log_loss" },
  squared_error: {
    name: "squared_error",
    task: "regression",
    create: (y, weights) => new SquaredError(y, weights),
  },
  absolute_error: {
    name: "absolute_error",
    task: "regression",
    create: (y, weights) => new AbsoluteError(y, weights),
  },
  poisson: {
    name: "poisson",
    task: "regression",
    create: (y, weights) => new Poisson(y, weights),
    checkTargets: checkCounts,
  },
});

/** Names of the classification criteria. */
export const CLASSIFICATION_CRITERIA = ["gini", "entropy", "log_loss"] as const;
/** Names of the regression criteria. */
export const REGRESSION_CRITERIA = ["squared_error", "absolute_error", "poisson"] as const;
