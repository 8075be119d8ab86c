import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataError } from '../errors.js';
import { CLASS_NAMES, syntheticImages } from '../test-support/fixtures.js';
import { CIFAR10, decodeCifarBatch, encodeCifarBatch, parseCifarMeta } from './cifar10-format.js';

const PLANE = 32 * 32;
const RECORD = 3073;

/** One record: the label byte, then R, G and B planes of zeros. */
function record(label: number): Buffer {
  const bytes = Buffer.alloc(RECORD);
  bytes[0] = label;
  return bytes;
}

/** Byte offset, inside a record, of pixel (row, col) in plane c (0 = R, 1 = G, 2 = B). */
function planar(row: number, col: number, c: number): number {
  return 1 + c * PLANE + row * 32 + col;
}

describe('CIFAR10 constants', () => {
  it('describe the official binary layout', () => {
    assert.equal(CIFAR10.recordBytes, RECORD);
    assert.equal(CIFAR10.recordBytes, 1 + CIFAR10.side * CIFAR10.side * CIFAR10.channels);
    assert.deepEqual(
      [...CIFAR10.trainFiles],
      ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
    );
    assert.equal(CIFAR10.testFile, 'test_batch.bin');
    assert.equal(CIFAR10.metaFile, 'batches.meta.txt');
    assert.equal(CIFAR10.directory, 'cifar-10-batches-bin');
  });
});

describe('decodeCifarBatch', () => {
  it('turns planar RGB into interleaved NHWC at the right pixel', () => {
    const bytes = record(7);
    // Pixel (row 0, col 1): R=11, G=22, B=33.
    bytes[planar(0, 1, 0)] = 11;
    bytes[planar(0, 1, 1)] = 22;
    bytes[planar(0, 1, 2)] = 33;
    // Pixel (row 2, col 5): R=200, G=201, B=202.
    bytes[planar(2, 5, 0)] = 200;
    bytes[planar(2, 5, 1)] = 201;
    bytes[planar(2, 5, 2)] = 202;
    // Last pixel (31, 31).
    bytes[planar(31, 31, 0)] = 1;
    bytes[planar(31, 31, 1)] = 2;
    bytes[planar(31, 31, 2)] = 3;

    const set = decodeCifarBatch('one.bin', bytes);
    assert.equal(set.count, 1);
    assert.equal(set.height, 32);
    assert.equal(set.width, 32);
    assert.equal(set.channels, 3);
    assert.equal(set.images.length, 3072);
    assert.deepEqual([...set.labels], [7]);
    assert.deepEqual([...set.images.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...set.images.subarray(3, 6)], [11, 22, 33]);
    const at = (2 * 32 + 5) * 3;
    assert.deepEqual([...set.images.subarray(at, at + 3)], [200, 201, 202]);
    assert.deepEqual([...set.images.subarray(3069, 3072)], [1, 2, 3]);
    // Nothing else was written.
    const nonZero = [...set.images].filter((v) => v !== 0).length;
    assert.equal(nonZero, 9);
  });

  it('places each record of a multi-record file at its own offset with its own label', () => {
    const a = record(0);
    const b = record(9);
    a[planar(0, 0, 0)] = 5;
    b[planar(0, 0, 2)] = 6;
    b[planar(1, 0, 1)] = 7;
    const set = decodeCifarBatch('two.bin', Buffer.concat([a, b]));
    assert.equal(set.count, 2);
    assert.deepEqual([...set.labels], [0, 9]);
    assert.equal(set.images.length, 2 * 3072);
    assert.equal(set.images[0], 5);
    assert.equal(set.images[3072 + 2], 6);
    assert.equal(set.images[3072 + 32 * 3 + 1], 7);
  });

  it('round-trips with encodeCifarBatch', () => {
    const original = syntheticImages(6, 42);
    const encoded = encodeCifarBatch(original);
    assert.equal(encoded.length, 6 * RECORD);
    // The label is the first byte of each record.
    for (let r = 0; r < 6; r++) assert.equal(encoded[r * RECORD], original.labels[r]);
    // Planar: record 0's first R byte is image 0 pixel 0's R; its first G byte is pixel 0's G.
    assert.equal(encoded[1], original.images[0]);
    assert.equal(encoded[1 + PLANE], original.images[1]);
    assert.equal(encoded[1 + 2 * PLANE], original.images[2]);

    const decoded = decodeCifarBatch('x.bin', encoded);
    assert.equal(decoded.count, 6);
    assert.deepEqual(decoded.labels, original.labels);
    assert.deepEqual(decoded.images, original.images);
    assert.deepEqual(encodeCifarBatch(decoded), encoded);
  });

  it('accepts a Uint8Array that is a view into a larger buffer', () => {
    const original = syntheticImages(2, 5);
    const encoded = encodeCifarBatch(original);
    const padded = new Uint8Array(encoded.length + 20);
    padded.set(encoded, 10);
    const decoded = decodeCifarBatch('view.bin', padded.subarray(10, 10 + encoded.length));
    assert.deepEqual(decoded.images, original.images);
    assert.deepEqual(decoded.labels, original.labels);
  });

  it('names the file and the partial record of a truncated file', () => {
    const bytes = Buffer.concat([record(1), record(2), record(3)]).subarray(0, 2 * RECORD + 100);
    assert.throws(
      () => decodeCifarBatch('data_batch_3.bin', bytes),
      (error: unknown) => {
        assert.ok(error instanceof DataError);
        assert.match(error.message, /^data_batch_3\.bin is truncated/);
        assert.match(error.message, /record 3 has 100 of 3073 bytes/);
        assert.match(error.message, /file size 6246 is not a multiple of 3073/);
        return true;
      },
    );
  });

  it('reports record 1 when the file is shorter than one record', () => {
    assert.throws(() => decodeCifarBatch('tiny.bin', new Uint8Array(10)), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.match(error.message, /tiny\.bin is truncated: record 1 has 10 of 3073 bytes/);
      return true;
    });
  });

  it('rejects a label byte above 9, naming the file and the record', () => {
    const bytes = Buffer.concat([record(9), record(3), record(10)]);
    assert.throws(
      () => decodeCifarBatch('test_batch.bin', bytes),
      (error: unknown) => {
        assert.ok(error instanceof DataError);
        assert.match(error.message, /^test_batch\.bin record 3: label byte is 10, but CIFAR-10 labels are 0–9$/);
        return true;
      },
    );
    assert.throws(() => decodeCifarBatch('b.bin', record(255)), /b\.bin record 1: label byte is 255/);
  });

  it('rejects an empty file', () => {
    assert.throws(
      () => decodeCifarBatch('data_batch_1.bin', new Uint8Array(0)),
      (error: unknown) => error instanceof DataError && error.message === 'data_batch_1.bin is empty',
    );
  });
});

describe('encodeCifarBatch', () => {
  it('refuses images that are not 32×32 RGB', () => {
    assert.throws(() => encodeCifarBatch(syntheticImages(1, 1, 16)), /32×32 RGB/);
    const grey = { images: new Uint8Array(1024), labels: new Uint8Array(1), count: 1, height: 32, width: 32, channels: 1 };
    assert.throws(() => encodeCifarBatch(grey), /32×32 RGB/);
  });

  it('writes the label first and then the R, G and B planes', () => {
    const images = new Uint8Array(3072);
    images[3] = 11; // pixel (0, 1) R
    images[4] = 22; // pixel (0, 1) G
    images[5] = 33; // pixel (0, 1) B
    const out = encodeCifarBatch({ images, labels: Uint8Array.of(4), count: 1, height: 32, width: 32, channels: 3 });
    assert.equal(out.length, RECORD);
    assert.equal(out[0], 4);
    assert.equal(out[planar(0, 1, 0)], 11);
    assert.equal(out[planar(0, 1, 1)], 22);
    assert.equal(out[planar(0, 1, 2)], 33);
    assert.equal([...out].filter((v) => v !== 0).length, 4);
  });
});

describe('parseCifarMeta', () => {
  it('reads ten names, trimming them and skipping blank lines', () => {
    const text = CLASS_NAMES.map((n) => `  ${n} `).join('\r\n') + '\n\n\n';
    assert.deepEqual(parseCifarMeta('batches.meta.txt', text), CLASS_NAMES);
  });

  it('rejects the wrong number of names, naming the file and the count', () => {
    assert.throws(
      () => parseCifarMeta('batches.meta.txt', CLASS_NAMES.slice(0, 9).join('\n')),
      (error: unknown) => {
        assert.ok(error instanceof DataError);
        assert.equal(error.message, 'batches.meta.txt lists 9 class names; CIFAR-10 needs 10');
        return true;
      },
    );
    assert.throws(
      () => parseCifarMeta('m.txt', [...CLASS_NAMES, 'extra'].join('\n')),
      /m\.txt lists 11 class names; CIFAR-10 needs 10/,
    );
    assert.throws(() => parseCifarMeta('m.txt', '\n \n'), /m\.txt lists 0 class names/);
  });
});
