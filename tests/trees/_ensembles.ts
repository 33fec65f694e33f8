/**
 * Shared by the tests of tree ensembles II: fixture data sets split as the generator split them
 * (test rows: fold 0), scores, and the scikit-learn references of ensembles.json.
 */
import assert from "node:assert/strict";
import { type DecisionTreeBase, replayFeatureDraws } from "../../src/trees/cart/_decision_tree.ts";
import type { DecisionTreeOptions } from "../../src/trees/mod.ts";
import { type DataSet, loadDataSet, loadFixture } from "../fixtures/ensembles/_load.ts";
import { type CartCase, cartFixture, SklearnDraws } from "../fixtures/ensembles/_cart.ts";

export interface Split {
  name: string;
  Xtrain: number[][];
  ytrain: number[];
  Xtest: number[][];
  ytest: number[];
}

/** A data set split into train (folds 1–4) and test (fold 0) rows. */
export async function trainTest(name: string): Promise<Split> {
  const d: DataSet = await loadDataSet(name);
  const pick = <T>(items: T[], test: boolean) => items.filter((_, i) => (d.fold[i] === 0) === test);
  return {
    name,
    Xtrain: pick(d.X, false),
    ytrain: pick(d.y, false),
    Xtest: pick(d.X, true),
    ytest: pick(d.y, true),
  };
}

export function accuracy(predicted: ArrayLike<number>, y: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
  return correct / y.length;
}

export function r2(predicted: ArrayLike<number>, y: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= y.length;
  let residual = 0, total = 0;
  for (let i = 0; i < y.length; i++) {
    residual += (y[i] - predicted[i]) ** 2;
    total += (y[i] - mean) ** 2;
  }
  return 1 - residual / total;
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** A reference score over scikit-learn's 5 seeds. */
export interface SeededScore {
  mean: number;
  std: number;
  min: number;
  max: number;
  values: number[];
}

export interface Reference {
  score: SeededScore | number;
  oobScore?: SeededScore;
  [key: string]: unknown;
}

interface EnsemblesFixture {
  data: Record<string, { task: string; references: Record<string, Reference> }>;
}

export const ensembles = await loadFixture<EnsemblesFixture>("ensembles");

/** scikit-learn's reference `key` on data set `name`. */
export function reference(name: string, key: string): Reference {
  const ref = ensembles.data[name]?.references[key];
  if (ref === undefined) throw new Error(`no reference ${key} for ${name}`);
  return ref;
}

/**
 * How far a score of ours may fall below scikit-learn's mean. Our random streams differ from
 * scikit-learn's (and hist trees split between bins), so the two agree only up to seed noise:
 * twice the spread of scikit-learn's own 5 seeds, plus one test row (the score's resolution),
 * and never less than 1% (or 0.01 of R²).
 */
export function tolerance(ref: SeededScore, nTest: number): number {
  return Math.max(0.01, 2 * ref.std + 1 / nTest);
}

/** What one seeded fit scored: held-out accuracy or R², and its OOB score when asked for. */
export interface SeededRun {
  score: number;
  oob?: number;
}

/**
 * Runs `fit` for each seed and checks the scores against scikit-learn's reference: the mean
 * held-out score may fall below scikit-learn's mean by at most the tolerance. Where the runs
 * give OOB scores, their mean must agree with scikit-learn's either way: they average over all
 * training rows, so they are steadier.
 */
export async function assertReferenceScores(
  label: string,
  d: Split,
  ref: Reference,
  fit: (seed: number) => Promise<SeededRun>,
  seeds: readonly number[] = [0, 1, 2],
): Promise<void> {
  const runs: SeededRun[] = [];
  for (const seed of seeds) runs.push(await fit(seed));
  const sk = ref.score as SeededScore, scores = runs.map((r) => r.score);
  const tol = tolerance(sk, d.ytest.length);
  assert.ok(mean(scores) >= sk.mean - tol, `${label}: ${mean(scores)} vs ${sk.mean} ± ${tol}`);
  if (runs.every((r) => r.oob === undefined)) return;
  const skOob = ref.oobScore!, oobs = runs.map((r) => r.oob!);
  const oobTol = tolerance(skOob, d.ytrain.length);
  assert.ok(
    Math.abs(mean(oobs) - skOob.mean) <= oobTol,
    `${label} OOB: ${mean(oobs)} vs ${skOob.mean} ± ${oobTol}`,
  );
}

/** The estimator options of a scikit-learn tree case (camelCase). */
export function treeOptions(c: CartCase): Record<string, unknown> {
  const p = c.params as Record<string, unknown>;
  const names: Record<string, string> = {
    criterion: "criterion",
    max_depth: "maxDepth",
    min_samples_split: "minSamplesSplit",
    min_samples_leaf: "minSamplesLeaf",
    min_weight_fraction_leaf: "minWeightFractionLeaf",
    max_leaf_nodes: "maxLeafNodes",
    min_impurity_decrease: "minImpurityDecrease",
    ccp_alpha: "ccpAlpha",
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p)) if (key in names) out[names[key]] = value;
  return out;
}

/** A cart fixture case's data. */
export async function caseData(
  c: CartCase,
): Promise<{ X: number[][]; y: number[]; weights?: number[] }> {
  const data = cartFixture.data[c.data] ?? await loadDataSet(c.data);
  return { X: data.X, y: data.y, weights: c.sampleWeight };
}

/**
 * The case's exact tree (on the reference js kernels), its splitter visiting features in
 * scikit-learn's random order, which decides between exactly tied splits (the toy data is full
 * of them).
 */
export async function sklearnTree<T extends DecisionTreeBase>(
  Tree: new (options: DecisionTreeOptions) => T,
  c: CartCase,
  options: Record<string, unknown> = treeOptions(c),
): Promise<{ tree: T; X: number[][]; y: number[]; weights?: number[] }> {
  const { X, y, weights } = await caseData(c);
  const tree = new Tree({ ...options, splitter: "exact", backend: "js" });
  replayFeatureDraws(tree, () => new SklearnDraws(c.splitterSeed));
  return { tree, X, y, weights };
}

/** Fits the case's exact tree and checks its leaves and depth against scikit-learn's. */
export async function fitSklearnTree<T extends DecisionTreeBase>(
  Tree: new (options: DecisionTreeOptions) => T,
  c: CartCase,
): Promise<{ tree: T; X: number[][] }> {
  const { tree, X, y, weights } = await sklearnTree(Tree, c);
  await tree.fit(X, y, { sampleWeight: weights });
  assert.deepEqual(Array.from(await tree.apply(X)), c.apply, `${c.name}: leaves`);
  assert.equal(tree.depth, c.tree.maxDepth, `${c.name}: depth`);
  return { tree, X };
}

/**
 * The cost-complexity pruning path of the case's unpruned exact tree, its alphas checked
 * against scikit-learn's.
 */
export async function checkedPruningPath<T extends DecisionTreeBase>(
  Tree: new (options: DecisionTreeOptions) => T,
  c: CartCase,
): Promise<{ ccpAlphas: Float64Array; impurities: Float64Array }> {
  const { ccpAlpha: _, ...unpruned } = treeOptions(c);
  const { tree, X, y, weights } = await sklearnTree(Tree, c, unpruned);
  const path = await tree.costComplexityPruningPath(X, y, { sampleWeight: weights });
  assert.equal(path.ccpAlphas.length, c.path!.ccpAlphas.length, c.name);
  c.path!.ccpAlphas.forEach((a, i) =>
    assert.ok(Math.abs(path.ccpAlphas[i] - a) <= 1e-9 * Math.max(1, a), `${c.name}: alpha ${i}`)
  );
  return path;
}

export { cartFixture };
export type { CartCase };
