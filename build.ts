/**
 * Builds Tessera:
 *
 *   assembly/index.ts ──asc──► build/tessera-{simd,relaxed}[-shared].wasm   (4 variants)
 *   src/runtime/_worker.ts ──esbuild──► worker source (string)
 *   src/mod.ts ──esbuild──► dist/tessera.js        WASM + worker inlined, one ES module
 *                      └──► dist/edge/tessera.js   WASM as a module import (workerd)
 *                           dist/edge/tessera.wasm
 *
 * The source tree runs without bundling too (Deno tests import src/ directly): there
 * src/runtime/_assets.ts reads build/*.wasm, so `deno task build` must have run once.
 *
 * Usage: deno run -A build.ts [--wasm-only]
 */
import * as esbuild from "esbuild";

const root = new URL(".", import.meta.url);
const path = (p: string) => new URL(p, root).pathname;

/** The WASM variants; the runtime picks one by feature detection. */
export const WASM_VARIANTS = {
  "simd": ["--enable", "simd"],
  "relaxed": ["--enable", "simd", "--enable", "relaxed-simd"],
  "simd-shared": ["--enable", "simd", "--enable", "threads", "--sharedMemory"],
  "relaxed-shared": [
    "--enable", "simd", "--enable", "relaxed-simd", "--enable", "threads", "--sharedMemory",
  ],
} as const;
type Variant = keyof typeof WASM_VARIANTS;

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

const common: esbuild.BuildOptions = {
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "neutral",
  mainFields: ["module", "main"],
  external: ["node:*"],
  legalComments: "none",
  logLevel: "warning",
  // Shipped minified, with class and function names kept (error messages name constructors)
  // and a linked source map back to src/.
  minify: true,
  keepNames: true,
};

export async function build(opts: { wasmOnly?: boolean } = {}): Promise<void> {
  await Deno.mkdir(path("build"), { recursive: true });
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

  const inlined = `
    export const ASSET_MODE = "bundle";
    const WASM = ${JSON.stringify(Object.fromEntries(variants.map((v) => [v, base64(wasm[v])])))};
    export const WORKER_SOURCE = ${JSON.stringify(workerSource)};
    export function wasmBytes(variant) {
      const s = atob(WASM[variant]);
      const bytes = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
      return bytes;
    }
    export async function loadWasmModule(variant) {
      return WebAssembly.compile(wasmBytes(variant));
    }
    export function workerUrl() { return null; }
  `;
  await esbuild.build({
    ...common,
    entryPoints: [path("src/mod.ts")],
    outfile: path("dist/tessera.js"),
    sourcemap: "linked",
    plugins: [assetsPlugin(inlined)],
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
  await Deno.mkdir(path("dist/edge"), { recursive: true });
  await esbuild.build({
    ...common,
    entryPoints: [path("src/mod.ts")],
    outfile: path("dist/edge/tessera.js"),
    sourcemap: "linked",
    plugins: [assetsPlugin(edge)],
    external: ["node:*", "./tessera.wasm"],
  });
  await Deno.writeFile(path("dist/edge/tessera.wasm"), wasm["simd"]);
  await esbuild.stop();
}

if (import.meta.main) {
  const t0 = performance.now();
  await build({ wasmOnly: Deno.args.includes("--wasm-only") });
  const size = (p: string) => Deno.statSync(path(p)).size;
  if (!Deno.args.includes("--wasm-only")) {
    console.log(
      `built dist/tessera.js (${(size("dist/tessera.js") / 1024).toFixed(0)} KiB), ` +
        `dist/edge/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
}
