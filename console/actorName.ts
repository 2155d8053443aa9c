import { getToken } from '../broker/access/tokens.js';
import type { RegistryDb } from '../broker/store/sql/registryDb.js';
import type { PageContext } from './pageContext.js';

/**
 * Who did something, as an operator reads it. The audit log and alarm acknowledgements keep
 * the actor as actorOf wrote it (`user:lan`, `token:k3j9…`, `cli:root`, broker/access/roles.ts):
 * a page shows the username alone, a token by its name ("token: nightly export"; by its id
 * once it no longer exists), and the command line's OS user as such. Anything else is shown
 * as stored. `actors` are the ones the page will show: their tokens are looked up once, here,
 * and the returned function names each row without another query.
 */
export async function actorNames(context: Pick<PageContext, 't'>, db: RegistryDb, actors: Iterable<string>): Promise<(actor: string) => string> {
  const tokenNames = new Map<string, string>();
  for (const actor of actors) {
    const tokenId = actor.startsWith('token:') ? actor.slice('token:'.length) : '';
    if (tokenId !== '' && !tokenNames.has(tokenId)) tokenNames.set(tokenId, (await getToken(db, tokenId))?.name ?? tokenId);
  }
  const tokenName = (tokenId: string): string => tokenNames.get(tokenId) ?? tokenId;
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
