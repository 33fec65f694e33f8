// `node bench/node_bench.mjs [--threads 1,2,4]` (also `npm run bench -- --only node`): the
// attention and matmul benchmarks in Node (≥ 20) on the published bundle dist/tessera.js, which
// Node 20 runs on the plain-SIMD build (its V8 has no relaxed SIMD). Peers in the same process,
// one thread each: onnxruntime-web (MatMul→Softmax→MatMul graph) for SDPA, tfjs-backend-wasm
// (SIMD build) for matmul. Rounds alternate Tessera and the peers; each cell is the median over
// rounds, each ratio the median of the ratios taken within a round. Needs a built dist/.
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { freshMs, gemmBound, gemmBoundLine, median, medianMs, random } from "./_common.mjs";

const root = new URL("../", import.meta.url);
const tessera = await import(new URL("dist/tessera.js", root).href);
const ort = await import("onnxruntime-web");
const tf = await import("@tensorflow/tfjs-core");
const tfWasm = await import("@tensorflow/tfjs-backend-wasm");

const H = 8, D = 64, M = 512;
const LENGTHS = process.env.ATTENTION_QUICK ? [512, 1024] : [512, 1024, 4096];
const ROUNDS = Number(process.env.TESSERA_BENCH_ROUNDS ?? (process.env.ATTENTION_QUICK ? 1 : 3));
const threadsArg = process.argv.includes("--threads") ? process.argv[process.argv.indexOf("--threads") + 1] : null;
const THREADS = (threadsArg ?? [1, 2, 4].filter((t) => t === 1 || t <= availableParallelism()).join(","))
  .split(",").map(Number);

const runsFor = (n) => (n >= 4096 ? { runs: 3, warmup: 1, minMs: 0 } : {});
const qkv = (n) => [1, 2, 3].map((seed) => ({ data: random(H * n * D, seed), shape: [1, H, n, D] }));
const sdpaFlops = (n) => 4 * n * n * D * H;

/** One round of Tessera at every thread count: SDPA at each length and matmul M³. */
async function tesseraRound() {
  const rows = [];
  for (const threads of THREADS) {
    const info = await tessera.init({ threads });
    const row = { build: info.wasmVariant, threads: info.threads, sdpa: {}, matmul: 0 };
    for (const n of LENGTHS) {
      const [q, k, v] = qkv(n);
      const ms = await medianMs(() => tessera.scaledDotProductAttention(q, k, v, { backend: "wasm" }), runsFor(n));
      row.sdpa[n] = sdpaFlops(n) / ms / 1e6;
    }
    const a = { data: random(M * M, 1), shape: [M, M] }, b = { data: random(M * M, 2), shape: [M, M] };
    row.matmul = (2 * M ** 3) / (await medianMs(() => tessera.matmul(a, b, { backend: "wasm" }))) / 1e6;
    // The same product written into one array lent as `out` (no fresh output to fault in).
    const out = new Float32Array(M * M);
    row.matmulOut = (2 * M ** 3) / (await medianMs(() => tessera.matmul(a, b, { backend: "wasm", out }))) / 1e6;
    // What a fresh result costs by itself at each output size (see gemmBound), one thread only.
    if (threads === 1) {
      row.freshMs = { matmul: await freshMs(M * M) };
      for (const n of LENGTHS) row.freshMs[n] = await freshMs(H * n * D);
    }
    rows.push(row);
  }
  await tessera.dispose();
  return rows;
}

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
const model = await readFile(new URL("bench/models/attention_matmul_softmax.onnx", root));
const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });

async function ortRound() {
  const out = {};
  for (const n of LENGTHS) {
    const [q, k, v] = qkv(n);
    const feeds = {
      q: new ort.Tensor("float32", q.data, q.shape), k: new ort.Tensor("float32", k.data, k.shape),
      v: new ort.Tensor("float32", v.data, v.shape),
      scale: new ort.Tensor("float32", new Float32Array([1 / Math.sqrt(D)]), []),
    };
    out[n] = sdpaFlops(n) / (await medianMs(() => session.run(feeds), runsFor(n))) / 1e6;
  }
  return out;
}

tfWasm.setThreadsCount(1);
await tf.setBackend("wasm");
await tf.ready();
const ta = tf.tensor2d(random(M * M, 1), [M, M]), tb = tf.tensor2d(random(M * M, 2), [M, M]);
async function tfjsRound() {
  return (2 * M ** 3) / (await medianMs(() => {
    const c = tf.matMul(ta, tb);
    c.dataSync();
    c.dispose();
  })) / 1e6;
}

const rounds = [];
for (let r = 0; r < ROUNDS; r++) rounds.push({ rows: await tesseraRound(), ort: await ortRound(), tfjs: await tfjsRound() });
await session.release();

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const cell = (pick, base) => `${fmt(median(rounds.map(pick)))} (${median(rounds.map((r) => pick(r) / base(r))).toFixed(2)}×)`;
const header = ["build", "threads", ...LENGTHS.map((n) => `SDPA N = ${n}: GFLOP/s (× ort-web)`), "matmul 512³: GFLOP/s (× tfjs-wasm)",
  "matmul 512³ into `out`: GFLOP/s (× tfjs-wasm)"];
const rows = rounds[0].rows.map((r0, i) => [
  r0.build, r0.threads, ...LENGTHS.map((n) => cell((r) => r.rows[i].sdpa[n], (r) => r.ort[n])),
  cell((r) => r.rows[i].matmul, (r) => r.tfjs),
  cell((r) => r.rows[i].matmulOut, (r) => r.tfjs),
]);
rows.push(["onnxruntime-web (MatMul→Softmax→MatMul)", 1, ...LENGTHS.map((n) => cell((r) => r.ort[n], (r) => r.ort[n])), "–", "–"]);
rows.push(["tfjs-backend-wasm (SIMD)", 1, ...LENGTHS.map(() => "–"), cell((r) => r.tfjs, (r) => r.tfjs), "–"]);
const scaling = rounds[0].rows.filter((r) => r.threads > 1).map((r0) => {
  const i = rounds[0].rows.indexOf(r0);
  const ratioOf = (pick) => median(rounds.map((r) => pick(r.rows[i]) / pick(r.rows[0]))).toFixed(2);
  return `${r0.threads}/1 threads: SDPA ${LENGTHS.map((n) => `${ratioOf((x) => x.sdpa[n])}×`).join(" / ")}, matmul ${ratioOf((x) => x.matmul)}× (into \`out\` ${ratioOf((x) => x.matmulOut)}×)`;
});
const bounds = rounds[0].rows.filter((r) => r.threads === 1 && r.freshMs).map((r0) => [
  r0.build,
  gemmBound(rounds, rounds[0].rows.indexOf(r0), {
    lengths: LENGTHS,
    heads: H,
    dHead: D,
    ort: (r, n) => r.ort[n],
    tfjs: (r) => r.tfjs,
  }),
]);
console.log(
  `Node ${process.versions.node} (V8 ${process.versions.v8}), the bundle dist/tessera.js; B = 1, H = 8, D = 64; ` +
    "tfjs's `dataSync()` copies its result into a fresh array, as Tessera's matmul without `out` does; " +
    `medians of ${ROUNDS} rounds, each ratio taken within a round.\n\n` +
    [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n") +
    (scaling.length ? `\n\nThread scaling (N = ${LENGTHS.join(" / ")}): ${scaling.join("; ")}.` : "") +
    gemmBoundLine(LENGTHS, bounds, "the process"),
);
process.exit(0);
