/**
 * GEMM in WGSL. Each workgroup of 16×16 invocations computes a 64×64 tile of C, each invocation
 * a 4×4 block, staging 64×16 strips of op(A) and 16×64 strips of op(B) in workgroup memory:
 *
 *        K →                        N →
 *   ┌────┬────┬──┐            ┌──────────────┐
 *   │ As │    │  │ 64 rows    │      Bs      │ 16 rows of K
 *   └────┴────┴──┘            ├──────────────┤
 *                             │              │
 *
 * Transposes are read through index arithmetic; tails are bounds-checked and zero-filled.
 *
 * @module
 */
import type { MatmulArgs, MatmulKernels } from "../matmul.ts";
import {
  computePipeline,
  dispatch,
  emptyStorageBuffer,
  readFloats,
  storageBuffer,
  uniformBuffer,
} from "./_buffers.ts";

const TILE = 64;

const SHADER = /* wgsl */ `
struct Params { m: u32, n: u32, k: u32, transA: u32, transB: u32, alpha: f32, beta: f32, pad: u32 };
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;

var<workgroup> As: array<array<f32, 64>, 16>;
var<workgroup> Bs: array<array<f32, 64>, 16>;

fn loadA(i: u32, p: u32) -> f32 {
  if (i >= P.m || p >= P.k) { return 0.0; }
  if (P.transA == 1u) { return A[p * P.m + i]; }
  return A[i * P.k + p];
}
fn loadB(p: u32, j: u32) -> f32 {
  if (p >= P.k || j >= P.n) { return 0.0; }
  if (P.transB == 1u) { return B[j * P.k + p]; }
  return B[p * P.n + j];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * 64u;
  let col0 = wg.x * 64u;
  let t = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var p0 = 0u; p0 < P.k; p0 = p0 + 16u) {
    // 256 invocations stage 1024 values of each strip: 4 each.
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = t * 4u + e;
      let r = idx / 16u;
      let q = idx % 16u;
      As[q][r] = loadA(row0 + r, p0 + q);
      let q2 = idx / 64u;
      let c2 = idx % 64u;
      Bs[q2][c2] = loadB(p0 + q2, col0 + c2);
    }
    workgroupBarrier();
    for (var q = 0u; q < 16u; q = q + 1u) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var x = 0u; x < 4u; x = x + 1u) {
        a[x] = As[q][lid.y * 4u + x];
        b[x] = Bs[q][lid.x * 4u + x];
      }
      for (var x = 0u; x < 4u; x = x + 1u) {
        for (var y = 0u; y < 4u; y = y + 1u) {
          acc[x][y] = acc[x][y] + a[x] * b[y];
        }
      }
    }
    workgroupBarrier();
  }
  for (var x = 0u; x < 4u; x = x + 1u) {
    let i = row0 + lid.y * 4u + x;
    if (i >= P.m) { continue; }
    for (var y = 0u; y < 4u; y = y + 1u) {
      let j = col0 + lid.x * 4u + y;
      if (j >= P.n) { continue; }
      let at = i * P.n + j;
      var v = P.alpha * acc[x][y];
      if (P.beta != 0.0) { v = v + P.beta * C[at]; }
      C[at] = v;
    }
  }
}
`;

export function webgpuMatmul(device: GPUDevice): MatmulKernels {
  return {
    name: "webgpu",
    async matmul(args: MatmulArgs) {
      const { m, n, k } = args;
      if (m === 0 || n === 0) return;
      const pipeline = computePipeline(device, SHADER);
      const a = storageBuffer(device, args.a);
      const b = storageBuffer(device, args.b);
      const c = args.beta === 0 ? emptyStorageBuffer(device, m * n * 4) : storageBuffer(device, args.c);
      const params = uniformBuffer(device, [
        ["u32", m], ["u32", n], ["u32", k], ["u32", args.transposeA ? 1 : 0],
        ["u32", args.transposeB ? 1 : 0], ["f32", args.alpha], ["f32", args.beta], ["u32", 0],
      ]);
      try {
        dispatch(device, pipeline, [a, b, c, params], [Math.ceil(n / TILE), Math.ceil(m / TILE)]);
        args.c.set(await readFloats(device, c, m * n));
      } finally {
        for (const buffer of [a, b, c, params]) buffer.destroy();
      }
    },
  };
}
