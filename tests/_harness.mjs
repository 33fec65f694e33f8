// Shared by the Node, browser and edge harnesses: each prints `ok <name>`, `FAIL <name>` or
// `SKIP <name> (skipped: <reason>)` lines that tests/run_all.ts counts (tests/_runner.ts).

/** Runs one named check, printing its outcome; a failure never stops the harness. */
export async function test(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (error) {
    console.log(`FAIL ${name}`);
    console.error(error);
  }
}

/** Reports one check as skipped, with the reason (e.g. "no WebGPU adapter in Node"). */
export function skip(name, reason) {
  console.log(`SKIP ${name} (skipped: ${reason})`);
}

/** A deterministic uniform(−1, 1) matrix as plain numbers (JSON- and postMessage-friendly). */
export function randomMatrix(rows, cols, seed) {
  const data = [];
  let s = seed;
  for (let i = 0; i < rows * cols; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data.push((s / 2 ** 32) * 2 - 1);
  }
  return { data, shape: [rows, cols] };
}

/** The same matrix as a Tensor. */
export function randomTensor(rows, cols, seed) {
  const m = randomMatrix(rows, cols, seed);
  return { data: new Float32Array(m.data), shape: m.shape };
}
