/**
 * Timing and table helpers for the benchmarks. Every figure is a median over several runs after
 * a warm-up, and every table carries a ratio against a baseline measured in the same run.
 *
 * @module
 */

/** Median wall time in ms of `fn` over at least `runs` runs (and at least `minMs` in total). */
export async function medianMs(
  fn: () => unknown | Promise<unknown>,
  opts: { runs?: number; warmup?: number; minMs?: number } = {},
): Promise<number> {
  const { runs = 7, warmup = 2, minMs = 200 } = opts;
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < runs || (performance.now() - start < minMs && times.length < 200)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A markdown table. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)));
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...cells.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

export function fmt(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return "–";
  return x >= 100 ? x.toFixed(0) : x.toFixed(digits);
}

/** Deterministic uniform(-1, 1) float32 data. */
export function randomF32(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** One line about the machine, for the table's caption. */
export function machine(): string {
  const cpus = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), ${cpus ?? "?"} hardware threads${
    cpuModel()
  }, ${new Date().toISOString().slice(0, 10)}`;
}

/** ", <CPU model>" from /proc/cpuinfo where there is one (Linux), else "". */
function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    const name = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim();
    const family = /^cpu family\s*:\s*(\d+)$/m.exec(info)?.[1];
    return name ? `, ${name}${family ? ` (family ${family})` : ""}` : "";
  } catch {
    return "";
  }
}
