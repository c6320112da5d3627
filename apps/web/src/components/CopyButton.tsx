import { useEffect, useState } from 'react';
import { copyText } from '../lib/clipboard.ts';

interface Props {
  text: string;
  label?: string;
  /** Accessible name when the visible label is terse ("Copy"). */
  title?: string;
  testId?: string;
}

/** A button that copies `text` and says so for two seconds. */
export function CopyButton({ text, label = 'Copy', title, testId }: Props) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(timer);
  }, [state]);

  const onClick = (): void => {
    copyText(text).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  };

  return (
    <button type="button" className="button small" onClick={onClick} title={title} aria-label={title} data-testid={testId}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : label}
    </button>
  );
}
