/**
 * Calling a user network from an adapter: sync or async, with its output checked, and a
 * combination applied without forcing a promise on synchronous networks.
 *
 * @module
 */
import { show } from "../_validate.ts";
import type { DenoiserInfo, Network } from "./types.ts";

/** Throws unless `out` is a Float32Array of `n` values. */
export function checkNetworkOutput(name: string, out: unknown, n: number): Float32Array {
  if (!(out instanceof Float32Array)) {
    throw new TypeError(`Expected "${name}" to return a Float32Array but found ${show(out)}`);
  }
  if (out.length !== n) {
    throw new RangeError(`Expected "${name}" to return ${n} values but found ${out.length}`);
  }
  return out;
}

/**
 * Calls `network(input, conditioning, info)` and hands its checked output to `combine`,
 * synchronously when the network is synchronous.
 */
export function callNetwork(
  name: string,
  network: Network,
  input: Float32Array,
  conditioning: number,
  info: DenoiserInfo,
  combine: (out: Float32Array) => Float32Array,
): Float32Array | Promise<Float32Array> {
  const result = network(input, conditioning, info);
  if (result instanceof Promise) {
    return result.then((out) => combine(checkNetworkOutput(name, out, input.length)));
  }
  return combine(checkNetworkOutput(name, result, input.length));
}

/**
 * Where a denoiser writes its `n` results: `info.out` when the caller lent it (checked), else a
 * fresh array.
 *
 * @throws {RangeError} When `info.out` is not a Float32Array of `n` values.
 */
export function outputFor(info: DenoiserInfo | undefined, n: number): Float32Array {
  const lent = info?.out;
  if (lent === undefined) return new Float32Array(n);
  if (!(lent instanceof Float32Array) || lent.length !== n) {
    throw new RangeError(
      `Expected "info.out" to be a Float32Array of ${n} values but found ${show(lent)}`,
    );
  }
  return lent;
}

/** Throws unless `value` is a function. */
export function checkFunction(name: string, value: unknown): void {
  if (typeof value !== "function") {
    throw new TypeError(`Expected "${name}" to be a function but found ${show(value)}`);
  }
}
