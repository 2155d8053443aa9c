import type jpegJs from 'jpeg-js';
import type { PNG as PngJs } from 'pngjs';
import { lazyRequire } from '../../protocol/lazyRequire.js';

// The codecs load with the first photo, not at the central's start.
const jpegCodec = lazyRequire<typeof jpegJs>('jpeg-js');
const pngCodec = lazyRequire<{ readonly PNG: typeof PngJs }>('pngjs');

/**
 * A member's photo as the central keeps it: whatever was uploaded (JPEG or PNG) is decoded to
 * pixels and encoded again as a small JPEG. Only pixels cross over, so nothing else of the
 * file survives: no EXIF (GPS position, camera serial, time), no comments, no trailing data,
 * no second image hidden after the first. Pure JavaScript (jpeg-js, pngjs): sharp would be
 * faster but downloads a native binary at install, which sites without internet cannot do.
 */

/** What the central accepts from a browser: a phone's full-size photo fits. */
export const maxPhotoUploadBytes = 5 * 1024 * 1024;
/** The stored photo's longer side: enough to recognise a face on a guard's phone, ~50 KB. */
export const photoLongSide = 640;
const jpegQuality = 82;
/** A decoded image this large (a crafted 60000×60000 header) is refused before any pixel is decoded. */
const maxSourceMegapixels = 40;

export type PhotoErrorCode = 'photo-unreadable' | 'photo-too-large';

export class PhotoError extends Error {
  constructor(
    readonly code: PhotoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PhotoError';
  }
}

interface Rgba {
  readonly width: number;
  readonly height: number;
  /** 4 bytes a pixel, row by row. */
  readonly data: Uint8Array;
}

export interface StoredPhoto {
  readonly jpeg: Buffer;
  readonly width: number;
  readonly height: number;
}

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function tooLarge(width: number, height: number): boolean {
  return width * height > maxSourceMegapixels * 1_000_000;
}

function decode(bytes: Buffer): Rgba {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    try {
      return jpegCodec().decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxSourceMegapixels, maxMemoryUsageInMB: 512 });
    } catch (err) {
      if (/maxResolutionInMP|maxMemoryUsageInMB/.test((err as Error).message)) throw new PhotoError('photo-too-large', `the image has more than ${maxSourceMegapixels} megapixels`);
      throw new PhotoError('photo-unreadable', 'the JPEG file is damaged or in a form this central cannot read');
    }
  }
  if (bytes.length >= 24 && bytes.subarray(0, 8).equals(pngSignature)) {
    // IHDR is the first chunk: its width and height decide the memory before pngjs allocates any.
    if (tooLarge(bytes.readUInt32BE(16), bytes.readUInt32BE(20))) throw new PhotoError('photo-too-large', `the image has more than ${maxSourceMegapixels} megapixels`);
    try {
      return pngCodec().PNG.sync.read(bytes);
    } catch {
      throw new PhotoError('photo-unreadable', 'the PNG file is damaged');
    }
  }
  throw new PhotoError('photo-unreadable', 'not a JPEG or PNG image (a phone photo is JPEG)');
}

/**
 * Shrinks to fit `longSide` by averaging each target pixel's whole source area (no aliasing on
 * a photo shrunk 6×), and lays transparent pixels over white (a JPEG has no transparency).
 */
function fitWithin(image: Rgba, longSide: number): Rgba {
  const scale = Math.min(1, longSide / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor((y * image.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * image.height) / height));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * image.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * image.width) / width));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0, i = (sy * image.width + x0) * 4; sx < x1; sx++, i += 4) {
          const alpha = image.data[i + 3]! / 255;
          r += image.data[i]! * alpha + 255 * (1 - alpha);
          g += image.data[i + 1]! * alpha + 255 * (1 - alpha);
          b += image.data[i + 2]! * alpha + 255 * (1 - alpha);
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * width + x) * 4;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
      out[o + 3] = 255;
    }
  }
  return { width, height, data: out };
}

/** The uploaded bytes as the photo to store; PhotoError when they are not a usable image. */
export function reencodePhoto(bytes: Buffer): StoredPhoto {
  if (bytes.length > maxPhotoUploadBytes) throw new PhotoError('photo-too-large', `the file is larger than ${maxPhotoUploadBytes / 1024 / 1024} MB`);
  const image = fitWithin(decode(bytes), photoLongSide);
  return { jpeg: jpegCodec().encode({ data: image.data, width: image.width, height: image.height }, jpegQuality).data, width: image.width, height: image.height };
}
