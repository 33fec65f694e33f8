// Shared by the Node, browser and edge harnesses: each prints `ok <name>`, `FAIL <name>` or
// `SKIP <name> (skipped: <reason>)` lines that tests/run_all.ts counts (tests/_runner.ts).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";

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

/** An HTTP server on 127.0.0.1 and a free port, once it listens. */
export function serve(handler) {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/**
 * A CDN's origin for the browser tests: serves the files under `dir` (a URL ending in "/") as
 * JavaScript, with the CORS and CORP headers that let a page on any origin import them.
 */
export function serveCdn(dir) {
  return serve(async (req, res) => {
    try {
      const body = await readFile(new URL(`.${new URL(req.url, "http://x").pathname}`, dir));
      res.writeHead(200, {
        "content-type": "text/javascript",
        "access-control-allow-origin": "*",
        "cross-origin-resource-policy": "cross-origin",
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
}
