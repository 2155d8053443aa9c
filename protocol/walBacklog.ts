import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';

/**
 * How many frames of a SQLite WAL are not yet copied back into the database: what a
 * checkpoint still has to write out. Read from the wal-index (the `-shm` file beside the
 * database), whose layout SQLite documents (https://www.sqlite.org/walformat.html, "The
 * WAL-Index Format"): the header's mxFrame at byte 16, the checkpoint info's nBackfill at
 * byte 96, both in the host's byte order. One 100-byte read, a few microseconds.
 *
 * Why a file read: better-sqlite3 offers no WAL hook, and `wal_checkpoint` would run a
 * checkpoint to answer. The numbers are a hint for pacing background writes, never for
 * correctness: a read racing a commit may see an older value, and a wal-index this code does
 * not recognise (another version, no `-shm` yet) reads as 0, pacing nothing.
 */
export interface WalBacklog {
  /** Frames in the WAL not yet backfilled into the database; 0 when unknown. */
  pages(): number;
  close(): void;
}

/** The wal-index version every SQLite since 3.7.0 writes (WALINDEX_MAX_VERSION). */
const walIndexVersion = 3007000;
const headerBytes = 100;
const mxFrameOffset = 16;
const nBackfillOffset = 96;

export function openWalBacklog(databaseFile: string): WalBacklog {
  const buffer = Buffer.alloc(headerBytes);
  const readU32 = endianness() === 'LE' ? (at: number) => buffer.readUInt32LE(at) : (at: number) => buffer.readUInt32BE(at);
  let fd: number | null = null;
  return {
    pages() {
      try {
        fd ??= openSync(`${databaseFile}-shm`, 'r');
        if (readSync(fd, buffer, 0, headerBytes, 0) < headerBytes) return 0;
      } catch {
        return 0;
      }
      if (readU32(0) !== walIndexVersion) return 0;
      return Math.max(0, readU32(mxFrameOffset) - readU32(nBackfillOffset));
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
