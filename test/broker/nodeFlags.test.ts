import { describe, expect, it } from 'vitest';
import { centralNodeFlags, missingCentralNodeFlags } from '../../broker/nodeFlags.js';

describe('the central\'s V8 flags', () => {
  it('finds them on the command line or in NODE_OPTIONS, with _ or - alike', () => {
    expect(missingCentralNodeFlags(['--max-semi-space-size=32'], '')).toEqual([]);
    expect(missingCentralNodeFlags([], '--enable-source-maps --max-semi-space-size=32')).toEqual([]);
    expect(missingCentralNodeFlags(['--max_semi_space_size=32'], '')).toEqual([]);
  });

  it('names the ones missing, and another size is not the flag asked for', () => {
    expect(missingCentralNodeFlags([], '')).toEqual([...centralNodeFlags]);
    expect(missingCentralNodeFlags(['--max-semi-space-size=1'], '')).toEqual(['--max-semi-space-size=32']);
  });
});
