import assert from "node:assert/strict";
import { memoryImportFlagOffset, withSharedMemory } from "../../src/runtime/_shared_memory.ts";

const build = (variant: string) => Deno.readFile(new URL(`../../build/tessera-${variant}.wasm`, import.meta.url));

/** A module with the given import entries (each: kind byte + descriptor bytes), names "m"/"f<i>". */
function moduleWithImports(entries: number[][]): Uint8Array {
  const types = [0x01, 0x60, 0x00, 0x00]; // one type: () -> ()
  const imports = [entries.length];
  entries.forEach((entry, i) => imports.push(1, 0x6d, 2, 0x66, 0x30 + i, ...entry));
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, types.length, ...types,
    0x02, imports.length, ...imports,
  ]);
}

const FUNCTION = [0x00, 0x00]; // kind 0, type 0
const TABLE = [0x01, 0x70, 0x01, 0x01, 0x02]; // kind 1, funcref, min 1 max 2
const GLOBAL = [0x03, 0x7f, 0x00]; // kind 3, i32, immutable
const MEMORY_WITH_MAX = [0x02, 0x01, 0x01, 0x80, 0x80, 0x02]; // min 1, max 32768
const MEMORY_WITHOUT_MAX = [0x02, 0x00, 0x01];

Deno.test("withSharedMemory() turns each shipped build into asc's own shared build, byte for byte", async () => {
  for (const base of ["simd", "relaxed"]) {
    const derived = withSharedMemory(await build(base));
    assert.deepEqual(derived, await build(`${base}-shared`), base);
  }
});

Deno.test("withSharedMemory() gives a module whose memory import accepts only a shared memory", async () => {
  const module = await WebAssembly.compile(withSharedMemory(await build("simd")));
  const [memoryImport] = WebAssembly.Module.imports(module).filter((i) => i.kind === "memory");
  assert.equal(memoryImport.name, "memory");
  const shared = new WebAssembly.Memory({ initial: 1, maximum: 32768, shared: true });
  const instance = await WebAssembly.instantiate(module, { env: { memory: shared, abort() {} } });
  assert.ok(instance.exports);
  const privateMemory = new WebAssembly.Memory({ initial: 1, maximum: 32768 });
  await assert.rejects(WebAssembly.instantiate(module, { env: { memory: privateMemory, abort() {} } }));
});

Deno.test("memoryImportFlagOffset() skips function, table and global imports before the memory", () => {
  const bytes = moduleWithImports([FUNCTION, TABLE, GLOBAL, MEMORY_WITH_MAX]);
  const at = memoryImportFlagOffset(bytes);
  assert.equal(at, bytes.length - 5); // flags, min (1 byte), max (3 bytes)
  const shared = withSharedMemory(bytes);
  assert.equal(shared[at], 0x03);
  assert.equal(bytes[at], 0x01, "the input is left as it was");
  assert.ok(WebAssembly.validate(shared));
});

Deno.test("withSharedMemory() refuses a module without a memory import, or one without a maximum", () => {
  assert.throws(() => withSharedMemory(moduleWithImports([FUNCTION])), /imports its memory but found none/);
  assert.throws(() => withSharedMemory(moduleWithImports([MEMORY_WITHOUT_MAX])), {
    name: "RangeError",
    message: /maximum size/,
  });
  assert.throws(() => withSharedMemory(moduleWithImports([[0x07]])), /known import kind .* found 7/);
  assert.throws(() => withSharedMemory(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 2])), /ended early/);
});
