import { getToken } from '../broker/access/tokens.js';
import type { CentralDb } from '../broker/store/sqliteSchema.js';
import type { PageContext } from './pageContext.js';

/**
 * Who did something, as an operator reads it. The audit log and alarm acknowledgements keep
 * the actor as actorOf wrote it (`user:lan`, `token:k3j9…`, `cli:root`, broker/access/roles.ts):
 * a page shows the username alone, a token by its name ("token: nightly export"; by its id
 * once it no longer exists), and the command line's OS user as such. Anything else is shown
 * as stored. One lookup per page: call the returned function for each row.
 */
export function actorNames(context: Pick<PageContext, 't'>, db: CentralDb): (actor: string) => string {
  const tokenNames = new Map<string, string>();
  const tokenName = (tokenId: string): string => {
    let name = tokenNames.get(tokenId);
    if (name === undefined) tokenNames.set(tokenId, (name = getToken(db, tokenId)?.name ?? tokenId));
    return name;
  };
  return (actor) => {
    const colon = actor.indexOf(':');
    const kind = actor.slice(0, colon);
    const id = actor.slice(colon + 1);
    if (colon <= 0 || id === '') return actor;
    if (kind === 'user') return id;
    if (kind === 'token') return context.t('actor.token', { name: tokenName(id) });
    if (kind === 'cli') return context.t('actor.cli', { user: id });
    return actor;
  };
}
