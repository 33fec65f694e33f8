/**
 * A reader of Universal Binary JSON (UBJSON, draft 12), the binary form in which XGBoost saves
 * models (`save_model("m.ubj")`, `save_raw("ubj")`; its default format since 2.0). Numbers are
 * big-endian; containers may declare their element type and count up front, which XGBoost does
 * for every array of a tree:
 *
 * ```
 *  value      marker [payload]
 *             Z null · T true · F false · N no-op (skipped)
 *             i int8 · U uint8 · I int16 · l int32 · L int64 · d float32 · D float64
 *             C char · S string · H high-precision number (as a string)
 *  string     length (an integer value: marker + payload) then that many UTF-8 bytes
 *  array      [ [$ type] [# count] values… ]     (] only when no count was given)
 *  object     { [$ type] [# count] (key value)… } (keys are strings without the S marker)
 *
 *  typed array "[$d#l\x00\x00\x00\x03" then 3 × 4 bytes of float32, no per-element markers
 * ```
 *
 * Arrays come back as plain number arrays (JSON's shape), int64 values as numbers (exact up to
 * 2^53, far beyond any count in a model).
 *
 * @module
 */

/** Thrown for bytes that are not well-formed UBJSON. */
function malformed(offset: number, what: string): RangeError {
  return new RangeError(`Expected "model" to be UBJSON but ${what} at byte ${offset}`);
}

const DECODER = new TextDecoder("utf-8", { fatal: true });

class Reader {
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(n: number): number {
    const at = this.offset;
    if (at + n > this.#bytes.length) throw malformed(at, "the data ends too early");
    this.offset = at + n;
    return at;
  }

  marker(): number {
    return this.#bytes[this.#need(1)];
  }

  peek(): number {
    if (this.offset >= this.#bytes.length) throw malformed(this.offset, "the data ends too early");
    return this.#bytes[this.offset];
  }

  /** The payload of a scalar of type `marker`. */
  scalar(marker: number): unknown {
    const v = this.#view;
    switch (marker) {
      case 0x5a: // Z
        return null;
      case 0x54: // T
        return true;
      case 0x46: // F
        return false;
      case 0x69: // i
        return v.getInt8(this.#need(1));
      case 0x55: // U
        return v.getUint8(this.#need(1));
      case 0x49: // I
        return v.getInt16(this.#need(2));
      case 0x6c: // l
        return v.getInt32(this.#need(4));
      case 0x4c: { // L
        const big = v.getBigInt64(this.#need(8));
        return Number(big);
      }
      case 0x64: // d
        return v.getFloat32(this.#need(4));
      case 0x44: // D
        return v.getFloat64(this.#need(8));
      case 0x43: // C
        return String.fromCharCode(v.getUint8(this.#need(1)));
      case 0x53: // S
        return this.string();
      case 0x48: { // H
        const text = this.string();
        const n = Number(text);
        if (Number.isNaN(n)) throw malformed(this.offset, `"${text}" is no number`);
        return n;
      }
      default:
        throw malformed(this.offset - 1, `marker 0x${marker.toString(16)} is unknown`);
    }
  }

  /** A length or count: an integer value with its own marker. */
  count(): number {
    const at = this.offset;
    const marker = this.marker();
    if (![0x69, 0x55, 0x49, 0x6c, 0x4c].includes(marker)) {
      throw malformed(at, "a length is not an integer");
    }
    const n = this.scalar(marker) as number;
    if (!(n >= 0) || !Number.isSafeInteger(n)) throw malformed(at, `a length is ${n}`);
    return n;
  }

  string(): string {
    const n = this.count();
    const at = this.#need(n);
    try {
      return DECODER.decode(this.#bytes.subarray(at, at + n));
    } catch {
      throw malformed(at, "a string is not UTF-8");
    }
  }

  /** Optional `$type` and `#count` after a container's opening marker. */
  header(): { type: number | null; count: number | null } {
    let type: number | null = null;
    let count: number | null = null;
    if (this.peek() === 0x24) { // $
      this.offset++;
      type = this.marker();
      if (this.peek() !== 0x23) throw malformed(this.offset, "a typed container has no count");
    }
    if (this.peek() === 0x23) { // #
      this.offset++;
      count = this.count();
    }
    return { type, count };
  }

  value(marker: number, depth: number): unknown {
    if (depth > 512) throw malformed(this.offset, "containers nest deeper than 512");
    if (marker === 0x5b) return this.array(depth);
    if (marker === 0x7b) return this.object(depth);
    return this.scalar(marker);
  }

  /** The next value, skipping no-op markers. */
  next(depth: number): unknown {
    let marker = this.marker();
    while (marker === 0x4e) marker = this.marker();
    return this.value(marker, depth);
  }

  array(depth: number): unknown[] {
    const { type, count } = this.header();
    if (count === null) {
      const out: unknown[] = [];
      while (true) {
        while (this.peek() === 0x4e) this.offset++;
        if (this.peek() === 0x5d) { // ]
          this.offset++;
          return out;
        }
        out.push(this.next(depth + 1));
      }
    }
    // A count can claim more elements than the bytes left hold; refuse before allocating.
    // (Elements of types Z, T and F take no bytes, but no model holds more of them than it
    // has bytes: refusing those too bounds the work by the input's size.)
    if (count > this.#bytes.length - this.offset) {
      throw malformed(this.offset, `an array claims ${count} elements`);
    }
    const out = new Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = type === null ? this.next(depth + 1) : this.value(type, depth + 1);
    }
    return out;
  }

  object(depth: number): Record<string, unknown> {
    const { type, count } = this.header();
    if (count !== null && count > this.#bytes.length - this.offset) {
      throw malformed(this.offset, `an object claims ${count} entries`);
    }
    const out: Record<string, unknown> = {};
    for (let i = 0; count === null || i < count; i++) {
      if (count === null) {
        while (this.peek() === 0x4e) this.offset++;
        if (this.peek() === 0x7d) { // }
          this.offset++;
          break;
        }
      }
      const key = this.string();
      const value = type === null ? this.next(depth + 1) : this.value(type, depth + 1);
      Object.defineProperty(out, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
}

/**
 * The value UBJSON bytes encode (objects, number arrays, strings, numbers, booleans, null).
 *
 * @throws {RangeError} When the bytes are not one well-formed UBJSON value.
 */
export function decodeUBJSON(bytes: Uint8Array): unknown {
  const reader = new Reader(bytes);
  const value = reader.next(0);
  if (reader.offset !== bytes.length) {
    throw malformed(reader.offset, `${bytes.length - reader.offset} bytes follow the value`);
  }
  return value;
}
