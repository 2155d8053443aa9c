import { checkMemberChanges } from '../../broker/registry/members.js';
import { parseOptions, requireOption, type Command } from '../command.js';
import { changeMember } from './membersUpdate.js';

/** `qrgate members set-status`: the person's status on the next published list. */
export const run: Command = async (ctx) => {
  const { values } = parseOptions(ctx.argv, {
    'central-config': { type: 'string' },
    'id-number': { type: 'string' },
    status: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  return changeMember(ctx, values, checkMemberChanges({ status: requireOption(values, 'status') }), 'member.set-status');
};
