/**
 * Picks the implementation of a kernel family for one call. Each family registers its backends
 * once as a `Family`; domain code asks `selectKernels(family, opts.backend, { flops })`.
 *
 * @module
 */
import type { Backend } from "../tensor.ts";
import { resolveBackend, wasmRuntime } from "../runtime/runtime.ts";
import { gpuDevice } from "../runtime/_gpu.ts";
import type { WasmRuntime } from "../runtime/_wasm.ts";
import { allFinite } from "../_validate.ts";

/** The registered backends of one kernel family. */
export interface Family<K> {
  readonly name: string;
  readonly js: K;
  readonly wasm?: (runtime: WasmRuntime) => K;
  readonly webgpu?: (device: GPUDevice) => K;
  /** Work (in flops) from which `auto` prefers a hardware GPU; omitted = never. */
  readonly gpuWorthFlops?: number;
}

const cache = new WeakMap<object, Map<string, unknown>>();

function memo<K>(owner: object, family: Family<K>, make: () => K): K {
  let byFamily = cache.get(owner);
  if (!byFamily) cache.set(owner, byFamily = new Map());
  if (!byFamily.has(family.name)) byFamily.set(family.name, make());
  return byFamily.get(family.name) as K;
}

/**
 * The kernels of `family` for a call's `backend` option (see resolveBackend).
 *
 * WGSL does not promise IEEE NaN and ±∞ behaviour (a shader compiler may assume finite values,
 * and `max` may drop a NaN), so a call whose `inputs` hold a non-finite value runs on WASM (or
 * the reference) instead of WebGPU: NaN and ±∞ then mean the same on every backend.
 *
 * @throws {RangeError} When the call runs on WASM and its `bytes` cannot fit in WASM memory.
 */
export async function selectKernels<K>(
  family: Family<K>,
  backend: Backend | undefined,
  work: {
    flops?: number;
    inputs?: readonly (ArrayLike<number> | null)[];
    /** WASM memory the call needs at least, by argument: checked before anything is allocated. */
    bytes?: Record<string, number>;
  } = {},
): Promise<K> {
  if (backend === "webgpu" && !family.webgpu) {
    throw new RangeError(`The "${family.name}" kernels have no webgpu backend; use "wasm" or "js"`);
  }
  const gpuWorthFlops = family.webgpu ? family.gpuWorthFlops : undefined;
  let choice = await resolveBackend(backend, { flops: work.flops, gpuWorthFlops });
  if (choice === "webgpu" && !(work.inputs ?? []).every((x) => x === null || allFinite(x))) {
    choice = await resolveBackend("auto", { flops: 0 });
  }
  if (choice === "webgpu") {
    const device = (await gpuDevice())!;
    return memo(device, family, () => family.webgpu!(device));
  }
  if (choice === "wasm" && family.wasm) {
    const runtime = (await wasmRuntime())!;
    if (work.bytes) runtime.checkFits(work.bytes);
    return memo(runtime, family, () => family.wasm!(runtime));
  }
  return family.js;
}
