/**
 * The Diffusion panel: an editable 2-D Gaussian mixture (its exact denoiser is Tessera's
 * GaussianMixture), one sampling run replayed from σ_max to 0 on a canvas, and a comparison of
 * samplers: sliced Wasserstein distance to exact draws from the mixture against the number of
 * denoiser evaluations (NFE).
 *
 * @module
 */
import { slicedWasserstein2d } from "./lib/metrics.js";
import { COLORS, lineChart } from "./lib/plot.js";

const $ = (id) => document.getElementById(id);

const DEFAULT_MODES = [
  { x: -2.5, y: -1.5, variance: 0.3, weight: 0.5 },
  { x: 2.5, y: -1.5, variance: 0.35, weight: 0.3 },
  { x: 0, y: 2.5, variance: 0.35, weight: 0.2 },
];
/** The samplers that take EDM's churn. */
const CHURN_SAMPLERS = new Set(["euler", "heun", "dpm2"]);
/** Schedules that take sigmaMin / sigmaMax (the others have their own parameters). */
const SIGMA_RANGE = new Set(["karras", "exponential", "polyexponential", "ve"]);
const COMPARED = ["euler", "heun", "dpmpp-2m", "dpm2", "euler-ancestral", "dpmpp-2m-sde"];
const COMPARED_STEPS = [3, 5, 8, 12, 20, 32];
/** Half-width of the resting view, in data units. */
const VIEW = 6;
const PICK_PX = 14;

export function mountDiffusion({ tessera, setState }) {
  const canvas = $("diff-canvas");
  const context = canvas.getContext("2d");
  let modes = DEFAULT_MODES.map((m) => ({ ...m }));
  /** The replayed run: frames of { x, sigma, nfe }, and where the replay stands. */
  let replay = null;

  $("diff-sampler").replaceChildren(...Object.keys(tessera.SAMPLERS).map((s) => new Option(s, s)));
  $("diff-sampler").value = "heun";
  $("diff-schedule").replaceChildren(
    ...Object.keys(tessera.SCHEDULES).filter((s) => s !== "discrete").map((s) => new Option(s, s)),
  );
  $("diff-schedule").value = "karras";
  const syncControls = () => {
    $("diff-churn").disabled = !CHURN_SAMPLERS.has($("diff-sampler").value);
    $("diff-sigma-max").disabled = !SIGMA_RANGE.has($("diff-schedule").value);
  };
  $("diff-sampler").addEventListener("change", syncControls);
  $("diff-schedule").addEventListener("change", syncControls);
  syncControls();

  function mixture() {
    const total = modes.reduce((s, m) => s + m.weight, 0);
    return new tessera.GaussianMixture({
      means: modes.map((m) => [m.x, m.y]),
      variances: modes.map((m) => [m.variance, m.variance]),
      weights: modes.map((m) => m.weight / total),
    });
  }

  function sigmasFor(schedule, steps) {
    const options = { steps };
    if (SIGMA_RANGE.has(schedule)) options.sigmaMax = Number($("diff-sigma-max").value);
    if (SIGMA_RANGE.has(schedule) && options.sigmaMax <= 0.002) {
      options.sigmaMin = options.sigmaMax / 10;
    }
    return tessera.SCHEDULES[schedule](options);
  }

  // ------------------------------------------------------------------ drawing

  /** Canvas pixels per data unit and the centre, for a view of half-width `half`. */
  function transform(half) {
    const size = canvas.width;
    return { scale: size / (2 * half), cx: size / 2, cy: size / 2 };
  }
  const toPixel = (t, x, y) => [t.cx + x * t.scale, t.cy - y * t.scale];

  function draw() {
    const dpr = devicePixelRatio || 1;
    const css = canvas.clientWidth || 480;
    if (canvas.width !== Math.round(css * dpr)) {
      canvas.width = canvas.height = Math.round(css * dpr);
    }
    const frame = replay?.frames[replay.index];
    const half = frame ? Math.max(VIEW, 3 * frame.sigma) : VIEW;
    const t = transform(half);
    context.clearRect(0, 0, canvas.width, canvas.height);
    // Axes through the origin.
    context.strokeStyle = "#e5e7eb";
    context.lineWidth = dpr;
    context.beginPath();
    const [ox, oy] = toPixel(t, 0, 0);
    context.moveTo(0, oy),
      context.lineTo(canvas.width, oy),
      context.moveTo(ox, 0),
      context.lineTo(ox, canvas.height);
    context.stroke();
    // Modes: 1σ and 2σ circles, weight.
    const total = modes.reduce((s, m) => s + m.weight, 0);
    modes.forEach((m, k) => {
      const [px, py] = toPixel(t, m.x, m.y);
      const color = COLORS[k % COLORS.length];
      context.strokeStyle = color;
      for (const r of [1, 2]) {
        context.globalAlpha = r === 1 ? 0.9 : 0.4;
        context.beginPath();
        context.arc(px, py, Math.max(2, r * Math.sqrt(m.variance) * t.scale), 0, 2 * Math.PI);
        context.stroke();
      }
      context.globalAlpha = 1;
      context.fillStyle = color;
      context.beginPath();
      context.arc(px, py, 4 * dpr, 0, 2 * Math.PI);
      context.fill();
      context.font = `${11 * dpr}px system-ui`;
      context.fillText(`${(m.weight / total).toFixed(2)}`, px + 6 * dpr, py - 6 * dpr);
    });
    // Samples.
    if (frame) {
      context.fillStyle = "rgba(17, 24, 39, 0.55)";
      const r = Math.max(1, 1.5 * dpr);
      for (let i = 0; i < frame.x.length; i += 2) {
        const [px, py] = toPixel(t, frame.x[i], frame.x[i + 1]);
        if (px >= 0 && px <= canvas.width && py >= 0 && py <= canvas.height) {
          context.fillRect(px - r, py - r, 2 * r, 2 * r);
        }
      }
      context.fillStyle = "#111827";
      context.font = `${12 * dpr}px system-ui`;
      context.fillText(
        `σ = ${frame.sigma.toPrecision(3)}   NFE ${frame.nfe}   view ±${half.toPrecision(3)}`,
        8 * dpr,
        18 * dpr,
      );
    }
  }

  function renderModeList() {
    $("diff-modes").replaceChildren(...modes.map((m, k) => {
      const li = document.createElement("li");
      li.innerHTML = `<span style="color:${COLORS[k % COLORS.length]}">●</span> (${
        m.x.toFixed(1)
      }, ${m.y.toFixed(1)})
        w <input type="number" step="any" min="0.01" data-field="weight">
        var <input type="number" step="any" min="0.001" data-field="variance">`;
      for (const input of li.querySelectorAll("input")) {
        input.value = String(m[input.dataset.field]);
        input.addEventListener("change", () => {
          const v = Number(input.value);
          if (Number.isFinite(v) && v > 0) m[input.dataset.field] = v;
          changed();
        });
      }
      return li;
    }));
  }

  function changed() {
    replay = null;
    $("diff-readout").textContent = "The mixture changed: sample again.";
    renderModeList();
    draw();
  }

  // ------------------------------------------------------------------ editing

  const toData = (event) => {
    const rect = canvas.getBoundingClientRect();
    const t = transform(VIEW);
    const scale = canvas.width / rect.width;
    return [
      ((event.clientX - rect.left) * scale - t.cx) / t.scale,
      -((event.clientY - rect.top) * scale - t.cy) / t.scale,
    ];
  };
  const pick = (event) => {
    const [x, y] = toData(event);
    const limit = (PICK_PX * canvas.width) / canvas.getBoundingClientRect().width /
      transform(VIEW).scale;
    let best = -1, bestDistance = limit;
    modes.forEach((m, k) => {
      const d = Math.hypot(m.x - x, m.y - y);
      if (d < bestDistance) (best = k), (bestDistance = d);
    });
    return best;
  };
  let drag = null;
  canvas.addEventListener("pointerdown", (event) => {
    if (replay) (replay = null), draw();
    drag = { mode: pick(event), start: [event.clientX, event.clientY], moved: false };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag || drag.mode < 0) return;
    if (Math.hypot(event.clientX - drag.start[0], event.clientY - drag.start[1]) > 3) {
      drag.moved = true;
    }
    if (!drag.moved) return;
    const [x, y] = toData(event);
    modes[drag.mode].x = Math.max(-VIEW, Math.min(VIEW, x));
    modes[drag.mode].y = Math.max(-VIEW, Math.min(VIEW, y));
    draw();
  });
  canvas.addEventListener("pointerup", (event) => {
    if (!drag) return;
    if (drag.mode < 0 && modes.length < 12) {
      const [x, y] = toData(event);
      modes.push({ x, y, variance: 0.3, weight: 0.25 });
    }
    drag = null;
    changed();
  });
  canvas.addEventListener("dblclick", (event) => {
    const k = pick(event);
    if (k >= 0 && modes.length > 1) modes.splice(k, 1), changed();
  });
  new ResizeObserver(draw).observe(canvas);

  // ------------------------------------------------------------------ sampling

  function readSettings() {
    const sampler = $("diff-sampler").value;
    const sChurn = Number($("diff-churn").value);
    return {
      sampler,
      schedule: $("diff-schedule").value,
      steps: Number($("diff-steps").value),
      batch: Number($("diff-batch").value),
      seed: Number($("diff-seed").value),
      churn: CHURN_SAMPLERS.has(sampler) && sChurn > 0 ? { sChurn } : undefined,
    };
  }

  /** Samples with the settings, keeping every state the denoiser saw, then replays them. */
  async function sampleAndReplay() {
    const s = readSettings();
    const sigmas = sigmasFor(s.schedule, s.steps);
    const frames = [];
    const t0 = performance.now();
    const out = await tessera.sample({
      denoiser: mixture().denoiser,
      batch: s.batch,
      dim: 2,
      sigmas,
      sampler: s.sampler,
      churn: s.churn,
      seed: s.seed,
      onStep: (step) =>
        frames.push({ x: Float32Array.from(step.x), sigma: step.sigmaHat, nfe: step.nfe }),
    });
    const ms = performance.now() - t0;
    const nfe = frames.length ? frames[frames.length - 1].nfe : 0;
    frames.push({ x: out, sigma: 0, nfe });
    const readout = $("diff-readout");
    readout.textContent =
      `${s.sampler}, ${s.schedule} schedule, ${s.steps} steps from σ = ${
        sigmas[0].toPrecision(3)
      }: ` +
      `${nfe} denoiser calls, ${s.batch} samples in ${ms.toFixed(0)} ms.`;
    readout.dataset.nfe = String(nfe);
    return await animate(frames);
  }

  function animate(frames) {
    replay = { frames, index: 0 };
    const mine = replay;
    const perFrame = Math.max(60, Math.min(400, 3000 / frames.length));
    return new Promise((resolve) => {
      let last = performance.now();
      const tick = (now) => {
        if (replay !== mine) return resolve(false);
        if (now - last >= perFrame && replay.index < frames.length - 1) {
          (replay.index++), (last = now);
        }
        draw();
        canvas.dataset.frame = String(replay.index);
        if (replay.index < frames.length - 1) requestAnimationFrame(tick);
        else resolve(true);
      };
      requestAnimationFrame(tick);
    });
  }

  async function compare() {
    const batch = 2000;
    const schedule = $("diff-schedule").value;
    const gmm = mixture();
    const exact = gmm.sample(batch, 1234);
    const floor = slicedWasserstein2d(exact, gmm.sample(batch, 4321));
    const results = [];
    for (const sampler of COMPARED) {
      const points = [];
      for (const steps of COMPARED_STEPS) {
        let nfe = 0;
        const out = await tessera.sample({
          denoiser: gmm.denoiser,
          batch,
          dim: 2,
          sigmas: sigmasFor(schedule, steps),
          sampler,
          seed: 7,
          onStep: (s) => (nfe = s.nfe),
        });
        points.push([nfe, slicedWasserstein2d(out, exact)]);
      }
      results.push({ sampler, points });
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const xs = [...new Set(results.flatMap((r) => r.points.map((p) => p[0])))].sort((a, b) =>
      a - b
    );
    const data = [
      xs,
      ...results.map((r) => xs.map((x) => r.points.find((p) => p[0] === x)?.[1] ?? null)),
      xs.map(() => floor),
    ];
    lineChart($("diff-chart"), {
      title: `Distance to the mixture against NFE (${schedule})`,
      x: "denoiser evaluations (NFE)",
      y: "sliced W₂",
      xLog: true,
      yLog: true,
      spanGaps: true,
      series: [
        ...results.map((r) => ({ label: r.sampler })),
        { label: "two exact draws", color: "#6b7280", dash: [5, 5], points: false },
      ],
      data,
    });
    $("diff-chart").dataset.floor = String(floor);
    return results;
  }

  async function attempt(action) {
    setState("diffusion", "running");
    try {
      const result = await action();
      setState("diffusion", "done");
      return result;
    } catch (error) {
      console.error(error);
      setState("diffusion", "error", error.message);
      throw error;
    }
  }
  $("diff-sample").addEventListener("click", () => attempt(sampleAndReplay).catch(() => {}));
  $("diff-compare").addEventListener("click", () => attempt(compare).catch(() => {}));
  $("diff-reset").addEventListener("click", () => {
    modes = DEFAULT_MODES.map((m) => ({ ...m }));
    changed();
  });
  renderModeList();
  draw();
  $("diff-readout").textContent = "Click Sample to draw from the mixture.";

  return {
    name: "diffusion",
    async autorun() {
      await attempt(async () => {
        await compare();
        await sampleAndReplay();
      });
    },
  };
}
