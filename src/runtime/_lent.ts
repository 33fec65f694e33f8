/**
 * Views of WASM memory lent where the memory is not shared (a page without cross-origin
 * isolation). Such a memory's buffer is detached whenever it grows, and every view of it with
 * it, so a host view of a sampler's buffer can go dead while the code it was lent to awaits: a
 * call of any other Tessera function may grow the memory meanwhile. Only Tessera's own code may
 * hold one across an await, and it reaches the memory again through {@link liveView}, which
 * knows where each lent view points, detached or not.
 *
 * Whose code may be lent such a view is marked with {@link markLendable}: a function that
 * reads its input and writes its output only through `liveView` after each await
 * (`GaussianMixture.denoiser`). Anyone else gets host arrays: a user's denoiser may keep its
 * input past an await, and find it empty.
 *
 * @module
 */

/** Where a lent view points: its memory, its first byte and its length. */
interface Place {
  memory: WebAssembly.Memory;
  offset: number;
  length: number;
}

const places = new WeakMap<Float32Array, Place>();
const lendable = new WeakSet<object>();

/** A view of `length` floats of `memory` from byte `offset`, which {@link liveView} can renew. */
export function lendView(memory: WebAssembly.Memory, offset: number, length: number): Float32Array {
  const view = new Float32Array(memory.buffer, offset, length);
  places.set(view, { memory, offset, length });
  return view;
}

/** Whether `view` was lent by {@link lendView}. */
export function isLent(view: Float32Array): boolean {
  return places.has(view);
}

/**
 * `view`, or where it is a lent view whose buffer has been detached since (the memory grew), a
 * new one of the same floats, over the memory's buffer now.
 */
export function liveView(view: Float32Array): Float32Array {
  const place = places.get(view);
  if (place === undefined || view.length === place.length) return view;
  return lendView(place.memory, place.offset, place.length);
}

/** Marks `fn` as code that may be lent views of unshared memory (see the module's notes). */
export function markLendable(fn: object): void {
  lendable.add(fn);
}

/** Whether `fn` was marked by {@link markLendable}. */
export function isLendable(fn: object): boolean {
  return lendable.has(fn);
}
