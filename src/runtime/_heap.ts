/**
 * The allocator of WASM linear memory. Kernels never allocate: TypeScript plans every buffer
 * here and passes byte offsets. First fit over a sorted free list, 64-byte aligned (a cache
 * line), so concurrent async calls can hold buffers in any order.
 *
 *   0 ........ HEAP_BASE ........................................ memory.buffer.byteLength
 *   | static data |  [used][free][used][used][free ............................]
 *
 * When memory cannot grow (the maximum is reached, or the engine refuses the pages: the host is
 * out of memory) `alloc` throws a RangeError and changes nothing: the free list, the blocks in use
 * and the memory's contents stay as they were, so the caller's scope frees what it holds and the
 * next call allocates as before. Kernels never grow memory themselves.
 *
 * @module
 */

const ALIGN = 64;
const PAGE = 65536;

/** Bytes below this belong to the module's static data. */
export const HEAP_BASE = 65536;

export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly #maximumPages: number;
  /** Free ranges [start, end), sorted by start, never adjacent. */
  #free: Array<[number, number]> = [];
  #used = new Map<number, number>();
  #peak = 0;
  #inUse = 0;

  constructor(memory: WebAssembly.Memory, maximumPages: number) {
    this.memory = memory;
    this.#maximumPages = maximumPages;
    const end = memory.buffer.byteLength;
    if (end > HEAP_BASE) this.#free.push([HEAP_BASE, end]);
  }

  /** Bytes currently allocated, and the most ever allocated at once. */
  get stats(): { inUse: number; peak: number } {
    return { inUse: this.#inUse, peak: this.#peak };
  }

  /** The most bytes the heap can ever hold: the memory's maximum less the static data. */
  get capacity(): number {
    return this.#maximumPages * PAGE - HEAP_BASE;
  }

  /** Resets the peak statistic to the bytes now in use. */
  resetPeak(): void {
    this.#peak = this.#inUse;
  }

  /** Allocates `bytes` (64-byte aligned) and returns the offset. */
  alloc(bytes: number): number {
    if (!(bytes >= 0 && bytes <= Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`Expected a WASM allocation of 0 or more bytes but found ${bytes}`);
    }
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    for (let i = 0; i < this.#free.length; i++) {
      const [start, end] = this.#free[i];
      if (end - start >= size) {
        if (end - start === size) this.#free.splice(i, 1);
        else this.#free[i] = [start + size, end];
        return this.#take(start, size);
      }
    }
    this.#grow(size);
    return this.alloc(bytes);
  }

  /** Returns a block to the free list, merging neighbours. */
  free(ptr: number): void {
    const size = this.#used.get(ptr);
    if (size === undefined) throw new Error(`free() of unknown block ${ptr}`);
    this.#used.delete(ptr);
    this.#inUse -= size;
    this.#insertFree(ptr, ptr + size);
  }

  #take(ptr: number, size: number): number {
    this.#used.set(ptr, size);
    this.#inUse += size;
    this.#peak = Math.max(this.#peak, this.#inUse);
    return ptr;
  }

  #insertFree(start: number, end: number): void {
    const list = this.#free;
    let i = 0;
    while (i < list.length && list[i][0] < start) i++;
    list.splice(i, 0, [start, end]);
    if (i + 1 < list.length && list[i][1] === list[i + 1][0]) {
      list[i][1] = list[i + 1][1];
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1][1] === list[i][0]) {
      list[i - 1][1] = list[i][1];
      list.splice(i, 1);
    }
  }

  #grow(size: number): void {
    const oldEnd = this.memory.buffer.byteLength;
    const last = this.#free[this.#free.length - 1];
    const tailFree = last && last[1] === oldEnd ? last[1] - last[0] : 0;
    const needed = size - tailFree;
    // Grow at least by half the current size, so many small growths do not add up.
    const pages = Math.max(Math.ceil(needed / PAGE), Math.ceil(oldEnd / PAGE / 2), 16);
    const current = oldEnd / PAGE;
    const grant = Math.min(pages, this.#maximumPages - current);
    if (grant * PAGE < needed) {
      throw new RangeError(
        `WASM memory is full: ${size} more bytes are needed, ${this.#inUse} are in use and the ` +
          `maximum is ${this.#maximumPages * PAGE} bytes`,
      );
    }
    // The engine may refuse pages below the maximum (the host is out of memory): then ask for
    // only what this block needs before giving up.
    const least = Math.max(1, Math.ceil(needed / PAGE));
    let granted = 0, refusal: unknown;
    for (const ask of grant > least ? [grant, least] : [grant]) {
      try {
        this.memory.grow(ask);
        granted = ask;
        break;
      } catch (error) {
        refusal = error;
      }
    }
    if (granted === 0) {
      throw new RangeError(
        `WASM memory could not grow by ${least * PAGE} bytes for a block of ${size} bytes ` +
          `(${oldEnd} bytes now): ${(refusal as Error)?.message ?? refusal}`,
        { cause: refusal },
      );
    }
    this.#insertFree(oldEnd, oldEnd + granted * PAGE);
  }
}
