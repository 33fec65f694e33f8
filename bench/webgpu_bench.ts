/**
 * WebGPU on the host's adapter: softmax attention (fp32, D = 64 and 128, N up to 4096) and GEMM
 * (fp32, up to 4096³). For each case:
 *
 * - **kernel**: the call's passes submitted again and again on buffers already on the device
 *   (each sample one submission of enough repeats for ~250 ms; median of five, taken in turns
 *   with the general shader's);
 * - **general**: the same for the general shader (64×64 GEMM tiles; 32-row flash blocks), the
 *   same-run baseline the wide shaders are measured against;
 * - **call**: the whole public call (`backend: "webgpu"`): upload, kernel, read back;
 * - **WASM**: the relaxed-SIMD WASM backend on every CPU thread of the host, same run.
 *
 * Every GPU result is first compared with the WASM backend's (largest absolute difference,
 * printed). A last table times what a whole call adds: uploads, read-backs and the scan for
 * non-finite inputs. A software adapter gets small sizes (`--quick` forces them anywhere).
 *
 *     deno run -A build.ts --wasm-only && deno run -A bench/webgpu_bench.ts [--quick]
 *
 * With `OUT` set, the figures are also written to $OUT/webgpu_bench.json.
 *
 * @module
 */
import { dispose, init, matmul, scaledDotProductAttention } from "../src/mod.ts";
import { gpuAdapterInfo, gpuDevice } from "../src/runtime/_gpu.ts";
import { type FlashForwardArgs, flashItemCount } from "../src/backends/attention.ts";
import {
  flashDispatch,
  type FlashShader,
  webgpuAttention,
} from "../src/backends/webgpu/attention.ts";
import { matmulDispatch, type MatmulShader } from "../src/backends/webgpu/matmul.ts";
import { type Pass, readBack, storageBuffer, submit } from "../src/backends/webgpu/_buffers.ts";
import { allFinite } from "../src/_validate.ts";
import { fmt, machine, median, medianMs, randomF32, table } from "./_harness.ts";

const threads = navigator.hardwareConcurrency ?? 1;
await init({ threads }); // before the device: init() releases the one it finds
const device = await gpuDevice();
if (device === null) {
  console.log("No WebGPU adapter here: nothing to measure.");
  Deno.exit(0);
}
const info = gpuAdapterInfo()!;
const quick = Deno.args.includes("--quick") || info.software;

/**
 * Median ms of one submission of each entry's passes: samples of enough repeats for ~250 ms
 * submitted together, taken in turns (five rounds of every entry), so that each ratio compares
 * samples seconds apart whatever the GPU's clocks do. Each wait for the GPU costs Deno ~10 ms
 * beyond the work, so a sample's repeats must be long next to that.
 */
async function kernelMs(entries: Record<string, Pass[]>): Promise<Record<string, number>> {
  const once = async (passes: Pass[], repeats: number) => {
    const start = performance.now();
    submit(device!, Array.from({ length: repeats }, () => passes).flat());
    await device!.queue.onSubmittedWorkDone();
    return (performance.now() - start) / repeats;
  };
  const repeats: Record<string, number> = {};
  const samples: Record<string, number[]> = {};
  for (const [name, passes] of Object.entries(entries)) {
    await once(passes, 1); // compiles the pipeline, first touch of the buffers
    // One kernel's time from 1 and 16 repeats, free of the wait's fixed cost.
    const [one, sixteen] = [await once(passes, 1), 16 * await once(passes, 16)];
    const each = Math.max(0.01, (sixteen - one) / 15);
    repeats[name] = Math.max(1, Math.min(2000, Math.ceil(250 / each)));
    samples[name] = [];
  }
  for (let round = 0; round < 5; round++) {
    for (const [name, passes] of Object.entries(entries)) {
      samples[name].push(await once(passes, repeats[name]));
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, ms]) => [name, median(ms)]));
}

/** Largest |a − b| over two arrays, and the largest |b| (for scale). */
function maxDiff(a: Float32Array, b: Float32Array): string {
  let diff = 0, size = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    size = Math.max(size, Math.abs(b[i]));
  }
  return `${diff.toExponential(1)} (of ${size.toFixed(2)})`;
}

const gflops = (flop: number, ms: number) => flop / ms / 1e6;
const attentionRows: Array<Array<string | number>> = [];
const gemmRows: Array<Array<string | number>> = [];
const figures: Record<string, unknown>[] = [];

// --- Softmax attention ---------------------------------------------------------------------

const attentionCases = quick
  ? [{ batch: 1, heads: 2, n: 256, d: 64, causal: false, wasm: true }]
  : [
    { batch: 1, heads: 8, n: 1024, d: 64, causal: false, wasm: true },
    { batch: 1, heads: 8, n: 4096, d: 64, causal: false, wasm: true },
    { batch: 1, heads: 8, n: 4096, d: 64, causal: true, wasm: true },
    { batch: 1, heads: 32, n: 4096, d: 64, causal: false, wasm: false },
    { batch: 4, heads: 16, n: 4096, d: 64, causal: false, wasm: false },
    { batch: 1, heads: 8, n: 4096, d: 128, causal: false, wasm: true },
    { batch: 2, heads: 16, n: 4096, d: 128, causal: false, wasm: false },
  ];
for (const { batch, heads, n, d: D, causal, wasm } of attentionCases) {
  const shape = [batch, heads, n, D];
  const size = batch * heads * n * D;
  const [q, k, v] = [1, 2, 3].map((seed) => ({ data: randomF32(size, seed), shape }));
  const args: FlashForwardArgs = {
    q: q.data, k: k.data, v: v.data, out: new Float32Array(size), lse: null, mask: null,
    batch, heads, kvHeads: heads, queryLength: n, keyLength: n, headDim: D, valueDim: D,
    scale: 1 / Math.sqrt(D), isCausal: causal, maskBatchStride: 0, maskHeadStride: 0,
    maskRowStride: 0, queryBlock: 64,
  };
  // FLOPs of QKᵀ and PV; a causal call does about half.
  const flop = 4 * batch * heads * n * n * D * (causal ? 0.5 : 1);
  const label = `SDPA B${batch} H${heads} N=${n} D=${D}${causal ? " causal" : ""}`;

  const buffers: GPUBuffer[] = [];
  const track = (buffer: GPUBuffer) => (buffers.push(buffer), buffer);
  const calls = Object.fromEntries((["auto", "general"] as FlashShader[]).map((shader) => [
    shader,
    flashDispatch(device, args, 0, flashItemCount(args), track, shader),
  ]));
  const times = await kernelMs({ auto: calls.auto.passes, general: calls.general.passes });
  buffers.forEach((buffer) => buffer.destroy());
  const gpu = await scaledDotProductAttention(q, k, v, { causal, backend: "webgpu" });
  const general = { ...args, out: new Float32Array(size) };
  await webgpuAttention(device, { flashShader: "general" }).flashForward(general);
  let check = `general ${maxDiff(gpu.data, general.out)}`;
  let wasmMs = NaN;
  if (wasm) {
    const cpu = await scaledDotProductAttention(q, k, v, { causal, backend: "wasm" });
    check = `WASM ${maxDiff(gpu.data, cpu.data)}`;
    wasmMs = await medianMs(() => scaledDotProductAttention(q, k, v, { causal, backend: "wasm" }),
      { runs: 3, minMs: 0 });
  }
  const callMs = await medianMs(
    () => scaledDotProductAttention(q, k, v, { causal, backend: "webgpu" }),
    { runs: 5, minMs: 0 },
  );
  attentionRows.push([
    label, calls.auto.shader, fmt(gflops(flop, times.auto)), fmt(gflops(flop, times.general)),
    fmt(times.general / times.auto, 2), fmt(gflops(flop, callMs)),
    fmt(gflops(flop, wasmMs)), fmt(wasmMs / callMs, 1), check,
  ]);
  figures.push({ label, flop, kernelMs: times, callMs, wasmMs });
  console.error(`done: ${label}`);
}

// --- GEMM ----------------------------------------------------------------------------------

// 4095³ takes the wide shader's scalar access (M, N, K not multiples of 4).
const gemmSizes = quick ? [256, 255] : [1024, 2048, 4096, 4095];
for (const n of gemmSizes) {
  const a = { data: randomF32(n * n, 5), shape: [n, n] };
  const b = { data: randomF32(n * n, 6), shape: [n, n] };
  const args = {
    a: a.data, b: b.data, c: new Float32Array(n * n), m: n, n, k: n,
    transposeA: false, transposeB: false, alpha: 1, beta: 0,
  };
  const flop = 2 * n ** 3;
  const label = `matmul ${n}³`;
  const calls = Object.fromEntries((["auto", "general"] as MatmulShader[]).map((shader) => [
    shader,
    matmulDispatch(device, args, shader),
  ]));
  const times = await kernelMs({ auto: [calls.auto], general: [calls.general] });
  Object.values(calls).forEach((call) => call.buffers.forEach((buffer) => buffer.destroy()));
  const gpu = await matmul(a, b, { backend: "webgpu" });
  const cpu = await matmul(a, b, { backend: "wasm" });
  const wasmMs = await medianMs(() => matmul(a, b, { backend: "wasm" }), { runs: 3, minMs: 0 });
  const callMs = await medianMs(() => matmul(a, b, { backend: "webgpu" }), { runs: 5, minMs: 0 });
  gemmRows.push([
    label, calls.auto.shader, fmt(gflops(flop, times.auto)), fmt(gflops(flop, times.general)),
    fmt(times.general / times.auto, 2), fmt(gflops(flop, callMs)),
    fmt(gflops(flop, wasmMs)), fmt(wasmMs / callMs, 1), `WASM ${maxDiff(gpu.data, cpu.data)}`,
  ]);
  figures.push({ label, flop, kernelMs: times, callMs, wasmMs });
  console.error(`done: ${label}`);
}

// --- Transfers: what a whole call adds to its kernel ----------------------------------------

const transferRows: Array<Array<string | number>> = [];
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
for (const mb of quick ? [8] : [8, 64]) {
  const data = randomF32(mb * 2 ** 18, 7);
  const bytes = data.byteLength;
  const timed = (fn: () => Promise<unknown> | unknown) => medianMs(fn, { runs: 5, minMs: 0 });
  const resident = storageBuffer(device, data);
  const dest = new Float32Array(data.length);
  const staging = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const probes: Array<[string, () => Promise<unknown> | unknown]> = [
    ["create a buffer", async () => {
      device.createBuffer({ size: bytes, usage }).destroy();
      await device.queue.onSubmittedWorkDone();
    }],
    ["upload into a new buffer (writeBuffer)", async () => {
      storageBuffer(device, data).destroy();
      await device.queue.onSubmittedWorkDone();
    }],
    ["upload into a kept buffer (writeBuffer)", async () => {
      device.queue.writeBuffer(resident, 0, data);
      await device.queue.onSubmittedWorkDone();
    }],
    ["upload, mapped at creation", async () => {
      const buffer = device.createBuffer({ size: bytes, usage, mappedAtCreation: true });
      new Float32Array(buffer.getMappedRange()).set(data);
      buffer.unmap();
      await device.queue.onSubmittedWorkDone();
      buffer.destroy();
    }],
    ["read back through a new staging buffer", () =>
      readBack(device, [{ source: resident, dest, first: 0, count: data.length }])],
    ["read back through a kept staging buffer", async () => {
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(resident, 0, staging, 0, bytes);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      dest.set(new Float32Array(staging.getMappedRange()));
      staging.unmap();
    }],
    ["finiteness scan (CPU)", () => allFinite(data)],
  ];
  for (const [label, fn] of probes) {
    const ms = await timed(fn);
    transferRows.push([label, mb, fmt(ms, 2), fmt(mb / 1024 / (ms / 1000), 2)]);
  }
  resident.destroy();
  staging.destroy();
}

await dispose();
const caption = `WebGPU on ${info.description}${info.software ? " (software)" : ""}; ` +
  `workgroup memory ${device.limits.maxComputeWorkgroupStorageSize} B; ${machine()}; ` +
  `WASM on ${threads} threads`;
console.log(`\n${caption}\n`);
const tail = [
  "kernel / general", "call GFLOP/s", "WASM GFLOP/s", "call / WASM", "largest difference",
];
const head = ["case", "shader", "kernel GFLOP/s", "general GFLOP/s"];
console.log(table([...head, ...tail], attentionRows));
console.log();
console.log(table([...head, ...tail], gemmRows));
console.log();
console.log(table(["transfer", "MB", "ms", "GB/s"], transferRows));
const out = Deno.env.get("OUT");
if (out) {
  await Deno.writeTextFile(`${out}/webgpu_bench.json`, JSON.stringify({ caption, figures }, null, 1));
}
