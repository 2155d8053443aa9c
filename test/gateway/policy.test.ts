import { describe, expect, it } from 'vitest';
import type { CachedEntry, EntryStatus } from '../../gateway/listCache.js';
import { decide, type LaneTraits, type PolicySettings, type Situation } from '../../gateway/policy.js';

const NOW = Date.parse('2026-11-23T08:00:00Z');
const autoLane: LaneTraits = { direction: 'in', attended: false, confirm: 'auto' };
const attendedLane: LaneTraits = { direction: 'in', attended: true, confirm: 'auto' };
const manualLane: LaneTraits = { direction: 'in', attended: true, confirm: 'manual' };
const settings: PolicySettings = { onStaleList: 'deny', antiPassback: 'off' };

function entry(status: EntryStatus, window: { from?: number; until?: number } = {}, scope = 'site-a'): CachedEntry {
  return { scope, listVersion: 7, status, validFromMs: window.from ?? null, validUntilMs: window.until ?? null };
}

function situation(entries: CachedEntry[], overrides: Partial<Situation> = {}): Situation {
  return { entries, listState: 'fresh', nowMs: NOW, lastDirection: null, ...overrides };
}

describe('decide', () => {
  it('grants an allowed credential at an auto lane', () => {
    expect(decide(autoLane, settings, situation([entry('allow')]))).toEqual({ outcome: 'grant', reason: 'allowed', passback: false });
  });

  it('refuses unknown, denied, and credentials outside their validity window', () => {
    expect(decide(autoLane, settings, situation([]))).toMatchObject({ outcome: 'refuse', reason: 'unknown' });
    expect(decide(autoLane, settings, situation([entry('deny')]))).toMatchObject({ outcome: 'refuse', reason: 'denied' });
    expect(decide(autoLane, settings, situation([entry('allow', { from: NOW + 1 })]))).toMatchObject({ reason: 'not-yet-valid' });
    expect(decide(autoLane, settings, situation([entry('allow', { until: NOW })]))).toMatchObject({ reason: 'expired' });
    expect(decide(autoLane, settings, situation([entry('allow', { from: NOW, until: NOW + 1 })]))).toMatchObject({ outcome: 'grant' });
  });

  it('refuses a revoked card as revoked, before its window, at any lane, and over an allow on another list', () => {
    expect(decide(autoLane, settings, situation([entry('revoked')]))).toEqual({ outcome: 'refuse', reason: 'revoked', passback: false });
    expect(decide(manualLane, settings, situation([entry('revoked', { until: NOW })]))).toMatchObject({ outcome: 'refuse', reason: 'revoked' });
    const onTwo = [entry('allow', {}, 'a'), entry('revoked', {}, 'b'), entry('deny', {}, 'c')];
    expect(decide(attendedLane, settings, situation(onTwo))).toMatchObject({ outcome: 'refuse', reason: 'revoked' });
    expect(decide(attendedLane, { ...settings, onStaleList: 'allow-known' }, situation([entry('revoked')], { listState: 'stale' }))).toMatchObject({ reason: 'revoked' });
  });

  it('refuses everything when the terminal has no list', () => {
    expect(decide(autoLane, settings, situation([entry('allow')], { listState: 'none' }))).toMatchObject({ reason: 'no-list' });
  });

  it('judges a person on several lists by the strictest entry', () => {
    const entries = [entry('allow', {}, 'a'), entry('deny', {}, 'b'), entry('check', {}, 'c')];
    expect(decide(attendedLane, settings, situation(entries))).toMatchObject({ outcome: 'refuse', reason: 'denied' });
    expect(decide(attendedLane, settings, situation(entries.slice(0, 1).concat(entries[2]!)))).toMatchObject({ outcome: 'ask-operator' });
  });

  it('sends a check entry to the operator at an attended lane and refuses it at an unattended one', () => {
    expect(decide(attendedLane, settings, situation([entry('check')]))).toEqual({ outcome: 'ask-operator', passback: false });
    expect(decide(autoLane, settings, situation([entry('check')]))).toMatchObject({ outcome: 'refuse', reason: 'check-unattended' });
  });

  it('holds every valid scan for the operator at a manual lane, but never a denied one', () => {
    expect(decide(manualLane, settings, situation([entry('allow')]))).toMatchObject({ outcome: 'ask-operator' });
    expect(decide(manualLane, settings, situation([entry('deny')]))).toMatchObject({ outcome: 'refuse', reason: 'denied' });
    expect(decide(manualLane, settings, situation([]))).toMatchObject({ outcome: 'refuse', reason: 'unknown' });
  });

  describe('stale list', () => {
    const stale = (entries: CachedEntry[]) => situation(entries, { listState: 'stale' });

    it('deny refuses even known people', () => {
      expect(decide(autoLane, settings, stale([entry('allow')]))).toMatchObject({ outcome: 'refuse', reason: 'stale-list' });
    });

    it('manual asks an operator where there is one and refuses where there is none', () => {
      const manual: PolicySettings = { ...settings, onStaleList: 'manual' };
      expect(decide(attendedLane, manual, stale([entry('allow')]))).toMatchObject({ outcome: 'ask-operator' });
      expect(decide(autoLane, manual, stale([entry('allow')]))).toMatchObject({ outcome: 'refuse', reason: 'stale-list' });
      expect(decide(attendedLane, manual, stale([entry('deny')]))).toMatchObject({ outcome: 'refuse', reason: 'denied' });
    });

    it('allow-known lets known allowed people through, flagged, and nobody else', () => {
      const allowKnown: PolicySettings = { ...settings, onStaleList: 'allow-known' };
      expect(decide(autoLane, allowKnown, stale([entry('allow')]))).toEqual({ outcome: 'grant', reason: 'allowed-stale', passback: false });
      expect(decide(autoLane, allowKnown, stale([]))).toMatchObject({ outcome: 'refuse', reason: 'unknown' });
    });
  });

  describe('anti-passback', () => {
    const again = (entries: CachedEntry[]) => situation(entries, { lastDirection: 'in' });

    it('off ignores the last direction', () => {
      expect(decide(autoLane, settings, again([entry('allow')]))).toEqual({ outcome: 'grant', reason: 'allowed', passback: false });
    });

    it('soft lets the person through and flags the event', () => {
      const soft: PolicySettings = { ...settings, antiPassback: 'soft' };
      expect(decide(autoLane, soft, again([entry('allow')]))).toEqual({ outcome: 'grant', reason: 'allowed', passback: true });
    });

    it('hard refuses the same direction twice in a row but not the opposite one', () => {
      const hard: PolicySettings = { ...settings, antiPassback: 'hard' };
      expect(decide(autoLane, hard, again([entry('allow')]))).toEqual({ outcome: 'refuse', reason: 'passback', passback: true });
      const out: LaneTraits = { ...autoLane, direction: 'out' };
      expect(decide(out, hard, again([entry('allow')]))).toMatchObject({ outcome: 'grant' });
    });
  });
});
