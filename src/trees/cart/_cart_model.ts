/**
 * CART trees into the shared model format (src/trees/_tree_model.ts) straight from their
 * arrays: a forest of a hundred deep trees holds a million nodes, too many to pass through one
 * object per node. Nodes keep the CartTree's numbering; thresholds become the strict float32
 * `x < t` of the model format (see strictThreshold), gains scikit-learn's weighted impurity
 * decrease wₙ·iₙ − w_l·i_l − w_r·i_r, covers the weighted sample counts.
 *
 * @module
 */
import { type CartTree, strictThreshold } from "./_cart_exact.ts";
import { saturateFloat32, type TreeEnsemble } from "../_tree_model.ts";

/** A typed array that grows by doubling. */
class Growable<A extends Int32Array | Float32Array | Uint8Array> {
  #data: A;
  #length = 0;
  readonly #make: (n: number) => A;

  constructor(make: (n: number) => A) {
    this.#make = make;
    this.#data = make(1024);
  }

  /** Room for `count` more entries; returns the offset where they start. */
  reserve(count: number): number {
    const at = this.#length;
    if (at + count > this.#data.length) {
      const bigger = this.#make(Math.max(2 * this.#data.length, at + count));
      bigger.set(this.#data.subarray(0, at));
      this.#data = bigger;
    }
    this.#length += count;
    return at;
  }

  get data(): A {
    return this.#data;
  }

  /** The filled part, copied to an array of its own size. */
  done(): A {
    return this.#data.slice(0, this.#length) as A;
  }
}

/** Collects CART trees, every one writing outputs 0 .. width − 1. */
export class CartModelWriter {
  readonly nFeatures: number;
  readonly width: number;
  #treeStart: number[] = [0];
  #feature = new Growable((n) => new Int32Array(n));
  #threshold = new Growable((n) => new Float32Array(n));
  #defaultLeft = new Growable((n) => new Uint8Array(n));
  #left = new Growable((n) => new Int32Array(n));
  #right = new Growable((n) => new Int32Array(n));
  #value = new Growable((n) => new Float32Array(n));
  #gain = new Growable((n) => new Float32Array(n));
  #cover = new Growable((n) => new Float32Array(n));

  constructor(nFeatures: number, width: number) {
    this.nFeatures = nFeatures;
    this.width = width;
  }

  /** Adds a tree whose leaf values are multiplied by `scale` (1/trees for a forest's mean). */
  add(tree: CartTree, scale = 1): void {
    const n = tree.nodeCount, W = this.width;
    const base = this.#feature.reserve(n);
    this.#threshold.reserve(n);
    this.#defaultLeft.reserve(n);
    this.#left.reserve(n);
    this.#right.reserve(n);
    this.#gain.reserve(n);
    this.#cover.reserve(n);
    const valueAt = this.#value.reserve(n * W);
    const feature = this.#feature.data, threshold = this.#threshold.data;
    const defaultLeft = this.#defaultLeft.data, left = this.#left.data, right = this.#right.data;
    const value = this.#value.data, gain = this.#gain.data, cover = this.#cover.data;
    const w = tree.weightedNNodeSamples, imp = tree.impurity;
    for (let i = 0; i < n; i++) {
      const at = base + i, l = tree.left[i], r = tree.right[i];
      const isLeaf = tree.feature[i] < 0;
      feature[at] = isLeaf ? -1 : tree.feature[i];
      threshold[at] = isLeaf ? 0 : strictThreshold(tree.threshold[i]);
      defaultLeft[at] = tree.missingLeft[i];
      left[at] = isLeaf ? -1 : base + l;
      right[at] = isLeaf ? -1 : base + r;
      gain[at] = isLeaf ? 0 : saturateFloat32(w[i] * imp[i] - w[l] * imp[l] - w[r] * imp[r]);
      cover[at] = saturateFloat32(w[i]);
      for (let k = 0; k < W; k++) value[valueAt + i * W + k] = tree.value[i * W + k] * scale;
    }
    this.#treeStart.push(base + n);
  }

  /** The model of the trees added so far. */
  build(): TreeEnsemble {
    const nTrees = this.#treeStart.length - 1;
    return {
      nFeatures: this.nFeatures,
      nOutputs: this.width,
      leafWidth: this.width,
      baseMargin: new Float32Array(this.width),
      treeStart: Int32Array.from(this.#treeStart),
      treeGroup: new Int32Array(nTrees),
      feature: this.#feature.done(),
      threshold: this.#threshold.done(),
      defaultLeft: this.#defaultLeft.done(),
      left: this.#left.done(),
      right: this.#right.done(),
      value: this.#value.done(),
      gain: this.#gain.done(),
      cover: this.#cover.done(),
    };
  }
}
