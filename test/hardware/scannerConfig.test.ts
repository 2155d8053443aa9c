import { describe, expect, it } from 'vitest';
import { scannerConfigSchema } from '../../hardware/scanners/config.js';
import { createScanner } from '../../hardware/scanners/createScanner.js';
import { HidScanner } from '../../hardware/scanners/hid/hidScanner.js';
import { SerialScanner } from '../../hardware/scanners/serialScanner.js';
import { SimScanner } from '../../hardware/scanners/simScanner.js';
import { StdinScanner } from '../../hardware/scanners/stdinScanner.js';
import { silentLogger } from '../fakes/captureLogger.js';

describe('scannerConfigSchema', () => {
  it('fills the serial defaults', () => {
    expect(scannerConfigSchema.parse({ type: 'serial', path: '/dev/ttyUSB0' })).toEqual({
      type: 'serial',
      path: '/dev/ttyUSB0',
      baudRate: 9600,
      suffix: '\r\n',
      maxFrameBytes: 1024,
      interByteTimeoutMs: 50,
      reopenDelayMs: 1000,
    });
  });

  it('accepts every suffix and refuses others', () => {
    for (const suffix of ['\r', '\n', '\r\n', '']) expect(scannerConfigSchema.parse({ type: 'serial', path: '/dev/x', suffix })).toMatchObject({ suffix });
    expect(scannerConfigSchema.safeParse({ type: 'serial', path: '/dev/x', suffix: '\t' }).success).toBe(false);
  });

  it('reads USB ids as numbers or hex strings, with or without 0x', () => {
    expect(scannerConfigSchema.parse({ type: 'hid', vendorId: '0x1eab', productId: '8003' })).toEqual({
      type: 'hid',
      vendorId: 0x1eab,
      productId: 0x8003,
      mode: 'keyboard',
      maxFrameBytes: 1024,
    });
    expect(scannerConfigSchema.parse({ type: 'hid', vendorId: 7851, productId: 32771, mode: 'pos', path: '/dev/hidraw0' })).toMatchObject({ vendorId: 7851, mode: 'pos', path: '/dev/hidraw0' });
    expect(scannerConfigSchema.safeParse({ type: 'hid', vendorId: '0xzz', productId: 1 }).success).toBe(false);
    expect(scannerConfigSchema.safeParse({ type: 'hid', vendorId: 0x10000, productId: 1 }).success).toBe(false);
  });

  it('fills the sim suffix and accepts a bare stdin', () => {
    expect(scannerConfigSchema.parse({ type: 'sim' })).toEqual({ type: 'sim', suffix: '\r\n' });
    expect(scannerConfigSchema.parse({ type: 'stdin' })).toEqual({ type: 'stdin' });
  });

  it('names every bad field, including a misspelt one and an unknown type', () => {
    const result = scannerConfigSchema.safeParse({ type: 'serial', path: '', baudrate: 9600 });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.') || i.message);
    expect(paths).toEqual(expect.arrayContaining(['path']));
    expect(JSON.stringify(result.error!.issues)).toContain('baudrate');
    expect(scannerConfigSchema.safeParse({ type: 'bluetooth' }).success).toBe(false);
  });
});

describe('createScanner', () => {
  const logger = silentLogger();

  it('picks the driver from the type, without touching any device', () => {
    expect(createScanner(scannerConfigSchema.parse({ type: 'serial', path: '/dev/nonexistent' }), { logger })).toBeInstanceOf(SerialScanner);
    expect(createScanner(scannerConfigSchema.parse({ type: 'hid', vendorId: 1, productId: 2 }), { logger })).toBeInstanceOf(HidScanner);
    expect(createScanner(scannerConfigSchema.parse({ type: 'stdin' }), { logger })).toBeInstanceOf(StdinScanner);
    const sim = createScanner(scannerConfigSchema.parse({ type: 'sim' }), { logger });
    expect(sim).toBeInstanceOf(SimScanner);
    expect(sim.type).toBe('sim');
    expect(sim.connected).toBe(false);
  });

  it('accepts a frozen config (the terminal deep-freezes its config)', async () => {
    const config = Object.freeze(scannerConfigSchema.parse({ type: 'sim', suffix: '\n' }));
    const sim = createScanner(config, { logger }) as SimScanner;
    const frames: string[] = [];
    sim.on('frame', (f) => frames.push(f.text));
    await sim.start();
    await sim.inject('046090001234');
    expect(frames).toEqual(['046090001234']);
    await sim.stop();
  });
});
