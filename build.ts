/**
 * Builds Tessera:
 *
 *   assembly/index.ts ──asc──► build/tessera-{simd,relaxed}[-shared].wasm   (4 variants)
 *   src/runtime/_worker.ts ──esbuild──► worker source (string)
 *   src/mod.ts ──esbuild──► dist/tessera.js          worker inlined, one ES module
 *                      │    dist/tessera.simd.js     one WASM build each, base64, imported by
 *                      │    dist/tessera.relaxed.js  tessera.js on demand ("-shared" derived)
 *                      └──► dist/edge/tessera.js     WASM as a module import (workerd)
 *                           dist/edge/tessera.wasm
 *   src/ ──tsc──► build/types/ ──rollup-plugin-dts──► dist/tessera.d.ts, dist/edge/tessera.d.ts
 *   examples/playground/build.ts ──► examples/playground/out/ (uPlot bundled, data sets as CSV)
 *
 * The source tree runs without bundling too (Deno tests import src/ directly): there
 * src/runtime/_assets.ts reads build/*.wasm, so `deno task build` must have run once.
 *
 * Usage: deno run -A build.ts [--wasm-only]
 */
import * as esbuild from "esbuild";
import { rollup } from "rollup";
import { dts } from "rollup-plugin-dts";
import { withSharedMemory } from "./src/runtime/_shared_memory.ts";
import { buildPlayground } from "./examples/playground/build.ts";

const root = new URL(".", import.meta.url);
const path = (p: string) => new URL(p, root).pathname;

/** The WASM variants; the runtime picks one by feature detection. */
export const WASM_VARIANTS = {
  "simd": ["--enable", "simd", "--enable", "threads"],
  "relaxed": ["--enable", "simd", "--enable", "relaxed-simd", "--enable", "threads"],
  "simd-shared": ["--enable", "simd", "--enable", "threads", "--sharedMemory"],
  "relaxed-shared": [
    "--enable", "simd", "--enable", "relaxed-simd", "--enable", "threads", "--sharedMemory",
  ],
} as const;
type Variant = keyof typeof WASM_VARIANTS;

/** The builds dist/ carries; the "-shared" ones are derived from them when loaded. */
const SHIPPED_VARIANTS = ["simd", "relaxed"] as const;

/** First line of each bundle: Deno and CDN users find the declarations through it. */
const TYPES_BANNER = `/* @ts-self-types="./tessera.d.ts" */`;
const BUILD_BANNER = "// Tessera (tessera-ml): one WASM build, base64; loaded by tessera.js on demand.";

/** Pages of 64 KiB; must equal MAXIMUM_PAGES in src/backends/wasm/_memory.ts. */
const MAXIMUM_PAGES = 32768;

/** A digest of every AssemblyScript source and the compiler's version. */
async function sourceDigest(): Promise<string> {
  const parts: string[] = [];
  for (const entry of [...Deno.readDirSync(path("assembly"))].sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isFile) parts.push(entry.name, await Deno.readTextFile(path(`assembly/${entry.name}`)));
  }
  parts.push(await Deno.readTextFile(path("node_modules/assemblyscript/package.json")));
  const bytes = new TextEncoder().encode(parts.join("\0"));
  const hash = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compiles one variant unless build/ already holds it for the same sources and flags. */
async function compileWasm(variant: Variant, digest: string): Promise<Uint8Array> {
  const out = path(`build/tessera-${variant}.wasm`);
  const stamp = `${out}.stamp`;
  const key = `${digest} ${WASM_VARIANTS[variant].join(" ")} ${MAXIMUM_PAGES}`;
  try {
    if ((await Deno.readTextFile(stamp)) === key) return await Deno.readFile(out);
  } catch {
    // not built yet
  }
  const args = [
    path("node_modules/assemblyscript/bin/asc.js"), path("assembly/index.ts"),
    "-O3", "--runtime", "stub", "--noAssert", "--importMemory", "--noExportMemory",
    "--maximumMemory", String(MAXIMUM_PAGES), ...WASM_VARIANTS[variant], "-o", out,
  ];
  const { code, stderr } = await new Deno.Command("node", { args, stderr: "piped" }).output();
  if (code !== 0) throw new Error(`asc failed for ${variant}:\n${new TextDecoder().decode(stderr)}`);
  await Deno.writeTextFile(stamp, key);
  return Deno.readFile(out);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** An esbuild plugin that swaps src/runtime/_assets.ts for generated contents. */
function assetsPlugin(contents: string): esbuild.Plugin {
  return {
    name: "tessera-assets",
    setup(build) {
      build.onResolve({ filter: /^\.\/_assets\.ts$/ }, (args) => ({
        path: args.path,
        namespace: "tessera-assets",
      }));
      build.onLoad({ filter: /.*/, namespace: "tessera-assets" }, () => ({
        contents,
        loader: "ts",
        resolveDir: path("src/runtime"),
      }));
    },
  };
}

/** An esbuild plugin that leaves matching imports as they are written (resolved at run time). */
function keepExternal(filter: RegExp): esbuild.Plugin {
  return {
    name: "tessera-keep-external",
    setup(build) {
      build.onResolve({ filter }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/**
 * Emits declarations from src/ with tsc (typescript from npm) into build/types/, then rolls
 * them into one file with rollup-plugin-dts, JSDoc kept. tsc reports the environment-specific
 * names it cannot see in function bodies (Deno, WebGPU constants); the emitted declarations do
 * not depend on them, and `deno check` type-checks the sources themselves.
 */
async function declarations(): Promise<string> {
  const out = path("build/types");
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await new Deno.Command("node", {
    args: [
      path("node_modules/typescript/bin/tsc"), path("src/mod.ts"), "--declaration",
      "--emitDeclarationOnly", "--allowImportingTsExtensions", "--rootDir", path("src"),
      "--outDir", out, "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler",
      "--lib", "es2024,dom,dom.iterable", "--skipLibCheck", "--types", "node",
    ],
    stdout: "null",
  }).output();
  const input = `${out}/mod.d.ts`;
  try {
    await Deno.stat(input);
  } catch {
    throw new Error("tsc emitted no declarations for src/mod.ts");
  }
  const bundle = await rollup({ input, plugins: [dts()] });
  const { output } = await bundle.generate({ format: "es" });
  await bundle.close();
  return output[0].code;
}

const common: esbuild.BuildOptions = {
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "neutral",
  mainFields: ["module", "main"],
  external: ["node:*"],
  legalComments: "none",
  logLevel: "warning",
  // Shipped minified with a linked source map back to src/. Names are not kept (6 KiB gzip):
  // messages and serialised models spell estimator and kernel names out as strings, never
  // through a class's or function's .name (the bundle suites check every area through dist/).
  minify: true,
};

export async function build(opts: { wasmOnly?: boolean } = {}): Promise<void> {
  await Deno.mkdir(path("build"), { recursive: true });
  if (!opts.wasmOnly) await Deno.remove(path("dist"), { recursive: true }).catch(() => {});
  const variants = Object.keys(WASM_VARIANTS) as Variant[];
  const digest = await sourceDigest();
  const wasm = Object.fromEntries(
    await Promise.all(variants.map(async (v) => [v, await compileWasm(v, digest)] as const)),
  ) as Record<Variant, Uint8Array>;
  if (opts.wasmOnly) return;

  const worker = await esbuild.build({
    ...common,
    entryPoints: [path("src/runtime/_worker.ts")],
    write: false,
  });
  const workerSource = worker.outputFiles[0].text;
  await Deno.mkdir(path("dist/edge"), { recursive: true });

  // The bundle carries the worker's code and loads one WASM build on demand: each build is a
  // small module beside it (dist/tessera.<variant>.js), fetched by a dynamic import relative to
  // the bundle, so a page downloads the build it runs and nothing else. Bundlers follow the
  // dynamic import like any other. The shared-memory builds are derived from the private ones.
  for (const base of SHIPPED_VARIANTS) {
    const derived = withSharedMemory(wasm[base]);
    if (!equalBytes(derived, wasm[`${base}-shared`])) {
      throw new Error(
        `build/tessera-${base}-shared.wasm is not tessera-${base}.wasm with a shared memory: ` +
          "ship the shared builds separately (see src/runtime/_shared_memory.ts)",
      );
    }
    await Deno.writeTextFile(
      path(`dist/tessera.${base}.js`),
      `${BUILD_BANNER}\nexport default ${JSON.stringify(base64(wasm[base]))};\n`,
    );
  }
  const inlined = `
    import { withSharedMemory } from "./_shared_memory.ts";
    export const ASSET_MODE = "bundle";
    export const WORKER_SOURCE = ${JSON.stringify(workerSource)};
    const BUILDS = {
      simd: () => import("./tessera.simd.js"),
      relaxed: () => import("./tessera.relaxed.js"),
    };
    export async function loadWasmModule(variant) {
      const shared = variant.endsWith("-shared");
      const { default: encoded } = await BUILDS[shared ? variant.slice(0, -7) : variant]();
      const s = atob(encoded);
      const bytes = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
      return WebAssembly.compile(shared ? withSharedMemory(bytes) : bytes);
    }
    export function workerUrl() { return null; }
  `;
  await esbuild.build({
    ...common,
    entryPoints: [path("src/mod.ts")],
    outfile: path("dist/tessera.js"),
    sourcemap: "linked",
    banner: { js: TYPES_BANNER },
    plugins: [assetsPlugin(inlined), keepExternal(/^\.\/tessera\.(simd|relaxed)\.js$/)],
  });

  // workerd refuses to compile WASM from bytes and has no Worker: import the module instead.
  const edge = `
    import module from "./tessera.wasm";
    export const ASSET_MODE = "edge";
    export const WORKER_SOURCE = null;
    export async function loadWasmModule(variant) {
      if (variant !== "simd") throw new Error("The edge build ships the SIMD variant only");
      return module;
    }
    export function workerUrl() { return null; }
  `;
  await esbuild.build({
    ...common,
    entryPoints: [path("src/mod.ts")],
    outfile: path("dist/edge/tessera.js"),
    sourcemap: "linked",
    banner: { js: TYPES_BANNER },
    plugins: [assetsPlugin(edge)],
    external: ["node:*", "./tessera.wasm"],
  });
  await Deno.writeFile(path("dist/edge/tessera.wasm"), wasm["simd"]);
  await buildPlayground(); // examples/playground/out/: uPlot and the data sets, for `npm start`
  await esbuild.stop();

  const types = await declarations();
  await Deno.writeTextFile(path("dist/tessera.d.ts"), types);
  await Deno.writeTextFile(path("dist/edge/tessera.d.ts"), types);
}

/** Raw and gzip sizes in bytes of the files a first result needs, per way of loading. */
export async function bundleSizes(): Promise<Record<string, { raw: number; gzip: number }>> {
  const measure = async (files: string[]) => {
    let raw = 0, gzip = 0;
    for (const f of files) {
      const bytes = await Deno.readFile(path(f));
      raw += bytes.length;
      const zipped = new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip")));
      gzip += (await zipped.arrayBuffer()).byteLength;
    }
    return { raw, gzip };
  };
  return {
    "dist/tessera.js": await measure(["dist/tessera.js"]),
    "dist/tessera.simd.js": await measure(["dist/tessera.simd.js"]),
    "dist/tessera.relaxed.js": await measure(["dist/tessera.relaxed.js"]),
    "first result (tessera.js + tessera.relaxed.js)": await measure([
      "dist/tessera.js", "dist/tessera.relaxed.js",
    ]),
    "dist/edge/tessera.js + tessera.wasm": await measure([
      "dist/edge/tessera.js", "dist/edge/tessera.wasm",
    ]),
    "dist/tessera.d.ts": await measure(["dist/tessera.d.ts"]),
  };
}

if (import.meta.main) {
  const t0 = performance.now();
  await build({ wasmOnly: Deno.args.includes("--wasm-only") });
  if (!Deno.args.includes("--wasm-only")) {
    console.log(`built dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    for (const [name, { raw, gzip }] of Object.entries(await bundleSizes())) {
      console.log(`  ${name}: ${kib(raw)} (${kib(gzip)} gzip)`);
    }
  }
}
