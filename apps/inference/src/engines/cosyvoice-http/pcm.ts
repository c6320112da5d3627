/**
 * Collects the FastAPI runtime's answer: headerless mono int16 little-endian PCM (the
 * server multiplies the model's float output by 2^15 and sends the raw bytes). Network
 * reads split the stream anywhere, including inside a sample, so an odd trailing byte is
 * held until the next read completes it.
 */
export class Int16PcmCollector {
  private readonly parts: Int16Array[] = [];
  private carry: number | null = null;
  private samples = 0;
  private bytes = 0;

  /** Add received bytes; returns how many complete samples they finished. */
  push(chunk: Uint8Array): number {
    if (chunk.byteLength === 0) return 0;
    this.bytes += chunk.byteLength;
    let offset = 0;
    const pending = this.carry === null ? 0 : 1;
    const count = Math.floor((chunk.byteLength + pending) / 2);
    const out = new Int16Array(count);
    let i = 0;
    if (this.carry !== null && count > 0) {
      out[i++] = toInt16(this.carry, chunk[0]!);
      offset = 1;
      this.carry = null;
    }
    for (; i < count; i++, offset += 2) out[i] = toInt16(chunk[offset]!, chunk[offset + 1]!);
    if (offset < chunk.byteLength) this.carry = chunk[offset]!;
    if (count > 0) this.parts.push(out);
    this.samples += count;
    return count;
  }

  /** Complete samples received so far. */
  get sampleCount(): number {
    return this.samples;
  }

  /** Bytes received so far. */
  get byteCount(): number {
    return this.bytes;
  }

  /** A byte is left over that no following byte completed (only meaningful at the end). */
  get hasDanglingByte(): boolean {
    return this.carry !== null;
  }

  /** All complete samples as floats in [-1, 1) (v / 32768: the exact inverse of 16-bit WAV encoding). */
  toFloat32(): Float32Array {
    const out = new Float32Array(this.samples);
    let offset = 0;
    for (const part of this.parts) {
      for (let i = 0; i < part.length; i++) out[offset + i] = part[i]! / 32768;
      offset += part.length;
    }
    return out;
  }
}

function toInt16(lo: number, hi: number): number {
  return ((hi << 24) >> 16) | lo;
}
