/**
 * Attention benchmark, B = 1, H = 8, D = 64: Tessera's flash kernel (WASM, one thread and all
 * threads) against onnxruntime-web's WASM provider (a MatMul→Softmax→MatMul graph and its
 * MultiHeadAttention op) and tfjs-backend-wasm (matMul→softmax→matMul), with Tessera's own
 * matmul on the QKᵀ shape as the ceiling; peak working memory at N = 32768 (causal); and
 * linear / mixed-chunk attention time against N. FLOPs are 4·N²·D per head (causal: half).
 *
 * @module
 */
import {
  dispose,
  init,
  linearAttention,
  matmul,
  mixedChunkAttention,
  runtimeInfo,
  scaledDotProductAttention,
  type Tensor,
} from "../src/mod.ts";
import { wasmRuntime } from "../src/runtime/runtime.ts";
import { fmt, median, medianMs, randomF32, table } from "./_harness.ts";
import { ort, ortSession } from "./_ort.ts";
import { tfjs } from "./_tfjs.ts";

const H = 8, D = 64;
const LENGTHS = Deno.env.get("ATTENTION_QUICK") ? [512, 1024] : [512, 1024, 4096, 16384];
const flops = (n: number) => 4 * n * n * D * H;
const gflops = (n: number, ms: number) => flops(n) / ms / 1e6;

function qkv(n: number): [Tensor, Tensor, Tensor] {
  const t = (seed: number) => ({ data: randomF32(H * n * D, seed), shape: [1, H, n, D] });
  return [t(1), t(2), t(3)];
}

/** Runs per size: fewer for the long sequences, whose single run takes seconds. */
const runsFor = (n: number) => (n >= 16384 ? { runs: 1, warmup: 0, minMs: 0 } : n >= 4096 ? { runs: 3, warmup: 1, minMs: 0 } : { runs: 7 });

async function tessera(threads: number): Promise<Record<number, number>> {
  await init({ threads });
  const out: Record<number, number> = {};
  for (const n of LENGTHS) {
    const [q, k, v] = qkv(n);
    out[n] = gflops(n, await medianMs(() => scaledDotProductAttention(q, k, v, { backend: "wasm" }), runsFor(n)));
  }
  return out;
}

/** Tessera's square matmul (1024³, one thread): the GEMM peak the kernel is held against. */
async function ceiling(): Promise<number> {
  await init({ threads: 1 });
  const n = 1024;
  const a = { data: randomF32(n * n, 1), shape: [n, n] };
  const b = { data: randomF32(n * n, 2), shape: [n, n] };
  const ms = await medianMs(() => matmul(a, b, { backend: "wasm" }), { runs: 5 });
  return (2 * n ** 3) / ms / 1e6;
}

async function onnx(model: "attention_matmul_softmax.onnx" | "attention_mha.onnx") {
  const session = await ortSession(model);
  const out: Record<number, number> = {};
  for (const n of LENGTHS) {
    if (n * n * H * 4 > 2 ** 31) continue; // the N×N score tensors do not fit a WASM heap
    const [q, k, v] = qkv(n);
    const feeds = model === "attention_mha.onnx"
      ? Object.fromEntries([["q", q], ["k", k], ["v", v]].map(([name, t]) => [name as string, new ort.Tensor("float32", toNHE((t as Tensor).data, n), [1, n, H * D])]))
      : {
        q: new ort.Tensor("float32", q.data, q.shape), k: new ort.Tensor("float32", k.data, k.shape),
        v: new ort.Tensor("float32", v.data, v.shape), scale: new ort.Tensor("float32", new Float32Array([1 / Math.sqrt(D)]), []),
      };
    try {
      out[n] = gflops(n, await medianMs(() => session.run(feeds), runsFor(n)));
    } catch (error) {
      console.warn(`onnxruntime-web ${model} failed at N = ${n}: ${(error as Error).message.slice(0, 100)}`);
    }
  }
  await session.release();
  return out;
}

/** [1, H, N, D] → [1, N, H·D]. */
function toNHE(data: Float32Array, n: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) out.set(data.subarray((h * n + i) * D, (h * n + i + 1) * D), (i * H + h) * D);
  return out;
}

/** tfjs-backend-wasm per head: matMul(q, kᵀ) → softmax → matMul(·, v), XNNPACK GEMMs. */
async function tensorflow() {
  const tf = await tfjs();
  const out: Record<number, number> = {};
  for (const n of LENGTHS) {
    if (n * n * 4 > 2 ** 30) continue;
    const [q, k, v] = qkv(n);
    const heads = (t: Tensor) =>
      Array.from({ length: H }, (_, h) => tf.tensor2d(t.data.subarray(h * n * D, (h + 1) * n * D), [n, D]));
    const [qs, ks, vs] = [heads(q), heads(k), heads(v)];
    const run = async () => {
      const ys = qs.map((qh, h) =>
        tf.tidy(() => tf.matMul(tf.softmax(tf.mul(tf.matMul(qh, ks[h], false, true), 1 / Math.sqrt(D))), vs[h]))
      );
      await Promise.all(ys.map((y) => y.data()));
      tf.dispose(ys);
    };
    try {
      out[n] = gflops(n, await medianMs(run, runsFor(n)));
    } catch (error) {
      console.warn(`tfjs failed at N = ${n}: ${(error as Error).message.slice(0, 100)}`);
    }
    tf.dispose([...qs, ...ks, ...vs]);
  }
  return out;
}

/** Peak bytes the WASM heap holds beyond q, k, v and the output during causal attention. */
async function peakMemory(n: number): Promise<{ extraMiB: number; seconds: number }> {
  await init({ threads: runtimeInfo().threads > 1 ? runtimeInfo().threads : 2 });
  const [q, k, v] = qkv(n);
  const heap = (await wasmRuntime())!.heap;
  heap.resetPeak();
  const before = heap.stats.inUse;
  const t0 = performance.now();
  await scaledDotProductAttention(q, k, v, { causal: true, backend: "wasm" });
  const seconds = (performance.now() - t0) / 1000;
  const tensors = 4 * q.data.byteLength;
  return { extraMiB: (heap.stats.peak - before - tensors) / 2 ** 20, seconds };
}

/**
 * Times `fn` at each length in rounds that visit every length (after one warm-up round), so a
 * slow spell of this shared machine touches all lengths alike; medians over the rounds.
 */
async function scaling(fn: (q: Tensor, k: Tensor, v: Tensor) => Promise<unknown>, rounds = 5) {
  const lengths = [4096, 16384, 65536];
  const inputs = lengths.map((n) => qkv(n));
  const times: number[][] = lengths.map(() => []);
  for (let r = -1; r < rounds; r++) {
    for (let i = 0; i < lengths.length; i++) {
      const [q, k, v] = inputs[i];
      const t0 = performance.now();
      await fn(q, k, v);
      if (r >= 0) times[i].push(performance.now() - t0);
    }
  }
  const ms = times.map(median);
  return lengths.map((n, i) => [n, ms[i], i ? `${(ms[i] / ms[i - 1]).toFixed(2)}×` : "–"]);
}

export async function benchAttention(): Promise<string> {
  const one = await tessera(1);
  const threads = 2;
  const all = await tessera(threads);
  const peak = await ceiling();
  await dispose();
  const ortGraph = await onnx("attention_matmul_softmax.onnx");
  const ortMha = await onnx("attention_mha.onnx");
  const tf = await tensorflow();
  const rows = LENGTHS.map((n) => [
    n, one[n], all[n], ortGraph[n] ?? NaN, ortMha[n] ?? NaN, tf[n] ?? NaN,
    `${fmt(one[n] / (ortGraph[n] ?? NaN), 2)}×`, `${fmt(one[n] / peak, 2)}`,
    `${fmt(all[n] / one[n], 2)}×`,
  ]);
  let text = table([
    "N", "Tessera 1 thread", `Tessera ${threads} threads`, "ORT-web MatMul→Softmax→MatMul",
    "ORT-web MultiHeadAttention", "tfjs-backend-wasm (per head)",
    "1 thread / ORT graph", "1 thread / matmul peak", `${threads} threads / 1`,
  ], rows);
  text += `\n\nGFLOP/s (4·N²·D per head), B = 1, H = 8, D = 64, medians; peers on one thread; – = did not run (N×N scores exceed the WASM heap). Matmul peak: Tessera's 1024³ matmul, one thread, ${peak.toFixed(1)} GFLOP/s in this run.`;

  const mem = await peakMemory(32768);
  text += `\n\nN = 32768, D = 64, causal: ${mem.extraMiB.toFixed(2)} MiB of working memory beyond inputs and output (${mem.seconds.toFixed(1)} s).`;

  await init({ threads: 1 });
  const lin = await scaling((q, k, v) => linearAttention(q, k, v, { causal: true, backend: "wasm" }));
  const mixed = await scaling((q, k, v) => mixedChunkAttention(q, k, v, { chunkSize: 256, causal: true, backend: "wasm" }));
  await dispose();
  text += "\n\n" + table(
    ["N", "linear (causal) ms", "× previous", "mixed-chunk C = 256 (causal) ms", "× previous"],
    lin.map((r, i) => [...r, mixed[i][1], mixed[i][2]]),
  ) + "\n\nOne thread, medians of 5 rounds that each run every N (after a warm-up round); 4× N should cost ≤ 4.5× time.";
  return text;
}

if (import.meta.main) console.log(await benchAttention());
