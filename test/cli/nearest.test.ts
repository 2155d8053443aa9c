import { describe, expect, it } from 'vitest';
import { editDistance, nearest, nearestBy, typoBudget } from '../../cli/nearest.js';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('direction', 'directon')).toBe(1);
    expect(editDistance('direction', 'directions')).toBe(1);
    expect(editDistance('scope', 'slope')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('counts a swap of neighbours as one slip', () => {
    expect(editDistance('members', 'memebrs')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('json', 'jsno')).toBe(1);
  });

  it('is symmetric', () => {
    for (const [a, b] of [['members import', 'memebrs imprt'], ['central-config', 'centrl-confgi'], ['x', 'yz']] as const) {
      expect(editDistance(a, b)).toBe(editDistance(b, a));
    }
  });
});

describe('nearest', () => {
  it('suggests the closest candidate within the budget', () => {
    expect(nearest('directon', ['name', 'direction', 'confirm'])).toBe('direction');
    expect(nearest('centrl-config', ['central-config', 'json'])).toBe('central-config');
  });

  it('suggests nothing when every candidate is far', () => {
    expect(nearest('colour', ['name', 'direction', 'confirm'])).toBeUndefined();
    // Two slips in a four-letter word is another word, not a typo.
    expect(typoBudget('json')).toBe(1);
    expect(nearest('jxox', ['json'])).toBeUndefined();
  });

  it('prefers the nearer of two close candidates, the first of equals', () => {
    expect(nearest('scop', ['slope', 'scope'])).toBe('scope');
    expect(nearest('unti', ['unit', 'until'])).toBe('unit');
  });

  it('compares each candidate with what it is typed against', () => {
    const typed = ['memebrs', 'import'];
    expect(nearestBy(['demo', 'members import'], (c) => typed.slice(0, c.split(' ').length).join(' '))).toBe('members import');
    expect(nearestBy(['members import'], () => undefined)).toBeUndefined();
  });
});
