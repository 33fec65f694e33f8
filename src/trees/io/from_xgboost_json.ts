/**
 * @module
 */
import { show } from "../../_validate.ts";
import { decodeUBJSON } from "./_ubjson.ts";
import { OBJECTIVES } from "../boosting/_objectives.ts";
import { FORMAT } from "../_estimator.ts";
import { XGBClassifier } from "../boosting/xgb_classifier.ts";
import { XGBRegressor } from "../boosting/xgb_regressor.ts";

type Json = Record<string, unknown>;

function field(parent: Json, key: string, path: string): unknown {
  const v = parent[key];
  if (v === undefined) throw new RangeError(`Expected the XGBoost model to have "${path}.${key}"`);
  return v;
}

function object(parent: Json, key: string, path: string): Json {
  const v = field(parent, key, path);
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new TypeError(`Expected "${path}.${key}" to be an object but found ${show(v)}`);
  }
  return v as Json;
}

/** XGBoost writes most scalars as strings ("5E-1"), newer versions sometimes as "[5E-1]". */
function scalar(value: unknown, path: string): number {
  const text = typeof value === "string" ? value.replace(/^\[|\]$/g, "") : value;
  const n = typeof text === "number"
    ? text
    : typeof text === "string" && text.trim() !== ""
    ? Number(text)
    : NaN;
  if (!Number.isFinite(n)) {
    throw new RangeError(`Expected "${path}" to be a number but found ${show(value)}`);
  }
  return n;
}

function numbers(
  tree: Json,
  key: string,
  path: string,
  length: number | null,
  allowNaN = false,
): number[] {
  const v = field(tree, key, path);
  if (!Array.isArray(v) || (length !== null && v.length !== length)) {
    throw new RangeError(
      `Expected "${path}.${key}" to be an array of ${length ?? "any number of"} entries but found ${
        show(v)
      }`,
    );
  }
  // default_left was written as booleans by some 1.x versions; categorical splits have a NaN
  // split condition (a bare NaN in JSON text, read here as the string "NaN").
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    out[i] = typeof x === "boolean"
      ? (x ? 1 : 0)
      : allowNaN && (x === "NaN" || Number.isNaN(x))
      ? NaN
      : scalar(x, `${path}.${key}[${i}]`);
  }
  return out;
}

/** An integer scalar in [min, max]. */
function integer(value: unknown, path: string, min: number, max: number): number {
  const n = scalar(value, path);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(
      `Expected "${path}" to be an integer in [${min}, ${max}] but found ${show(value)}`,
    );
  }
  return n;
}

/** The largest feature count, class count and category a model may declare. */
const MAX_FEATURES = 2 ** 31 - 1;
const MAX_CLASSES = 2 ** 16;
const MAX_CATEGORY = 2 ** 24;

/** Each categorical node's category list, by original node id. */
function categorySets(tree: Json, path: string, splitType: number[] | null) {
  const sets = new Map<number, number[]>();
  if (splitType === null || !splitType.some((t) => t === 1)) return sets;
  const nodes = numbers(tree, "categories_nodes", path, null);
  const segments = numbers(tree, "categories_segments", path, nodes.length);
  const sizes = numbers(tree, "categories_sizes", path, nodes.length);
  const categories = numbers(tree, "categories", path, null);
  nodes.forEach((node, k) => {
    const begin = segments[k], end = begin + sizes[k];
    if (
      !(Number.isInteger(begin) && begin >= 0 && Number.isInteger(sizes[k]) && sizes[k] >= 0 &&
        end <= categories.length)
    ) {
      throw new RangeError(
        `Expected category segment ${k} of "${path}" to lie within ${categories.length} categories`,
      );
    }
    const set = categories.slice(begin, end);
    for (const c of set) {
      if (!Number.isInteger(c) || c < 0 || c >= MAX_CATEGORY) {
        throw new RangeError(
          `Expected the categories of "${path}" to be integers in [0, 2^24) but found ${c}`,
        );
      }
    }
    sets.set(node, set);
  });
  return sets;
}

/** A category list as a bitset (category c: bit c & 31 of word c >> 5). */
function bitset(categories: number[]): number[] {
  const largest = categories.reduce((a, b) => Math.max(a, b), -1);
  const words = new Array<number>(largest < 0 ? 0 : (largest >>> 5) + 1).fill(0);
  for (const c of categories) words[c >>> 5] = (words[c >>> 5] | (1 << (c & 31))) >>> 0;
  return words;
}

interface FlatTrees {
  treeStart: number[];
  treeGroup: number[];
  feature: number[];
  threshold: number[];
  defaultLeft: number[];
  left: number[];
  right: number[];
  value: number[];
  gain: number[];
  cover: number[];
  splitType: number[];
  catBegin: number[];
  catBits: number[];
}

/** Appends one XGBoost tree, renumbered breadth-first from its root (deleted nodes dropped). */
function addTree(out: FlatTrees, tree: Json, path: string, nFeatures: number, scale: number): void {
  const param = tree.tree_param as Json | undefined;
  if (param && scalar(param.size_leaf_vector ?? 0, `${path}.tree_param.size_leaf_vector`) > 1) {
    throw new RangeError(
      `Expected "${path}" to have scalar leaves; multi-target trees are not supported`,
    );
  }
  const left = field(tree, "left_children", path);
  const n = Array.isArray(left) ? left.length : -1;
  if (n < 1) {
    throw new RangeError(
      `Expected "${path}.left_children" to be a non-empty array but found ${show(left)}`,
    );
  }
  const lc = numbers(tree, "left_children", path, n);
  const rc = numbers(tree, "right_children", path, n);
  const splitIndex = numbers(tree, "split_indices", path, n);
  const condition = numbers(tree, "split_conditions", path, n, true);
  const defaultLeft = numbers(tree, "default_left", path, n);
  const gain = tree.loss_changes === undefined
    ? new Array(n).fill(0)
    : numbers(tree, "loss_changes", path, n);
  const cover = tree.sum_hessian === undefined
    ? new Array(n).fill(0)
    : numbers(tree, "sum_hessian", path, n);
  for (const [key, values] of [["loss_changes", gain], ["sum_hessian", cover]] as const) {
    values.forEach((v, i) => {
      if (!Number.isFinite(Math.fround(v))) {
        throw new RangeError(
          `Expected "${path}.${key}[${i}]" to be a finite float32 but found ${v}`,
        );
      }
    });
  }
  const splitType = tree.split_type === undefined ? null : numbers(tree, "split_type", path, n);
  splitType?.forEach((t, i) => {
    if (t !== 0 && t !== 1) {
      throw new RangeError(`Expected "${path}.split_type[${i}]" to be 0 or 1 but found ${t}`);
    }
  });
  const sets = categorySets(tree, path, splitType);

  const base = out.feature.length;
  const order = [0];
  const newId = new Map<number, number>([[0, 0]]);
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (lc[i] === -1) continue;
    for (const child of [lc[i], rc[i]]) {
      if (!Number.isInteger(child) || child < 0 || child >= n || newId.has(child)) {
        throw new RangeError(
          `Expected node ${i} of "${path}" to have a fresh child within ${n} nodes but found ${child}`,
        );
      }
      newId.set(child, order.length);
      order.push(child);
    }
  }
  for (const i of order) {
    const isLeaf = lc[i] === -1;
    if (!isLeaf) {
      if (splitType !== null && splitType[i] !== 0 && !sets.has(i)) {
        throw new RangeError(`Expected categorical node ${i} of "${path}" to have a category set`);
      }
      if (!Number.isInteger(splitIndex[i]) || splitIndex[i] < 0 || splitIndex[i] >= nFeatures) {
        throw new RangeError(
          `Expected node ${i} of "${path}" to split a feature below ${nFeatures} but found ${
            splitIndex[i]
          }`,
        );
      }
    }
    const categorical = !isLeaf && splitType !== null && splitType[i] === 1;
    if (!categorical && !Number.isFinite(Math.fround(condition[i]))) {
      throw new RangeError(
        `Expected "${path}.split_conditions[${i}]" to be a finite float32 but found ${
          condition[i]
        }`,
      );
    }
    if (isLeaf && !Number.isFinite(Math.fround(Math.fround(condition[i]) * scale))) {
      throw new RangeError(
        `Expected the leaf value "${path}.split_conditions[${i}]" times its tree weight ${scale} to be a finite float32`,
      );
    }
    out.splitType.push(categorical ? 1 : 0);
    if (categorical) out.catBits.push(...bitset(sets.get(i)!));
    out.catBegin.push(out.catBits.length);
    out.feature.push(isLeaf ? -1 : splitIndex[i]);
    out.threshold.push(isLeaf || categorical ? 0 : Math.fround(condition[i]));
    out.defaultLeft.push(defaultLeft[i] ? 1 : 0);
    out.left.push(isLeaf ? -1 : base + newId.get(lc[i])!);
    out.right.push(isLeaf ? -1 : base + newId.get(rc[i])!);
    // Leaves keep their value in split_conditions; dart scales each tree by its weight.
    out.value.push(isLeaf ? Math.fround(Math.fround(condition[i]) * scale) : 0);
    out.gain.push(isLeaf ? 0 : gain[i]);
    out.cover.push(cover[i]);
  }
  out.treeStart.push(out.feature.length);
}

/** UBJSON opens an object with "{" then a key length, a type or a count; JSON text with a quote. */
function isUBJSON(bytes: Uint8Array): boolean {
  return bytes.length > 1 && bytes[0] === 0x7b &&
    [0x69, 0x55, 0x49, 0x6c, 0x4c, 0x24, 0x23, 0x7d].includes(bytes[1]);
}

/**
 * JSON text as XGBoost writes it, which may hold bare NaN and Infinity (split conditions of
 * categorical nodes are NaN): those tokens outside strings become strings that `scalar` reads.
 */
function parseText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const patched = quoteNonFinite(text);
    if (patched !== text) {
      try {
        return JSON.parse(patched);
      } catch {
        // Report the error of the text as given.
      }
    }
    throw new TypeError(
      `Expected "model" to be XGBoost's JSON model text but it does not parse: ${
        (error as Error).message
      }`,
    );
  }
}

function quoteNonFinite(text: string): string {
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    const token = /^-?(NaN|Infinity)/.exec(text.slice(i, i + 9));
    if (token !== null) {
      out += text.slice(from, i) + `"${token[0]}"`;
      i += token[0].length - 1;
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

function parse(json: unknown): Json {
  let value = json;
  if (json instanceof Uint8Array) {
    value = isUBJSON(json) ? decodeUBJSON(json) : parseText(decodeText(json));
  } else if (typeof json === "string") {
    value = parseText(json);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(
      `Expected "model" to be an XGBoost model (object, JSON text or UBJSON bytes) but found ${
        show(value)
      }`,
    );
  }
  return value as Json;
}

function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new TypeError(`Expected "model" bytes to be UBJSON or UTF-8 JSON text`);
  }
}

/**
 * Reads a model saved by XGBoost ≥ 1.0 in its JSON format (`Booster.save_model("m.json")`, or
 * `save_raw("json")`) or, given bytes, in UBJSON (`save_model("m.ubj")`, `save_raw("ubj")`, the
 * default of XGBoost ≥ 2.0) or JSON text, and returns an estimator that predicts what XGBoost predicts: the same
 * float32 split tests (`x < split_condition`, NaN following `default_left`), the same tree
 * order and float32 sums from `base_score`, the same link. Boosters `gbtree` and `dart`;
 * objectives `reg:squarederror`, `reg:absoluteerror`, `reg:pseudohubererror`, `reg:logistic`,
 * `count:poisson`, `binary:logistic`, `binary:logitraw`, `multi:softprob`, `multi:softmax`.
 * Classes come from the scikit-learn wrapper's record when present, else 0 … K − 1.
 *
 * @param json The parsed model, its JSON text, or the bytes of a `.ubj` or `.json` file.
 * @returns An XGBClassifier for binary: and multi: objectives, else an XGBRegressor; fitted.
 * @throws {TypeError} When the input is not an XGBoost JSON or UBJSON model.
 * @throws {RangeError} For an unsupported booster, objective or tree kind (multi-target
 *   splits), or inconsistent trees.
 * @example
 * ```ts
 * import { fromXGBoostJSON } from "./mod.ts";
 * const tree = {
 *   left_children: [1, -1, -1], right_children: [2, -1, -1], split_indices: [0, 0, 0],
 *   split_conditions: [0.5, -1, 1], default_left: [1, 0, 0],
 * };
 * const model = fromXGBoostJSON({ learner: {
 *   learner_model_param: { base_score: "5E-1", num_class: "0", num_feature: "1" },
 *   objective: { name: "reg:squarederror" },
 *   gradient_booster: { name: "gbtree", model: { trees: [tree], tree_info: [0] } },
 * } });
 * const y = await model.predict([[0], [1], [NaN]]);
 * if (y.join() !== "-0.5,1.5,-0.5") throw new Error(`got ${y}`);
 * ```
 */
export function fromXGBoostJSON(
  json: object | string | Uint8Array,
): XGBClassifier | XGBRegressor {
  const root = parse(json);
  const learner = object(root, "learner", "json");
  const version = root.version;
  if (Array.isArray(version) && typeof version[0] === "number" && version[0] < 1) {
    throw new RangeError(
      `Expected a model from XGBoost >= 1.0 but found version ${version.join(".")}`,
    );
  }
  const params = object(learner, "learner_model_param", "learner");
  const objectiveName = field(object(learner, "objective", "learner"), "name", "learner.objective");
  const objective = typeof objectiveName === "string" ? OBJECTIVES[objectiveName] : undefined;
  if (objective === undefined) {
    throw new RangeError(
      `Expected the objective to be one of ${
        Object.keys(OBJECTIVES).map((k) => `"${k}"`).join(", ")
      } but found ${show(objectiveName)}`,
    );
  }
  if (
    params.num_target !== undefined &&
    scalar(params.num_target, "learner_model_param.num_target") > 1
  ) {
    throw new RangeError(
      `Expected a single-target model but found num_target ${show(params.num_target)}`,
    );
  }

  const booster = object(learner, "gradient_booster", "learner");
  let model: Json, weights: number[] | null = null;
  if (booster.name === "gbtree") {
    model = object(booster, "model", "gradient_booster");
  } else if (booster.name === "dart") {
    model = object(
      object(booster, "gbtree", "gradient_booster"),
      "model",
      "gradient_booster.gbtree",
    );
    const drop = field(booster, "weight_drop", "gradient_booster");
    if (!Array.isArray(drop)) {
      throw new TypeError(
        `Expected "gradient_booster.weight_drop" to be an array but found ${show(drop)}`,
      );
    }
    weights = Array.from(drop, (w, t) => Math.fround(scalar(w, `weight_drop[${t}]`)));
  } else {
    throw new RangeError(`Expected a "gbtree" or "dart" booster but found ${show(booster.name)}`);
  }
  const trees = field(model, "trees", "model");
  const info = field(model, "tree_info", "model");
  if (!Array.isArray(trees) || !Array.isArray(info) || info.length !== trees.length) {
    throw new RangeError(
      `Expected "model.trees" and "model.tree_info" to be arrays of equal length`,
    );
  }
  if (weights !== null && weights.length !== trees.length) {
    throw new RangeError(
      `Expected "weight_drop" to have ${trees.length} entries but found ${weights.length}`,
    );
  }

  const numClass = integer(params.num_class ?? 0, "learner_model_param.num_class", 0, MAX_CLASSES);
  const nOutputs = objective.task === "multiclass" ? numClass : 1;
  if (objective.task === "multiclass" && nOutputs < 2) {
    throw new RangeError(`Expected num_class >= 2 for "${objective.name}" but found ${numClass}`);
  }
  let nFeatures = integer(
    params.num_feature ?? 0,
    "learner_model_param.num_feature",
    0,
    MAX_FEATURES,
  );
  // Older models may record num_feature 0: then the largest split index says.
  for (const tree of trees as Json[]) {
    const indices = tree?.split_indices;
    if (!Array.isArray(indices)) continue;
    for (const f of indices) {
      if (typeof f === "number" && Number.isInteger(f) && f >= 0 && f < MAX_FEATURES) {
        nFeatures = Math.max(nFeatures, f + 1);
      }
    }
  }
  nFeatures = Math.max(1, nFeatures);

  const flat: FlatTrees = {
    treeStart: [0],
    treeGroup: [],
    feature: [],
    threshold: [],
    defaultLeft: [],
    left: [],
    right: [],
    value: [],
    gain: [],
    cover: [],
    splitType: [],
    catBegin: [0],
    catBits: [],
  };
  Array.from(trees as unknown[]).forEach((tree, t) => {
    if (tree === null || typeof tree !== "object" || Array.isArray(tree)) {
      throw new TypeError(`Expected "model.trees[${t}]" to be an object`);
    }
    const group = scalar(info[t], `model.tree_info[${t}]`);
    if (!Number.isInteger(group) || group < 0 || group >= nOutputs) {
      throw new RangeError(
        `Expected "model.tree_info[${t}]" to be an output below ${nOutputs} but found ${group}`,
      );
    }
    addTree(flat, tree as Json, `model.trees[${t}]`, nFeatures, weights === null ? 1 : weights[t]);
    flat.treeGroup.push(group);
  });

  const baseScore = scalar(params.base_score ?? 0.5, "learner_model_param.base_score");
  const baseMargin = Math.fround(objective.margin(baseScore));
  if (!Number.isFinite(baseMargin)) {
    throw new RangeError(
      `Expected "learner_model_param.base_score" to give a finite margin under "${objective.name}" but found ${
        show(params.base_score)
      }`,
    );
  }
  const options: Record<string, unknown> = {
    objective: objective.name,
    baseScore,
    nEstimators: Math.max(1, Math.ceil(trees.length / nOutputs)),
  };
  const objectiveParams = object(learner, "objective", "learner");
  const huber = (objectiveParams.pseudo_huber_param as Json | undefined)?.huber_slope;
  if (huber !== undefined) options.huberSlope = scalar(huber, "pseudo_huber_param.huber_slope");
  const serialised = {
    format: FORMAT,
    version: 1,
    estimator: objective.task === "regression" ? "XGBRegressor" : "XGBClassifier",
    options,
    fitted: {
      objective: objective.name,
      classes: objective.task === "regression"
        ? null
        : classesOf(learner, objective.task === "binary" ? 2 : nOutputs),
      bestIteration: Math.ceil(trees.length / nOutputs) - 1,
      evalHistory: {},
      model: {
        nFeatures,
        nOutputs,
        leafWidth: 1,
        baseMargin: new Array(nOutputs).fill(baseMargin),
        ...withoutNumericSplitTypes(flat),
      },
    },
  };
  return objective.task === "regression"
    ? XGBRegressor.fromJSON(serialised)
    : XGBClassifier.fromJSON(serialised);
}

/** The scikit-learn wrapper's classes_ when recorded and consistent, else 0 … count − 1. */
function classesOf(learner: Json, count: number): number[] {
  const fallback = Array.from({ length: count }, (_, i) => i);
  const record = (learner.attributes as Json | undefined)?.scikit_learn;
  if (typeof record !== "string") return fallback;
  // The record is Python's JSON with bare NaN (its "missing" value): read only classes_.
  const match = /"classes_":\s*(\[[^\]]*\])/.exec(record);
  try {
    const classes = match === null ? null : JSON.parse(match[1]);
    if (
      Array.isArray(classes) && classes.length === count &&
      classes.every((c, i) =>
        typeof c === "number" && Number.isFinite(c) && (i === 0 || c > classes[i - 1])
      )
    ) {
      return classes;
    }
  } catch {
    // A malformed record is only metadata; the model itself is fine.
  }
  return fallback;
}

/** The flat trees, with the category fields only when some split is categorical. */
function withoutNumericSplitTypes(flat: FlatTrees): Partial<FlatTrees> {
  if (flat.splitType.some((t) => t === 1)) return flat;
  const { splitType: _t, catBegin: _b, catBits: _c, ...numeric } = flat;
  return numeric;
}
