import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Files that appear whole or not at all, even across a power cut: written and fsynced under
 * a temporary name in the same folder, renamed, and the folder fsynced so the new name
 * survives too. A reader in another process (a terminal watching a list, the distributor
 * reading a publish) never sees half a file. Errors are the file system's own; callers
 * name them in their own terms.
 */

/** A file written and fsynced under a temporary name, waiting for `commitStaged`. */
export interface StagedFile {
  readonly temp: string;
  readonly path: string;
}

/** Temp names start with a dot and end in `.tmp`, so folder scans can tell them apart. */
export const tempFilePattern = /^\..+\.tmp$/;

export function stageFile(path: string, bytes: Buffer | string, mode = 0o644): StagedFile {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    const fd = openSync(temp, 'wx', mode);
    try {
      const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written, data.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return { temp, path };
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Gives staged files their names, in order; then each folder is fsynced once. */
export function commitStaged(files: readonly StagedFile[]): void {
  const dirs = new Set<string>();
  for (const file of files) {
    renameSync(file.temp, file.path);
    dirs.add(dirname(file.path));
  }
  for (const dir of dirs) {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Removes what is left of staged files; a no-op for files already committed. */
export function discardStaged(files: readonly StagedFile[]): void {
  for (const file of files) rmSync(file.temp, { force: true });
}

export function writeFileAtomically(path: string, bytes: Buffer | string, mode = 0o644): void {
  const staged = stageFile(path, bytes, mode);
  try {
    commitStaged([staged]);
  } catch (err) {
    discardStaged([staged]);
    throw err;
  }
}
