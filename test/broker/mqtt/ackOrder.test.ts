import { describe, it, expect } from 'vitest';
import { AckOrder } from '../../../broker/mqtt/ackOrder.js';
import { pollDeadline } from '../../helpers/pollDeadline.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('AckOrder', () => {
  it('releases one key\'s entries in arrival order, whatever order their verdicts settle in', async () => {
    const order = new AckOrder<object>();
    const client = {};
    const released: string[] = [];
    const slow = deferred<Error | null>();
    const failing = deferred<Error | null>();
    order.enqueue(client, slow.promise, () => released.push('first'));
    order.enqueue(client, Promise.resolve(null), () => released.push('second'));
    order.enqueue(client, failing.promise, (error) => released.push(`third: ${error?.message}`));
    failing.reject(new Error('store down'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toEqual([]);
    slow.resolve(null);
    await expect.poll(() => released, pollDeadline).toEqual(['first', 'second', 'third: store down']);
  });

  it('does not hold one key behind another', async () => {
    const order = new AckOrder<object>();
    const released: string[] = [];
    order.enqueue({}, new Promise<Error | null>(() => undefined), () => released.push('stuck'));
    order.enqueue({}, Promise.resolve(null), () => released.push('other client'));
    await expect.poll(() => released, pollDeadline).toEqual(['other client']);
  });
});
