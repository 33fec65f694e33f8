/**
 * The finite flag of the workspace updates, shared by the reference and WASM suites: true on
 * finite data; false when any buffer the update reads holds a NaN or ±∞ (whatever its
 * coefficient: 0·∞ is NaN) and when finite inputs overflow float32.
 */
import assert from "node:assert/strict";
import type { DiffusionKernels, DiffusionWorkspace } from "../../src/backends/diffusion.ts";

function filled(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin(seed * 12.9898 + i * 78.233) * 3);
  return out;
}

/** A workspace holding `buffers` in slots 0, 1, … */
function workspaceWith(k: DiffusionKernels, n: number, buffers: Float32Array[]) {
  const ws = k.workspace(1, n);
  for (const data of buffers) ws.write(ws.buffer(), data);
  return ws;
}

export function checkUpdateFlags(k: DiffusionKernels): void {
  // On batch-1 workspaces, which never split, every update answers at once (a boolean).
  const updates: [string, (ws: DiffusionWorkspace) => unknown][] = [
    ["euler", (ws) => ws.eulerStep(0, 1, 2, 0.5)],
    ["euler to σ = 0", (ws) => ws.eulerStep(0, 1, 2, 0)],
    ["euler into", (ws) => ws.eulerStep(0, 1, 2, 0.5, 4)],
    ["heun", (ws) => ws.heunStep(0, 1, 2, 3, 2, 0.5)],
    ["derivative", (ws) => ws.derivativeStep(0, 2, 3, 0.8, -0.3)],
    ["ancestral", (ws) => ws.ancestralStep(0, 1, 4, 2, 0.4, 0.3)],
    ["dpmpp", (ws) => ws.dpmppStep(0, 1, 3, 4, 0.5, 0.7, -0.2, 0.1)],
    ["dpmpp, zero coefficients", (ws) => ws.dpmppStep(0, 1, 3, 4, 1, 0, 0, 0)],
    ["axpby", (ws) => ws.axpby(0, 1, -1.5, 2)],
    ["axpby, b = 0", (ws) => ws.axpby(0, 1, 1, 0)],
    ["blend", (ws) => ws.blend(0, 1, 2)],
  ];
  // Which buffers each update reads, among slots 0..4 (x, d, x2, d2, z).
  const reads: Record<string, number[]> = {
    "euler": [0, 1],
    "euler to σ = 0": [0, 1],
    "euler into": [0, 1],
    "heun": [0, 1, 2, 3],
    "derivative": [0, 2, 3],
    "ancestral": [0, 1, 4],
    "dpmpp": [0, 1, 3, 4],
    "dpmpp, zero coefficients": [0, 1, 3, 4],
    "axpby": [0, 1],
    "axpby, b = 0": [0, 1],
    "blend": [0, 1, 2],
  };
  for (const n of [1, 5, 37, 260]) {
    const clean = [1, 2, 3, 4, 5].map((seed) => filled(n, seed));
    for (const [name, update] of updates) {
      const ws = workspaceWith(k, n, clean);
      try {
        assert.equal(update(ws), true, `${name} n=${n}`);
      } finally {
        ws.release();
      }
      for (const slot of reads[name]) {
        for (const bad of [NaN, Infinity, -Infinity]) {
          const at = (slot * 7) % n, buffers = clean.map((b) => b.slice());
          buffers[slot][at] = bad;
          const ws = workspaceWith(k, n, []);
          try {
            for (const data of buffers) ws.write(ws.buffer(), data);
            assert.equal(update(ws), false, `${name} n=${n}: ${bad} in slot ${slot}`);
          } finally {
            ws.release();
          }
        }
      }
    }
    // Finite inputs whose result overflows float32.
    const huge = [1, 2, 3, 4, 5].map(() => new Float32Array(n).fill(3e38));
    const ws = workspaceWith(k, n, huge);
    try {
      assert.equal(ws.axpby(0, 1, 1, 1), false, `overflow n=${n}`);
    } finally {
      ws.release();
    }
  }
}
