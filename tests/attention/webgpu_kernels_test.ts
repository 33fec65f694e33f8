/**
 * The WGSL attention kernels against the shared conformance suite. They run wherever Deno (or
 * a browser) offers a WebGPU adapter, software ones included; elsewhere the suite is skipped
 * with a warning.
 */
import { gpuDevice } from "../../src/runtime/_gpu.ts";
import { webgpuAttention } from "../../src/backends/webgpu/attention.ts";
import { attentionConformance } from "./_conformance.ts";

const device = await gpuDevice();
if (device === null) {
  console.warn("no WebGPU adapter on this host: the webgpu attention tests are skipped");
} else {
  attentionConformance({
    label: "webgpu",
    setup: () => Promise.resolve(webgpuAttention(device)),
    tolerance: { atol: 2e-5, rtol: 2e-4 },
  });
}
