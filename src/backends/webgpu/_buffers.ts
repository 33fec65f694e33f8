/**
 * Small helpers shared by every WGSL kernel family: buffers, read-backs, submissions, and the
 * pieces that unroll generated WGSL.
 *
 * @module
 */

/** Creates a storage buffer holding `data` (at least 4 bytes: WebGPU refuses empty bindings). */
export function storageBuffer(device: GPUDevice, data: Float32Array | Uint32Array | Int32Array, extraUsage = 0): GPUBuffer {
  const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
  const buffer = device.createBuffer({
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage,
  });
  if (data.byteLength > 0) device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
  return buffer;
}

/** Creates an uninitialised storage buffer of `bytes` bytes. */
export function emptyStorageBuffer(device: GPUDevice, bytes: number): GPUBuffer {
  return device.createBuffer({
    size: Math.max(16, Math.ceil(bytes / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
}

/** Creates a uniform buffer from 32-bit words (u32 and f32 mixed through a DataView). */
export function uniformBuffer(device: GPUDevice, words: Array<["u32" | "f32", number]>): GPUBuffer {
  const size = Math.max(16, Math.ceil((words.length * 4) / 16) * 16);
  const view = new DataView(new ArrayBuffer(size));
  words.forEach(([type, value], i) => {
    if (type === "u32") view.setUint32(i * 4, value, true);
    else view.setFloat32(i * 4, value, true);
  });
  const buffer = device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, view.buffer);
  return buffer;
}

/** Floats [first, first + count) of a device buffer, copied to the same place in `dest`. */
export interface ReadRange {
  source: GPUBuffer;
  dest: Float32Array;
  first: number;
  count: number;
}

/**
 * Copies each range back to the host, straight from its mapped staging buffer (no intermediate
 * array). The copies share one submission and their maps are awaited together: each wait for
 * the GPU costs Deno ~10 ms beyond the work (measured on an H200), so separate awaits add up.
 */
export async function readBack(device: GPUDevice, ranges: ReadRange[]): Promise<void> {
  const live = ranges.filter((range) => range.count > 0);
  if (live.length === 0) return;
  const usage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
  const stagings = live.map(({ count }) => device.createBuffer({ size: count * 4, usage }));
  try {
    const encoder = device.createCommandEncoder();
    live.forEach(({ source, first, count }, i) =>
      encoder.copyBufferToBuffer(source, first * 4, stagings[i], 0, count * 4)
    );
    device.queue.submit([encoder.finish()]);
    await Promise.all(stagings.map((staging) => staging.mapAsync(GPUMapMode.READ)));
    live.forEach(({ dest, first, count }, i) => {
      dest.set(new Float32Array(stagings[i].getMappedRange(), 0, count), first);
      stagings[i].unmap();
    });
  } finally {
    for (const staging of stagings) staging.destroy();
  }
}

/** Caches one compute pipeline per (device, shader source, entry point). */
const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export function computePipeline(device: GPUDevice, code: string, entryPoint = "main"): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, cache = new Map());
  const key = `${entryPoint}\n${code}`;
  let pipeline = cache.get(key);
  if (!pipeline) {
    pipeline = device.createComputePipeline({
      layout: "auto",
      compute: { module: device.createShaderModule({ code }), entryPoint },
    });
    cache.set(key, pipeline);
  }
  return pipeline;
}

/** One dispatch: a pipeline, the buffers bound in order to group 0, and its workgroup grid. */
export interface Pass {
  pipeline: GPUComputePipeline;
  buffers: GPUBuffer[];
  groups: [number, number];
}

/** Encodes the dispatches in order in one submission. */
export function submit(device: GPUDevice, passes: Pass[]): void {
  const encoder = device.createCommandEncoder();
  for (const { pipeline, buffers, groups } of passes) {
    if (groups[0] === 0) continue;
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1]);
    pass.end();
  }
  device.queue.submit([encoder.finish()]);
}

/** Components of a vec4 by index, for unrolled code. */
export const XYZW = ["x", "y", "z", "w"];
/** `body(i)` for i = 0 .. count − 1, joined by newlines (to unroll register blocks). */
export const unroll = (count: number, body: (i: number) => string) =>
  Array.from({ length: count }, (_, i) => body(i)).join("\n");
