import type { Checkpoint, CentralStore, TerminalCredentials } from '../store/centralStore.js';

/**
 * Every terminal's credentials and every checkpoint, read in two queries and held on the
 * main thread. A login looked its terminal and checkpoint up in the store, one round trip
 * to the store's worker thread each: at a restart's 10,000 logins that was the largest
 * store cost left (docs/benchmarks.md, "Reconnect storm"). The revocation watcher reads
 * the same two lists at every pass anyway, so it refreshes this snapshot with them.
 *
 * The snapshot may be one pass old. A login it admits is checked again by the watcher's
 * next pass against fresh rows (cut off if removed, rotated or retired meanwhile), the same
 * bound as for a terminal already connected; anything it cannot admit (unknown, wrong
 * secret, removed, retired) is asked of the store (authenticate.ts), so a terminal added
 * or a secret rotated since the last pass logs in at once.
 */
export class RegistrySnapshot {
  private terminals = new Map<string, TerminalCredentials>();
  private checkpoints = new Map<string, Checkpoint>();

  constructor(private readonly store: Pick<CentralStore, 'listTerminalCredentials' | 'listCheckpoints'>) {}

  /** Reads both lists anew; until it first resolves, the snapshot is empty (every login asks the store). */
  async refresh(): Promise<void> {
    const [terminals, checkpoints] = await Promise.all([this.store.listTerminalCredentials(), this.store.listCheckpoints()]);
    this.terminals = new Map(terminals.map((each) => [each.terminalId, each]));
    this.checkpoints = new Map(checkpoints.map((each) => [each.code, each]));
  }

  terminal(terminalId: string): TerminalCredentials | null {
    return this.terminals.get(terminalId) ?? null;
  }

  checkpoint(code: string): Checkpoint | null {
    return this.checkpoints.get(code) ?? null;
  }
}
