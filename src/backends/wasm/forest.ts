/**
 * The `forest` kernel family on the WASM runtime (assembly/forest.ts): a session copies the bin
 * matrix and targets into WASM memory once; each `grow` deals one task per tree to the worker
 * pool, every task with its own scratch and output regions, so trees never depend on which
 * thread grew them or on how many threads there are.
 *
 * ```
 *  resident (session)   bins u8·F·n │ nBins i32·F │ labels i32·n or targets f64·n
 *  per grow call        params f64 │ weights f64·n │ per tree: scratch │ out (header + nodes)
 * ```
 *
 * @module
 */
import type { Task, WasmRuntime } from "../../runtime/_wasm.ts";
import {
  type ForestData,
  type ForestKernels,
  type ForestSession,
  GROW_PARAM,
  type GrownTree,
  nodeCapacity,
  valueWidth,
} from "../forest.ts";

/** Bytes of the output header (node count, max depth). */
const OUT_HEADER = 8;
/** Most bytes of scratch and output one `run` may hold at once. */
const MAX_BATCH_BYTES = 512 * 1024 * 1024;

class WasmSession implements ForestSession {
  readonly #runtime: WasmRuntime;
  readonly #data: ForestData;
  readonly #blocks: number[] = [];
  readonly #bins: number;
  readonly #nBins: number;
  readonly #labels: number;
  readonly #targets: number;
  readonly #inputs: [number, number][];

  constructor(runtime: WasmRuntime, data: ForestData) {
    this.#runtime = runtime;
    this.#data = data;
    try {
      const cells = data.nRows * data.nFeatures;
      this.#bins = this.#put(data.bins.subarray(0, cells));
      this.#nBins = this.#put(data.nBins);
      this.#labels = data.labels === null ? 0 : this.#put(data.labels);
      this.#targets = data.targets === null ? 0 : this.#put(data.targets);
      this.#inputs = [[this.#bins, cells], [this.#nBins, data.nFeatures * 4]];
      if (this.#labels) this.#inputs.push([this.#labels, data.nRows * 4]);
      if (this.#targets) this.#inputs.push([this.#targets, data.nRows * 8]);
    } catch (error) {
      this.release();
      throw error;
    }
  }

  #put(array: Uint8Array | Int32Array | Float64Array): number {
    const ptr = this.#runtime.heap.alloc(Math.max(8, array.byteLength));
    this.#blocks.push(ptr);
    new Uint8Array(this.#runtime.memory.buffer, ptr, array.byteLength).set(
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength),
    );
    return ptr;
  }

  async grow(
    params: Float64Array,
    trees: Int32Array,
    weights: Float64Array | null,
  ): Promise<GrownTree[]> {
    const d = this.#data, runtime = this.#runtime;
    const width = valueWidth(params);
    const capacity = nodeCapacity(params, d.nRows);
    const stride = 48 + 8 * width;
    const outBytes = OUT_HEADER + capacity * stride;
    const scratchBytes = runtime.call(
      "forest_scratch_bytes",
      d.nRows,
      d.nFeatures,
      params[GROW_PARAM.nClasses],
      params[GROW_PARAM.maxLeafNodes],
    ) >>> 0;
    const perTree = Math.ceil((outBytes + scratchBytes) / 64) * 64;
    const batch = Math.max(1, Math.min(trees.length, Math.floor(MAX_BATCH_BYTES / perTree)));
    const grown: GrownTree[] = [];
    for (let first = 0; first < trees.length; first += batch) {
      const some = trees.subarray(first, Math.min(trees.length, first + batch));
      grown.push(
        ...await this.#growBatch(params, some, weights, {
          capacity,
          stride,
          outBytes,
          scratchBytes,
        }),
      );
    }
    return grown;
  }

  #growBatch(
    params: Float64Array,
    trees: Int32Array,
    weights: Float64Array | null,
    sizes: { capacity: number; stride: number; outBytes: number; scratchBytes: number },
  ): Promise<GrownTree[]> {
    const d = this.#data;
    return this.#runtime.scope(async (s) => {
      const paramsPtr = s.put(params);
      const weightsPtr = weights === null ? 0 : s.put(weights);
      const inputs: [number, number][] = [...this.#inputs, [paramsPtr, params.byteLength]];
      if (weightsPtr) inputs.push([weightsPtr, d.nRows * 8]);
      const outs: number[] = [];
      const tasks: Task[] = [];
      for (const tree of trees) {
        const out = s.alloc(sizes.outBytes);
        const scratch = s.alloc(sizes.scratchBytes);
        outs.push(out);
        tasks.push({
          kernel: "forest_grow_tree",
          args: [
            out,
            sizes.capacity,
            this.#bins,
            this.#nBins,
            this.#labels,
            this.#targets,
            weightsPtr,
            paramsPtr,
            scratch,
            d.nRows,
            d.nFeatures,
            tree,
          ],
          inputs,
          outputs: [[out, sizes.outBytes]],
          scratch: [[scratch, sizes.scratchBytes]],
        });
      }
      await s.run(tasks);
      return outs.map((out) => readTree(this.#runtime, out, sizes.stride, valueWidth(params)));
    });
  }

  release(): void {
    for (const ptr of this.#blocks.splice(0)) this.#runtime.heap.free(ptr);
  }
}

/** Unpacks a kernel's output region (see assembly/forest.ts). */
function readTree(runtime: WasmRuntime, out: number, stride: number, width: number): GrownTree {
  const buffer = runtime.memory.buffer;
  const header = new Int32Array(buffer, out, 2);
  const n = header[0];
  const tree: GrownTree = {
    nodeCount: n,
    feature: new Int32Array(n),
    lowBin: new Int32Array(n),
    splitBin: new Int32Array(n),
    missingLeft: new Uint8Array(n),
    left: new Int32Array(n),
    right: new Int32Array(n),
    nNodeSamples: new Int32Array(n),
    weightedNNodeSamples: new Float64Array(n),
    impurity: new Float64Array(n),
    value: new Float64Array(n * width),
    maxDepth: header[1],
  };
  const ints = new Int32Array(buffer, out + OUT_HEADER, (n * stride) / 4);
  const floats = new Float64Array(buffer, out + OUT_HEADER, (n * stride) / 8);
  const intStride = stride / 4, floatStride = stride / 8;
  for (let i = 0; i < n; i++) {
    const o = i * intStride, f = i * floatStride;
    tree.feature[i] = ints[o];
    tree.lowBin[i] = ints[o + 1];
    tree.splitBin[i] = ints[o + 2];
    tree.missingLeft[i] = ints[o + 3];
    tree.left[i] = ints[o + 4];
    tree.right[i] = ints[o + 5];
    tree.nNodeSamples[i] = ints[o + 6];
    tree.weightedNNodeSamples[i] = floats[f + 4];
    tree.impurity[i] = floats[f + 5];
    for (let k = 0; k < width; k++) tree.value[i * width + k] = floats[f + 6 + k];
  }
  return tree;
}

/** The WASM backend of the family. */
export function wasmForest(runtime: WasmRuntime): ForestKernels {
  return { name: "wasm", open: (data) => new WasmSession(runtime, data) };
}
