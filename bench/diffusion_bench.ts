/**
 * Diffusion benchmark at batch 4096 × 64 with an 8-component diagonal Gaussian mixture:
 *
 * 1. the exact mixture denoiser's throughput (rows/s) for the JS reference and WASM on one
 *    thread and on all threads, at a noise level where one component owns each row and at one
 *    where all of them share it;
 * 2. each sampler's own cost per denoiser evaluation (step kernels, copies, checks, noise),
 *    relative to the evaluation itself: `(sample() time − NFE × denoiser time) / NFE /
 *    denoiser time`, the denoiser timed inside the same run, medians over runs;
 * 3. peak memory of a 65536 × 64 run: the WASM heap (`heap.stats.peak` after `resetPeak()`)
 *    and the host arrays a run allocates;
 * 4. (`benchDiffusionAccuracy`, its own README section) every sampler's error against NFE on
 *    the Gaussian-mixture oracles, which is arithmetic, not timing, and the same on any machine.
 *
 * @module
 */
import {
  type Denoiser,
  dispose,
  GaussianMixture,
  init,
  karrasSigmas,
  runtimeInfo,
  sample,
  type SamplerName,
} from "../src/mod.ts";
import { DIFFUSION } from "../src/backends/_families.ts";
import { type DiffusionKernels, NONE } from "../src/backends/diffusion.ts";
import { jsDiffusionKernels } from "../src/backends/js/diffusion.ts";
import { selectKernels } from "../src/backends/_select.ts";
import { wasmRuntime } from "../src/runtime/runtime.ts";
import { fmt, median, medianMs, table } from "./_harness.ts";
import {
  fittedOrder,
  gaussianLawError,
  mixturePathError,
} from "../tests/diffusion/_solver_oracle.ts";

const BATCH = 4096, DIM = 64, COMPONENTS = 8, THREADS = 2;
const SAMPLERS: SamplerName[] = ["euler", "heun", "dpmpp-2m", "euler-ancestral"];
const MiB = 2 ** 20;

/** Eight well-separated components (means within ±3 per dim, variances 0.15–0.35), unequal weights. */
function mixtureOptions() {
  const row = (k: number, f: (k: number, j: number) => number) =>
    Array.from({ length: DIM }, (_, j) => f(k, j));
  const hash = (k: number, j: number) =>
    Math.sin(12.9898 * (k + 1) + 78.233 * (j + 1)) * 43758.5453 % 1;
  return {
    means: Array.from({ length: COMPONENTS }, (_, k) => row(k, (k, j) => 3 * hash(k, j))),
    variances: Array.from(
      { length: COMPONENTS },
      (_, k) => row(k, (k, j) => 0.25 + 0.1 * hash(k + 50, j)),
    ),
    weights: Array.from({ length: COMPONENTS }, (_, k) => k + 1),
  };
}

/** Data from the mixture noised to level σ: the input a denoiser sees at σ. */
function noisedData(sigma: number, batch = BATCH): Float32Array {
  const data = new GaussianMixture({ ...mixtureOptions(), backend: "js" }).sample(batch, 1);
  const unit = new GaussianMixture({
    means: [Array(DIM).fill(0)],
    variances: [Array(DIM).fill(1)],
    weights: [1],
  });
  const z = unit.sample(batch, 2);
  return data.map((v, i) => v + sigma * z[i]);
}

const THROUGHPUT_SIGMAS = [0.2, 20];

/**
 * The mixture's exact denoiser on a kernel backend, writing into one output array that it reuses
 * (the Denoiser contract allows it: the sampler copies the result). `GaussianMixture.denoiser`
 * returns a fresh array per call instead; on this VM faulting in a fresh MiB costs milliseconds,
 * more than the kernel, so timing it would mostly time the allocator.
 */
function reusingDenoiser(kernels: DiffusionKernels, gmm: GaussianMixture): Denoiser {
  const logWeights = Float32Array.from(gmm.weights, Math.log);
  let out = new Float32Array(0);
  return async (x, sigma, info) => {
    if (out.length !== x.length) out = new Float32Array(x.length);
    await kernels.mixture({
      output: "denoised",
      out,
      x,
      batch: info.batch,
      dim: info.dim,
      sigma,
      means: gmm.means,
      variances: gmm.variances,
      logWeights,
      components: gmm.components,
    });
    return out;
  };
}

/** The reusing denoiser on "js" or on the WASM runtime as initialised. */
async function mixtureDenoiser(backend: "js" | "wasm"): Promise<Denoiser> {
  const gmm = new GaussianMixture({ ...mixtureOptions(), backend });
  return reusingDenoiser(
    backend === "js" ? jsDiffusionKernels : await selectKernels(DIFFUSION, "wasm"),
    gmm,
  );
}

type Throughput = { reference: number; wasm: number; ratio: number; fresh: number };

/**
 * Rows per second of one denoiser evaluation at each σ of THROUGHPUT_SIGMAS, the JS reference
 * and WASM (on the runtime as initialised) in alternation, so both see the same machine; the
 * ratio is the median of the rounds' ratios. `fresh`: `GaussianMixture.denoiser` on WASM.
 */
async function throughput(rounds = 9): Promise<Throughput[]> {
  const reference = await mixtureDenoiser("js"), wasm = await mixtureDenoiser("wasm");
  const publicDenoiser = new GaussianMixture({ ...mixtureOptions(), backend: "wasm" }).denoiser;
  const info = { batch: BATCH, dim: DIM };
  const out: Throughput[] = [];
  for (const sigma of THROUGHPUT_SIGMAS) {
    const x = noisedData(sigma);
    const time = async (denoiser: Denoiser, calls: number) => {
      const t0 = performance.now();
      for (let c = 0; c < calls; c++) await denoiser(x, sigma, info);
      return (performance.now() - t0) / calls;
    };
    await time(reference, 2);
    await time(wasm, 5);
    const js: number[] = [], ws: number[] = [];
    for (let r = 0; r < rounds; r++) {
      js.push(await time(reference, 1));
      ws.push(await time(wasm, 4));
    }
    const rows = (ms: number) => BATCH / (ms / 1000);
    out.push({
      reference: rows(median(js)),
      wasm: rows(median(ws)),
      ratio: median(js.map((t, r) => t / ws[r])),
      fresh: rows(await medianMs(() => publicDenoiser(x, sigma, info), { runs: 9 })),
    });
  }
  return out;
}

type Overhead = {
  nfe: number;
  /** Mean time of one denoiser call inside the runs. */
  denoiserMs: number;
  /** The brief's figure at SHORT steps: (sample() − NFE × denoiser) / NFE / denoiser. */
  overhead: number;
  /** Marginal sampler time per evaluation (from SHORT and LONG runs), µs. */
  stepUs: number;
  /** stepUs relative to one denoiser call. */
  stepOverhead: number;
  /** What a run costs once, beyond its steps (initial noise, result array), ms. */
  fixedMs: number;
  /** The update kernels' share of stepUs (see updateKernelsUs), µs. */
  updateUs: number;
  /** stepUs − updateUs relative to one denoiser call: the bookkeeping. */
  bookkeeping: number;
};

const SHORT = 10, LONG = 30;

/** One run's total time and time inside the denoiser. */
async function timedRun(denoiser: Denoiser, sampler: SamplerName, steps: number, seed: number) {
  let inDenoiser = 0, nfe = 0;
  const timed: Denoiser = async (x, sigma, info) => {
    const t0 = performance.now();
    const out = await denoiser(x, sigma, info);
    inDenoiser += performance.now() - t0;
    nfe++;
    return out;
  };
  const sigmas = karrasSigmas({ steps });
  const t0 = performance.now();
  await sample({ denoiser: timed, batch: BATCH, dim: DIM, sigmas, sampler, seed, backend: "wasm" });
  return { total: performance.now() - t0, inDenoiser, nfe };
}

/**
 * A sampler's cost beyond its denoiser calls, the denoiser timed inside the same runs. Runs of
 * SHORT and LONG steps alternate; their difference is the cost per step without the run's fixed
 * cost.
 */
async function samplerOverhead(sampler: SamplerName, pairs = 9): Promise<Overhead> {
  // The public denoiser: it writes into the buffer the sampler lends it (`info.out`).
  const denoiser = new GaussianMixture({ ...mixtureOptions(), backend: "wasm" }).denoiser;
  const updateUs = await updateKernelsUs(sampler);
  for (let r = 0; r < 2; r++) await timedRun(denoiser, sampler, SHORT, r); // WASM tier-up, heap first touch
  const perPair: Omit<Overhead, "updateUs" | "bookkeeping">[] = [];
  for (let r = 0; r < pairs; r++) {
    const short = await timedRun(denoiser, sampler, SHORT, r);
    const long = await timedRun(denoiser, sampler, LONG, r);
    const denoiserMs = (short.inDenoiser + long.inDenoiser) / (short.nfe + long.nfe);
    const outside = (run: typeof short) => run.total - run.inDenoiser;
    const stepMs = (outside(long) - outside(short)) / (long.nfe - short.nfe);
    perPair.push({
      nfe: short.nfe,
      denoiserMs,
      overhead: outside(short) / short.nfe / (short.inDenoiser / short.nfe),
      stepUs: stepMs * 1000,
      stepOverhead: stepMs / denoiserMs,
      fixedMs: outside(short) - short.nfe * stepMs,
    });
  }
  const pick = (key: keyof (typeof perPair)[0]) => median(perPair.map((o) => o[key]));
  return {
    nfe: perPair[0].nfe,
    denoiserMs: pick("denoiserMs"),
    overhead: pick("overhead"),
    stepUs: pick("stepUs"),
    stepOverhead: pick("stepOverhead"),
    fixedMs: pick("fixedMs"),
    updateUs,
    bookkeeping: median(perPair.map((o) => (o.stepUs - updateUs) / 1000 / o.denoiserMs)),
  };
}

/**
 * The state-update kernels a sampler runs per denoiser evaluation, timed on their own on a
 * workspace of the same size (µs, median): the arithmetic of the method, as opposed to its
 * bookkeeping (checks, copies, calls, promises). Heun's step is an Euler predictor into a second
 * buffer and the correction, over its two evaluations; ancestral steps also draw their noise.
 */
async function updateKernelsUs(sampler: SamplerName): Promise<number> {
  const kernels = await selectKernels(DIFFUSION, "wasm");
  const ws = kernels.workspace(BATCH, DIM);
  try {
    const [x, d, x2, d2, z] = [0, 1, 2, 3, 4].map(() => ws.buffer());
    for (const slot of [x, d, x2, d2]) ws.write(slot, noisedData(1));
    // Steps with ratio 1 and zero coefficients keep the state as it is over the repetitions.
    const per: Record<string, () => unknown> = {
      "euler": () => ws.eulerStep(x, d, 2, 2),
      "heun": async () => {
        await ws.eulerStep(x, d, 2, 2, x2);
        await ws.heunStep(x, d, x2, d2, 2, 2);
      },
      "dpmpp-2m": () => ws.dpmppStep(x, d, d2, NONE, 1, 0, 0, 0),
      "euler-ancestral": async () => {
        await ws.fillGaussian(z, 1, 0, 1);
        await ws.ancestralStep(x, d, z, 2, 2, 0);
      },
    };
    const evaluations = sampler === "heun" ? 2 : 1;
    return 1000 * await medianMs(per[sampler], { runs: 31, minMs: 100 }) / evaluations;
  } finally {
    ws.release();
  }
}

/** The parts of one step on the WASM workspace, in µs: what the overhead is made of. */
async function stepParts(): Promise<Record<string, number>> {
  const kernels = await selectKernels(DIFFUSION, "wasm");
  const ws = kernels.workspace(BATCH, DIM);
  try {
    const x = ws.buffer(), denoised = ws.buffer(), noise = ws.buffer();
    const host = noisedData(1), back = new Float32Array(BATCH * DIM);
    ws.write(x, host);
    ws.write(denoised, host);
    const us = async (fn: () => unknown) => 1000 * await medianMs(fn, { runs: 21, minMs: 100 });
    return {
      "x to the host (only without shared memory)": await us(() => ws.read(x, back)),
      "D copied into WASM (a denoiser that returns its own array)": await us(() =>
        ws.write(denoised, host)
      ),
      "separate finite check of D (only when onStep is set)": await us(() =>
        ws.firstNonFinite(denoised)
      ),
      "Euler step kernel (finite check fused)": await us(() => ws.eulerStep(x, denoised, 2, 2)),
      "Gaussian noise draw": await us(() => ws.fillGaussian(noise, 1, 0, 1)),
    };
  } finally {
    ws.release();
  }
}

type Memory = { buffers: number; heapMiB: number; hostMiB: number };

/** Peak WASM heap and host arrays of one run at batch × DIM. */
async function memory(sampler: SamplerName, batch: number): Promise<Memory> {
  const gmm = new GaussianMixture({ ...mixtureOptions(), backend: "wasm" });
  const heap = (await wasmRuntime())!.heap;
  const state = batch * DIM * 4;
  let denoiserBytes = 0, workspaceBytes = 0;
  const counted: Denoiser = async (x, sigma, info) => {
    workspaceBytes = Math.max(workspaceBytes, heap.stats.inUse - before); // the run's own buffers
    const out = await gmm.denoiser(x, sigma, info);
    // Only an array of its own counts: the lent info.out is a workspace buffer.
    if (out.buffer !== heap.memory.buffer) denoiserBytes = Math.max(denoiserBytes, out.byteLength);
    return out;
  };
  heap.resetPeak();
  const before = heap.stats.inUse;
  const sigmas = karrasSigmas({ steps: 3 });
  const result = await sample({
    denoiser: counted,
    batch,
    dim: DIM,
    sigmas,
    sampler,
    seed: 1,
    backend: "wasm",
  });
  const peak = heap.stats.peak - before;
  // Host arrays: the result, the host copy of x when no view of WASM memory can be handed out,
  // and the denoiser's own output (one at a time; garbage once copied in).
  const hostCopy = runtimeInfo().sharedMemory ? 0 : state;
  return {
    buffers: Math.round(workspaceBytes / state),
    heapMiB: peak / MiB,
    hostMiB: (result.byteLength + hostCopy + denoiserBytes) / MiB,
  };
}

export async function benchDiffusion(): Promise<string> {
  await init({ threads: 1 });
  const one = await throughput();
  const overheadOne: Overhead[] = [];
  for (const s of SAMPLERS) overheadOne.push(await samplerOverhead(s));
  const parts = await stepParts();
  await init({ threads: THREADS });
  const all = await throughput();
  const overheadAll: Overhead[] = [];
  for (const s of SAMPLERS) overheadAll.push(await samplerOverhead(s));
  const big = 65536, mem: Memory[] = [];
  for (const s of SAMPLERS) mem.push(await memory(s, big));
  const shared = runtimeInfo().sharedMemory;
  await dispose();

  let text = table(
    [
      "σ",
      "JS reference",
      "WASM 1 thread",
      `WASM ${THREADS} threads`,
      "1 thread / JS",
      `${THREADS} threads / JS`,
      `${THREADS} threads / 1`,
    ],
    THROUGHPUT_SIGMAS.map((sigma, i) => [
      `${sigma} (${sigma < 1 ? "one component per row" : "all components"})`,
      fmt(median([one[i].reference, all[i].reference]) / 1e3, 1),
      fmt(one[i].wasm / 1e3, 1),
      fmt(all[i].wasm / 1e3, 1),
      `${fmt(one[i].ratio, 2)}×`,
      `${fmt(all[i].ratio, 2)}×`,
      `${fmt(all[i].wasm / one[i].wasm, 2)}×`,
    ]),
  );
  text +=
    `\n\nExact Gaussian-mixture denoiser, batch ${BATCH} × ${DIM}, ${COMPONENTS} diagonal components, writing into a reused output array: thousands of rows per second, medians; each WASM ratio is the median over rounds that alternate the JS reference and WASM. Target: WASM ≥ 5× the JS reference on one thread. \`GaussianMixture.denoiser\`, which returns a fresh array per call, ran at ${
      THROUGHPUT_SIGMAS.map((sigma, i) => `${fmt(one[i].fresh / 1e3, 1)}k rows/s (σ = ${sigma})`)
        .join(" and ")
    } on one thread: faulting in a fresh MiB is slow on this VM.`;

  const overheadTable = (rows: Overhead[]) =>
    table(
      [
        "sampler",
        `NFE (${SHORT} steps)`,
        "denoiser ms",
        "(sample − NFE·denoiser) / NFE / denoiser",
        "sampler µs per evaluation",
        "per evaluation / denoiser",
        "update kernels µs",
        "bookkeeping / denoiser",
        "fixed ms per run",
      ],
      SAMPLERS.map((s, i) => [
        s,
        String(rows[i].nfe),
        fmt(rows[i].denoiserMs, 2),
        `${fmt(100 * rows[i].overhead, 1)}%`,
        fmt(rows[i].stepUs, 0),
        `${fmt(100 * rows[i].stepOverhead, 1)}%`,
        fmt(rows[i].updateUs, 0),
        `${fmt(100 * rows[i].bookkeeping, 1)}%`,
        fmt(rows[i].fixedMs, 1),
      ]),
    );
  text +=
    `\n\nSampler cost relative to one denoiser evaluation, batch ${BATCH} × ${DIM}, ${COMPONENTS} components, Karras σ, backend "wasm", the denoiser timed inside the same runs, medians of 9 pairs of runs. One thread:\n\n` +
    overheadTable(overheadOne) + `\n\n${THREADS} threads:\n\n` + overheadTable(overheadAll);
  text +=
    `\n\nThe fourth column is the whole run at ${SHORT} steps: (sample() time − NFE × denoiser time) / NFE / denoiser time. "Per evaluation" is the marginal cost, from runs of ${SHORT} and ${LONG} steps, without what a run pays once (the initial noise draw, the result array: "fixed"). "Update kernels" is the sampler's own arithmetic per evaluation, timed alone on a workspace in the same run: the Euler, Heun or DPM-Solver++ update (it streams 3–5 state-sized buffers) and, for euler-ancestral, the noise draw. Bookkeeping is the rest (calls, views, promises, copies, checks), relative to one denoiser call. Target: bookkeeping ≤ 5% of a denoiser call.`;
  text += "\n\n" + table(
    ["part of a step (1 thread)", "µs", "share of a 1-thread denoiser call"],
    Object.entries(parts).map((
      [name, us],
    ) => [name, fmt(us, 0), `${fmt(100 * us / 1000 / overheadOne[0].denoiserMs, 1)}%`]),
  );
  text += `\n\nThe sampler lends the denoiser its own buffers where memory is shared (${
    shared ? "as here" : "not here"
  }): x as a view, and \`info.out\`, which \`GaussianMixture.denoiser\` fills in place, so neither is copied. The step kernels report whether what they wrote is finite, which vouches for the denoiser output they read, so D needs no separate scan unless onStep is about to see it. On ${THREADS} threads this thread and a worker each compute their share of D's rows, and each then updates the same rows of the state (the steps are dealt by the mixture's rows from 2,048 rows of 64), so the rows a thread denoises next are already in its cache; the update-kernel column of the ${THREADS}-thread table is timed on the same split steps, back to back.`;

  text += "\n\n" + table(
    ["sampler", "state buffers", "peak WASM heap MiB", "× one state", "host arrays MiB"],
    SAMPLERS.map((
      s,
      i,
    ) => [
      s,
      String(mem[i].buffers),
      fmt(mem[i].heapMiB, 1),
      `${fmt(mem[i].heapMiB / (big * DIM * 4 / MiB), 2)}×`,
      fmt(mem[i].hostMiB, 1),
    ]),
  );
  text += `\n\nBatch ${big} × ${DIM} (one state = ${
    fmt(big * DIM * 4 / MiB, 0)
  } MiB), ${THREADS} threads, ${
    shared ? "shared" : "private"
  } memory, 3 steps: peak WASM heap during sample() (workspace buffers + the mixture kernel's tables), and the host arrays of the run (the result${
    shared
      ? "; the denoiser writes into a workspace buffer"
      : ", the denoiser's output, host copy of x"
  }).`;
  return text;
}

/** A sampler (with options) as one row of the accuracy tables. */
type AccuracyRow = {
  label: string;
  sampler: SamplerName;
  samplerOptions?: Record<string, unknown>;
};

const ODE_ROWS: AccuracyRow[] = [
  { label: "euler", sampler: "euler" },
  { label: "heun", sampler: "heun" },
  { label: "dpm2", sampler: "dpm2" },
  { label: "lms", sampler: "lms" },
  { label: "dpmpp-2m", sampler: "dpmpp-2m" },
  {
    label: "dpmpp-2s-ancestral, η = 0 (DPM-Solver++(2S))",
    sampler: "dpmpp-2s-ancestral",
    samplerOptions: { eta: 0 },
  },
  {
    label: "dpmpp-3m-sde, η = 0 (DPM-Solver++(3M))",
    sampler: "dpmpp-3m-sde",
    samplerOptions: { eta: 0 },
  },
  { label: "unipc (bh2, order 2)", sampler: "unipc" },
  { label: "unipc (bh2, order 3)", sampler: "unipc", samplerOptions: { order: 3 } },
  { label: "unipc (bh1, order 2)", sampler: "unipc", samplerOptions: { variant: "bh1" } },
  { label: "ipndm (order 4)", sampler: "ipndm" },
];

const SDE_ROWS: AccuracyRow[] = [
  { label: "euler-ancestral", sampler: "euler-ancestral" },
  { label: "dpmpp-2s-ancestral", sampler: "dpmpp-2s-ancestral" },
  { label: "dpmpp-2m-sde", sampler: "dpmpp-2m-sde" },
  { label: "dpmpp-3m-sde", sampler: "dpmpp-3m-sde" },
  { label: "restart (2 restarts, tMin 0.1, tMax 2)", sampler: "restart" },
];

const NFE_TARGETS = [10, 20, 40, 80, 160];

/** The step count whose NFE is nearest `target` (counted on a one-value run). */
async function stepsFor(row: AccuracyRow, target: number): Promise<number> {
  let best = 1, bestGap = Infinity;
  for (let steps = 1; steps <= target; steps++) {
    let nfe = 0;
    await sample({
      denoiser: (x) => (nfe++, x.map(() => 0)),
      batch: 1,
      dim: 1,
      sigmas: karrasSigmas({ steps, sigmaMax: 80 }),
      sampler: row.sampler,
      samplerOptions: row.samplerOptions,
      backend: "js",
    });
    if (Math.abs(nfe - target) < bestGap) [best, bestGap] = [steps, Math.abs(nfe - target)];
    if (nfe > target) break;
  }
  return best;
}

/** One table: error (NFE) at each target, and the order fitted over the last three. */
async function accuracyTable(
  rows: AccuracyRow[],
  measure: (row: AccuracyRow, steps: number) => Promise<{ error: number; nfe: number }>,
): Promise<string> {
  const body: string[][] = [];
  for (const row of rows) {
    const runs = [];
    for (const target of NFE_TARGETS) runs.push(await measure(row, await stepsFor(row, target)));
    const tail = runs.slice(-3);
    const order = fittedOrder(tail.map((r) => r.nfe), tail.map((r) => r.error));
    body.push([
      row.label,
      ...runs.map((r) => `${r.error.toExponential(1)} (${r.nfe})`),
      fmt(order, 2),
    ]);
  }
  return table(
    ["sampler", ...NFE_TARGETS.map((n) => `NFE ≈ ${n}`), "order (NFE 40–160)"],
    body,
  );
}

/**
 * Every sampler's error against NFE on the Gaussian-mixture oracles (see
 * tests/diffusion/_solver_oracle.ts): the path error of the deterministic samplers on a 2-D,
 * 4-component mixture, and the exact error in law of every sampler on one Gaussian.
 */
export async function benchDiffusionAccuracy(): Promise<string> {
  const path = await accuracyTable(
    ODE_ROWS,
    (row, steps) => mixturePathError(row.sampler, steps, row.samplerOptions),
  );
  const law = await accuracyTable(
    [...ODE_ROWS.slice(0, 2), ...ODE_ROWS.slice(4), ...SDE_ROWS],
    (row, steps) =>
      gaussianLawError(row.sampler, karrasSigmas({ steps, sigmaMax: 80 }), row.samplerOptions),
  );
  return `Probability-flow ODE, 2-D mixture of 4 components (weights 0.2–0.35, variances 0.05–0.5), 64 starting points from N(0, 80²): RMS distance of the result from the converged solution (UniPC-3, 2048 steps), with the NFE each run took in parentheses. Karras σ from 80 to 0.002, then 0.\n\n${path}\n\nError in distribution on the one-component mixture N(0.3, 0.5²), x_T ~ N(0.3, 0.5² + 80²): every sampler is affine in x_T and its noise there, so its output law is Gaussian and follows exactly from a few unit-input rows (no Monte Carlo); the figure is the 2-Wasserstein distance to N(0.3, 0.5²).\n\n${law}\n\nOrders are least-squares slopes of log error against log 1/NFE over the last three columns. Multistep methods (lms, dpmpp-2m/3m, unipc, ipndm) start at low order, which caps the asymptotic order of the third-order ones near 2 on this grid while they stay ahead at 20–80 NFE; UniPC's corrector adds one order at no extra evaluation. Restart's excursions take N/4 Heun steps each by default, so its NFE is about 3N; on an exact denoiser its noise injections have no network error to contract and it trails Heun at equal NFE.`;
}

if (import.meta.main) {
  console.log(
    Deno.args.includes("--accuracy") ? await benchDiffusionAccuracy() : await benchDiffusion(),
  );
}
