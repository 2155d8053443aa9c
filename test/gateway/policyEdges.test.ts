import { describe, expect, it } from 'vitest';
import type { CachedEntry, EntryStatus } from '../../gateway/listCache.js';
import { decide, strictestEntry, type LaneTraits, type PolicySettings, type Situation } from '../../gateway/policy.js';

/** The edges mutation testing found unguarded (docs/testing.md "Mutation testing"). */

const NOW = Date.parse('2026-11-23T08:00:00Z');
const autoLane: LaneTraits = { direction: 'in', attended: false, confirm: 'auto' };
const settings: PolicySettings = { onStaleList: 'deny', antiPassback: 'off' };

function entry(status: EntryStatus, scope: string, window: { from?: number; until?: number } = {}, listVersion = 7): CachedEntry {
  return { scope, listVersion, status, validFromMs: window.from ?? null, validUntilMs: window.until ?? null };
}

function situation(entries: CachedEntry[], overrides: Partial<Situation> = {}): Situation {
  return { entries, listState: 'fresh', nowMs: NOW, lastDirection: null, ...overrides };
}

describe('decide: a person on several lists', () => {
  it('refuses an allow that is not valid now on one list even when another list allows, whatever the order', () => {
    // The list outside its window sorts after the other by name, so only the window can pick it.
    const current = entry('allow', 'site-a', { from: NOW, until: NOW + 1 });
    for (const [outside, reason] of [
      [entry('allow', 'site-b', { until: NOW }), 'expired'],
      [entry('allow', 'site-b', { from: NOW + 1 }), 'not-yet-valid'],
    ] as const) {
      for (const entries of [
        [outside, current],
        [current, outside],
      ]) {
        expect(strictestEntry(entries, NOW)).toBe(outside);
        expect(decide(autoLane, settings, situation(entries))).toEqual({ outcome: 'refuse', reason, passback: false });
      }
    }
    const other = entry('allow', 'site-b');
    expect(strictestEntry([other, current], NOW)).toBe(current);
  });

  it('between entries of the same standing, cites the first scope by name, whatever the order', () => {
    const a = entry('allow', 'site-a', {}, 3);
    const b = entry('allow', 'site-b', {}, 9);
    expect(strictestEntry([a, b], NOW)).toBe(a);
    expect(strictestEntry([b, a], NOW)).toBe(a);
    const notYet = entry('allow', 'site-b', { from: NOW + 1 });
    const expired = entry('allow', 'site-c', { until: NOW });
    expect(decide(autoLane, settings, situation([expired, notYet]))).toMatchObject({ reason: 'not-yet-valid' });
  });

  it('still lets a stricter status win over a window', () => {
    expect(strictestEntry([entry('deny', 'b'), entry('allow', 'a', { until: NOW })], NOW)?.status).toBe('deny');
    expect(strictestEntry([entry('check', 'b'), entry('allow', 'a', { until: NOW })], NOW)?.status).toBe('check');
    expect(strictestEntry([], NOW)).toBeNull();
  });
});

describe('decide: refusals carry no passback flag unless passback refused them', () => {
  it.each([
    ['no-list', situation([entry('allow', 'a')], { listState: 'none' })],
    ['stale-list', situation([entry('allow', 'a')], { listState: 'stale' })],
    ['unknown', situation([])],
    ['denied', situation([entry('deny', 'a')])],
    ['not-yet-valid', situation([entry('allow', 'a', { from: NOW + 1 })])],
    ['expired', situation([entry('allow', 'a', { until: NOW })])],
  ] as const)('%s', (reason, at) => {
    expect(decide(autoLane, settings, at)).toEqual({ outcome: 'refuse', reason, passback: false });
  });
});
