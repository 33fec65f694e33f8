// The Chromium benchmark page (bench/browser_bench.mjs serves it): Tessera's SDPA and matmul
// on the relaxed- and plain-SIMD builds, one and two threads, against onnxruntime-web (one
// thread, MatMul→Softmax→MatMul graph) measured in the same page. Reports through
// globalThis.result.
const params = new URLSearchParams(location.search);
const cdn = params.get("cdn");
const LENGTHS = (params.get("lengths") ?? "512,1024,4096").split(",").map(Number);
const H = 8, D = 64;

function random(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

async function medianMs(fn, { runs = 7, warmup = 2, minMs = 300 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  const start = performance.now();
  while (times.length < runs || (performance.now() - start < minMs && times.length < 100)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
}

const runsFor = (n) => (n >= 4096 ? { runs: 3, warmup: 1, minMs: 0 } : {});
const qkv = (n) => [1, 2, 3].map((seed) => ({ data: random(H * n * D, seed), shape: [1, H, n, D] }));

async function tessera(tessera) {
  const rows = [];
  for (const relaxedSimd of [true, false]) {
    for (const threads of [1, 2]) {
      const info = await tessera.init({ threads, relaxedSimd });
      const row = { build: info.wasmVariant, threads: info.threads, sdpa: {}, matmul: 0 };
      for (const n of LENGTHS) {
        const [q, k, v] = qkv(n);
        const ms = await medianMs(() => tessera.scaledDotProductAttention(q, k, v, { backend: "wasm" }), runsFor(n));
        row.sdpa[n] = (4 * n * n * D * H) / ms / 1e6;
      }
      const m = 512;
      const a = { data: random(m * m, 1), shape: [m, m] }, b = { data: random(m * m, 2), shape: [m, m] };
      row.matmul = (2 * m ** 3) / (await medianMs(() => tessera.matmul(a, b, { backend: "wasm" }))) / 1e6;
      rows.push(row);
    }
  }
  await tessera.dispose();
  return rows;
}

async function onnx() {
  const ort = await import(`${cdn}/ort/ort.wasm.min.mjs`);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = `${cdn}/ort/`;
  const model = new Uint8Array(await (await fetch(`${cdn}/models/attention_matmul_softmax.onnx`)).arrayBuffer());
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
  const out = {};
  for (const n of LENGTHS) {
    const [q, k, v] = qkv(n);
    const feeds = {
      q: new ort.Tensor("float32", q.data, q.shape), k: new ort.Tensor("float32", k.data, k.shape),
      v: new ort.Tensor("float32", v.data, v.shape),
      scale: new ort.Tensor("float32", new Float32Array([1 / Math.sqrt(D)]), []),
    };
    out[n] = (4 * n * n * D * H) / (await medianMs(() => session.run(feeds), runsFor(n))) / 1e6;
  }
  await session.release();
  return out;
}

try {
  const lib = await import(`${cdn}/dist/tessera.js`);
  const rows = await tessera(lib);
  const ort = await onnx();
  globalThis.result = { rows, ort, lengths: LENGTHS, isolated: crossOriginIsolated, userAgent: navigator.userAgent };
} catch (error) {
  globalThis.result = { error: String(error?.stack ?? error) };
}
