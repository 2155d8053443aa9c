import { once } from 'node:events';
import type { Page } from '../../broker/registry/pageCursor.js';
import type { CliContext } from '../command.js';

/** Rows per database read: large enough to be quick, small enough that a million members never sit in memory. */
const pageSize = 1000;

/**
 * Writes every page of a registry listing as it is read: with --json one object
 * `{"<key>": [...]}` (as `checkpoints list`), else one line per row; `empty` when there is none.
 * Waits for stdout between pages, so a slow pipe holds back the reading.
 */
export async function writeListing<T>(
  ctx: CliContext,
  options: { readonly key: string; readonly json: boolean; readonly empty: string; readonly line: (item: T) => string },
  read: (page: { limit: number; after?: number }) => Page<T> | Promise<Page<T>>,
  decodeCursor: (cursor: string) => number,
): Promise<void> {
  const write = async (text: string) => {
    if (!ctx.stdout.write(text)) await once(ctx.stdout, 'drain');
  };
  let after: number | undefined;
  let count = 0;
  if (options.json) await write(`{${JSON.stringify(options.key)}:[`);
  for (;;) {
    const page = await read(after === undefined ? { limit: pageSize } : { limit: pageSize, after });
    const text = options.json ? page.items.map((item, i) => `${count + i > 0 ? ',' : ''}${JSON.stringify(item)}`).join('') : page.items.map((item) => `${options.line(item)}\n`).join('');
    count += page.items.length;
    await write(text);
    if (page.nextCursor === null) break;
    after = decodeCursor(page.nextCursor);
  }
  if (options.json) await write(']}\n');
  else if (count === 0) await write(`${options.empty}\n`);
}
