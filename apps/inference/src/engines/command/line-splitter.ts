/** Longest line kept from a command's output; the rest of an overlong line is counted, not stored. */
export const DEFAULT_MAX_LINE_CHARS = 4000;

/**
 * Splits a text stream into lines as they arrive. `\n`, `\r\n` and a lone `\r` all end a
 * line: tqdm redraws its bar in place with `\r`, and every redraw is a line of its own.
 * Memory stays bounded: an overlong line keeps its first `maxLineChars` characters and a
 * note of how many were cut.
 */
export class LineSplitter {
  private buffer = '';
  private dropped = 0;
  private lastWasCR = false;

  constructor(private readonly maxLineChars = DEFAULT_MAX_LINE_CHARS) {}

  /** Feed decoded text; returns the lines it completed (without their line breaks). */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10 && this.lastWasCR) {
        // The \n of a \r\n pair (possibly split across chunks) ends nothing new.
        this.lastWasCR = false;
        start = i + 1;
        continue;
      }
      this.lastWasCR = false;
      if (c === 10 || c === 13) {
        this.append(chunk.slice(start, i));
        lines.push(this.take());
        start = i + 1;
        this.lastWasCR = c === 13;
      }
    }
    this.append(chunk.slice(start));
    return lines;
  }

  /** The unterminated last line, if any (call once the stream has ended). */
  end(): string[] {
    this.lastWasCR = false;
    return this.buffer.length > 0 || this.dropped > 0 ? [this.take()] : [];
  }

  private append(piece: string): void {
    if (piece.length === 0) return;
    const room = this.maxLineChars - this.buffer.length;
    if (piece.length <= room) {
      this.buffer += piece;
    } else {
      this.buffer += piece.slice(0, Math.max(0, room));
      this.dropped += piece.length - Math.max(0, room);
    }
  }

  private take(): string {
    const line = this.dropped > 0 ? `${this.buffer} … [${this.dropped} more characters cut]` : this.buffer;
    this.buffer = '';
    this.dropped = 0;
    return line;
  }
}
