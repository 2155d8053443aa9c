/**
 * A tiny terminal for the relay-safety test, run as a real process
 * (`node --import tsx test/fakes/relayCrash.ts <mode>`): it energises a sim relay, installs
 * the safety hooks, then dies the way `mode` says. Its stdout is pino JSON lines.
 */
import { pino } from 'pino';
import { installRelaySafety } from '../../hardware/gpio/relaySafety.js';
import { SimGpio } from '../../hardware/gpio/simGpio.js';

const logger = pino({ base: null }, pino.destination({ dest: 1, sync: true }));
const gpio = new SimGpio({ logger });
const relay = gpio.output('relay', 23);
installRelaySafety([relay], logger);
relay.write(1);

const mode = process.argv[2];
if (mode === 'throw') {
  setTimeout(() => {
    throw new Error('boom: a bug in the scan path');
  }, 10);
} else if (mode === 'reject') {
  void Promise.reject(new Error('boom: a promise nobody awaited'));
} else if (mode === 'exit') {
  setTimeout(() => process.exit(0), 10);
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
