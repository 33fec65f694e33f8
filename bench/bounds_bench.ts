/**
 * Why Deno's tables read lower than Chromium's and Node's: Deno runs WebAssembly without V8's
 * trap handler (denoland/deno#35658), so every memory access of a kernel carries a software
 * bounds check, where Chromium and Node let the hardware catch out-of-bounds accesses. This
 * suite calls the matmul and flash-attention kernels straight (bench/_kernel_only.mjs: no
 * facade, copies or threads) in child processes: Deno as it runs, Deno with the checks turned
 * off (`--v8-flags=--no-wasm-bounds-checks`, a V8 testing flag, unsafe outside a benchmark) and
 * Node. Rounds alternate the configurations; each ratio is the median of ratios taken within a
 * round.
 *
 * @module
 */
import { median, table } from "./_harness.ts";

const SCRIPT = new URL("./_kernel_only.mjs", import.meta.url).pathname;
const ROUNDS = Number(Deno.env.get("TESSERA_BENCH_ROUNDS") ?? 5);

interface Speeds {
  matmul: number;
  sdpa: number;
}

async function child(command: string, args: string[]): Promise<Speeds> {
  const { code, stdout, stderr } = await new Deno.Command(command, { args, stderr: "piped" }).output();
  if (code !== 0) throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(new TextDecoder().decode(stdout));
}

export async function benchBounds(): Promise<string> {
  const deno = Deno.execPath();
  const configs = (build: string) => ({
    checked: () => child(deno, ["run", "-A", SCRIPT, build]),
    unchecked: () => child(deno, ["run", "-A", "--v8-flags=--no-wasm-bounds-checks", SCRIPT, build]),
    // Node 20's V8 has no relaxed SIMD: the plain build only.
    node: build === "simd" ? () => child("node", [SCRIPT, build]) : null,
  });
  const rows: string[][] = [];
  for (const build of ["simd", "relaxed"]) {
    const run = configs(build);
    const rounds: { checked: Speeds; unchecked: Speeds; node: Speeds | null }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      rounds.push({ checked: await run.checked(), unchecked: await run.unchecked(), node: await run.node?.() ?? null });
    }
    for (const kernel of ["matmul", "sdpa"] as const) {
      const med = (pick: (r: (typeof rounds)[number]) => number) => median(rounds.map(pick));
      rows.push([
        build,
        kernel === "matmul" ? "matmul 512³" : "SDPA N = 1024",
        med((r) => r.checked[kernel]).toFixed(1),
        med((r) => r.unchecked[kernel]).toFixed(1),
        `${med((r) => r.checked[kernel] / r.unchecked[kernel]).toFixed(2)}×`,
        rounds[0].node === null ? "–" : med((r) => r.node![kernel]).toFixed(1),
      ]);
    }
  }
  return table(
    ["build", "kernel", "Deno", "Deno, no bounds checks", "Deno / no checks", "Node 20"],
    rows,
  ) +
    `\n\nGFLOP/s of the kernels alone, one thread, medians of ${ROUNDS} rounds that alternate the ` +
    "configurations (each in its own process); B = 1, H = 8, D = 64 for SDPA.";
}

if (import.meta.main) console.log(await benchBounds());
