import type { ReactNode } from 'react';

/** One column: its header (none for an actions column) and what a row shows in it. */
export interface Column<T> {
  header?: ReactNode;
  cell: (row: T) => ReactNode;
  className?: string;
}

type DataAttributes = Record<`data-${string}`, string | number | boolean | undefined>;

/** The app's plain list table: one header row, one row per item, columns given as data. */
export function DataTable<T>({
  rows,
  columns,
  rowKey,
  testId,
  rowTestId,
  rowData,
}: {
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  testId: string;
  rowTestId: string;
  /** Extra data-* attributes of a row (its state, for tests and styles). */
  rowData?: (row: T) => DataAttributes;
}) {
  return (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          {columns.map((c, i) => (c.header === undefined ? <th key={i} /> : <th key={i}>{c.header}</th>))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)} data-testid={rowTestId} {...rowData?.(row)}>
            {columns.map((c, i) => (
              <td key={i} className={c.className}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
