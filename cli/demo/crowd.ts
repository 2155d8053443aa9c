import { randomInt } from 'node:crypto';
import { garbageQr, someQr, type SamplePerson } from '../../provisioning/samplePeople.js';

/** What the simulated crowd does next at a lane. */
export type CrowdAction =
  | { readonly kind: 'scan'; readonly lane: string; readonly text: string; readonly person: SamplePerson | null }
  | { readonly kind: 'rescan'; readonly lane: string; readonly text: string };

/**
 * A plausible mix of people at a gate: mostly registered people, a few strangers, the odd
 * unreadable code, and someone holding their card on the glass (a re-read, a duplicate).
 */
export class Crowd {
  private last: { lane: string; text: string } | null = null;

  constructor(
    private readonly people: readonly SamplePerson[],
    private readonly strangers: readonly SamplePerson[],
    private readonly lanes: readonly string[],
    private readonly random: (max: number) => number = randomInt,
  ) {}

  next(): CrowdAction {
    const roll = this.random(100);
    if (roll < 6 && this.last) return { kind: 'rescan', ...this.last };
    const lane = this.lanes[this.random(this.lanes.length)]!;
    if (roll < 12) return { kind: 'scan', lane, text: garbageQr(this.random), person: null };
    const pool = roll < 20 ? this.strangers : this.people;
    const person = pool[this.random(pool.length)]!;
    const text = someQr(person, this.random);
    this.last = { lane, text };
    return { kind: 'scan', lane, text, person };
  }
}
