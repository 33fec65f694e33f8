import assert from "node:assert/strict";
import { decodeUBJSON } from "../../../src/trees/io/_ubjson.ts";

const bytes = (...parts: (number | string)[]) =>
  Uint8Array.from(
    parts.flatMap((p) => typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : [p]),
  );

Deno.test("decodeUBJSON() reads scalars big-endian, strings and nested containers", () => {
  assert.equal(decodeUBJSON(bytes("i", 0xff)), -1);
  assert.equal(decodeUBJSON(bytes("U", 0xff)), 255);
  assert.equal(decodeUBJSON(bytes("I", 0x01, 0x02)), 258);
  assert.equal(decodeUBJSON(bytes("l", 0xff, 0xff, 0xff, 0xfe)), -2);
  assert.equal(decodeUBJSON(bytes("L", 0, 0, 0, 1, 0, 0, 0, 0)), 2 ** 32);
  assert.equal(decodeUBJSON(bytes("d", 0x3f, 0xc0, 0, 0)), 1.5);
  assert.equal(decodeUBJSON(bytes("D", 0xbf, 0xf8, 0, 0, 0, 0, 0, 0)), -1.5);
  assert.equal(decodeUBJSON(bytes("S", "i", 2, "h", "i")), "hi");
  assert.equal(decodeUBJSON(bytes("H", "i", 3, "1e3")), 1000);
  assert.deepEqual(
    decodeUBJSON(bytes("{", "i", 1, "a", "[", "T", "F", "Z", "N", "C", "x", "]", "}")),
    { a: [true, false, null, "x"] },
  );
});

Deno.test("decodeUBJSON() reads counted and typed containers as XGBoost writes them", () => {
  // {"v": [1.5, -2] as float32, "n": 7} with counts; a typed int8 array; an empty array.
  const value = decodeUBJSON(bytes(
    "{",
    "#",
    "i",
    3,
    "i",
    1,
    "v",
    "[",
    "$",
    "d",
    "#",
    "i",
    2,
    0x3f,
    0xc0,
    0,
    0,
    0xc0,
    0,
    0,
    0,
    "i",
    1,
    "n",
    "[",
    "$",
    "i",
    "#",
    "U",
    3,
    1,
    2,
    0xfd,
    "i",
    1,
    "e",
    "[",
    "#",
    "i",
    0,
  ));
  assert.deepEqual(value, { v: [1.5, -2], n: [1, 2, -3], e: [] });
});

Deno.test("decodeUBJSON() refuses malformed bytes with the offset", () => {
  assert.throws(() => decodeUBJSON(bytes("l", 0, 0)), /ends too early at byte 1/);
  assert.throws(() => decodeUBJSON(bytes("q")), /marker 0x71 is unknown at byte 0/);
  assert.throws(() => decodeUBJSON(bytes("i", 1, "i", 2)), /2 bytes follow the value at byte 2/);
  assert.throws(() => decodeUBJSON(bytes("[", "#", "l", 0x7f, 0, 0, 0, "i")), /claims/);
  assert.throws(() => decodeUBJSON(bytes("S", "d", 0, 0, 0, 0)), /length is not an integer/);
  assert.throws(() => decodeUBJSON(bytes("[", "$", "i", "i", 1)), /typed container has no count/);
  assert.throws(() => decodeUBJSON(bytes("S", "i", 1, 0xff)), /not UTF-8/);
  assert.throws(() => decodeUBJSON(new Uint8Array(0)), RangeError);
});
