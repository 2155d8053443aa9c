import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../protocol/logger.js';
import { sha256Hex, verifyManifest, type ListManifest } from '../../protocol/lists/index.js';
import type { RegistryDb } from '../store/sql/registryDb.js';
import { ListPublishError } from './errors.js';
import { listFileName, lockScope, manifestFileName, scopeDir, writeFileAtomically } from './listFiles.js';

/**
 * The signed list files of a cluster, in the one PostgreSQL every node shares (docs/
 * scale-out.md, "List files in a cluster"). A publish writes under its own node's
 * `{dataDir}/lists/` as before; on PostgreSQL it also puts the manifest's files and the
 * signed manifest into `list_files` and `list_manifests`, in one transaction. Every node
 * then materialises a newer shared version into its own folder (files first, verified
 * against the manifest's hashes, the manifest last), where its distributor finds it. So each
 * node serves the same bytes, a node restarted with an old folder is brought forward instead
 * of republishing the old version, and a publish on any node has the previous snapshot at
 * hand for its delta.
 */

/** Rows of files the manifest names; `bytes` from memory for the files just built, else read from the folder. */
export async function shareManifest(
  db: RegistryDb,
  scope: string,
  signedManifest: Buffer,
  manifest: ListManifest,
  fileBytes: (name: string) => Buffer,
): Promise<void> {
  if (db.dialect !== 'postgres') return; // one node: its folder is the only copy there is
  const names = [manifest.snapshot.name, ...manifest.deltas.map((d) => d.name)];
  await db.transaction(async (tx) => {
    for (const name of names) {
      await tx.run('INSERT INTO list_files (scope, name, bytes) VALUES (?, ?, ?) ON CONFLICT (scope, name) DO NOTHING', [scope, name, fileBytes(name)]);
    }
    // Never back: a slower publish of an older version loses to the newer one.
    await tx.run(
      `INSERT INTO list_manifests (scope, version, manifest) VALUES (?, ?, ?)
       ON CONFLICT (scope) DO UPDATE SET version = excluded.version, manifest = excluded.manifest WHERE list_manifests.version < excluded.version`,
      [scope, manifest.version, signedManifest],
    );
    await tx.run(
      `DELETE FROM list_files WHERE scope = ? AND name NOT IN (${names.map(() => '?').join(', ')})
       AND NOT EXISTS (SELECT 1 FROM list_manifests m WHERE m.scope = ? AND m.version > ?)`,
      [scope, ...names, scope, manifest.version],
    );
  });
}

export interface SharedListsDeps {
  readonly db: RegistryDb;
  readonly dataDir: string;
  readonly trustedKeys: readonly KeyObject[];
  readonly logger: Logger;
}

export class SharedLists {
  /** The version in each scope's folder, as last read or written here. */
  private readonly local = new Map<string, number>();

  constructor(private readonly deps: SharedListsDeps) {}

  /** Brings every scope's folder up to the shared version; a scope that fails is logged and tried at the next call. */
  async materialise(): Promise<void> {
    const shared = await this.deps.db.all<{ scope: string; version: string | number }>('SELECT scope, version FROM list_manifests');
    for (const row of shared) {
      const version = Number(row.version);
      if ((this.local.get(row.scope) ?? 0) >= version) continue;
      // Read again from the folder: a publish on this node may have written it meanwhile.
      this.local.delete(row.scope);
      if ((this.localVersion(row.scope) ?? 0) >= version) continue;
      try {
        await this.bring(row.scope);
      } catch (err) {
        if (err instanceof ListPublishError && err.code === 'concurrent-publish') continue; // a publish here holds the folder: next pass
        this.deps.logger.error({ scope: row.scope, version, err }, 'lists.materialise-failed');
      }
    }
  }

  private localVersion(scope: string): number | null {
    const known = this.local.get(scope);
    if (known !== undefined) return known;
    const file = join(scopeDir(this.deps.dataDir, scope), manifestFileName);
    if (!existsSync(file)) return null;
    try {
      const version = verifyManifest(readFileSync(file), { trustedKeys: this.deps.trustedKeys, scope, installedVersion: null }).manifest.version;
      this.local.set(scope, version);
      return version;
    } catch {
      return null; // unreadable or signed by another key: the shared one replaces it
    }
  }

  private async bring(scope: string): Promise<void> {
    const row = await this.deps.db.get<{ manifest: Buffer }>('SELECT manifest FROM list_manifests WHERE scope = ?', [scope]);
    if (row === undefined) return;
    const { manifest } = verifyManifest(row.manifest, { trustedKeys: this.deps.trustedKeys, scope, installedVersion: null });
    const dir = scopeDir(this.deps.dataDir, scope);
    // A publish on this node holds it too: the two never write the folder at once.
    const release = lockScope(this.deps.dataDir, scope);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      let fetched = 0;
      for (const described of [manifest.snapshot, ...manifest.deltas]) {
        const path = join(dir, listFileName(described.name));
        if (existsSync(path) && sha256Hex(readFileSync(path)) === described.sha256) continue;
        const file = await this.deps.db.get<{ bytes: Buffer }>('SELECT bytes FROM list_files WHERE scope = ? AND name = ?', [scope, described.name]);
        if (file === undefined || file.bytes.length !== described.bytes || sha256Hex(file.bytes) !== described.sha256) {
          throw new Error(`the shared store has no intact ${described.name} for version ${manifest.version}`);
        }
        writeFileAtomically(path, file.bytes);
        fetched++;
      }
      // Last: the distributor puts out a manifest only with every file it names in place.
      writeFileAtomically(join(dir, manifestFileName), row.manifest);
      this.local.set(scope, manifest.version);
      this.deps.logger.info({ scope, version: manifest.version, fetched }, 'lists.materialised');
    } finally {
      release();
    }
  }
}
