import { describe, expect, it } from 'vitest';
import { missingTerminalNodeFlags, terminalNodeFlags } from '../../gateway/nodeFlags.js';

describe('the terminal node flags check', () => {
  it('finds the flags on the command line or in NODE_OPTIONS, spelt with dashes or underscores', () => {
    expect(missingTerminalNodeFlags(['--max-semi-space-size=1'], '')).toEqual([]);
    expect(missingTerminalNodeFlags([], '--enable-source-maps --max-semi-space-size=1')).toEqual([]);
    expect(missingTerminalNodeFlags(['--max_semi_space_size=1'], '')).toEqual([]);
  });

  it('names what is missing, including another value of the same flag', () => {
    expect(missingTerminalNodeFlags([], '')).toEqual([...terminalNodeFlags]);
    expect(missingTerminalNodeFlags(['--max-semi-space-size=16'], '')).toEqual(['--max-semi-space-size=1']);
  });
});
