// Bundles the fault cases (tests/runtime/_fault_cases.ts) for Node and Chromium, the way
// build.ts bundles dist/tessera.js: the worker's code inlined (started from a data: or blob:
// URL), the two WASM builds inlined as base64 (the shared ones derived from them). The cases
// reach the pool's internals, which dist/ does not export. Needs build/*.wasm (build.ts).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = new URL("../../", import.meta.url);
const path = (p) => fileURLToPath(new URL(p, root));

const common = {
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "neutral",
  mainFields: ["module", "main"],
  external: ["node:*"],
  logLevel: "warning",
  write: false,
};

/** Replaces src/runtime/_assets.ts with `contents`. */
function assets(contents) {
  return {
    name: "fault-assets",
    setup(build) {
      build.onResolve(
        { filter: /(^|\/)_assets\.ts$/ },
        (args) => ({ path: args.path, namespace: "fault-assets" }),
      );
      build.onLoad({ filter: /.*/, namespace: "fault-assets" }, () => ({
        contents,
        loader: "ts",
        resolveDir: path("src/runtime"),
      }));
    },
  };
}

/** The fault cases as one ES module's source, exporting `faultCases()` and `runFaultCases()`. */
export async function faultBundle() {
  const worker = await esbuild.build({ ...common, entryPoints: [path("src/runtime/_worker.ts")] });
  const wasm = {};
  for (const variant of ["simd", "simd-shared", "relaxed", "relaxed-shared"]) {
    wasm[variant] = (await readFile(path(`build/tessera-${variant}.wasm`))).toString("base64");
  }
  const contents = `
    export const ASSET_MODE = "bundle";
    export const WORKER_SOURCE = ${JSON.stringify(worker.outputFiles[0].text)};
    const BUILDS = ${JSON.stringify(wasm)};
    export async function loadWasmModule(variant) {
      const s = atob(BUILDS[variant]);
      const bytes = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
      return WebAssembly.compile(bytes);
    }
    export function workerUrl() { return null; }
  `;
  const out = await esbuild.build({
    ...common,
    entryPoints: [path("tests/runtime/_fault_cases.ts")],
    plugins: [assets(contents)],
  });
  await esbuild.stop();
  return out.outputFiles[0].text;
}
