import { afterEach, describe, expect, it } from 'vitest';
import { centralCheck } from '../../../gateway/doctor/centralCheck.js';
import { uplinkConfigSchema } from '../../../gateway/uplink/config.js';
import { freePort } from '../../helpers/freePort.js';
import { waitFor } from '../../helpers/waitFor.js';
import { TestBroker } from '../uplink/rig.js';

/**
 * `qrgate doctor` with a terminal that knows several central nodes (`central.urls`): every
 * node is tried with the terminal's credentials and reported on its own line.
 */
describe("doctor's central check with several nodes", () => {
  const brokers: TestBroker[] = [];
  afterEach(async () => {
    for (const broker of brokers.splice(0)) await broker.kill();
  });

  async function node(accepts: boolean): Promise<TestBroker> {
    const broker = await TestBroker.start({
      authenticate: (_client, username, password, callback) => {
        if (accepts && username === 'gate-1' && password?.toString() === 'secret') return callback(null, true);
        // What the central answers a removed terminal: not authorised (CONNACK 5).
        callback(Object.assign(new Error('refused'), { returnCode: 5 as const }), false);
      },
    });
    brokers.push(broker);
    return broker;
  }

  it('reports each node: credentials accepted, refused, unreachable', async () => {
    const accepting = await node(true);
    const refusing = await node(false);
    const down = `mqtt://127.0.0.1:${await freePort()}`;
    const config = uplinkConfigSchema.parse({ urls: [accepting.url, refusing.url, down], username: 'gate-1', password: 'secret' });

    const results = await centralCheck(config, 'gate-1', 5_000);

    expect(results).toEqual([
      { check: 'central 1/3', status: 'PASS', detail: `${accepting.url}: connected, credentials accepted` },
      { check: 'central 2/3', status: 'FAIL', detail: expect.stringContaining(`${refusing.url}: refused: not authorised`) },
      { check: 'central 3/3', status: 'FAIL', detail: expect.stringMatching(/^mqtt:\/\/127\.0\.0\.1:\d+: unreachable \(ECONNREFUSED\)$/) },
    ]);
    // One after the other, each connection closed: nothing is left on the nodes that answered.
    await waitFor(() => accepting.clients.size === 0, 5_000, 'the check connection closed');
  });

  it('keeps the one line named "central" for a single url', async () => {
    const accepting = await node(true);
    const config = uplinkConfigSchema.parse({ url: accepting.url, username: 'gate-1', password: 'secret' });
    expect(await centralCheck(config, 'gate-1', 5_000)).toEqual([{ check: 'central', status: 'PASS', detail: `${accepting.url}: connected, credentials accepted` }]);
  });
});
