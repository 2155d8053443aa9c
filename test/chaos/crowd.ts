import { open } from 'node:fs/promises';
import type { VirtualSerialPair } from '../../hardware/scanners/virtualSerialPair.js';
import { garbageQr, samplePerson, someQr, type SamplePerson } from '../../provisioning/samplePeople.js';
import type { CentralSite } from '../helpers/centralSite.js';
import { eachOnceThenRandom } from './schedule.js';

export interface Crowd {
  /** Scans written so far. */
  readonly written: () => number;
  /** Stops writing; safe in a cleanup after a failure (see below). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * People in front of a pty scanner: `next()` gives each one's QR text and the pause after
 * it. Writes go on whatever state the terminal is in; while nobody reads the pty its buffer
 * fills and a write blocks, so `stop()` pulls the cable (closes the pair) if the last write
 * does not come back within 2 s, which unblocks it.
 */
export async function startCrowd(pair: VirtualSerialPair, next: () => { text: string; pauseMs: number }): Promise<Crowd> {
  const scanner = await open(pair.scannerPath, 'w');
  let running = true;
  let written = 0;
  const loop = (async () => {
    try {
      while (running) {
        const { text, pauseMs } = next();
        await scanner.write(`${text}\r\n`);
        written++;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    } catch {
      // the pair was closed under a blocked write: the crowd is over
    }
  })();
  let stopping: Promise<void> | null = null;
  return {
    written: () => written,
    stop: () =>
      (stopping ??= (async () => {
        running = false;
        const ended = await Promise.race([loop.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000))]);
        if (!ended) {
          await pair.close();
          await loop;
        }
        await scanner.close();
      })()),
  };
}

/** Who a site crowd sends to the gate, and how often (out of 10). */
const visitors = ['allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'allowed', 'denied', 'stranger', 'garbage'] as const;

/**
 * The QR texts of a crowd at one of `site`'s gates: mostly its allowed people, and the scans a
 * relay check must see refused: denied members, strangers (unknown) and garbage (malformed).
 * Each kind comes once early on (the site needs denied members: CentralSiteOptions.denied).
 */
export function siteVisitors(site: Pick<CentralSite, 'people' | 'denied'>, random: (max: number) => number): () => string {
  const member = (status: 'allow' | 'deny') => (idNumber: string, i: number): SamplePerson => ({ ...samplePerson(i, status, false), idNumber });
  const allowed = site.people.map(member('allow'));
  const denied = site.denied.map(member('deny'));
  if (allowed.length === 0 || denied.length === 0) throw new Error('a site crowd needs allowed and denied members');
  const strangers = Array.from({ length: 10 }, (_, i) => samplePerson(700_000 + i, 'allow', false));
  const nextVisitor = eachOnceThenRandom(visitors, random);
  const pool = { allowed, denied, stranger: strangers };
  return () => {
    const visitor = nextVisitor();
    if (visitor === 'garbage') return garbageQr(random);
    const people = pool[visitor];
    return someQr(people[random(people.length)]!, random);
  };
}
