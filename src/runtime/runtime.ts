/**
 * The runtime: `init`, `runtimeInfo`, `dispose`, and the lazily created WASM runtime that the
 * kernel families use.
 *
 * @module
 */
import type { Backend } from "../tensor.ts";
import { checkBackend, checkBoolean, checkNumber, checkOptions } from "../_validate.ts";
import { ASSET_MODE, loadWasmModule } from "./_assets.ts";
import { detectFeatures, type Features } from "./_features.ts";
import { gpuAdapterInfo, gpuDevice, hasGpuAdapter, hasWebGpuApi, releaseGpu } from "./_gpu.ts";
import { WasmRuntime } from "./_wasm.ts";

/** What the runtime found and chose. */
export interface RuntimeInfo {
  /** The default backend for calls that say `auto` or nothing. */
  backend: Backend;
  /** Threads running WASM kernels (1 = in the calling thread). */
  threads: number;
  simd: boolean;
  relaxedSimd: boolean;
  /** WASM memory is a shared WebAssembly.Memory: workers read inputs in place, no copies. */
  sharedMemory: boolean;
  /** A WebGPU adapter is available (Deno: the API is, until a call asks for an adapter). */
  webgpu: boolean;
  /** The WASM build in use, e.g. "relaxed-shared"; null when WASM is not usable. */
  wasmVariant: string | null;
  /** Describes the WebGPU adapter when one was found. */
  gpuAdapter: string | null;
}

interface State {
  features: Features;
  backend: Backend;
  threads: number;
  relaxed: boolean;
  wasm: Promise<WasmRuntime | null>;
  webgpu: boolean;
}

let state: State | null = null;
let pending: Promise<State> | null = null;
/** The WASM memory maximum (64 KiB pages) of the next runtime started; null: MAXIMUM_PAGES. */
let maximumPages: number | null = null;

/**
 * Test hook, not public: caps the WASM memory of runtimes started by later `init()` calls at
 * `pages` of 64 KiB (null: the default 2 GiB), so tests reach the memory limits with small
 * inputs.
 */
export function setWasmMaximumPages(pages: number | null): void {
  maximumPages = pages;
}

function chooseVariant(features: Features, relaxed: boolean): string | null {
  if (!features.simd) return null;
  if (ASSET_MODE === "edge") return "simd";
  const base = relaxed && features.relaxedSimd ? "relaxed" : "simd";
  // Shared memory also at one thread: its buffer is never detached by growth, so views of it
  // (handed to user callbacks) stay valid while kernels allocate.
  return features.sharedMemory ? `${base}-shared` : base;
}

/**
 * Each variant's compiled module, kept for the process's (or page's) life, whatever the asset
 * mode: `init()` again (a new thread count, say) reuses it instead of compiling it again
 * (Firefox: ~60–110 ms here until its optimising compiler is done, a baseline tier first).
 * A failed compile is not kept.
 */
const compiled = new Map<string, Promise<WebAssembly.Module>>();

function compiledModule(variant: string): Promise<WebAssembly.Module> {
  let module = compiled.get(variant);
  if (module === undefined) {
    module = loadWasmModule(variant);
    compiled.set(variant, module);
    module.catch(() => compiled.delete(variant));
  }
  return module;
}

async function start(
  backend: Backend,
  threadsOpt: number | undefined,
  relaxed: boolean,
): Promise<State> {
  const features = await detectFeatures();
  const canThread = features.workers !== null && ASSET_MODE !== "edge";
  const threads = canThread ? (threadsOpt ?? Math.min(4, features.hardwareConcurrency)) : 1;
  const variant = chooseVariant(features, relaxed);
  const wasm = variant === null ? Promise.resolve(null) : (async () =>
    WasmRuntime.create({
      module: await compiledModule(variant),
      variant,
      threads,
      features,
      maximumPages: maximumPages ?? undefined,
    }))();
  // Keep a failed start from leaving an unhandled rejection before anyone awaits it.
  wasm.catch(() => {});
  // Browsers expose navigator.gpu without an adapter (headless, blocklisted GPUs): ask for one.
  // Deno is not asked until a call wants WebGPU: isolates that request adapters abort the
  // process at exit now and then (glibc heap corruption; measured 1 in 30 `deno test
  // --parallel` runs of a dozen files that only probe, 0 in 40 without the probe).
  const webgpu = backend === "webgpu"
    ? (await gpuDevice()) !== null
    : "Deno" in globalThis
    ? hasWebGpuApi()
    : await hasGpuAdapter();
  return { features, backend, threads, relaxed, wasm, webgpu };
}

/**
 * Starts the runtime: detects SIMD, relaxed SIMD, shared memory and WebGPU, compiles the WASM
 * build that fits, and starts the worker pool. Calling it again replaces the pool.
 *
 * @param opts.backend Default backend for every call (default `"auto"`).
 * @param opts.threads Threads for WASM kernels (default min(4, hardwareConcurrency); 1 runs in
 *   the calling thread; hosts without workers always use 1). More threads than cores are safe:
 *   while the threads find the cores contended (WebKit reports 4 on a 2-core machine), calls go
 *   to half of them; where memory is copied (a page without cross-origin isolation), a call
 *   takes at most a lane a hardware thread the host reports.
 * @param opts.relaxedSimd Use the relaxed-SIMD build where the engine has it (default true);
 *   false forces the plain SIMD build, whose results do not depend on the CPU's FMA.
 * @returns What was found and chosen.
 * @throws {RangeError} On an unknown backend or a thread count below 1.
 * @example
 * ```ts
 * import { dispose, init } from "./mod.ts";
 * const info = await init({ threads: 1 });
 * if (info.threads !== 1) throw new Error("expected one thread");
 * await dispose();
 * ```
 */
export async function init(
  opts: { backend?: Backend; threads?: number; relaxedSimd?: boolean } = {},
): Promise<RuntimeInfo> {
  checkOptions("opts", opts, ["backend", "threads", "relaxedSimd"]);
  checkBackend("backend", opts.backend);
  checkBoolean("relaxedSimd", opts.relaxedSimd);
  if (opts.threads !== undefined) checkNumber("threads", opts.threads, { min: 1, max: 256, integer: true });
  await dispose();
  pending = start(opts.backend ?? "auto", opts.threads, opts.relaxedSimd ?? true);
  try {
    state = await pending;
    await state.wasm;
  } catch (error) {
    state = null;
    throw error;
  } finally {
    pending = null;
  }
  return runtimeInfo();
}

/**
 * What the runtime found and chose. Before `init()` it reports the defaults not yet started.
 */
export function runtimeInfo(): RuntimeInfo {
  const s = state;
  const variant = s ? chooseVariant(s.features, s.relaxed) : null;
  const adapter = gpuAdapterInfo();
  return {
    backend: s?.backend ?? "auto",
    threads: s?.threads ?? 1,
    simd: s?.features.simd ?? false,
    relaxedSimd: !!variant?.startsWith("relaxed"),
    sharedMemory: !!variant?.endsWith("-shared"),
    webgpu: s?.webgpu ?? false,
    wasmVariant: variant,
    gpuAdapter: adapter?.description ?? null,
  };
}

/**
 * Ends the workers and releases the GPU device at once; the next call starts the runtime again.
 * Optional: idle workers never keep a Node or Deno process alive, so a script that does not
 * call it still exits when its own work is done.
 */
export async function dispose(): Promise<void> {
  const s = state ?? (pending ? await pending.catch(() => null) : null);
  state = null;
  if (s) await (await s.wasm.catch(() => null))?.dispose();
  await releaseGpu();
}

async function ready(): Promise<State> {
  if (state) return state;
  if (pending) return pending;
  await init();
  return state!;
}

/** The WASM runtime, started with defaults on first use; null where WASM SIMD is missing. */
export async function wasmRuntime(): Promise<WasmRuntime | null> {
  return (await ready()).wasm;
}

/**
 * Resolves a call's `backend` option to the backend that runs it.
 * `auto` takes WebGPU only for work of at least `gpuWorthFlops` on a hardware adapter, else WASM
 * where it is usable, else the TypeScript reference.
 */
export async function resolveBackend(
  requested: Backend | undefined,
  work: { flops?: number; gpuWorthFlops?: number } = {},
): Promise<Exclude<Backend, "auto">> {
  const s = await ready();
  const choice = requested ?? s.backend;
  if (choice === "js") return "js";
  if (choice === "wasm") {
    if ((await s.wasm) === null) throw new Error("The wasm backend needs WebAssembly SIMD");
    return "wasm";
  }
  if (choice === "webgpu") {
    if ((await gpuDevice()) === null) throw new Error("The webgpu backend needs a WebGPU adapter");
    return "webgpu";
  }
  const worth = work.gpuWorthFlops ?? Infinity;
  if ((work.flops ?? 0) >= worth && s.webgpu && (await gpuDevice()) !== null &&
    gpuAdapterInfo()?.software === false) return "webgpu";
  return (await s.wasm) !== null ? "wasm" : "js";
}
