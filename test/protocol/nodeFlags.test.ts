import { describe, expect, it } from 'vitest';
import { centralNodeFlags } from '../../broker/nodeFlags.js';
import { terminalNodeFlags } from '../../gateway/nodeFlags.js';
import { missingNodeFlags } from '../../protocol/nodeFlags.js';

describe.each([
  ['terminal', terminalNodeFlags, '--max-semi-space-size=1', '--max-semi-space-size=16'],
  ['central', centralNodeFlags, '--max-semi-space-size=32', '--max-semi-space-size=1'],
])('the %s\'s V8 flags check', (_who, wanted, flag, otherValue) => {
  const missing = (execArgv: readonly string[], nodeOptions: string) => missingNodeFlags(wanted, execArgv, nodeOptions);

  it('finds the flag on the command line or in NODE_OPTIONS, spelt with dashes or underscores', () => {
    expect(wanted).toEqual([flag]);
    expect(missing([flag], '')).toEqual([]);
    expect(missing([], `--enable-source-maps ${flag}`)).toEqual([]);
    expect(missing([flag.replaceAll('-', '_').replace(/^__/, '--')], '')).toEqual([]);
  });

  it('names what is missing, including another value of the same flag', () => {
    expect(missing([], '')).toEqual([flag]);
    expect(missing([otherValue], '')).toEqual([flag]);
  });
});
