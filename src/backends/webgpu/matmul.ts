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
 * Transposes are read through index arithmetic; tails are bounds-checked and zero-filled. Calls
 * run the wide shader below instead (128×128 tiles, 8×8 per invocation), with vec4 loads and
 * stores where M, N and K are multiples of 4 and checked scalar ones elsewhere; this one stays
 * as `shader: "general"`, the bench's baseline.
 *
 * @module
 */
import type { MatmulArgs, MatmulKernels } from "../matmul.ts";
import {
  computePipeline,
  emptyStorageBuffer,
  readBack,
  storageBuffer,
  submit,
  uniformBuffer,
  XYZW,
} from "./_buffers.ts";

const TILE = 64;

/** The GEMM shaders' parameters (one uniform struct, filled by matmulDispatch). */
const PARAMS = "struct Params { m: u32, n: u32, k: u32, transA: u32, transB: u32, " +
  "alpha: f32, beta: f32, pad: u32 };";

/** op(A)[i][p] and op(B)[p][j] one float at a time, zero outside the matrices. */
const SCALAR_LOADS = /* wgsl */ `
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
`;

const SHADER = /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> P: Params;

var<workgroup> As: array<array<f32, 64>, 16>;
var<workgroup> Bs: array<array<f32, 64>, 16>;

${SCALAR_LOADS}

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

// How the wide shader reads op(A) and op(B) four floats at a time and writes four of C (reads
// outside the matrices give zeros, writes outside C are dropped).

/** With vec4 loads and stores: M, N and K are multiples of 4. */
const VECTOR_ACCESS = /* wgsl */ `
/** op(A) rows 4·i4 .. 4·i4 + 3 at column p (A stored K×M). */
fn aRows(i4: u32, p: u32) -> vec4<f32> {
  if (p < P.k && i4 < P.m / 4u) { return A[p * (P.m / 4u) + i4]; }
  return vec4<f32>(0.0);
}
/** op(A) row i at columns 4·p4 .. 4·p4 + 3 (A stored M×K). */
fn aCols(i: u32, p4: u32) -> vec4<f32> {
  if (i < P.m && p4 < P.k / 4u) { return A[i * (P.k / 4u) + p4]; }
  return vec4<f32>(0.0);
}
/** op(B) row p at columns 4·j4 .. 4·j4 + 3 (B stored K×N). */
fn bCols(p: u32, j4: u32) -> vec4<f32> {
  if (p < P.k && j4 < P.n / 4u) { return B[p * (P.n / 4u) + j4]; }
  return vec4<f32>(0.0);
}
/** op(B) column j at rows 4·p4 .. 4·p4 + 3 (B stored N×K). */
fn bRows(j: u32, p4: u32) -> vec4<f32> {
  if (j < P.n && p4 < P.k / 4u) { return B[j * (P.k / 4u) + p4]; }
  return vec4<f32>(0.0);
}
/** C[i][4j4 .. 4j4 + 3] = α·acc + β·C (β = 0 reads nothing), inside C only. */
fn store(i: u32, j4: u32, acc: vec4<f32>) {
  if (i >= P.m || j4 >= P.n / 4u) { return; }
  let at = i * (P.n / 4u) + j4;
  var v = P.alpha * acc;
  if (P.beta != 0.0) { v = v + P.beta * C[at]; }
  C[at] = v;
}
`;

/** One float at a time, each checked: any M, N and K. */
const SCALAR_ACCESS = /* wgsl */ `
${SCALAR_LOADS}
fn aRows(i4: u32, p: u32) -> vec4<f32> {
  return vec4<f32>(loadA(4u * i4, p), loadA(4u * i4 + 1u, p), loadA(4u * i4 + 2u, p),
    loadA(4u * i4 + 3u, p));
}
fn aCols(i: u32, p4: u32) -> vec4<f32> {
  return vec4<f32>(loadA(i, 4u * p4), loadA(i, 4u * p4 + 1u), loadA(i, 4u * p4 + 2u),
    loadA(i, 4u * p4 + 3u));
}
fn bCols(p: u32, j4: u32) -> vec4<f32> {
  return vec4<f32>(loadB(p, 4u * j4), loadB(p, 4u * j4 + 1u), loadB(p, 4u * j4 + 2u),
    loadB(p, 4u * j4 + 3u));
}
fn bRows(j: u32, p4: u32) -> vec4<f32> {
  return vec4<f32>(loadB(4u * p4, j), loadB(4u * p4 + 1u, j), loadB(4u * p4 + 2u, j),
    loadB(4u * p4 + 3u, j));
}
/** C[i][j] = α·x + β·C (β = 0 reads nothing), inside C only. */
fn store1(i: u32, j: u32, x: f32) {
  if (i >= P.m || j >= P.n) { return; }
  let at = i * P.n + j;
  var v = P.alpha * x;
  if (P.beta != 0.0) { v = v + P.beta * C[at]; }
  C[at] = v;
}
fn store(i: u32, j4: u32, acc: vec4<f32>) {
  store1(i, 4u * j4, acc.x);
  store1(i, 4u * j4 + 1u, acc.y);
  store1(i, 4u * j4 + 2u, acc.z);
  store1(i, 4u * j4 + 3u, acc.w);
}
`;

/**
 * The wide GEMM shader: a workgroup of 16×16 invocations computes a 128×128 tile of C, each
 * invocation an 8×8 block (rows 4ty + r and 64 + 4ty + r, columns 4tx + c and 64 + 4tx + c),
 * staging 16-deep slabs of op(A) (transposed, so a vec4 holds 4 rows) and op(B) in workgroup
 * memory. A step of the slab is four vec4 reads for 64 FMAs (the 64×64 shader: eight scalar
 * reads for 16). Operands are bound as vec4 arrays with `vector` (VECTOR_ACCESS), as floats
 * without (SCALAR_ACCESS). The 16 accumulators are unrolled in the source: an array indexed at
 * run time lives in local memory (7× slower on an H200).
 */
function wideShader(vector: boolean): string {
  // acc[2r + h]: rows 64·(r / 4) + 4ty + r % 4, columns 64h + 4tx .. + 3 (r < 8, h < 2).
  const blocks = Array.from({ length: 16 }, (_, at) => ({ at, r: at >> 1, h: at & 1 }));
  const DECLS = blocks.map(({ at }) => `  var acc${at} = vec4<f32>(0.0);`).join("\n");
  const FMAS = blocks.map(({ at, r, h }) =>
    `      acc${at} = fma(vec4<f32>(a${r >> 2}.${XYZW[r & 3]}), b${h}, acc${at});`
  ).join("\n");
  const STORES = blocks.map(({ at, r, h }) =>
    `  store(row0 + ${64 * (r >> 2) + (r & 3)}u + 4u * ty, col0 / 4u + ${16 * h}u + tx, acc${at});`
  ).join("\n");
  const element = vector ? "vec4<f32>" : "f32";
  return /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read> A: array<${element}>;
@group(0) @binding(1) var<storage, read> B: array<${element}>;
@group(0) @binding(2) var<storage, read_write> C: array<${element}>;
@group(0) @binding(3) var<uniform> P: Params;

// Slab row p (0..15) of op(A) at 32·p (vec4 j: rows 4j .. 4j + 3 of the tile), of op(B) at
// 32·p (vec4 j: columns 4j .. 4j + 3).
var<workgroup> As: array<vec4<f32>, 512>;
var<workgroup> Bs: array<vec4<f32>, 512>;

${vector ? VECTOR_ACCESS : SCALAR_ACCESS}
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * 128u;
  let col0 = wg.x * 128u;
  let t = lid.y * 16u + lid.x;
  let ty = lid.y;
  let tx = lid.x;
${DECLS}
  for (var p0 = 0u; p0 < P.k; p0 += 16u) {
    // 512 vec4 of each slab: two per invocation.
    for (var u = 0u; u < 2u; u++) {
      let slot = t + 256u * u;
      if (P.transA == 1u) {
        // Slab row p = slot / 32, tile rows 4·(slot % 32) ..
        As[slot] = aRows(row0 / 4u + slot % 32u, p0 + slot / 32u);
      } else {
        // Tile row i = slot / 4, slab rows 4·(slot % 4) ..
        let i = slot / 4u;
        let x = aCols(row0 + i, p0 / 4u + slot % 4u);
        let at = 128u * (slot % 4u) + i / 4u;
        As[at][i % 4u] = x.x;
        As[at + 32u][i % 4u] = x.y;
        As[at + 64u][i % 4u] = x.z;
        As[at + 96u][i % 4u] = x.w;
      }
      if (P.transB == 1u) {
        // Tile column j = slot / 4, slab rows 4·(slot % 4) ..
        let j = slot / 4u;
        let x = bRows(col0 + j, p0 / 4u + slot % 4u);
        let at = 128u * (slot % 4u) + j / 4u;
        Bs[at][j % 4u] = x.x;
        Bs[at + 32u][j % 4u] = x.y;
        Bs[at + 64u][j % 4u] = x.z;
        Bs[at + 96u][j % 4u] = x.w;
      } else {
        Bs[slot] = bCols(p0 + slot / 32u, col0 / 4u + slot % 32u);
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
}

/** The wide shader with vec4 access (M, N, K multiples of 4) and with scalar access. */
const WIDE_SHADERS = { vector: wideShader(true), scalar: wideShader(false) };

/**
 * Which GEMM shader a call runs: "auto" takes the wide one, with vec4 access where M, N and K
 * are multiples of 4; "scalar" forces its scalar access; "general" the 64×64 shader.
 */
export type MatmulShader = "auto" | "scalar" | "general";

/** A GEMM's encoded dispatch on the device and its output buffer. */
export interface MatmulDispatch {
  pipeline: GPUComputePipeline;
  buffers: GPUBuffer[];
  groups: [number, number];
  c: GPUBuffer;
  shader: "wide" | "wide-scalar" | "general";
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
  const wide = shader !== "general";
  const vector = shader === "auto" && m % 4 === 0 && n % 4 === 0 && k % 4 === 0;
  const tile = wide ? WIDE_TILE : TILE;
  const code = !wide ? SHADER : vector ? WIDE_SHADERS.vector : WIDE_SHADERS.scalar;
  const pipeline = computePipeline(device, code);
  const a = storageBuffer(device, args.a);
  const b = storageBuffer(device, args.b);
  const c = args.beta === 0 ? emptyStorageBuffer(device, m * n * 4) : storageBuffer(device, args.c);
  const params = uniformBuffer(device, [
    ["u32", m], ["u32", n], ["u32", k], ["u32", args.transposeA ? 1 : 0],
    ["u32", args.transposeB ? 1 : 0], ["f32", args.alpha], ["f32", args.beta], ["u32", 0],
  ]);
  const groups: [number, number] = [Math.ceil(n / tile), Math.ceil(m / tile)];
  const name = !wide ? "general" : vector ? "wide" : "wide-scalar";
  return { pipeline, buffers: [a, b, c, params], groups, c, shader: name };
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
        submit(device, [call]);
        await readBack(device, [{ source: call.c, dest: args.c, first: 0, count: m * n }]);
      } finally {
        for (const buffer of call.buffers) buffer.destroy();
      }
    },
  };
}
