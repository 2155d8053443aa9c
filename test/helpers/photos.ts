import jpeg from 'jpeg-js';

/**
 * A phone-like photo: a JPEG of a colour gradient with an EXIF segment holding a GPS position,
 * as a camera app writes it (APP1 right after SOI). The text markers let a test see whether
 * any of it survived.
 */
export const exifMarkers = ['Exif', 'GPSLatitude', '16.4637N'] as const;

export function photoWithGps(width = 1600, height = 1200): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = 128;
      data[i + 3] = 255;
    }
  }
  const plain = jpeg.encode({ data, width, height }, 90).data;
  const payload = Buffer.from(`Exif\u0000\u0000 GPSLatitude 16.4637N GPSLongitude 107.5909E`, 'latin1');
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1]), Buffer.from([(payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload]);
  return Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]);
}
