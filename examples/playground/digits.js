/**
 * The Diffusion panel's Digits part: the trained class-conditional digits denoiser of
 * examples/digits/ (train.py; an EDM-preconditioned residual MLP exported to ONNX) sampled in
 * this tab. onnxruntime-web, served by serve.ts from node_modules (one thread, no proxy worker,
 * so it runs alike with and without cross-origin isolation), evaluates the raw network F;
 * Tessera wraps it with preconditionedDenoiser(network, "edm"), classifierFreeGuidance({
 * batched }) (one network call per step on 2 × 64 rows) and the chosen sampler. The same
 * wiring as examples/digits/digits.mjs, which reads its files with node:fs.
 *
 * @module
 */
import { digitsLabels, NULL_CLASS, toInk } from "./lib/digits.js";

const $ = (id) => document.getElementById(id);

/** One 8 × 8 grid of 8 × 8 digits. */
const COUNT = 64;
const PIXELS = 64;
/** Samplers offered first (the README's table), then the rest of Tessera's. */
const PREFERRED = ["heun", "unipc", "ipndm", "dpmpp-3m-sde", "dpmpp-2s-ancestral", "restart"];

/** onnxruntime-web and the network's session, loaded on first use. */
let loading = null;
function loadNetwork() {
  loading ??= (async () => {
    const ort = await import("/ort/ort.wasm.min.mjs");
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = new URL("/ort/", location.href).href;
    const bytes = new Uint8Array(await (await fetch("/digits/digits_denoiser.onnx")).arrayBuffer());
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    return { ort, session };
  })();
  // A failed load (say, a missing file) is retried on the next click.
  loading.catch(() => (loading = null));
  return loading;
}

export function mountDigits({ tessera, setState }) {
  const canvas = $("digits-canvas");
  const context = canvas.getContext("2d");
  /** The last sample, kept to redraw on resize. */
  let last = null;

  const samplers = Object.keys(tessera.SAMPLERS);
  $("digits-sampler").replaceChildren(
    ...[
      ...PREFERRED.filter((s) => samplers.includes(s)),
      ...samplers.filter((s) => !PREFERRED.includes(s)),
    ].map((s) => new Option(s, s)),
  );
  $("digits-sampler").value = "heun";
  $("digits-class").replaceChildren(
    new Option("all (0–9 in turn)", "all"),
    ...Array.from({ length: 10 }, (_, d) => new Option(String(d), String(d))),
    new Option("none (unconditional)", "none"),
  );
  const syncGuidance = () => ($("digits-guidance").disabled = $("digits-class").value === "none");
  $("digits-class").addEventListener("change", syncGuidance);
  syncGuidance();

  function draw() {
    const dpr = devicePixelRatio || 1;
    const css = canvas.clientWidth || 432;
    if (canvas.width !== Math.round(css * dpr)) {
      canvas.width = canvas.height = Math.round(css * dpr);
    }
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    if (!last) return;
    // 8 digits a row, one blank pixel between digits and around the grid.
    const cell = canvas.width / (8 * 9 + 1);
    const ink = toInk(last.pixels);
    for (let d = 0; d < COUNT; d++) {
      const ox = 1 + (d % 8) * 9, oy = 1 + Math.floor(d / 8) * 9;
      for (let p = 0; p < PIXELS; p++) {
        const v = ink[d * PIXELS + p];
        if (v === 0) continue;
        const shade = Math.round(255 * (1 - v));
        context.fillStyle = `rgb(${shade},${shade},${shade})`;
        const x = Math.floor((ox + (p % 8)) * cell), y = Math.floor((oy + (p >> 3)) * cell);
        const x1 = Math.floor((ox + (p % 8) + 1) * cell),
          y1 = Math.floor((oy + (p >> 3) + 1) * cell);
        context.fillRect(x, y, x1 - x, y1 - y);
      }
    }
  }
  new ResizeObserver(draw).observe(canvas);

  function readSettings() {
    const classValue = $("digits-class").value;
    const steps = Number($("digits-steps").value), guidance = Number($("digits-guidance").value);
    const seed = Number($("digits-seed").value);
    if (!Number.isInteger(steps) || steps < 1 || steps > 500) {
      throw new RangeError(`Expected "steps" to be an integer in [1, 500] but found ${steps}`);
    }
    if (!Number.isFinite(guidance) || guidance < 0) {
      throw new RangeError(`Expected "guidance" to be a number >= 0 but found ${guidance}`);
    }
    if (!Number.isInteger(seed) || seed < 0) {
      throw new RangeError(`Expected "seed" to be an integer >= 0 but found ${seed}`);
    }
    return {
      classLabel: classValue === "all" || classValue === "none" ? classValue : Number(classValue),
      sampler: $("digits-sampler").value,
      steps,
      guidance,
      seed,
    };
  }

  async function sampleDigits() {
    const s = readSettings();
    $("digits-readout").textContent = "Loading onnxruntime-web and the network…";
    const { ort, session } = await loadNetwork();
    const labels = digitsLabels(COUNT, s.classLabel);
    let calls = 0, rows = 0;
    /** The raw network F(x_in; c_noise, label) as a Tessera Network. */
    const network = async (xIn, cNoise, info) => {
      const batch = info.batch, split = info.unconditionalFrom ?? batch;
      const label = new BigInt64Array(batch);
      for (let r = 0; r < batch; r++) label[r] = BigInt(r < split ? labels[r % COUNT] : NULL_CLASS);
      const { f } = await session.run({
        x_in: new ort.Tensor("float32", xIn, [batch, PIXELS]),
        c_noise: new ort.Tensor("float32", new Float32Array(batch).fill(cNoise), [batch]),
        label: new ort.Tensor("int64", label, [batch]),
      });
      calls++, (rows = Math.max(rows, batch));
      return f.data;
    };
    const denoiser = tessera.preconditionedDenoiser(network, "edm");
    const guided = s.guidance !== 1 && s.classLabel !== "none";
    let nfe = 0;
    const t0 = performance.now();
    const x = await tessera.sample({
      denoiser: guided
        ? tessera.classifierFreeGuidance({ batched: denoiser, scale: s.guidance })
        : denoiser,
      batch: COUNT,
      dim: PIXELS,
      sigmas: tessera.karrasSigmas({ steps: s.steps, sigmaMin: 0.002, sigmaMax: 80 }),
      sampler: s.sampler,
      seed: s.seed,
      onStep: (step) => (nfe = step.nfe),
    });
    const ms = performance.now() - t0;
    // The network's scale: pixels / 8 − 1, so sklearn's 0–16 is (x + 1) · 8.
    last = { pixels: x.map((v) => Math.min(16, Math.max(0, (v + 1) * 8))) };
    draw();
    const readout = $("digits-readout");
    readout.textContent = `${s.sampler}, ${s.steps} steps, class ${s.classLabel}` +
      (guided ? `, guidance ${s.guidance}` : "") +
      `: NFE ${nfe} (${calls} network calls of ${rows} rows), ${COUNT} digits in ${
        ms.toFixed(0)
      } ms.`;
    Object.assign(readout.dataset, { nfe: String(nfe), calls: String(calls), ms: ms.toFixed(1) });
    canvas.dataset.drawn = String(COUNT);
    return { nfe, calls };
  }

  async function attempt(action) {
    setState("digits", "running");
    try {
      const result = await action();
      setState("digits", "done");
      return result;
    } catch (error) {
      console.error(error);
      setState("digits", "error", error.message);
      $("digits-readout").textContent = "";
      throw error;
    }
  }
  $("digits-sample").addEventListener("click", () => attempt(sampleDigits).catch(() => {}));
  draw();
  $("digits-readout").textContent = "Click Sample to draw 64 digits from the trained network.";

  return {
    name: "digits",
    async autorun() {
      // Few steps keep autorun quick: UniPC's 8 steps are 8 network calls.
      $("digits-sampler").value = "unipc";
      $("digits-steps").value = "8";
      await attempt(sampleDigits);
    },
  };
}
