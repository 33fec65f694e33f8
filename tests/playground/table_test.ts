// The playground's CSV and data-set helpers (examples/playground/lib/table.js), in Deno.
import assert from "node:assert/strict";
import {
  guessTask,
  parseCsv,
  toColumns,
  toDataSet,
  trainTestSplit,
} from "../../examples/playground/lib/table.js";

Deno.test("parseCsv() reads quotes, CRLF and a semicolon separator", () => {
  const csv = parseCsv('a;"b; quoted";c\r\n1;"x ""y""";\r\n2;z;3\r\n');
  assert.deepEqual(csv.header, ["a", "b; quoted", "c"]);
  assert.deepEqual(csv.rows, [["1", 'x "y"', ""], ["2", "z", "3"]]);
});

Deno.test("parseCsv() names the row whose cell count differs from the header", () => {
  assert.throws(() => parseCsv("a,b\n1,2\n3\n"), /row 3 has 1/);
  assert.throws(() => parseCsv("a,b\n"), RangeError);
  assert.throws(() => parseCsv('a,b\n"1,2\n'), /inside quotes/);
});

Deno.test("toColumns() types columns and codes categories in sorted order", () => {
  const [x, color] = toColumns(parseCsv("x,color\n1.5,red\nNA,blue\n?,\n-2,red\n"));
  assert.equal(x.kind, "numeric");
  assert.deepEqual([...x.values], [1.5, NaN, NaN, -2]);
  assert.equal(color.kind, "categorical");
  assert.ok(color.kind === "categorical");
  assert.deepEqual(color.categories, ["blue", "red"]);
  assert.deepEqual([...color.values], [1, 0, NaN, 1]);
});

Deno.test("guessTask() and toDataSet() number classes and drop rows without a target", () => {
  const columns = toColumns(parseCsv("f,g,y\n1,a,7\n2,b,3\n3,a,\n4,b,7\n"));
  assert.equal(guessTask(columns[2]), "classification");
  const ds = toDataSet(columns, "y", "classification");
  assert.deepEqual(ds.classNames, ["3", "7"]);
  assert.deepEqual([...ds.y], [1, 0, 1]);
  assert.deepEqual(ds.X.map((r) => [...r]), [[1, 0], [2, 1], [4, 1]]);
  assert.deepEqual(ds.categorical, [1]);
  assert.equal(ds.dropped, 1);
  const continuous = toColumns(parseCsv("f,y\n1,0.5\n2,1.25\n"));
  assert.equal(guessTask(continuous[1]), "regression");
  assert.throws(() => toDataSet(columns, "g", "regression"), /"g" is categorical/);
  assert.throws(() => toDataSet(columns, "nope", "regression"), /"target"/);
});

Deno.test("trainTestSplit() is a seeded partition of the rows", () => {
  const { train, test } = trainTestSplit(100, 0.2, 3);
  assert.equal(test.length, 20);
  assert.deepEqual(
    [...train, ...test].sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.deepEqual(trainTestSplit(100, 0.2, 3), { train, test });
  assert.notDeepEqual(trainTestSplit(100, 0.2, 4).test, test);
});
