# Benchmark engine: the smallest `command` engine program (apps/inference/runners/README.md).
# It reads the job document from stdin, writes 0.1 s of silence as a 16-bit mono WAV at the
# rate Chorus asked for to `output_wav`, and exits 0. burst.bench.ts runs it as Chorus jobs
# and, as the baseline, straight from a shell loop with the same kind of document.
import json
import struct
import sys
import wave

job = json.load(sys.stdin)
rate = int(job['sample_rate'])
with wave.open(job['output_wav'], 'wb') as out:
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(rate)
    out.writeframes(struct.pack('<%dh' % (rate // 10), *([0] * (rate // 10))))
