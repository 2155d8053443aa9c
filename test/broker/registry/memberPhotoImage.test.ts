import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { maxPhotoUploadBytes, PhotoError, photoLongSide, reencodePhoto } from '../../../broker/registry/memberPhotoImage.js';
import { exifMarkers, photoWithGps } from '../../helpers/photos.js';

function refusal(bytes: Buffer): PhotoError {
  try {
    reencodePhoto(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(PhotoError);
    return err as PhotoError;
  }
  throw new Error('expected a refusal');
}

describe('member photo re-encoding', () => {
  it('turns a phone photo into a small JPEG of the same picture with nothing of the file kept: no EXIF, no GPS', () => {
    const upload = photoWithGps(1600, 1200);
    for (const marker of exifMarkers) expect(upload.includes(marker)).toBe(true);
    const stored = reencodePhoto(upload);
    expect({ width: stored.width, height: stored.height }).toEqual({ width: photoLongSide, height: 480 });
    for (const marker of exifMarkers) expect(stored.jpeg.includes(marker)).toBe(false);
    expect(stored.jpeg.length).toBeLessThan(upload.length / 4);
    const decoded = jpeg.decode(stored.jpeg, { useTArray: true });
    expect({ width: decoded.width, height: decoded.height }).toEqual({ width: 640, height: 480 });
    // The gradient is still there: red grows left to right, green top to bottom.
    const at = (x: number, y: number) => Array.from(decoded.data.subarray((y * 640 + x) * 4, (y * 640 + x) * 4 + 3));
    expect(at(620, 10)[0]! - at(20, 10)[0]!).toBeGreaterThan(200);
    expect(at(10, 470)[1]! - at(10, 10)[1]!).toBeGreaterThan(200);
  });

  it('keeps a small photo at its size, and lays a transparent PNG over white', () => {
    const png = new PNG({ width: 40, height: 30 });
    png.data.fill(0); // transparent black
    const stored = reencodePhoto(PNG.sync.write(png));
    expect({ width: stored.width, height: stored.height }).toEqual({ width: 40, height: 30 });
    const pixel = Array.from(jpeg.decode(stored.jpeg, { useTArray: true }).data.subarray(0, 3));
    for (const channel of pixel) expect(channel).toBeGreaterThan(245);
  });

  it('refuses what is not a photo, a damaged one, a decompression bomb and an oversized file, each with its reason', () => {
    expect(refusal(Buffer.from('GIF89a not a photo')).code).toBe('photo-unreadable');
    expect(refusal(photoWithGps(64, 64).subarray(0, 300)).code).toBe('photo-unreadable');
    // A PNG header announcing 60000×60000 pixels: refused from the header, before any allocation.
    const bomb = PNG.sync.write(new PNG({ width: 1, height: 1 }));
    bomb.writeUInt32BE(60_000, 16);
    bomb.writeUInt32BE(60_000, 20);
    expect(refusal(bomb).code).toBe('photo-too-large');
    expect(refusal(Buffer.concat([photoWithGps(64, 64), Buffer.alloc(maxPhotoUploadBytes)])).code).toBe('photo-too-large');
  });
});
