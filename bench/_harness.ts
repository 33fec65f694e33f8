/**
 * Timing and table helpers for the benchmarks. Every figure is a median over several runs after
 * a warm-up, and every table carries a ratio against a baseline measured in the same run.
 *
 * @module
 */

import { median as medianOf, medianMs as medianMsOf, random } from "./_common.mjs";

/**
 * Median wall time in ms of `fn` over at least `runs` runs (and at least `minMs` in total, up to
 * 200 runs).
 */
export function medianMs(
  fn: () => unknown | Promise<unknown>,
  opts: { runs?: number; warmup?: number; minMs?: number } = {},
): Promise<number> {
  return medianMsOf(fn, { minMs: 200, maxRuns: 200, ...opts });
}

export function median(values: number[]): number {
  return medianOf(values);
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
  return random(n, seed);
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

/**
 * The CPUs this process may run on (Linux: `Cpus_allowed_list` of /proc/self/status, e.g.
 * "0-3,6"), or null where that cannot be read.
 */
function allowedCpus(): number[] | null {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status)?.[1];
    if (!list) return null;
    return list.split(",").flatMap((part) => {
      const [lo, hi = lo] = part.split("-").map(Number);
      return Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
    });
  } catch {
    return null;
  }
}

/** The CPUs the process started with, which pinThread(null) gives the main thread back. */
const startCpus = allowedCpus();

/**
 * Keeps this process's main thread (its id is the process's) on CPU `core`, or gives it back
 * every CPU the process started with where `core` is null (`taskset -p`, Linux). Other threads
 * keep their CPUs.
 */
export async function pinThread(core: number | null): Promise<void> {
  const cpus = core === null ? (startCpus ?? []).join(",") : String(core);
  const out = await new Deno.Command("taskset", {
    args: ["-p", "-c", cpus, String(Deno.pid)],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`taskset -p: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * The CPUs a one-thread run can be pinned to, one by one (`taskset`, Linux): on a host whose
 * cores run at different speeds (a VM whose vCPUs share physical cores with other guests), an
 * unpinned one-thread run lands on a fast or a slow core by chance, and its speed sets every
 * thread-scaling ratio. Empty where pinning is unavailable or the process has one CPU.
 */
export async function pinnableCores(): Promise<number[]> {
  const cpus = startCpus ?? [];
  if (cpus.length < 2) return [];
  const ok = await new Deno.Command("taskset", { args: ["-c", String(cpus[0]), "true"] }).output()
    .then((o) => o.success, () => false);
  return ok ? cpus : [];
}

/**
 * The most `t` threads could reach over one thread on the fastest core, from one-thread speeds
 * measured on each core (any unit where larger is faster): the t fastest cores' speeds summed,
 * the fastest as 1 (2.0 for two cores alike).
 */
export function coresCeiling(speeds: number[], t: number): number {
  const fastest = Math.max(...speeds);
  return speeds.map((x) => x / fastest).sort((a, b) => b - a).slice(0, t)
    .reduce((a, b) => a + b, 0);
}
