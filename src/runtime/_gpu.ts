/**
 * The WebGPU device, requested once on first use.
 *
 * @module
 */

let devicePromise: Promise<GPUDevice | null> | null = null;
let adapterInfo: { software: boolean; description: string } | null = null;

/** True where the host exposes `navigator.gpu`. */
export function hasWebGpuApi(): boolean {
  return typeof navigator !== "undefined" && "gpu" in navigator && !!navigator.gpu;
}

let adapterProbe: Promise<boolean> | null = null;

/**
 * Whether the host has a WebGPU adapter (the API alone is not enough: headless browsers and
 * GPU-less machines expose `navigator.gpu` and give no adapter). Asked once per process, and
 * given up after 2 s, so a host that never answers does not hold `init()`.
 */
export function hasGpuAdapter(): Promise<boolean> {
  adapterProbe ??= (async () => {
    if (!hasWebGpuApi()) return false;
    if (adapterInfo !== null) return true;
    const timeout = new Promise<null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 2000);
      (timer as { unref?: () => void }).unref?.();
    });
    try {
      return (await Promise.race([navigator.gpu.requestAdapter(), timeout])) !== null;
    } catch {
      return false;
    }
  })();
  return adapterProbe;
}

/** The shared GPUDevice, or null where none can be had. */
export function gpuDevice(): Promise<GPUDevice | null> {
  devicePromise ??= (async () => {
    if (!hasWebGpuApi()) return null;
    try {
      const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
      if (!adapter) return null;
      const info = adapter.info ?? ({} as GPUAdapterInfo);
      const description = [info.vendor, info.architecture, info.device, info.description]
        .filter(Boolean).join(" ");
      const software = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
        /llvmpipe|swiftshader|lavapipe|software/i.test(description);
      adapterInfo = { software, description };
      const limits = adapter.limits;
      return await adapter.requestDevice({
        requiredLimits: {
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
    } catch {
      return null;
    }
  })();
  return devicePromise;
}

/** What the adapter is, once gpuDevice() has resolved; null before or where there is none. */
export function gpuAdapterInfo(): { software: boolean; description: string } | null {
  return adapterInfo;
}

/** Destroys the device; a later gpuDevice() requests a new one. */
export async function releaseGpu(): Promise<void> {
  const device = await devicePromise;
  device?.destroy();
  devicePromise = null;
  adapterInfo = null;
}
