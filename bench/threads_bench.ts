/**
 * Thread scaling: matmul, SDPA and the Gaussian-mixture denoiser at each thread count of a list
 * (default 1, 2 and 4, up to the host's cores; `--threads 1,2,4` or TESSERA_BENCH_THREADS),
 * from sizes too small to split up to sizes that fill every core. Each case runs at every thread
 * count in turn, so each t / 1 ratio compares runs taken a second or two apart; the table gives
 * the median over rounds of the speed at one thread and of each ratio. The small sizes show
 * where work stays on one thread (the thresholds in src/backends/wasm/): there, more threads
 * must not be slower.
 *
 * @module
 */
import { dispose, GaussianMixture, init, matmul, scaledDotProductAttention } from "../src/mod.ts";
import {
  coresCeiling,
  fmt,
  median,
  medianMs,
  pinnableCores,
  pinThread,
  randomF32,
  table,
} from "./_harness.ts";

const H = 8, D = 64, DIM = 64, COMPONENTS = 8, MIXTURE_BATCH = 4096;

/** How long each case runs before it is timed, at each thread count of each round. */
const WARMUP_MS = 150;

/** Counts init() calls, so that cases bound to a runtime know when to rebind. */
let epoch = 0;

/** The thread counts to measure: the flag, the environment, or 1, 2, 4 up to the host's cores. */
export function threadCounts(): number[] {
  const flag = Deno.args.includes("--threads") ? Deno.args[Deno.args.indexOf("--threads") + 1] : null;
  const list = flag ?? Deno.env.get("TESSERA_BENCH_THREADS");
  if (list) return list.split(",").map(Number);
  const cores = navigator.hardwareConcurrency ?? 1;
  return [1, 2, 4].filter((t) => t === 1 || t <= cores);
}

interface Case {
  label: string;
  /** Work per call in the unit of `unit` (FLOPs or rows). */
  work: number;
  unit: "GFLOP/s" | "k rows/s";
  run: () => Promise<unknown>;
  runs: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const n of [64, 128, 192, 256, 512, 1024]) {
    const a = { data: randomF32(n * n, 1), shape: [n, n] }, b = { data: randomF32(n * n, 2), shape: [n, n] };
    out.push({
      label: `matmul ${n}³`, work: 2 * n ** 3, unit: "GFLOP/s", runs: n >= 1024 ? 5 : 15,
      run: () => matmul(a, b, { backend: "wasm" }),
    });
    if (n < 512) continue;
    // Into one array lent as `out`: no fresh output to fault in, as a loop of products runs.
    const into = new Float32Array(n * n);
    out.push({
      label: `matmul ${n}³ into out`, work: 2 * n ** 3, unit: "GFLOP/s", runs: n >= 1024 ? 5 : 15,
      run: () => matmul(a, b, { backend: "wasm", out: into }),
    });
  }
  for (const n of [64, 128, 256, 1024, 4096]) {
    const t = (seed: number) => ({ data: randomF32(H * n * D, seed), shape: [1, H, n, D] });
    const q = t(1), k = t(2), v = t(3);
    out.push({
      label: `SDPA N = ${n}`, work: 4 * n * n * D * H, unit: "GFLOP/s", runs: n >= 4096 ? 3 : 9,
      run: () => scaledDotProductAttention(q, k, v, { backend: "wasm" }),
    });
    if (n !== 1024) continue;
    const into = new Float32Array(H * n * D);
    out.push({
      label: `SDPA N = ${n} into out`, work: 4 * n * n * D * H, unit: "GFLOP/s", runs: 9,
      run: () => scaledDotProductAttention(q, k, v, { backend: "wasm", out: into }),
    });
  }
  // A fresh output array per call (as `GaussianMixture.denoiser` gives without `info.out`), and
  // for 4,096 rows also into the caller's own buffer (`info.out`), as a sampler calls it: a
  // fresh array's pages may be faulted in by the calling thread alone (see README).
  const mixtures: [number, boolean][] = [
    [64, false],
    [MIXTURE_BATCH, false],
    [MIXTURE_BATCH, true],
    [16 * MIXTURE_BATCH, false],
  ];
  for (const [batch, into] of mixtures) {
    for (const sigma of [0.2, 20]) {
      const x = randomF32(batch * DIM, 7).map((value) => 3 * value);
      const info = into
        ? { batch, dim: DIM, out: new Float32Array(batch * DIM) }
        : { batch, dim: DIM };
      // A mixture binds the runtime of its time: made again after each init().
      let made = -1, denoiser = mixture().denoiser;
      out.push({
        label: `mixture denoiser ${batch} × ${DIM}${into ? " into info.out" : ""}, σ = ${sigma}`,
        work: batch, unit: "k rows/s", runs: 31,
        run: () => {
          if (made !== epoch) [made, denoiser] = [epoch, mixture().denoiser];
          return Promise.resolve(denoiser(x, sigma, info));
        },
      });
    }
  }
  return out;
}

/** Eight components in 64 dimensions, means within ±3, variances 0.15–0.35, unequal weights. */
function mixture(): GaussianMixture {
  const hash = (k: number, j: number) => Math.sin(12.9898 * (k + 1) + 78.233 * (j + 1)) * 43758.5453 % 1;
  const rows = (f: (k: number, j: number) => number) =>
    Array.from({ length: COMPONENTS }, (_, k) => Array.from({ length: DIM }, (_, j) => f(k, j)));
  return new GaussianMixture({
    means: rows((k, j) => 3 * hash(k, j)),
    variances: rows((k, j) => 0.25 + 0.1 * hash(k + 50, j)),
    weights: Array.from({ length: COMPONENTS }, (_, k) => k + 1),
    backend: "wasm",
  });
}

export async function benchThreads(rounds = Number(Deno.env.get("TESSERA_BENCH_ROUNDS") ?? 5)): Promise<string> {
  const threads = threadCounts();
  const all = cases();
  // One thread runs on each core in turn where threads can be pinned (see pinnableCores); its
  // speed is the fastest core's, and ceiling[case][thread index][round] what t threads could
  // reach over it on those cores (the t fastest cores' speeds summed, the fastest as 1).
  const cores = threads.includes(1) ? await pinnableCores() : [];
  // speed[case][thread index][round]
  const speed = all.map(() => threads.map(() => [] as number[]));
  const ceiling = all.map(() => threads.map(() => [] as number[]));
  // Each case runs at every thread count in turn before the next case, the counts in snake
  // order (1, 2, then 2, 1, …) so a pool is started once per case: a ratio then compares runs
  // taken within a second or two, and a burst of a neighbour's load weighs on both alike.
  let current = 0;
  for (let r = 0; r < rounds; r++) {
    for (const [ci, c] of all.entries()) {
      const order = [...threads.entries()];
      // Where one thread is pinned, it runs first in every turn (a pool is then started for
      // each case): the others keep the calling thread on the core it found fastest (below).
      if ((r * all.length + ci) % 2 === 1 && cores.length === 0) order.reverse();
      let fastCore: number | null = null;
      for (const [ti, t] of order) {
        if (t !== current) {
          await init({ threads: t });
          epoch++;
          current = t;
        }
        // Warm up for a while, not for a count of calls: a process's first ~250 small calls
        // allocated their outputs from fresh heap pages (a 36 KiB output 108–132 µs, later
        // 3 µs). Sub-millisecond cases still move with the allocator's state (README, "Fresh
        // output arrays and page faults").
        const measure = async () => {
          const warm = performance.now() + WARMUP_MS;
          while (performance.now() < warm) await c.run();
          const ms = await medianMs(c.run, { runs: c.runs, warmup: 0, minMs: 0 });
          return c.unit === "GFLOP/s" ? c.work / ms / 1e6 : c.work / ms;
        };
        if (t !== 1 || cores.length === 0) {
          // The calling thread stays on the fastest core, so that a call too small to split
          // runs where one thread's did, and a split call's other lanes take the other cores.
          if (fastCore !== null) await pinThread(fastCore);
          speed[ci][ti].push(await measure());
          if (fastCore !== null) await pinThread(null);
          continue;
        }
        const byCore: number[] = [];
        for (const core of cores) {
          await pinThread(core);
          byCore.push(await measure());
        }
        await pinThread(null);
        const fastest = Math.max(...byCore);
        fastCore = cores[byCore.indexOf(fastest)];
        speed[ci][ti].push(fastest);
        threads.forEach((n, i) => ceiling[ci][i].push(coresCeiling(byCore, n)));
      }
    }
  }
  await dispose();
  const header = [
    "work", `1 thread`, ...threads.slice(1).map((t) => `${t} threads / 1`),
  ];
  const rows = all.map((c, ci) => [
    c.label,
    `${fmt(median(speed[ci][0]))} ${c.unit}`,
    ...threads.slice(1).map((_, i) =>
      `${median(speed[ci][i + 1].map((s, r) => s / speed[ci][0][r])).toFixed(2)}×` +
      (ceiling[ci][i + 1].length > 0 ? ` (${median(ceiling[ci][i + 1]).toFixed(2)}×)` : "")
    ),
  ]);
  return `${table(header, rows)}\n\nMedians over ${rounds} rounds; in each, every case runs at ` +
    `each thread count (${threads.join(", ")}) in turn, and each ratio is taken within a case's ` +
    `turn. B = 1, H = 8, D = 64 for SDPA; ` +
    `the mixture has 8 diagonal components and returns a fresh array per call, except into ` +
    "info.out (the caller's own buffer, as a sampler passes); matmul and SDPA likewise, except " +
    "into out (one array lent to every call)." +
    (cores.length > 0
      ? ` One thread: the fastest of ${cores.length} runs with this thread pinned to each core ` +
        "in turn (`taskset -p`), as a VM's cores run at different speeds while other guests " +
        "share them; more threads then run with this thread on that core. In brackets, the most " +
        "t threads could reach over one on those cores (the t fastest cores' speeds summed, the " +
        "fastest as 1), from the same turn's pinned runs."
      : "");
}

if (import.meta.main) console.log(await benchThreads());
