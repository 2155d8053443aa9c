import { describe, expect, it } from 'vitest';
import { HeldLogDestination, withLogLinesHeld } from '../../protocol/heldLogLines.js';
import { createLogger } from '../../protocol/logger.js';

function recording(): { writes: string[]; logger: ReturnType<typeof createLogger> } {
  const writes: string[] = [];
  return { writes, logger: createLogger({ level: 'info', destination: { write: (text: string) => void writes.push(text) } }) };
}

const messages = (text: string): string[] => text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg);

describe('held log lines', () => {
  it('writes each line as it is logged outside a hold', () => {
    const { writes, logger } = recording();
    logger.info('one');
    logger.child({ lane: 'in' }).info('two');
    expect(writes.map(messages)).toEqual([['one'], ['two']]);
  });

  it("keeps a hold's lines, its children's included, and writes them in one call, in order, when it returns", () => {
    const { writes, logger } = recording();
    const child = logger.child({ lane: 'in' });
    const result = withLogLinesHeld(child, () => {
      logger.info('first');
      child.info('second');
      expect(writes).toEqual([]);
      return 42;
    });
    expect(result).toBe(42);
    expect(writes.map(messages)).toEqual([['first', 'second']]);
  });

  it('writes the held lines when the work throws, and passes the error on', () => {
    const { writes, logger } = recording();
    expect(() =>
      withLogLinesHeld(logger, () => {
        logger.info('before the fault');
        throw new Error('fault');
      }),
    ).toThrow('fault');
    expect(writes.map(messages)).toEqual([['before the fault']]);
  });

  it('a hold inside a hold writes once, when the outer one returns', () => {
    const { writes, logger } = recording();
    withLogLinesHeld(logger, () => {
      logger.info('outer');
      withLogLinesHeld(logger, () => logger.info('inner'));
      expect(writes).toEqual([]);
    });
    expect(writes.map(messages)).toEqual([['outer', 'inner']]);
  });

  it('writes nothing for a hold that logged nothing, and just runs the work for a logger it does not wrap', () => {
    const { writes, logger } = recording();
    withLogLinesHeld(logger, () => undefined);
    expect(writes).toEqual([]);
    const plain: string[] = [];
    const destination = new HeldLogDestination({ write: (text: string) => void plain.push(text) });
    destination.hold(() => destination.write('a\n'));
    expect(plain).toEqual(['a\n']);
  });
});
