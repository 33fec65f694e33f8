/**
 * Writes a boosted ensemble in XGBoost's JSON model format (schema of XGBoost 1.7, which every
 * later version also loads): what `Booster(model_file=…)` reads and predicts identically.
 *
 * ```
 *  { version: [1, 7, 4],
 *    learner: { attributes: { scikit_learn?: "<the wrapper's record: classes_, …>" },
 *               feature_names: [], feature_types: [],
 *               learner_model_param: { base_score, num_class, num_feature, num_target, … },
 *               objective: { name, <its parameter block> },
 *               gradient_booster: { name: "gbtree",
 *                 model: { gbtree_model_param, tree_info: [output of each tree], trees: [
 *                   { id, tree_param, left_children, right_children, parents,
 *                     split_indices, split_conditions (leaves: the leaf value), default_left,
 *                     split_type, categories…, loss_changes, sum_hessian, base_weights } ] } } } }
 * ```
 *
 * Nodes keep their order within each tree (the root first), so node i of tree t is global node
 * treeStart[t] + i.
 *
 * @module
 */
import type { TreeEnsemble } from "../_tree_model.ts";

/** What the writer needs besides the trees. */
export interface XGBoostModelInfo {
  /** XGBoost objective name (reg:squarederror, binary:logistic, multi:softprob, …). */
  objective: string;
  /** The objective's parameter block, e.g. `{ reg_loss_param: { scale_pos_weight: "1" } }`. */
  objectiveParams: Record<string, unknown>;
  /** base_score in output space, as XGBoost takes it. */
  baseScore: number;
  /** Sorted class labels of a classifier (the scikit-learn wrapper's classes_), else null. */
  classes: ArrayLike<number> | null;
}

/** A float32 as the shortest decimal that reads back to the same float32. */
function float32Text(v: number): number {
  const f = Math.fround(v);
  for (let digits = 6; digits < 9; digits++) {
    const d = Number(f.toPrecision(digits));
    if (Math.fround(d) === f) return d;
  }
  return Number(f.toPrecision(9));
}

/**
 * A float array for `stringifyModel`: XGBoost's JSON reader types a number by its spelling and
 * refuses an integer-looking `1` where a float is expected, so these always carry a point or an
 * exponent.
 */
class Floats {
  constructor(readonly values: number[]) {}
}

function floatText(v: number): string {
  const text = String(v);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** JSON text of a model object whose float arrays are Floats. */
export function stringifyModel(value: unknown): string {
  if (value instanceof Floats) return `[${value.values.map(floatText).join(",")}]`;
  if (Array.isArray(value)) return `[${value.map(stringifyModel).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value).map(([k, v]) =>
      `${JSON.stringify(k)}:${stringifyModel(v)}`
    );
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value);
}

function treeJSON(model: TreeEnsemble, t: number): Record<string, unknown> {
  const begin = model.treeStart[t], end = model.treeStart[t + 1];
  const n = end - begin;
  const parents = new Array<number>(n).fill(2147483647);
  const left: number[] = [], right: number[] = [], splitIndex: number[] = [];
  const condition: number[] = [], defaultLeft: number[] = [], gain: number[] = [];
  const hessian: number[] = [], weight: number[] = [];
  for (let i = 0; i < n; i++) {
    const node = begin + i;
    const isLeaf = model.feature[node] < 0;
    const l = isLeaf ? -1 : model.left[node] - begin;
    const r = isLeaf ? -1 : model.right[node] - begin;
    if (!isLeaf) parents[l] = parents[r] = i;
    left.push(l);
    right.push(r);
    splitIndex.push(isLeaf ? 0 : model.feature[node]);
    const value = float32Text(model.value[node * model.leafWidth]);
    condition.push(isLeaf ? value : float32Text(model.threshold[node]));
    defaultLeft.push(isLeaf ? 0 : model.defaultLeft[node]);
    gain.push(isLeaf ? 0 : float32Text(model.gain[node]));
    hessian.push(float32Text(model.cover[node]));
    weight.push(value);
  }
  return {
    id: t,
    tree_param: {
      num_deleted: "0",
      num_feature: String(model.nFeatures),
      num_nodes: String(n),
      size_leaf_vector: "0",
    },
    left_children: left,
    right_children: right,
    parents,
    split_indices: splitIndex,
    split_conditions: new Floats(condition),
    default_left: defaultLeft,
    ...categoryFields(model, begin, n),
    loss_changes: new Floats(gain),
    sum_hessian: new Floats(hessian),
    base_weights: new Floats(weight),
  };
}

/** split_type and the category lists of one tree's categorical nodes, as XGBoost writes them. */
function categoryFields(model: TreeEnsemble, begin: number, n: number): Record<string, number[]> {
  const splitType = new Array<number>(n).fill(0);
  const nodes: number[] = [], segments: number[] = [], sizes: number[] = [];
  const categories: number[] = [];
  const cats = model.categories;
  for (let i = 0; cats !== undefined && i < n; i++) {
    const node = begin + i;
    if (cats.splitType[node] !== 1 || model.feature[node] < 0) continue;
    splitType[i] = 1;
    nodes.push(i);
    segments.push(categories.length);
    for (let w = cats.catBegin[node]; w < cats.catBegin[node + 1]; w++) {
      const base = (w - cats.catBegin[node]) * 32;
      for (let b = 0; b < 32; b++) if ((cats.catBits[w] >>> b) & 1) categories.push(base + b);
    }
    sizes.push(categories.length - segments[segments.length - 1]);
  }
  return {
    split_type: splitType,
    categories,
    categories_nodes: nodes,
    categories_segments: segments,
    categories_sizes: sizes,
  };
}

/** "c" for features that some categorical split tests, "q" for the others; [] without any. */
function featureTypes(model: TreeEnsemble): string[] {
  const cats = model.categories;
  if (cats === undefined || !cats.splitType.some((t) => t === 1)) return [];
  const types = new Array<string>(model.nFeatures).fill("q");
  for (let i = 0; i < model.feature.length; i++) {
    if (cats.splitType[i] === 1 && model.feature[i] >= 0) types[model.feature[i]] = "c";
  }
  return types;
}

/** XGBoost's spelling of a parameter value. */
function paramText(v: number): string {
  return String(float32Text(v));
}

/**
 * The XGBoost JSON model of a boosted ensemble with scalar leaves, as an object for
 * `stringifyModel` (its float arrays are not plain arrays).
 *
 * @throws {RangeError} When the ensemble has vector leaves or per-output base margins differ
 *   (neither exists in XGBoost's format).
 */
export function xgboostModelJSON(
  model: TreeEnsemble,
  info: XGBoostModelInfo,
): Record<string, unknown> {
  if (model.leafWidth !== 1) {
    throw new RangeError(
      `Expected an ensemble with scalar leaves but found leaves of width ${model.leafWidth}`,
    );
  }
  if (model.baseMargin.some((m) => m !== model.baseMargin[0])) {
    throw new RangeError(`Expected one base margin shared by every output`);
  }
  const nTrees = model.treeGroup.length;
  const trees = Array.from({ length: nTrees }, (_, t) => treeJSON(model, t));
  const attributes: Record<string, string> = {};
  if (info.classes !== null) {
    attributes.scikit_learn = JSON.stringify({
      classes_: Array.from(info.classes),
      n_classes_: info.classes.length,
      _estimator_type: "classifier",
    });
  } else {
    attributes.scikit_learn = JSON.stringify({ _estimator_type: "regressor" });
  }
  return {
    version: [1, 7, 4],
    learner: {
      attributes,
      feature_names: [],
      feature_types: featureTypes(model),
      learner_model_param: {
        base_score: paramText(info.baseScore),
        boost_from_average: "1",
        num_class: String(model.nOutputs > 1 ? model.nOutputs : 0),
        num_feature: String(model.nFeatures),
        num_target: "1",
      },
      objective: { name: info.objective, ...info.objectiveParams },
      gradient_booster: {
        name: "gbtree",
        model: {
          gbtree_model_param: {
            num_parallel_tree: "1",
            num_trees: String(nTrees),
            size_leaf_vector: "0",
          },
          tree_info: Array.from(model.treeGroup),
          trees,
        },
      },
    },
  };
}
