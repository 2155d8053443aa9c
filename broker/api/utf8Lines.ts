/**
 * Text lines encoded to UTF-8 one at a time into a scratch buffer kept between chunks, each
 * chunk then copied out once. Joining a page's thousand lines into one string and encoding
 * that cost twice as much: flattening a string built from ~20,000 pieces is slower than
 * writing a thousand small ones (a million-row /events.csv, measured: 3.5 → 1.8 ms a page
 * on the central's thread).
 */
export class Utf8Lines {
  private scratch = Buffer.allocUnsafe(256 * 1024);
  private length = 0;

  add(text: string): void {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8.
    const room = text.length * 3;
    if (this.scratch.length - this.length < room) {
      const larger = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.length + room));
      this.scratch.copy(larger, 0, 0, this.length);
      this.scratch = larger;
    }
    this.length += this.scratch.write(text, this.length, 'utf8');
  }

  /** What was added since the last take, as a buffer of its own (the scratch is written again). */
  take(): Buffer {
    const chunk = Buffer.from(this.scratch.subarray(0, this.length));
    this.length = 0;
    return chunk;
  }
}
