import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DataError } from '../errors.js';
import { tempDir } from '../test-support/fixtures.js';
import { decodeImage, loadImageFolder } from './image-folder.js';

type RGB = { r: number; g: number; b: number };

const RED: RGB = { r: 250, g: 10, b: 20 };
const GREEN: RGB = { r: 5, g: 240, b: 30 };
const BLUE: RGB = { r: 15, g: 25, b: 235 };
const GREY: RGB = { r: 128, g: 128, b: 128 };

async function solid(path: string, colour: RGB, size: { width?: number; height?: number } = {}): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const image = sharp({
    create: { width: size.width ?? 32, height: size.height ?? 32, channels: 3, background: colour },
  });
  const lower = path.toLowerCase();
  if (lower.endsWith('.png')) await image.png().toFile(path);
  else if (lower.endsWith('.webp')) await image.webp({ lossless: true }).toFile(path);
  else await image.jpeg({ quality: 95 }).toFile(path);
  return path;
}

/** A PNG from raw pixel bytes with 1 (grey), 2 (grey + alpha), 3 or 4 (RGBA) channels, stored with that many channels. */
async function rawPng(path: string, pixels: number[], width: number, height: number, channels: 1 | 2 | 3 | 4) {
  await mkdir(dirname(path), { recursive: true });
  let image = sharp(Buffer.from(pixels), { raw: { width, height, channels } });
  if (channels <= 2) image = image.toColourspace('b-w');
  await image.png().toFile(path);
  const meta = await sharp(path).metadata();
  assert.equal(meta.channels, channels, 'the test image has the channels the test needs');
  return path;
}

/** Every pixel of an NHWC image (at `index` in `images`) has this colour, within `tolerance`. */
function assertColour(images: Uint8Array, index: number, side: number, colour: RGB, tolerance = 0): void {
  const size = side * side * 3;
  const pixels = images.subarray(index * size, (index + 1) * size);
  assert.equal(pixels.length, size);
  const want = [colour.r, colour.g, colour.b];
  for (let p = 0; p < side * side; p++) {
    for (let c = 0; c < 3; c++) {
      const got = pixels[p * 3 + c]!;
      if (Math.abs(got - want[c]!) > tolerance) {
        assert.fail(`image ${index} pixel ${p} channel ${c} is ${got}, expected ${want[c]} ± ${tolerance}`);
      }
    }
  }
}

/** Awaits a rejection that must be a DataError whose message matches every pattern. */
async function dataError(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

function literal(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

describe('loadImageFolder', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let n = 0;
  const fresh = () => join(dir, `case${n++}`);

  before(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  after(() => cleanup());

  it('reads ROOT/<class>/* with classes in sorted order, images class by class', async () => {
    const root = fresh();
    // Created out of order on purpose.
    await solid(join(root, 'cat', 'b.png'), BLUE);
    await solid(join(root, 'cat', 'a.png'), RED);
    await solid(join(root, 'ant', 'only.png'), GREEN);
    await solid(join(root, 'bee', 'z.png'), GREY);
    await solid(join(root, 'bee', 'y.png'), RED);

    const d = await loadImageFolder(root);
    assert.equal(d.format, 'image-folder');
    assert.equal(d.source, root);
    assert.deepEqual(d.classNames, ['ant', 'bee', 'cat']);
    assert.equal(d.orderedByClass, true);
    assert.equal(d.test, undefined);
    assert.equal(d.testInfo, undefined);
    const train = d.train!;
    assert.equal(train.count, 5);
    assert.equal(train.height, 32);
    assert.equal(train.width, 32);
    assert.equal(train.channels, 3);
    assert.equal(train.images.length, 5 * 32 * 32 * 3);
    assert.deepEqual([...train.labels], [0, 1, 1, 2, 2]);
    // Files sorted by name inside each class: ant/only, bee/y, bee/z, cat/a, cat/b.
    assertColour(train.images, 0, 32, GREEN);
    assertColour(train.images, 1, 32, RED);
    assertColour(train.images, 2, 32, GREY);
    assertColour(train.images, 3, 32, RED);
    assertColour(train.images, 4, 32, BLUE);
    assert.equal(d.trainInfo?.description, `${root} (5 images)`);
  });

  it('sorts class names by code point, like torchvision (upper case before lower case)', async () => {
    const root = fresh();
    for (const name of ['b', 'B', 'a10', 'a2', 'A']) await solid(join(root, name, 'x.png'), GREY);
    const d = await loadImageFolder(root, { imageSize: 2 });
    assert.deepEqual(d.classNames, ['A', 'B', 'a10', 'a2', 'b']);
    assert.deepEqual([...d.train!.labels], [0, 1, 2, 3, 4]);
  });

  it('resizes every image to imageSize × imageSize', async () => {
    const root = fresh();
    await solid(join(root, 'a', 'wide.png'), RED, { width: 40, height: 20 });
    await solid(join(root, 'a', 'tall.png'), GREEN, { width: 5, height: 50 });
    await solid(join(root, 'b', 'small.png'), BLUE, { width: 3, height: 3 });
    const d = await loadImageFolder(root, { imageSize: 8 });
    const train = d.train!;
    assert.equal(train.height, 8);
    assert.equal(train.width, 8);
    assert.equal(train.images.length, 3 * 8 * 8 * 3);
    // a/tall.png, a/wide.png, b/small.png
    assertColour(train.images, 0, 8, GREEN, 1);
    assertColour(train.images, 1, 8, RED, 1);
    assertColour(train.images, 2, 8, BLUE, 1);
  });

  it('centre-crops a non-square image to a square', async () => {
    // 30×10: red, green and blue thirds; the centre square is all green.
    const pixels: number[] = [];
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 30; x++) {
        const c = x < 10 ? RED : x < 20 ? GREEN : BLUE;
        pixels.push(c.r, c.g, c.b);
      }
    }
    const root = fresh();
    await rawPng(join(root, 'a', 'thirds.png'), pixels, 30, 10, 3);
    // At the image's own height only the crop acts: exactly the middle third is kept.
    const d = await loadImageFolder(root, { imageSize: 10 });
    assertColour(d.train!.images, 0, 10, GREEN);
  });

  it('decodes grey, grey + alpha and RGBA images to 3 channels', async () => {
    const root = fresh();
    await rawPng(join(root, 'a', '1-grey.png'), new Array<number>(16).fill(77), 4, 4, 1);
    await rawPng(join(root, 'a', '2-grey-alpha.png'), Array.from({ length: 32 }, (_, i) => (i % 2 ? 255 : 99)), 4, 4, 2);
    await rawPng(join(root, 'a', '3-rgba.png'), Array.from({ length: 64 }, (_, i) => [1, 2, 250, 255][i % 4]!), 4, 4, 4);
    const d = await loadImageFolder(root, { imageSize: 4 });
    const train = d.train!;
    assert.equal(train.channels, 3);
    assert.equal(train.images.length, 3 * 4 * 4 * 3);
    assertColour(train.images, 0, 4, { r: 77, g: 77, b: 77 });
    assertColour(train.images, 1, 4, { r: 99, g: 99, b: 99 });
    assertColour(train.images, 2, 4, { r: 1, g: 2, b: 250 });
  });

  it('reads .jpg, .JPG, .jpeg and .webp files', async () => {
    const root = fresh();
    await solid(join(root, 'a', '1.jpg'), RED);
    await solid(join(root, 'a', '2.JPG'), GREEN);
    await solid(join(root, 'a', '3.jpeg'), BLUE);
    await solid(join(root, 'a', '4.webp'), GREY);
    const d = await loadImageFolder(root, { imageSize: 8 });
    assert.equal(d.train?.count, 4);
    // JPEG is lossy; a flat colour survives within a few levels.
    assertColour(d.train.images, 0, 8, RED, 6);
    assertColour(d.train.images, 1, 8, GREEN, 6);
    assertColour(d.train.images, 2, 8, BLUE, 6);
    assertColour(d.train.images, 3, 8, GREY);
  });

  it('ignores hidden files and folders, non-image files and files beside the class folders', async () => {
    const root = fresh();
    await solid(join(root, 'a', 'img.png'), RED);
    await writeFile(join(root, 'a', '.DS_Store'), 'junk');
    await writeFile(join(root, 'a', '._img.png'), 'AppleDouble junk, not a PNG');
    await writeFile(join(root, 'a', 'notes.txt'), 'hello');
    await writeFile(join(root, 'a', 'labels.csv'), 'x,y');
    await writeFile(join(root, 'a', 'anim.gif'), 'GIF89a');
    await solid(join(root, 'b', 'img.png'), BLUE);
    await solid(join(root, '.thumbnails', 'img.png'), GREEN);
    await writeFile(join(root, 'README.md'), '# data');
    await solid(join(root, 'stray.png'), GREEN);
    const d = await loadImageFolder(root, { imageSize: 4 });
    assert.deepEqual(d.classNames, ['a', 'b']);
    assert.equal(d.train?.count, 2);
    assert.deepEqual([...d.train.labels], [0, 1]);
    assertColour(d.train.images, 0, 4, RED);
    assertColour(d.train.images, 1, 4, BLUE);
  });

  it('follows a symlinked class folder', async () => {
    const root = fresh();
    const elsewhere = fresh();
    await solid(join(root, 'a', 'x.png'), RED);
    await solid(join(elsewhere, 'pics', 'y.png'), BLUE);
    await symlink(join(elsewhere, 'pics'), join(root, 'b'));
    const d = await loadImageFolder(root, { imageSize: 2 });
    assert.deepEqual(d.classNames, ['a', 'b']);
    assertColour(d.train!.images, 1, 2, BLUE);
  });

  describe('train/ and test/ folders', () => {
    let root = '';
    before(async () => {
      root = fresh();
      await solid(join(root, 'train', 'dog', '1.png'), RED);
      await solid(join(root, 'train', 'dog', '2.png'), RED);
      await solid(join(root, 'train', 'cat', '1.png'), BLUE);
      await solid(join(root, 'train', 'emu', '1.png'), GREY);
      // test/ may lack a class; labels still follow train/'s classes.
      await solid(join(root, 'test', 'emu', '1.png'), GREY);
      await solid(join(root, 'test', 'dog', '1.png'), RED);
    });

    it('become the two splits', async () => {
      const d = await loadImageFolder(root, { imageSize: 4 });
      assert.deepEqual(d.classNames, ['cat', 'dog', 'emu']);
      assert.equal(d.train?.count, 4);
      assert.deepEqual([...d.train.labels], [0, 1, 1, 2]);
      assertColour(d.train.images, 0, 4, BLUE);
      assertColour(d.train.images, 3, 4, GREY);
      assert.equal(d.test?.count, 2);
      assert.deepEqual([...d.test.labels], [1, 2]);
      assertColour(d.test.images, 0, 4, RED);
      assertColour(d.test.images, 1, 4, GREY);
      assert.equal(d.trainInfo?.description, `${join(root, 'train')} (4 images)`);
      assert.equal(d.testInfo?.description, `${join(root, 'test')} (2 images)`);
    });

    it('test: false leaves test/ unread', async () => {
      const d = await loadImageFolder(root, { imageSize: 4, test: false });
      assert.equal(d.train?.count, 4);
      assert.equal(d.test, undefined);
      assert.equal(d.testInfo, undefined);
    });

    it('train/ alone gives no test split', async () => {
      const only = fresh();
      await solid(join(only, 'train', 'a', '1.png'), RED);
      const d = await loadImageFolder(only, { imageSize: 2 });
      assert.deepEqual(d.classNames, ['a']);
      assert.equal(d.train?.count, 1);
      assert.equal(d.test, undefined);
    });

    it('a class in test/ that train/ lacks is an error naming it', async () => {
      const bad = fresh();
      await solid(join(bad, 'train', 'a', '1.png'), RED);
      await solid(join(bad, 'test', 'a', '1.png'), RED);
      await solid(join(bad, 'test', 'zebra', '1.png'), RED);
      await dataError(
        loadImageFolder(bad, { imageSize: 2 }),
        literal(`${join(bad, 'test')} has classes that train/ does not: zebra`),
      );
    });
  });

  describe('errors', () => {
    it('an empty class folder, named', async () => {
      const root = fresh();
      await solid(join(root, 'a', '1.png'), RED);
      await mkdir(join(root, 'empty'));
      await dataError(
        loadImageFolder(root),
        literal(`class folder ${join(root, 'empty')} has no images (.jpg, .jpeg, .png, .webp)`),
      );
    });

    it('a class folder with only non-image files, named', async () => {
      const root = fresh();
      await solid(join(root, 'a', '1.png'), RED);
      await mkdir(join(root, 'b'));
      await writeFile(join(root, 'b', 'readme.txt'), 'x');
      await writeFile(join(root, 'b', '.hidden.png'), 'x');
      await dataError(loadImageFolder(root), literal(`class folder ${join(root, 'b')} has no images`));
    });

    it('an undecodable image, naming the file', async () => {
      const root = fresh();
      await solid(join(root, 'a', '1.png'), RED);
      await mkdir(join(root, 'b'));
      const bad = join(root, 'b', 'x.jpg');
      await writeFile(bad, Buffer.from('this is not a jpeg at all, just some bytes'));
      await dataError(loadImageFolder(root), literal(`cannot decode image ${bad}: `));
    });

    it('a truncated image, naming the file', async () => {
      const root = fresh();
      const path = await solid(join(root, 'a', 'cut.png'), RED);
      const bytes = await sharp(path).png().toBuffer();
      await writeFile(path, bytes.subarray(0, 40));
      await dataError(loadImageFolder(root), literal(`cannot decode image ${path}: `));
    });

    it('a root without class folders', async () => {
      const root = fresh();
      await solid(join(root, 'loose.png'), RED);
      await dataError(
        loadImageFolder(root),
        literal(`${root} has no class folders (expected ${root}/<class>/*.jpg|png)`),
      );
    });

    it('a train/ folder without class folders', async () => {
      const root = fresh();
      await solid(join(root, 'train', 'loose.png'), RED);
      await dataError(loadImageFolder(root), literal(`${join(root, 'train')} has no class folders`));
    });

    it('a root that does not exist', async () => {
      const root = join(dir, 'no-such-folder');
      await dataError(loadImageFolder(root), literal(`cannot read image folder ${root}: `), /ENOENT/);
    });

    it('an image that is a link to nothing, naming it', async () => {
      const root = fresh();
      await solid(join(root, 'a', '1.png'), RED);
      const link = join(root, 'a', 'gone.png');
      await symlink(join(root, 'missing.png'), link);
      await dataError(loadImageFolder(root), literal(`cannot decode image ${link}: `));
    });

    it('but not a dangling link that is not an image', async () => {
      const root = fresh();
      await solid(join(root, 'a', '1.png'), RED);
      await symlink(join(root, 'missing.txt'), join(root, 'a', 'notes.txt'));
      await symlink(join(root, 'missing-dir'), join(root, 'b'));
      const d = await loadImageFolder(root, { imageSize: 2 });
      assert.deepEqual(d.classNames, ['a']);
      assert.equal(d.train?.count, 1);
    });

    it('an image size out of range', async () => {
      const root = fresh();
      await solid(join(root, 'a', '1.png'), RED);
      for (const size of [0, -1, 1.5, 5000, Number.NaN]) {
        await dataError(loadImageFolder(root, { imageSize: size }), /^image size must be 1–4096, got /);
      }
    });
  });
});

describe('decodeImage', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  before(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  after(() => cleanup());

  it('returns side × side × 3 bytes', async () => {
    const path = await solid(join(dir, 'x.png'), GREEN, { width: 7, height: 3 });
    const pixels = await decodeImage(path, 6);
    assert.equal(pixels.length, 6 * 6 * 3);
    assertColour(pixels, 0, 6, GREEN, 1);
  });

  it('applies the EXIF orientation', async () => {
    // Stored 40×20, left half red and right half blue; orientation 6 shows it turned 90° clockwise,
    // i.e. 20×40 with red on top and blue below.
    const pixels: number[] = [];
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 40; x++) {
        const c = x < 20 ? RED : BLUE;
        pixels.push(c.r, c.g, c.b);
      }
    }
    const path = join(dir, 'rotated.jpg');
    await sharp(Buffer.from(pixels), { raw: { width: 40, height: 20, channels: 3 } })
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toFile(path);
    assert.equal((await sharp(path).metadata()).orientation, 6);
    const side = 4;
    const out = await decodeImage(path, side);
    const at = (row: number, col: number) => [...out.subarray((row * side + col) * 3, (row * side + col) * 3 + 3)];
    const near = (got: number[], want: RGB) =>
      Math.abs(got[0]! - want.r) < 30 && Math.abs(got[1]! - want.g) < 30 && Math.abs(got[2]! - want.b) < 30;
    assert.ok(near(at(0, 0), RED), `top-left ${at(0, 0)} should be red`);
    assert.ok(near(at(0, 3), RED), `top-right ${at(0, 3)} should be red`);
    assert.ok(near(at(3, 0), BLUE), `bottom-left ${at(3, 0)} should be blue`);
    assert.ok(near(at(3, 3), BLUE), `bottom-right ${at(3, 3)} should be blue`);
  });
});
