/**
 * Shape checks shared by the attention functions: the [batch, heads, seq, headDim] layout,
 * grouped-query head counts and right-aligned broadcasting of masks and biases.
 *
 * @module
 */
import { checkTensor } from "../_validate.ts";
import type { AttentionDims } from "../backends/attention.ts";
import type { Tensor } from "../tensor.ts";

const shapeText = (t: Tensor) => `[${t.shape.join(", ")}]`;

/**
 * Checks q [B, H, Nq, D], k [B, Hkv, Nk, D] and v [B, Hkv, Nk, Dv] with H % Hkv == 0 and
 * returns their dimensions. `names` are the argument names used in messages.
 */
export function checkQueryKeyValue(
  q: unknown,
  k: unknown,
  v: unknown,
  names: readonly [string, string, string] = ["q", "k", "v"],
): AttentionDims {
  const [qName, kName, vName] = names;
  checkTensor(qName, q, 4);
  checkTensor(kName, k, 4);
  checkTensor(vName, v, 4);
  const [batch, heads, queryLength, headDim] = q.shape;
  const [kBatch, kvHeads, keyLength] = k.shape;
  const expectDim = (
    name: string,
    t: Tensor,
    axis: number,
    what: string,
    want: number,
    from: string,
  ) => {
    if (t.shape[axis] !== want) {
      throw new RangeError(
        `Expected "${name}" to have ${what} ${want} (from "${from}") but found shape ${
          shapeText(t)
        }`,
      );
    }
  };
  if (heads < 1) {
    throw new RangeError(
      `Expected "${qName}" to have at least one head but found shape ${shapeText(q)}`,
    );
  }
  if (headDim < 1) {
    throw new RangeError(
      `Expected "${qName}" to have a head dimension >= 1 but found shape ${shapeText(q)}`,
    );
  }
  expectDim(kName, k, 0, "batch size", batch, qName);
  expectDim(kName, k, 3, "head dimension", headDim, qName);
  if (kvHeads < 1 || heads % kvHeads !== 0) {
    throw new RangeError(
      `Expected the head count of "${kName}" to divide that of "${qName}" (${heads}) but found shape ${
        shapeText(k)
      }`,
    );
  }
  expectDim(vName, v, 0, "batch size", kBatch, kName);
  expectDim(vName, v, 1, "head count", kvHeads, kName);
  expectDim(vName, v, 2, "sequence length", keyLength, kName);
  return { batch, heads, kvHeads, queryLength, keyLength, headDim, valueDim: v.shape[3] };
}

/**
 * Checks that `value` broadcasts to `target` with numpy's right-aligned rule (every axis 1 or
 * the target size, missing leading axes count as 1; the last axis must match exactly) and
 * returns the stride of each target axis, 0 where broadcast.
 */
export function broadcastStrides(
  name: string,
  value: unknown,
  target: readonly number[],
  targetText: string,
): number[] {
  checkTensor(name, value);
  const { shape } = value;
  const offset = target.length - shape.length;
  const fits = offset >= 0 && shape.length >= 1 &&
    shape.every((d, i) => d === target[offset + i] || (d === 1 && i < shape.length - 1));
  if (!fits) {
    throw new RangeError(
      `Expected "${name}" to broadcast to ${targetText} = [${target.join(", ")}] but found shape ${
        shapeText(value)
      }`,
    );
  }
  const strides = new Array<number>(target.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[offset + i] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

/**
 * Throws unless every entry of an additive mask or bias is finite or -Infinity: +Infinity
 * and NaN have no meaning as a mask and would turn whole rows into NaN.
 */
export function checkAdditive(name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!(x < Infinity)) {
      throw new RangeError(
        `Expected "${name}" to hold finite numbers or -Infinity but entry ${i} is ${x}`,
      );
    }
  }
}

/**
 * The broadcast strides of an optional additive mask or bias (see broadcastStrides; all 0 when
 * it is absent), after checking its shape and its entries (see checkAdditive).
 */
export function additiveStrides(
  name: string,
  value: Tensor | undefined,
  target: readonly number[],
  targetText: string,
): number[] {
  if (value === undefined) return new Array<number>(target.length).fill(0);
  const strides = broadcastStrides(name, value, target, targetText);
  checkAdditive(name, value.data);
  return strides;
}
