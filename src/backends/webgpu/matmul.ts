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
 * Transposes are read through index arithmetic; tails are bounds-checked and zero-filled. Where
 * M, N and K are multiples of 4 the wide shader below (128×128 tiles, 8×8 per invocation) runs
 * instead.
 *
 * @module
 */
import type { MatmulArgs, MatmulKernels } from "../matmul.ts";
import {
  computePipeline,
  dispatch,
  emptyStorageBuffer,
  readBack,
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

/** Rows and columns of C per workgroup of the wide shader. */
const WIDE_TILE = 128;

/**
 * The wide GEMM shader, for M, N and K that are multiples of 4: a workgroup of 16×16
 * invocations computes a 128×128 tile of C, each invocation an 8×8 block (rows 4ty + r and
 * 64 + 4ty + r, columns 4tx + c and 64 + 4tx + c), staging 16-deep slabs of op(A) (transposed,
 * so a vec4 holds 4 rows) and op(B) in workgroup memory. A step of the slab is four vec4 reads
 * for 64 FMAs (the 64×64 shader: eight scalar reads for 16). Operands are bound as vec4 arrays.
 */
const WIDE_SHADER = (() => {
  // acc[2r + h]: rows 64·(r / 4) + 4ty + r % 4, columns 64h + 4tx .. + 3 (r < 8, h < 2).
  const xyzw = ["x", "y", "z", "w"];
  const blocks = Array.from({ length: 16 }, (_, at) => ({ at, r: at >> 1, h: at & 1 }));
  const DECLS = blocks.map(({ at }) => `  var acc${at} = vec4<f32>(0.0);`).join("\n");
  const FMAS = blocks.map(({ at, r, h }) =>
    `      acc${at} = fma(vec4<f32>(a${r >> 2}.${xyzw[r & 3]}), b${h}, acc${at});`
  ).join("\n");
  const STORES = blocks.map(({ at, r, h }) =>
    `  store(row0 + ${64 * (r >> 2) + (r & 3)}u + 4u * ty, col0 / 4u + ${16 * h}u + tx, acc${at});`
  ).join("\n");
  return /* wgsl */ `
struct Params { m: u32, n: u32, k: u32, transA: u32, transB: u32, alpha: f32, beta: f32, pad: u32 };
@group(0) @binding(0) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> C: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> P: Params;

// Slab row p (0..15) of op(A) at 32·p (vec4 j: rows 4j .. 4j + 3 of the tile), of op(B) at
// 32·p (vec4 j: columns 4j .. 4j + 3).
var<workgroup> As: array<vec4<f32>, 512>;
var<workgroup> Bs: array<vec4<f32>, 512>;

/** C[i][4j4 .. 4j4 + 3] = α·acc + β·C (β = 0 reads nothing), inside C only. */
fn store(i: u32, j4: u32, acc: vec4<f32>) {
  if (i >= P.m || j4 >= P.n / 4u) { return; }
  let at = i * (P.n / 4u) + j4;
  var v = P.alpha * acc;
  if (P.beta != 0.0) { v = v + P.beta * C[at]; }
  C[at] = v;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * 128u;
  let col0 = wg.x * 128u;
  let t = lid.y * 16u + lid.x;
  let ty = lid.y;
  let tx = lid.x;
  let m4 = P.m / 4u;
  let n4 = P.n / 4u;
  let k4 = P.k / 4u;
${DECLS}
  for (var p0 = 0u; p0 < P.k; p0 += 16u) {
    // 512 vec4 of each slab: two per invocation.
    for (var u = 0u; u < 2u; u++) {
      let slot = t + 256u * u;
      if (P.transA == 1u) {
        // A is K×M: slab row p = slot / 32, rows 4·(slot % 32) ..
        let p = slot / 32u;
        let j = slot % 32u;
        var x = vec4<f32>(0.0);
        if (p0 + p < P.k && row0 / 4u + j < m4) { x = A[(p0 + p) * m4 + row0 / 4u + j]; }
        As[slot] = x;
      } else {
        // A is M×K: tile row i = slot / 4, slab rows 4·(slot % 4) ..
        let i = slot / 4u;
        let q = slot % 4u;
        var x = vec4<f32>(0.0);
        if (row0 + i < P.m && p0 / 4u + q < k4) { x = A[(row0 + i) * k4 + p0 / 4u + q]; }
        let at = 128u * q + i / 4u;
        As[at][i % 4u] = x.x;
        As[at + 32u][i % 4u] = x.y;
        As[at + 64u][i % 4u] = x.z;
        As[at + 96u][i % 4u] = x.w;
      }
      if (P.transB == 1u) {
        // B is N×K: tile column j = slot / 4, slab rows 4·(slot % 4) ..
        let j = slot / 4u;
        let q = slot % 4u;
        var x = vec4<f32>(0.0);
        if (col0 + j < P.n && p0 / 4u + q < k4) { x = B[(col0 + j) * k4 + p0 / 4u + q]; }
        let at = 128u * q + j / 4u;
        Bs[at][j % 4u] = x.x;
        Bs[at + 32u][j % 4u] = x.y;
        Bs[at + 64u][j % 4u] = x.z;
        Bs[at + 96u][j % 4u] = x.w;
      } else {
        let p = slot / 32u;
        let j = slot % 32u;
        var x = vec4<f32>(0.0);
        if (p0 + p < P.k && col0 / 4u + j < n4) { x = B[(p0 + p) * n4 + col0 / 4u + j]; }
        Bs[slot] = x;
      }
    }
    workgroupBarrier();
    for (var p = 0u; p < 16u; p++) {
      let a0 = As[32u * p + ty];
      let a1 = As[32u * p + 16u + ty];
      let b0 = Bs[32u * p + tx];
      let b1 = Bs[32u * p + 16u + tx];
${FMAS}
    }
    workgroupBarrier();
  }
${STORES}
}
`;
})();

/** Which GEMM shader a call may run: "auto" takes the wide one where M, N and K allow. */
export type MatmulShader = "auto" | "general";

/** A GEMM's encoded dispatch on the device and its output buffer. */
export interface MatmulDispatch {
  pipeline: GPUComputePipeline;
  buffers: GPUBuffer[];
  groups: [number, number];
  c: GPUBuffer;
  shader: "wide" | "general";
}

/**
 * Uploads a GEMM's operands and prepares its dispatch; dispatching it again recomputes the
 * same C (when beta is 0). The caller destroys `buffers`.
 */
export function matmulDispatch(
  device: GPUDevice,
  args: MatmulArgs,
  shader: MatmulShader = "auto",
): MatmulDispatch {
  const { m, n, k } = args;
  const wide = shader === "auto" && m % 4 === 0 && n % 4 === 0 && k % 4 === 0;
  const tile = wide ? WIDE_TILE : TILE;
  const pipeline = computePipeline(device, wide ? WIDE_SHADER : SHADER);
  const a = storageBuffer(device, args.a);
  const b = storageBuffer(device, args.b);
  const c = args.beta === 0 ? emptyStorageBuffer(device, m * n * 4) : storageBuffer(device, args.c);
  const params = uniformBuffer(device, [
    ["u32", m], ["u32", n], ["u32", k], ["u32", args.transposeA ? 1 : 0],
    ["u32", args.transposeB ? 1 : 0], ["f32", args.alpha], ["f32", args.beta], ["u32", 0],
  ]);
  const groups: [number, number] = [Math.ceil(n / tile), Math.ceil(m / tile)];
  return { pipeline, buffers: [a, b, c, params], groups, c, shader: wide ? "wide" : "general" };
}

/** The GEMM kernel on a WebGPU device; `shader: "general"` keeps it off the wide shader. */
export function webgpuMatmul(
  device: GPUDevice,
  { shader = "auto" }: { shader?: MatmulShader } = {},
): MatmulKernels {
  return {
    name: "webgpu",
    async matmul(args: MatmulArgs) {
      const { m, n } = args;
      if (m === 0 || n === 0) return;
      const call = matmulDispatch(device, args, shader);
      try {
        dispatch(device, call.pipeline, call.buffers, call.groups);
        await readBack(device, [{ source: call.c, dest: args.c, first: 0, count: m * n }]);
      } finally {
        for (const buffer of call.buffers) buffer.destroy();
      }
    },
  };
}
