/**
 * Turns a WASM build that imports a private memory into one that imports a shared memory.
 *
 * asc's `--sharedMemory` build of Tessera differs from the plain build in one byte: the limits
 * flag of the imported memory. Both are compiled with the threads feature, so a kernel's
 * atomics (a growth step's lanes dealing features, trees_grow_step_f64) are the same bytes in
 * both; on a private memory they act as plain loads and stores of one thread (the threads
 * proposal allows them there; the suites load these builds in Chromium, Firefox, Deno, Node and
 * workerd). Shipping two builds (plain and relaxed SIMD) and deriving the shared ones here
 * halves what the bundle carries; build.ts checks at every build that the derived bytes equal
 * asc's own shared build, so a build that differs in more fails the build instead of loading
 * wrong.
 *
 * ```
 * binary:  \0asm  version  section*          section: id:u8  size:uleb  payload
 * import section (id 2):  count:uleb  (module:name  field:name  kind:u8  desc)*
 * memory desc (kind 2):   flags:u8  min:uleb  [max:uleb]
 *                         flags 0x01 = has max   →   0x03 = has max + shared
 * ```
 *
 * @module
 */

const IMPORT_SECTION = 2;
const KIND_FUNCTION = 0, KIND_TABLE = 1, KIND_MEMORY = 2, KIND_GLOBAL = 3, KIND_TAG = 4;
const HAS_MAX = 0x01, SHARED = 0x02;

/** A cursor over a WASM binary that reads unsigned LEB128 numbers and names. */
class Reader {
  constructor(readonly bytes: Uint8Array, public at = 0) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new RangeError("Expected a complete WASM binary but it ended early");
    return this.bytes[this.at++];
  }

  uleb(): number {
    let value = 0, shift = 0, b: number;
    do {
      b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return value;
  }

  skipName(): void {
    const length = this.uleb();
    this.at += length;
  }

  skipLimits(): void {
    const flags = this.byte();
    this.uleb();
    if (flags & HAS_MAX) this.uleb();
  }
}

/** The offset of the imported memory's limits flag byte, or -1 where no memory is imported. */
export function memoryImportFlagOffset(bytes: Uint8Array): number {
  const r = new Reader(bytes, 8);
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.uleb();
    const end = r.at + size;
    if (id === IMPORT_SECTION) {
      for (let i = r.uleb(); i > 0; i--) {
        r.skipName();
        r.skipName();
        const kind = r.byte();
        if (kind === KIND_MEMORY) return r.at;
        if (kind === KIND_FUNCTION) r.uleb();
        else if (kind === KIND_TABLE) (r.byte(), r.skipLimits());
        else if (kind === KIND_GLOBAL) r.at += 2;
        else if (kind === KIND_TAG) (r.byte(), r.uleb());
        else throw new RangeError(`Expected a known import kind in the WASM binary but found ${kind}`);
      }
      return -1;
    }
    r.at = end;
  }
  return -1;
}

/**
 * A copy of `bytes` whose imported memory is declared shared.
 *
 * @throws {RangeError} Where the binary imports no memory, or one without a maximum size
 * (shared memory needs one).
 */
export function withSharedMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const at = memoryImportFlagOffset(bytes);
  if (at < 0) throw new RangeError("Expected a WASM binary that imports its memory but found none");
  if (!(bytes[at] & HAS_MAX)) {
    throw new RangeError("Expected the imported memory to declare a maximum size (shared memory needs one)");
  }
  const out = new Uint8Array(bytes);
  out[at] |= SHARED;
  return out;
}
