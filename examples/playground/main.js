/**
 * The playground page: imports the built Tessera bundle by URL (as from a CDN), shows what the
 * runtime found, and mounts the three panels (the diffusion panel's Digits part
 * has its own state and autorun). `?autorun` runs every panel with its defaults and
 * then sets document.body.dataset.done to "true" ("error" on a failure); `?bundle=URL` imports
 * the bundle from another URL (for example jsDelivr's copy of tessera-ml).
 *
 * @module
 */
import { mountTrees } from "./trees.js";
import { mountAttention } from "./attention.js";
import { mountDiffusion } from "./diffusion.js";
import { mountDigits } from "./digits.js";

const params = new URLSearchParams(location.search);
const bundleUrl = new URL(params.get("bundle") ?? "/dist/tessera.js", location.href).href;
document.getElementById("bundle-url").textContent = bundleUrl;

/**
 * Runs panels one at a time: init() restarts the worker pool, so the attention panel's thread
 * sweeps must not overlap a fit.
 */
let queue = Promise.resolve();
export function exclusive(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

/** Marks a panel's state (idle, running, done, cancelled, error) with an optional note. */
export function setState(panel, state, note = "") {
  const section = document.getElementById(panel);
  section.dataset.state = state;
  section.querySelector(".state").textContent = note ? `${state}: ${note}` : state;
}

/** The WebGPU adapter, if any: runtimeInfo().webgpu says whether the API exists. */
const adapter = navigator.gpu ? await navigator.gpu.requestAdapter().catch(() => null) : null;

function showRuntime(info) {
  const rows = [
    ["build", info.wasmVariant ?? "no WASM"],
    ["threads", info.threads],
    ["SIMD", info.simd ? "yes" : "no"],
    ["relaxed SIMD", info.relaxedSimd ? "yes" : "no"],
    ["shared memory", info.sharedMemory ? "yes" : "no (copies)"],
    [
      "WebGPU",
      !info.webgpu ? "no" : adapter ? (info.gpuAdapter ?? "adapter found") : "API, no adapter",
    ],
    ["default backend", info.backend],
  ];
  const dl = document.getElementById("runtime");
  dl.replaceChildren(...rows.map(([k, v]) => {
    const div = document.createElement("div");
    div.innerHTML = `<dt></dt><dd></dd>`;
    div.children[0].textContent = k;
    div.children[1].textContent = String(v);
    return div;
  }));
  document.getElementById("isolation").textContent = self.crossOriginIsolated
    ? "This page is cross-origin isolated: workers read the inputs in one shared WebAssembly.Memory."
    : "This page is not cross-origin isolated: workers get copies of their inputs.";
}

function fail(error) {
  console.error(error);
  document.body.dataset.done = "error";
  document.body.dataset.error = String(error?.stack ?? error);
}

async function main() {
  const tessera = await import(bundleUrl);
  const info = await tessera.init();
  showRuntime(info);
  const kit = {
    tessera,
    bundleUrl,
    adapter,
    exclusive,
    setState,
    refreshRuntime: () => showRuntime(tessera.runtimeInfo()),
  };
  const panels = [
    await mountTrees(kit),
    await mountAttention(kit),
    await mountDiffusion(kit),
    mountDigits(kit),
  ];
  // For tests and for poking at the library from the console.
  Object.assign(window, { tessera, playground: { panels } });
  if (params.has("autorun")) {
    for (const panel of panels) await panel.autorun();
    document.body.dataset.done = "true";
  }
}

main().catch(fail);
