import { constants } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sha256Hex, type ManifestFile } from '../../protocol/lists/index.js';

export type ChunkVerdict = 'written' | 'duplicate' | 'bad-index' | 'bad-hash';

/**
 * One list file being downloaded: a `.part` file that chunks are written into at their own
 * offsets, in any order. Progress is the file itself: a resumed download re-hashes what is
 * on disk against the manifest's chunk hashes, so no separate bookkeeping can disagree with
 * the bytes, and a chunk torn by a power cut simply fails its hash and is fetched again.
 */
export class PartFile {
  private readonly have = new Set<number>();

  private constructor(
    readonly path: string,
    readonly file: ManifestFile,
    private readonly chunkBytes: number,
    private readonly handle: FileHandle,
  ) {}

  /** Opens (or creates) the part file and counts the chunks already on disk. */
  static async open(path: string, file: ManifestFile, chunkBytes: number): Promise<PartFile> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Not 'a+': Linux ignores the position of a write to a file opened for appending.
    const handle = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      const part = new PartFile(path, file, chunkBytes, handle);
      await part.resume();
      return part;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  get chunkCount(): number {
    return this.file.chunks.length;
  }

  get received(): number {
    return this.have.size;
  }

  get complete(): boolean {
    return this.have.size === this.file.chunks.length;
  }

  has(index: number): boolean {
    return this.have.has(index);
  }

  /** Chunk indexes not on disk yet, lowest first. */
  missing(): number[] {
    const result: number[] = [];
    for (let i = 0; i < this.file.chunks.length; i++) if (!this.have.has(i)) result.push(i);
    return result;
  }

  /** Checks a chunk against its manifest hash and length, then writes it at its offset. */
  async write(index: number, bytes: Buffer): Promise<ChunkVerdict> {
    if (!Number.isInteger(index) || index < 0 || index >= this.file.chunks.length) return 'bad-index';
    if (this.have.has(index)) return 'duplicate';
    if (bytes.length !== this.expectedLength(index) || sha256Hex(bytes) !== this.file.chunks[index]) return 'bad-hash';
    // A second write of the same index may race this one; the bytes are identical.
    this.have.add(index);
    try {
      await this.handle.write(bytes, 0, bytes.length, index * this.chunkBytes);
    } catch (err) {
      this.have.delete(index);
      throw err;
    }
    return 'written';
  }

  /** Flushes to disk so the file handed to the applier is the file on disk. */
  async finish(): Promise<void> {
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  /** Closes and deletes the part file. */
  async discard(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }

  private expectedLength(index: number): number {
    return index === this.file.chunks.length - 1 ? this.file.bytes - index * this.chunkBytes : this.chunkBytes;
  }

  private async resume(): Promise<void> {
    const { size } = await this.handle.stat();
    if (size > this.file.bytes) {
      // Not this file (or corrupted): start over rather than trust any of it.
      await this.handle.truncate(0);
      return;
    }
    const buffer = Buffer.allocUnsafe(this.chunkBytes);
    for (let index = 0; index < this.file.chunks.length; index++) {
      const length = this.expectedLength(index);
      if (index * this.chunkBytes + length > size) break;
      const { bytesRead } = await this.handle.read(buffer, 0, length, index * this.chunkBytes);
      if (bytesRead === length && sha256Hex(buffer.subarray(0, length)) === this.file.chunks[index]) this.have.add(index);
    }
  }
}
