import assert from "node:assert/strict";
import { dispose, init, runtimeInfo } from "../../src/mod.ts";
import { hasWebGpuApi } from "../../src/runtime/_gpu.ts";

// Browsers: runtimeInfo().webgpu is whether an adapter exists (tests/browser checks it against
// the page's own requestAdapter()). Deno: the API, without asking for an adapter at init.
Deno.test("runtimeInfo().webgpu in Deno reports the API without requesting an adapter at init", async () => {
  const gpu = navigator.gpu as GPU | undefined;
  const requestAdapter = gpu?.requestAdapter;
  let asked = 0;
  if (gpu && requestAdapter) {
    Object.defineProperty(gpu, "requestAdapter", {
      value: (...args: Parameters<GPU["requestAdapter"]>) => (asked++, requestAdapter.apply(gpu, args)),
      configurable: true,
    });
  }
  try {
    const info = await init({ threads: 1 });
    assert.equal(info.webgpu, hasWebGpuApi());
    assert.equal(runtimeInfo().webgpu, hasWebGpuApi());
    assert.equal(asked, 0);
  } finally {
    await dispose();
    if (gpu && requestAdapter) delete (gpu as unknown as { requestAdapter?: unknown }).requestAdapter;
  }
});

Deno.test("runtimeInfo().webgpu is false where navigator.gpu gives no adapter", async () => {
  // A fresh module instance, so the once-per-process probe runs again against the fake.
  // An own property on navigator shadows the prototype's getter; deleting it restores that.
  Object.defineProperty(navigator, "gpu", { value: { requestAdapter: () => Promise.resolve(null) }, configurable: true });
  try {
    const { hasGpuAdapter } = await import(`../../src/runtime/_gpu.ts?fresh=${Date.now()}`);
    assert.equal(await hasGpuAdapter(), false);
  } finally {
    delete (navigator as { gpu?: unknown }).gpu;
  }
});
