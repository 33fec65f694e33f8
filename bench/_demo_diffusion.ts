/**
 * The diffusion section of `npm run demo`: sampling a 2-D Gaussian mixture with two samplers
 * through the built bundle, then the share of samples on each mode against the mixture's
 * weights, and a density plot of each result.
 *
 * demo.ts passes the bundle and its helpers in, so this file imports nothing from it.
 *
 * @module
 */
// deno-lint-ignore-file no-explicit-any

export type DemoKit = {
  /** The built bundle, dist/tessera.js. */
  tessera: any;
  /** Rewrites one status line: `label`, a bar, done/total; a newline when done. */
  progress: (label: string, done: number, total: number) => void;
  bold: (s: string) => string;
};

const MEANS = [[-2.5, -1.5], [2.5, -1.5], [0, 2.5]];
const VARIANCES = [[0.3, 0.3], [0.5, 0.2], [0.2, 0.5]];
const WEIGHTS = [0.5, 0.3, 0.2];
const BATCH = 4000;

/** The mode nearest to each sample, counted per mode, as shares. */
function modeShares(samples: Float32Array): number[] {
  const counts = MEANS.map(() => 0);
  for (let i = 0; i < samples.length; i += 2) {
    let best = 0, bestDistance = Infinity;
    MEANS.forEach(([mx, my], k) => {
      const distance = (samples[i] - mx) ** 2 + (samples[i + 1] - my) ** 2;
      if (distance < bestDistance) (best = k), (bestDistance = distance);
    });
    counts[best]++;
  }
  return counts.map((c) => c / (samples.length / 2));
}

/** Rows of a character density plot of the samples over [−5, 5] × [−4, 5]. */
function densityPlot(samples: Float32Array, width = 36, height = 15): string[] {
  const shades = " .:-=+*#%@";
  const grid = Array.from({ length: height }, () => new Array(width).fill(0));
  const [x0, x1, y0, y1] = [-5, 5, -4, 5];
  for (let i = 0; i < samples.length; i += 2) {
    const col = Math.floor(((samples[i] - x0) / (x1 - x0)) * width);
    const row = Math.floor(((y1 - samples[i + 1]) / (y1 - y0)) * height);
    if (col >= 0 && col < width && row >= 0 && row < height) grid[row][col]++;
  }
  const peak = Math.max(...grid.flat());
  return grid.map((r) =>
    r.map((c) => shades[c === 0 ? 0 : 1 + Math.floor((Math.sqrt(c / peak)) * (shades.length - 2))])
      .join("")
  );
}

/** Samples the mixture with each sampler, then compares modes and plots. */
export async function diffusionSection({ tessera, progress, bold }: DemoKit): Promise<void> {
  console.log(bold("\nDiffusion sampling (sample, GaussianMixture)"));
  const gmm = new tessera.GaussianMixture({ means: MEANS, variances: VARIANCES, weights: WEIGHTS });
  console.log(
    `  a 2-D mixture of ${MEANS.length} Gaussians, weights ${WEIGHTS.join(" / ")}; ` +
      `${BATCH} samples from pure noise at σ = 80, with its exact denoiser`,
  );
  const runs = [
    { sampler: "heun", steps: 18, note: "EDM Algorithm 1, deterministic" },
    { sampler: "euler-ancestral", steps: 40, note: "fresh noise every step" },
  ];
  const results: { label: string; samples: Float32Array; ms: number; nfe: number }[] = [];
  for (const { sampler, steps, note } of runs) {
    const label = `${sampler} (${note}), ${steps} steps`;
    let nfe = 0;
    const t0 = performance.now();
    const samples: Float32Array = await tessera.sample({
      denoiser: gmm.denoiser,
      batch: BATCH,
      dim: 2,
      sigmas: tessera.karrasSigmas({ steps }),
      sampler,
      seed: 7,
      onStep: (s: { step: number; nfe: number }) => {
        nfe = s.nfe;
        progress(label.padEnd(56), s.step + 1, steps);
      },
    });
    results.push({ label: sampler, samples, ms: performance.now() - t0, nfe });
  }

  const header = ["mode (mean)", "weight", ...results.map((r) => r.label)];
  const rows = MEANS.map((mean, k) => [
    `(${mean.join(", ")})`,
    WEIGHTS[k].toFixed(2),
    ...results.map((r) => modeShares(r.samples)[k].toFixed(3)),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => "  " + cells.map((s, c) => s.padStart(widths[c])).join("   ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  const se = Math.sqrt(WEIGHTS[0] * (1 - WEIGHTS[0]) / BATCH);
  console.log(`  (one standard error of a share near ${WEIGHTS[0]} is ${se.toFixed(3)})`);
  for (const r of results) {
    console.log(`  ${r.label}: ${r.nfe} denoiser calls, ${r.ms.toFixed(0)} ms`);
  }

  const plots = results.map((r) => densityPlot(r.samples));
  const width = plots[0][0].length;
  console.log("  " + results.map((r) => `┌${r.label.padEnd(width, "─")}┐`).join("  "));
  for (let row = 0; row < plots[0].length; row++) {
    console.log("  " + plots.map((p) => `│${p[row]}│`).join("  "));
  }
  console.log("  " + plots.map(() => `└${"─".repeat(width)}┘`).join("  "));
}
