import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventBatchSchema } from '../../../protocol/messages.js';
import { receiptsTopic } from '../../../protocol/topics.js';
import { captureLogger } from '../../fakes/captureLogger.js';
import { freePort } from '../../helpers/freePort.js';
import { useTempDir } from '../../helpers/tempDir.js';
import { waitFor } from '../../helpers/waitFor.js';
import { CHECKPOINT, Observer, PublishGate, TERMINAL_ID, TestBroker, eventsTopic, uplinkRig, type UplinkRig } from './rig.js';

type AuthorizePublish = NonNullable<NonNullable<Parameters<typeof TestBroker.start>[0]>['authorizePublish']>;

const seqRange = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('Uplink delivery: outbox -> MQTT, rows removed only on PUBACK', () => {
  const tempDir = useTempDir();
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function rig(url: string, central: Record<string, unknown> = {}) {
    const log = captureLogger();
    const r = uplinkRig({ dataDir: tempDir(), url, logger: log.logger, central: { reconnectMinMs: 50, reconnectMaxMs: 200, ...central } });
    cleanups.push(() => r.db.close());
    cleanups.push(() => r.uplink.stop());
    return { ...r, log };
  }

  /**
   * A broker and an observer subscribed to it. Events wait in authorizePublish until the
   * observer is subscribed, so it cannot miss any whatever the reconnect timing.
   */
  async function broker(options: Parameters<typeof TestBroker.start>[0] = {}) {
    const inner: AuthorizePublish = options.authorizePublish ?? ((_client, _packet, callback) => callback(null));
    let observing = false;
    const waiting: Array<() => void> = [];
    const b = await TestBroker.start({
      ...options,
      authorizePublish: (client, packet, callback) => {
        if (observing || !packet.topic.endsWith('/events')) return inner(client, packet, callback);
        waiting.push(() => inner(client, packet, callback));
      },
    });
    cleanups.push(() => b.kill());
    const observer = await Observer.connect(b.url);
    cleanups.push(() => observer.close());
    observing = true;
    for (const release of waiting.splice(0)) release();
    return { broker: b, observer };
  }

  /** Every remove() must concern seqs whose PUBACK already came over the terminal's socket. */
  function removalsOnlyAfterPuback(r: UplinkRig): { removeCalls: number; violations: number[] } {
    const seen = { removeCalls: 0, violations: [] as number[] };
    const original = r.outbox.remove.bind(r.outbox);
    vi.spyOn(r.outbox, 'remove').mockImplementation((seqs) => {
      seen.removeCalls++;
      seen.violations.push(...seqs.filter((seq) => !r.wire.ackedSeqs.has(seq)));
      return original(seqs);
    });
    return seen;
  }

  it('sends what was recorded offline once the broker appears, and keeps every row until its PUBACK', async () => {
    const port = await freePort();
    const r = rig(`mqtt://127.0.0.1:${port}`, { batchSize: 40, maxInFlightBatches: 2 });
    const removals = removalsOnlyAfterPuback(r);
    r.uplink.start();
    r.record(250);
    await waitFor(() => r.log.messages('uplink.connect-failed').length > 0, 10_000, 'a failed attempt while no broker listens');
    expect(r.depth()).toBe(250);

    const gate = new PublishGate();
    const { observer } = await broker({ port, authorizePublish: gate.authorizePublish });
    await waitFor(() => r.log.messages('uplink.connected').length === 1, 10_000, 'connected');
    await waitFor(() => gate.heldCount > 0, 10_000, 'a batch held by authorizePublish');
    // The broker has the batch but has not acknowledged it: nothing may leave the outbox.
    expect(r.wire.unacked).toBeGreaterThan(0);
    expect(r.wire.ackedSeqs.size).toBe(0);
    expect(r.depth()).toBe(250);
    expect(removals.removeCalls).toBe(0);

    gate.openUp();
    await waitFor(() => r.depth() === 0, 20_000, 'outbox drained');
    await waitFor(() => observer.events().length >= 250, 10_000, 'all events at the observer');
    const events = observer.events();
    expect(events.map((e) => e.seq)).toEqual(seqRange(250));
    for (const m of observer.on(eventsTopic)) {
      expect(eventBatchSchema.safeParse(JSON.parse(m.payload)).success).toBe(true);
      expect(m.retain).toBe(false);
    }
    expect(removals.violations).toEqual([]);
    expect(removals.removeCalls).toBe(Math.ceil(250 / 40));
    expect(r.wire.maxUnacked).toBeLessThanOrEqual(2);
    await waitFor(() => r.log.messages('uplink.drained').length === 1, 5_000, 'uplink.drained');
    expect(r.log.messages('uplink.drained')[0]).toMatchObject({ count: 250 });
  });

  it('delivers everything when the broker dies mid-drain and comes back; duplicates are only redeliveries', async () => {
    const port = await freePort();
    const r = rig(`mqtt://127.0.0.1:${port}`, { batchSize: 25, maxInFlightBatches: 3 });
    const removals = removalsOnlyAfterPuback(r);
    r.record(600);
    // The central's store, where ours is (DESIGN.md "A PUBACK is not a receipt"): in
    // authorizePublish, before aedes writes the PUBACK, a little slowly so batches are in
    // flight at the kill. (An observer alone would not do: aedes acknowledges before it
    // forwards, so a kill in between loses the copy an observer would have seen.)
    const stored: number[] = [];
    const slowStore = (delayMs: number): { authorizePublish: AuthorizePublish } => ({
      authorizePublish: (_client, packet, callback) => {
        if (!packet.topic.endsWith('/events')) return callback(null);
        setTimeout(() => {
          stored.push(...eventBatchSchema.parse(JSON.parse(packet.payload.toString())).events.map((e) => e.seq));
          callback(null);
        }, delayMs);
      },
    });
    const first = await broker({ port, ...slowStore(15) });
    r.uplink.start();
    await waitFor(() => r.depth() <= 600 - 5 * 25, 20_000, 'some batches acknowledged');
    // keep scanning while draining
    r.record(50);
    await waitFor(() => r.wire.unacked > 0, 10_000, 'batches in flight');
    await first.broker.kill();
    await waitFor(() => r.log.messages('uplink.disconnected').length === 1, 10_000, 'disconnect noticed');
    expect(r.depth()).toBeGreaterThan(0);

    const second = await broker({ port, ...slowStore(1) });
    r.record(50);
    await waitFor(() => r.depth() === 0, 30_000, 'outbox drained after the restart');
    await waitFor(() => second.observer.events().at(-1)?.seq === 700, 10_000, 'last event at the second observer');

    expect([...new Set(stored)].sort((a, b) => a - b)).toEqual(seqRange(700));
    const counts = new Map<number, number>();
    for (const seq of stored) counts.set(seq, (counts.get(seq) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([seq]) => seq);
    // Only what was on the wire without a PUBACK when the link died may arrive twice.
    for (const seq of duplicated) expect(r.wire.unackedAtClose.has(seq)).toBe(true);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
    expect(removals.violations).toEqual([]);
    expect(r.wire.maxUnacked).toBeLessThanOrEqual(3);
    expect(r.log.messages('uplink.connected')).toHaveLength(2);
    // after the restart the subscriber sees the whole rest, in order
    const afterRestart = second.observer.events().map((e) => e.seq);
    expect(afterRestart).toEqual([...afterRestart].sort((a, b) => a - b));
  });

  it('with central.receipts: keeps rows past their PUBACK until a receipt names them, drops a malformed receipt, and bounds the unreceipted', async () => {
    // A broker that acknowledges and stores nothing, like Mosquitto with no worker behind it.
    const { broker: b, observer } = await broker();
    const r = rig(b.url, { batchSize: 10, maxInFlightBatches: 2, receipts: true });
    r.record(45);
    r.uplink.start();
    await waitFor(() => r.wire.ackedSeqs.size === 20, 10_000, 'two batches PUBACKed');
    await waitFor(() => observer.events().length === 20, 10_000, 'both at the observer');
    // Acknowledged by the broker, not receipted: nothing leaves, nothing more goes out.
    expect(r.depth()).toBe(45);
    expect(r.uplink.inFlight).toBe(20);

    const receipts = receiptsTopic(CHECKPOINT, TERMINAL_ID);
    const send = (payload: string) => observer.client.publishAsync(receipts, payload, { qos: 1 });
    for (const bad of ['not json', '{"v":1,"seqs":[]}', '{"v":2,"seqs":[1]}', '{"v":1,"seqs":[1],"extra":true}', '{"v":1,"seqs":[-1]}']) await send(bad);
    await waitFor(() => r.uplink.malformedReceipts === 5, 10_000, 'five malformed receipts counted');
    // The first one warns, the rest are debug: a broken sender must not flood the log.
    expect(r.log.messages('uplink.receipt-malformed').map((line) => line.level)).toEqual([40, 20, 20, 20, 20]);
    expect(r.depth()).toBe(45);

    await send(JSON.stringify({ v: 1, seqs: seqRange(10) }));
    await waitFor(() => r.depth() === 35, 10_000, 'the receipted batch left the outbox');
    await waitFor(() => observer.events().length === 30, 10_000, 'the freed slot refilled');
    expect(r.uplink.inFlight).toBe(20);
    // Receipted at last, the rest drains as receipts come; a second receipt for gone rows is harmless.
    await send(JSON.stringify({ v: 1, seqs: seqRange(10) }));
    for (let next = 11; next <= 45; next += 10) {
      await waitFor(() => observer.events().some((e) => e.seq === next), 10_000, `seq ${next} sent`);
      await send(JSON.stringify({ v: 1, seqs: seqRange(Math.min(10, 46 - next)).map((i) => next - 1 + i) }));
    }
    await waitFor(() => r.depth() === 0, 10_000, 'outbox drained');
    expect(observer.events().map((e) => e.seq)).toEqual(seqRange(45));
    expect(r.wire.maxUnacked).toBeLessThanOrEqual(2);
  });

  it('with central.receipts behind a broker that refuses the receipts subscription: sends nothing, says why, and tries again', async () => {
    const { broker: b, observer } = await broker({
      authorizeSubscribe: (_client, subscription, callback) => callback(null, subscription.topic.endsWith('/receipts') ? null : subscription),
    });
    const r = rig(b.url, { batchSize: 10, receipts: true });
    r.record(25);
    r.uplink.start();
    await waitFor(() => r.log.messages('uplink.receipts-refused').length >= 2, 20_000, 'refused on two connections');
    expect(r.log.messages('uplink.receipts-refused')[0]).toMatchObject({ level: 50 });
    // Without receipts nothing could ever leave the outbox: so nothing went out at all.
    expect(observer.events()).toEqual([]);
    expect(r.depth()).toBe(25);
  });

  it('never has more than maxInFlightBatches unacknowledged, and keeps draining while scans continue', async () => {
    let delivering = 0;
    let maxDelivering = 0;
    const { broker: b, observer } = await broker({
      authorizePublish: (_client, packet, callback): void => {
        if (!packet.topic.endsWith('/events')) return callback(null);
        delivering++;
        maxDelivering = Math.max(maxDelivering, delivering);
        setTimeout(() => {
          delivering--;
          callback(null);
        }, 5);
      },
    });
    const r = rig(b.url, { batchSize: 10, maxInFlightBatches: 3 });
    let total = r.record(400).length;
    r.uplink.start();
    // scans keep coming during the drain, each one notifying the uplink
    const scanner = setInterval(() => (total += r.record(3).length), 2);
    cleanups.push(() => clearInterval(scanner));
    await waitFor(() => r.wire.ackedSeqs.size >= 200, 20_000, 'half the backlog acknowledged');
    clearInterval(scanner);
    await waitFor(() => r.depth() === 0, 20_000, 'outbox drained');
    await waitFor(() => observer.events().length >= total, 10_000, 'everything at the observer');
    expect(observer.events().map((e) => e.seq)).toEqual(seqRange(total));
    expect(r.wire.maxUnacked).toBe(3);
    expect(maxDelivering).toBeLessThanOrEqual(3);
  });
});
