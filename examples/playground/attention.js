/**
 * The Attention panel: times scaled dot-product, linear and mixed-chunk attention on the JS
 * reference, on WASM with 1 … n threads and on WebGPU where an adapter exists; plots time and
 * GFLOP/s against N; checks every backend against the JS reference at the smallest N.
 *
 * @module
 */
import { maxAbsDifference } from "./lib/metrics.js";
import { lineChart, shortNumber } from "./lib/plot.js";
import { mulberry32 } from "./lib/table.js";

const $ = (id) => document.getElementById(id);

/** Largest |Δ| against the reference, relative to max(1, max |reference|). */
const TOLERANCE = { js: 1e-6, wasm: 1e-4, webgpu: 1e-3 };

function randomTensor(shape, seed) {
  const random = mulberry32(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = random() * 2 - 1;
  return { data, shape };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const nextFrame = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Median milliseconds of `fn` after one warm-up call: at least 3 runs or ~300 ms. */
async function timeMs(fn) {
  const t0 = performance.now();
  await fn();
  const warm = performance.now() - t0;
  const times = [];
  const start = performance.now();
  const least = warm > 500 ? 1 : 3;
  while (times.length < least || (performance.now() - start < 300 && times.length < 15)) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

function parseList(text, name) {
  const values = text.split(/[\s,]+/).filter(Boolean).map(Number);
  if (!values.length || !values.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new RangeError(
      `Expected "${name}" to be a list of integers >= 1 but found ${JSON.stringify(text)}`,
    );
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

export function mountAttention({ tessera, adapter, exclusive, setState, refreshRuntime }) {
  $("attn-webgpu").disabled = !adapter;
  $("attn-webgpu").checked = !!adapter;
  $("attn-webgpu-note").textContent = adapter ? "" : "(no adapter here)";
  const cores = navigator.hardwareConcurrency || 1;
  $("attn-threads").value = Array.from({ length: Math.min(4, cores) }, (_, i) => i + 1).join(",");

  function kernels(causal, chunk) {
    const all = [
      {
        key: "sdpa",
        label: "softmax",
        run: (q, k, v, backend) => tessera.scaledDotProductAttention(q, k, v, { causal, backend }),
        flops: (n, h, d) => h * 4 * n * n * d * (causal ? 0.5 : 1),
      },
      {
        key: "linear",
        label: "linear",
        run: (q, k, v, backend) => tessera.linearAttention(q, k, v, { causal, backend }),
        flops: (n, h, d) => h * 4 * n * d * d,
      },
      {
        key: "mixed",
        label: "mixed-chunk",
        run: (q, k, v, backend) =>
          tessera.mixedChunkAttention(q, k, v, { chunkSize: chunk, causal, backend }),
        flops: (n, h, d) =>
          h * (4 * n * Math.min(chunk, n) * d * (causal ? 0.5 : 1) + 4 * n * d * d),
      },
    ];
    return all.filter((k) => $(`attn-${k.key}`).checked);
  }

  function configs() {
    const list = [];
    if ($("attn-js").checked) {
      list.push({ label: "JS", backend: "js", maxN: Number($("attn-js-max").value) });
    }
    for (const threads of parseList($("attn-threads").value, "WASM threads")) {
      list.push({ label: `WASM ×${threads}`, backend: "wasm", threads, maxN: Infinity });
    }
    if ($("attn-webgpu").checked && adapter) {
      list.push({ label: "WebGPU", backend: "webgpu", maxN: Infinity });
    }
    return list;
  }

  function addCheckRow(kernel, config, n, error, tolerance) {
    const tr = document.createElement("tr");
    const ok = error <= tolerance;
    tr.innerHTML = "<td></td><td></td><td></td><td></td>";
    tr.children[0].textContent = kernel.label;
    tr.children[1].textContent = config.label;
    tr.children[2].textContent = config.backend === "js"
      ? "reference"
      : `${error.toExponential(2)} at N = ${n}`;
    tr.children[3].textContent = ok
      ? `✓ ≤ ${tolerance.toExponential(0)}`
      : `✗ > ${tolerance.toExponential(0)}`;
    tr.children[3].className = ok ? "pass" : "fail";
    Object.assign(tr.dataset, {
      kernel: kernel.key,
      backend: config.label,
      maxError: String(error),
      tolerance: String(tolerance),
    });
    $("attn-check").tBodies[0].append(tr);
    return ok;
  }

  async function run() {
    const ns = parseList($("attn-n").value, "N");
    const heads = Number($("attn-heads").value), dim = Number($("attn-dim").value);
    const chunk = Number($("attn-chunk").value), causal = $("attn-causal").checked;
    const ks = kernels(causal, chunk), cs = configs();
    const status = $("attn-status");
    $("attn-check").tBodies[0].replaceChildren();
    setState("attention", "running");
    const inputs = new Map(
      ns.map((
        n,
        i,
      ) => [n, [0, 1, 2].map((j) => randomTensor([1, heads, n, dim], 100 * i + j + 1))]),
    );
    const checkN = ns[0];
    const references = new Map();
    for (const kernel of ks) {
      references.set(kernel.key, (await kernel.run(...inputs.get(checkN), "js")).data);
    }
    /** ms[kernel][config][N index] */
    const ms = ks.map(() => cs.map(() => ns.map(() => null)));
    let failures = 0;
    for (const [c, config] of cs.entries()) {
      if (config.threads) await tessera.init({ threads: config.threads });
      for (const [k, kernel] of ks.entries()) {
        const out = await kernel.run(...inputs.get(checkN), config.backend);
        const reference = references.get(kernel.key);
        const scale = Math.max(1, ...reference.map(Math.abs));
        const error = maxAbsDifference(out.data, reference);
        if (!addCheckRow(kernel, config, checkN, error, TOLERANCE[config.backend] * scale)) {
          failures++;
        }
        for (const [i, n] of ns.entries()) {
          if (n > config.maxN) continue;
          status.textContent = `${kernel.label} on ${config.label} at N = ${n}…`;
          await nextFrame();
          ms[k][c][i] = await timeMs(() => kernel.run(...inputs.get(n), config.backend));
        }
      }
    }
    await tessera.init();
    refreshRuntime();
    const series = [], time = [ns], gflops = [ns];
    ks.forEach((kernel, k) =>
      cs.forEach((config, c) => {
        series.push({ label: `${kernel.label} · ${config.label}`, dash: [[], [6, 3], [2, 3]][k] });
        time.push(ms[k][c]);
        gflops.push(
          ms[k][c].map((t, i) => (t === null ? null : kernel.flops(ns[i], heads, dim) / t / 1e6)),
        );
      })
    );
    lineChart($("attn-time"), {
      title: "Time per call",
      x: "N",
      y: "ms",
      xLog: true,
      yLog: true,
      series,
      data: time,
    });
    lineChart($("attn-gflops"), {
      title: "Throughput",
      x: "N",
      y: "GFLOP/s",
      xLog: true,
      series,
      data: gflops,
    });
    const best = Math.max(...gflops.slice(1).flat().filter((v) => v !== null));
    status.textContent =
      `done: best ${shortNumber(best)} GFLOP/s; B = 1, H = ${heads}, D = ${dim}` +
      (ks.some((k) => k.key === "mixed") ? `, chunk ${chunk}` : "") + (causal ? ", causal" : "");
    setState(
      "attention",
      failures ? "error" : "done",
      failures ? `${failures} result(s) off the reference` : "",
    );
    if (failures) throw new Error(`${failures} attention result(s) differ from the reference`);
  }

  const attempt = async () => {
    try {
      await exclusive(run);
    } catch (error) {
      console.error(error);
      setState("attention", "error", error.message);
      await tessera.init().catch(() => {});
      throw error;
    }
  };
  $("attn-run").addEventListener("click", () => attempt().catch(() => {}));
  return { name: "attention", autorun: attempt };
}
