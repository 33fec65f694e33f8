/**
 * The `diffusion` kernel family on the WASM runtime (assembly/diffusion.ts). Step updates are
 * memory-bound and run in this thread, synchronously; the Gaussian fill and the mixture kernels
 * are dealt to the workers by rows for large batches. Every row is computed the same way
 * whatever range it falls in, so results are bit-identical for any thread count.
 *
 * @module
 */
import { Scope, type Task, type WasmRuntime } from "../../runtime/_wasm.ts";
import type { DiffusionKernels } from "../diffusion.ts";

/** Below this much work (≈ multiply-adds) one task: a worker round trip costs more. */
const MIN_PARALLEL_WORK = 1 << 20;

/** Row ranges for the tasks of one call: ~2 per thread for large work, else one. */
function rowRanges(batch: number, threads: number, work: number): [number, number][] {
  if (threads === 1 || work < MIN_PARALLEL_WORK || batch < 2) return [[0, batch]];
  const step = Math.ceil(batch / Math.min(batch, threads * 2));
  const ranges: [number, number][] = [];
  for (let r0 = 0; r0 < batch; r0 += step) ranges.push([r0, Math.min(batch, r0 + step)]);
  return ranges;
}

/**
 * Runs an element-wise kernel `kernel(target, ...reads, n, ...scalars)` in this thread and
 * copies the target back. A null read passes offset 0 (the kernel is told to skip it).
 */
function elementwise(
  runtime: WasmRuntime,
  kernel: string,
  target: Float32Array,
  reads: (Float32Array | null)[],
  n: number,
  scalars: number[],
): void {
  if (n === 0) return;
  const scope = new Scope(runtime);
  try {
    const t = scope.put(target.subarray(0, n));
    const offsets = reads.map((r) => (r === null ? 0 : scope.put(r.subarray(0, n))));
    runtime.call(kernel, t, ...offsets, n, ...scalars);
    target.set(scope.f32(t, n));
  } finally {
    scope.release();
  }
}

/** The per-σ tables of assembly/diffusion.ts's mixture kernel. */
function mixtureTables(
  sigma: number,
  variances: Float32Array,
  logWeights: Float32Array,
  dim: number,
  components: number,
) {
  const precision = new Float32Array(components * dim), shrink = new Float32Array(components * dim);
  const logNorm = new Float32Array(components);
  const s2 = sigma * sigma;
  for (let k = 0; k < components; k++) {
    let logDet = 0;
    for (let j = 0; j < dim; j++) {
      const v = variances[k * dim + j] + s2;
      precision[k * dim + j] = 1 / v;
      shrink[k * dim + j] = variances[k * dim + j] / v;
      logDet += Math.log(2 * Math.PI * v);
    }
    logNorm[k] = logWeights[k] - 0.5 * logDet;
  }
  return { precision, shrink, logNorm };
}

async function mixture(
  runtime: WasmRuntime,
  args: {
    out: Float32Array;
    x: Float32Array;
    batch: number;
    dim: number;
    sigma: number;
    means: Float32Array;
    variances: Float32Array;
    logWeights: Float32Array;
    components: number;
    wantScore: boolean;
  },
): Promise<void> {
  const { batch, dim, components } = args, n = batch * dim, table = components * dim;
  if (n === 0) return;
  const { precision, shrink, logNorm } = mixtureTables(
    args.sigma,
    args.variances,
    args.logWeights,
    dim,
    components,
  );
  await runtime.scope(async (s) => {
    const x = s.put(args.x.subarray(0, n));
    const means = s.put(args.means.subarray(0, table));
    const shrinkAt = s.put(shrink), precisionAt = s.put(precision), logNormAt = s.put(logNorm);
    const out = s.alloc(n * 4);
    const ranges = rowRanges(batch, runtime.threads, n * components * 4);
    const scratchBytes = Math.ceil((components * 4) / 64) * 64;
    const scratch = s.alloc(ranges.length * scratchBytes);
    const tasks: Task[] = ranges.map(([r0, r1], t) => ({
      kernel: "diffusion_gmm_f32",
      args: [
        out,
        x,
        means,
        shrinkAt,
        precisionAt,
        logNormAt,
        scratch + t * scratchBytes,
        dim,
        components,
        r0,
        r1,
        args.wantScore ? 1 : 0,
      ],
      inputs: [
        [x + r0 * dim * 4, (r1 - r0) * dim * 4],
        [means, table * 4],
        [shrinkAt, table * 4],
        [precisionAt, table * 4],
        [logNormAt, components * 4],
      ],
      outputs: [[out + r0 * dim * 4, (r1 - r0) * dim * 4]],
      scratch: [[scratch + t * scratchBytes, scratchBytes]],
    }));
    await s.run(tasks);
    args.out.set(s.f32(out, n));
  });
}

/** The diffusion kernels on `runtime`. */
export function wasmDiffusion(runtime: WasmRuntime): DiffusionKernels {
  return {
    name: "wasm",

    eulerStep(x, denoised, n, sigma, sigmaNext) {
      elementwise(runtime, "diffusion_euler_step_f32", x, [denoised], n, [sigmaNext / sigma]);
    },

    heunStep(x, denoised, xNext, denoisedNext, n, sigma, sigmaNext) {
      const half = 0.5 * (sigmaNext - sigma);
      elementwise(runtime, "diffusion_heun_step_f32", x, [denoised, xNext, denoisedNext], n, [
        half / sigma,
        half / sigmaNext,
      ]);
    },

    derivativeStep(x, xEval, denoisedEval, n, sigmaEval, h) {
      elementwise(runtime, "diffusion_derivative_step_f32", x, [xEval, denoisedEval], n, [
        h / sigmaEval,
      ]);
    },

    ancestralStep(x, denoised, noise, n, sigma, sigmaDown, sigmaUp) {
      elementwise(runtime, "diffusion_ancestral_step_f32", x, [denoised, noise], n, [
        sigmaDown / sigma,
        sigmaUp,
      ]);
    },

    dpmppStep(x, denoised, denoisedPrev, noise, n, a, b, c, d) {
      elementwise(runtime, "diffusion_dpmpp_step_f32", x, [denoised, denoisedPrev, noise], n, [
        a,
        b,
        c,
        d,
        denoisedPrev === null ? 0 : 1,
        noise === null ? 0 : 1,
      ]);
    },

    axpby(y, x, n, a, b) {
      elementwise(runtime, "diffusion_axpby_f32", y, [x], n, [a, b]);
    },

    langevinStep(x, score, noise, batch, dim, snr, alpha) {
      const n = batch * dim;
      if (n === 0) return;
      const scope = new Scope(runtime);
      try {
        const xAt = scope.put(x.subarray(0, n));
        const scoreAt = scope.put(score.subarray(0, n)), noiseAt = scope.put(noise.subarray(0, n));
        runtime.call(
          "diffusion_langevin_step_f32",
          xAt,
          scoreAt,
          noiseAt,
          0,
          batch,
          dim,
          snr,
          alpha,
        );
        x.set(scope.f32(xAt, n));
      } finally {
        scope.release();
      }
    },

    async fillGaussian(out, batch, dim, seed, firstSample, draw) {
      const n = batch * dim;
      if (n === 0) return;
      await runtime.scope(async (s) => {
        const at = s.alloc(n * 4);
        const tasks: Task[] = rowRanges(batch, runtime.threads, n * 16).map(([r0, r1]) => ({
          kernel: "diffusion_fill_gaussian_f32",
          args: [at, r0, r1, dim, seed >>> 0, firstSample >>> 0, draw >>> 0],
          outputs: [[at + r0 * dim * 4, (r1 - r0) * dim * 4]],
        }));
        await s.run(tasks);
        out.set(s.f32(at, n));
      });
    },

    gmmDenoise(out, x, batch, dim, sigma, means, variances, logWeights, components) {
      return mixture(runtime, {
        out,
        x,
        batch,
        dim,
        sigma,
        means,
        variances,
        logWeights,
        components,
        wantScore: false,
      });
    },

    gmmScore(out, x, batch, dim, sigma, means, variances, logWeights, components) {
      return mixture(runtime, {
        out,
        x,
        batch,
        dim,
        sigma,
        means,
        variances,
        logWeights,
        components,
        wantScore: true,
      });
    },
  };
}
