/**
 * WebGPU on the host's adapter: softmax attention (fp32, D = 64, N up to 4096) and GEMM (fp32,
 * up to 4096³). For each case:
 *
 * - **kernel**: the call's passes submitted again and again on buffers already on the device
 *   (each sample one submission of enough repeats for ~50 ms; median of seven);
 * - **general**: the same for the general shader (64×64 GEMM tiles; 32-row flash blocks), the
 *   same-run baseline the wide shaders are measured against;
 * - **call**: the whole public call (`backend: "webgpu"`): upload, kernel, read back;
 * - **WASM**: the relaxed-SIMD WASM backend on every CPU thread of the host, same run.
 *
 * Every GPU result is first compared with the WASM backend's (largest absolute difference,
 * printed). A software adapter gets small sizes (`--quick` forces them anywhere).
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
import { type Pass, submit } from "../src/backends/webgpu/_buffers.ts";
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

/** Median ms of one submission of `passes`, from samples of `repeats` submitted together. */
async function kernelMs(passes: Pass[]): Promise<number> {
  const once = async (repeats: number) => {
    const start = performance.now();
    submit(device!, Array.from({ length: repeats }, () => passes).flat());
    await device!.queue.onSubmittedWorkDone();
    return (performance.now() - start) / repeats;
  };
  await once(1); // compiles the pipeline, first touch of the buffers
  const repeats = Math.max(1, Math.min(200, Math.ceil(50 / await once(1))));
  const samples: number[] = [];
  for (let s = 0; s < 7; s++) samples.push(await once(repeats));
  return median(samples);
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
  ? [{ batch: 1, heads: 2, n: 256, causal: false, wasm: true }]
  : [
    { batch: 1, heads: 8, n: 1024, causal: false, wasm: true },
    { batch: 1, heads: 8, n: 4096, causal: false, wasm: true },
    { batch: 1, heads: 8, n: 4096, causal: true, wasm: true },
    { batch: 1, heads: 32, n: 4096, causal: false, wasm: false },
    { batch: 4, heads: 16, n: 4096, causal: false, wasm: false },
  ];
const D = 64;
for (const { batch, heads, n, causal, wasm } of attentionCases) {
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

  const times: Record<string, number> = {};
  const shaders: Record<string, string> = {};
  for (const shader of ["auto", "wide64", "wide32", "general"] as FlashShader[]) {
    const buffers: GPUBuffer[] = [];
    const call = flashDispatch(device, args, 0, flashItemCount(args), (b) => (buffers.push(b), b),
      shader);
    try {
      times[shader] = await kernelMs(call.passes);
      shaders[shader] = call.shader;
    } finally {
      buffers.forEach((b) => b.destroy());
    }
  }
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
    label, shaders.auto, fmt(gflops(flop, times.auto)), fmt(gflops(flop, times.wide64)),
    fmt(gflops(flop, times.wide32)), fmt(gflops(flop, times.general)),
    fmt(times.general / times.auto, 2), fmt(gflops(flop, callMs)),
    fmt(gflops(flop, wasmMs)), fmt(wasmMs / callMs, 1), check,
  ]);
  figures.push({ label, flop, kernelMs: times, callMs, wasmMs });
  console.error(`done: ${label}`);
}

// --- GEMM ----------------------------------------------------------------------------------

const gemmSizes = quick ? [256] : [1024, 2048, 4096];
for (const n of gemmSizes) {
  const a = { data: randomF32(n * n, 5), shape: [n, n] };
  const b = { data: randomF32(n * n, 6), shape: [n, n] };
  const args = {
    a: a.data, b: b.data, c: new Float32Array(n * n), m: n, n, k: n,
    transposeA: false, transposeB: false, alpha: 1, beta: 0,
  };
  const flop = 2 * n ** 3;
  const label = `matmul ${n}³`;
  const times: Record<string, number> = {};
  const shaders: Record<string, string> = {};
  for (const shader of ["auto", "general"] as MatmulShader[]) {
    const call = matmulDispatch(device, args, shader);
    try {
      times[shader] = await kernelMs([call]);
      shaders[shader] = call.shader;
    } finally {
      call.buffers.forEach((buffer) => buffer.destroy());
    }
  }
  const gpu = await matmul(a, b, { backend: "webgpu" });
  const cpu = await matmul(a, b, { backend: "wasm" });
  const wasmMs = await medianMs(() => matmul(a, b, { backend: "wasm" }), { runs: 3, minMs: 0 });
  const callMs = await medianMs(() => matmul(a, b, { backend: "webgpu" }), { runs: 5, minMs: 0 });
  gemmRows.push([
    label, shaders.auto, fmt(gflops(flop, times.auto)), fmt(gflops(flop, times.general)),
    fmt(times.general / times.auto, 2), fmt(gflops(flop, callMs)),
    fmt(gflops(flop, wasmMs)), fmt(wasmMs / callMs, 1), `WASM ${maxDiff(gpu.data, cpu.data)}`,
  ]);
  figures.push({ label, flop, kernelMs: times.auto, generalMs: times.general, callMs, wasmMs });
  console.error(`done: ${label}`);
}

await dispose();
const caption = `WebGPU on ${info.description}${info.software ? " (software)" : ""}; ` +
  `workgroup memory ${device.limits.maxComputeWorkgroupStorageSize} B; ${machine()}; ` +
  `WASM on ${threads} threads`;
console.log(`\n${caption}\n`);
const tail = ["kernel / general", "call GFLOP/s", "WASM GFLOP/s", "call / WASM", "largest difference"];
console.log(table([
  "case", "shader", "kernel GFLOP/s", "wide64", "wide32", "general", ...tail,
], attentionRows));
console.log();
console.log(table(["case", "shader", "kernel GFLOP/s", "general", ...tail], gemmRows));
const out = Deno.env.get("OUT");
if (out) {
  await Deno.writeTextFile(`${out}/webgpu_bench.json`, JSON.stringify({ caption, figures }, null, 1));
}
