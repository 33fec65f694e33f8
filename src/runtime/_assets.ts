/**
 * Where the WASM bytes and the worker code come from. This file serves the source tree (Deno
 * running src/ directly, after `deno task build` wrote build/*.wasm); build.ts replaces it in
 * dist/tessera.js (worker code inlined, each WASM build a module loaded on demand) and in
 * dist/edge/ (a `.wasm` module import).
 *
 * @module
 */

/** "source": src/ run directly; "bundle": dist/tessera.js; "edge": dist/edge/tessera.js. */
export const ASSET_MODE: "source" | "bundle" | "edge" = "source";

/** The bundled worker's code, in bundle mode only. */
export const WORKER_SOURCE: string | null = null;

/**
 * Each variant's compiled module, kept for the process's (or page's) life: `init()` again (a new
 * thread count, say) reuses it. Firefox compiles a module with its baseline compiler first and
 * optimises it in the background, which took it 1.3–1.8 s here; compiling again on every
 * `init()` started that over, and the calls after each ran up to 2–3× slower meanwhile.
 */
const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles one WASM variant (see WASM_VARIANTS in build.ts), once. */
export function loadWasmModule(variant: string): Promise<WebAssembly.Module> {
  let module = compiled.get(variant);
  if (module === undefined) {
    module = (async () => {
      const url = new URL(`../../build/tessera-${variant}.wasm`, import.meta.url);
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(url);
      } catch (cause) {
        throw new Error(`Missing ${url.pathname}: run \`deno task build\` first`, { cause });
      }
      return WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    })();
    compiled.set(variant, module);
    module.catch(() => compiled.delete(variant));
  }
  return module;
}

/** The worker's module URL in source mode; null where the worker code is inlined. */
export function workerUrl(): URL | null {
  return new URL("./_worker.ts", import.meta.url);
}
