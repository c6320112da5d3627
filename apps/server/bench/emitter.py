# Benchmark emitter: a `command` engine program (apps/inference/runners/README.md) that prints
# job log events at a fixed rate. Chorus runs it as an engine; the bare baseline
# (bare-server.ts) spawns it the same way. Parameters come as JSON in the job's text:
#   {"rate": 100, "count": 1000, "go": "/tmp/…/go"}   (count 0 = idle until released)
# It prints "bench ready", waits until the go file exists, then prints `count` lines
# "bench <i> <t>" where t is the wall-clock ms (CLOCK_REALTIME) at which line i was due;
# a blocked stdout (a reader that falls behind) therefore shows up as latency. Last comes
# "bench end <count> <max lag ms>", then a short silent WAV so the job succeeds.
import json
import os
import struct
import sys
import time
import wave

job = json.load(sys.stdin)
params = json.loads(job['text'])
rate = float(params['rate'])
count = int(params['count'])
go = params['go']
parent = os.getppid()


def say(message):
    sys.stdout.write('@chorus ' + json.dumps({'type': 'log', 'level': 'info', 'message': message}) + '\n')
    sys.stdout.flush()


def orphaned():
    # The process that started us died (e.g. kill -9 of a server): never linger.
    return os.getppid() != parent


say('bench ready')
deadline = time.time() + 300
while not os.path.exists(go):
    if orphaned() or time.time() > deadline:
        sys.exit(3)
    time.sleep(0.002)

start = time.time()
max_lag = 0.0
for i in range(count):
    due = start + i / rate
    now = time.time()
    if due > now:
        time.sleep(due - now)
    else:
        max_lag = max(max_lag, now - due)
    if i % 50 == 0 and orphaned():
        sys.exit(3)
    say('bench %d %.3f' % (i, due * 1000))
say('bench end %d %.1f' % (count, max_lag * 1000))

with wave.open(job['output_wav'], 'wb') as out:
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(int(job['sample_rate']))
    out.writeframes(struct.pack('<%dh' % 2400, *([0] * 2400)))
