import { useLayoutEffect, useRef, useState } from 'react';
import type { LogEntry } from '../lib/jobEvents.ts';
import { formatLogTime } from '../lib/format.ts';
import { CopyButton } from './CopyButton.tsx';

const formatLine = (e: LogEntry): string => `${e.at} ${e.level.toUpperCase().padEnd(5)} ${e.message}`;

/**
 * The job's leveled log. Follows new lines while scrolled to the bottom; scrolling up
 * stops following until the reader returns to the end. Clear only hides lines in this view.
 */
export function LogView({ entries }: { entries: LogEntry[] }) {
  const [clearedThroughSeq, setClearedThroughSeq] = useState(0);
  const boxRef = useRef<HTMLDivElement>(null);
  const followRef = useRef(true);
  const visible = clearedThroughSeq === 0 ? entries : entries.filter((e) => e.seq > clearedThroughSeq);

  useLayoutEffect(() => {
    const box = boxRef.current;
    if (box && followRef.current) box.scrollTop = box.scrollHeight;
  }, [visible.length]);

  const onScroll = (): void => {
    const box = boxRef.current;
    if (box) followRef.current = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  };

  return (
    <section className="log" aria-label="Job log">
      <div className="section-head">
        <h2>Log</h2>
        <div className="actions">
          <CopyButton text={visible.map(formatLine).join('\n')} label="Copy" title="Copy log to clipboard" testId="log-copy" />
          <button
            type="button"
            className="button small"
            onClick={() => setClearedThroughSeq(entries.at(-1)?.seq ?? 0)}
            disabled={visible.length === 0}
            data-testid="log-clear"
          >
            Clear
          </button>
        </div>
      </div>
      <div className="log-box" ref={boxRef} onScroll={onScroll} role="log" aria-live="polite" data-testid="log">
        {visible.length === 0 ? (
          <p className="muted log-empty">{entries.length === 0 ? 'Waiting for log lines…' : 'Cleared. New lines will appear here.'}</p>
        ) : (
          visible.map((e) => (
            <div key={e.seq} className={`log-line level-${e.level}`} data-testid="log-line" data-level={e.level}>
              <time dateTime={e.at}>{formatLogTime(e.at)}</time>
              <span className="log-level">{e.level}</span>
              <span className="log-message">{e.message}</span>
            </div>
          ))
        )}
      </div>
    </section>
  );
}
