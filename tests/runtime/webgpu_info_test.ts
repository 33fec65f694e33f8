import assert from "node:assert/strict";
import { dispose, init, runtimeInfo } from "../../src/mod.ts";
import { HAS_ADAPTER } from "../_webgpu.ts";

Deno.test("runtimeInfo().webgpu says whether an adapter exists, not merely the API", async () => {
  const info = await init({ threads: 1 });
  try {
    assert.equal(info.webgpu, HAS_ADAPTER);
    assert.equal(runtimeInfo().webgpu, HAS_ADAPTER);
  } finally {
    await dispose();
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
