/**
 * Whether the WebGPU cases can run here, probed once. `WEBGPU_SKIP` is null where the host has
 * an adapter (Deno has a software one), else the reason those cases are skipped;
 * `TESSERA_TEST_NO_WEBGPU=1` skips them on purpose (to see the skips listed, or to save time on
 * a slow software adapter).
 *
 * @module
 */
import { gpuDevice, hasWebGpuApi, releaseGpu } from "../src/runtime/_gpu.ts";

/** Whether this runtime really has a WebGPU adapter, whatever TESSERA_TEST_NO_WEBGPU says. */
export const HAS_ADAPTER: boolean = await (async () => {
  if (!hasWebGpuApi()) return false;
  const found = (await gpuDevice()) !== null;
  await releaseGpu();
  return found;
})();

/** Null where the WebGPU cases run; otherwise why they are skipped. */
export const WEBGPU_SKIP: string | null = Deno.env.get("TESSERA_TEST_NO_WEBGPU") === "1"
  ? "WebGPU cases turned off by TESSERA_TEST_NO_WEBGPU=1"
  : !hasWebGpuApi()
  ? "no WebGPU API (navigator.gpu) in this runtime"
  : HAS_ADAPTER
  ? null
  : "no WebGPU adapter on this host";
