import type { InfiniteData } from '@tanstack/react-query';
import type { JobChange, JobStatus, JobSummary, ListJobsInput } from '@chorus/api/schemas';

export interface JobListPage {
  items: JobSummary[];
  nextCursor: string | null;
}

/** Ids are time-sortable and the list is newest first, so "newer" is "greater id". */
const newerFirst = (a: JobSummary, b: JobSummary): number => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** The history's filters as job.list applies them: status, and whose jobs. */
export interface JobListFilter {
  status: JobStatus | undefined;
  createdBy: NonNullable<ListJobsInput['createdBy']>;
  /** Who is looking ("mine" is their id). */
  viewerId: string;
}

export function matchesJobFilter(job: JobSummary, filter: JobListFilter): boolean {
  if (filter.status !== undefined && job.status !== filter.status) return false;
  if (filter.createdBy === 'everyone') return true;
  const personId = filter.createdBy === 'mine' ? filter.viewerId : filter.createdBy;
  return job.createdBy?.id === personId;
}

/**
 * Fold a live change into a cached (paged) history list under `filter`:
 * drop a deleted job, replace the row when present, drop it when it no longer matches the
 * filter, insert it in order when it newly matches and falls within what is loaded (older
 * rows arrive with "Load more"; the id cursor keeps pages consistent).
 */
export function applyJobChange<TPageParam>(
  data: InfiniteData<JobListPage, TPageParam> | undefined,
  change: JobChange,
  filter: JobListFilter,
): InfiniteData<JobListPage, TPageParam> | undefined {
  if (!data) return data;
  const job = change.job;
  if (change.kind === 'deleted') return removeJob(data, job.id);
  const matches = matchesJobFilter(job, filter);
  let found = false;

  const pages = data.pages.map((page) => {
    const index = page.items.findIndex((item) => item.id === job.id);
    if (index === -1) return page;
    found = true;
    const items = matches ? page.items.with(index, job) : page.items.filter((item) => item.id !== job.id);
    return { ...page, items };
  });
  if (found || !matches) return found ? { ...data, pages } : data;

  // Insert: into the first page whose oldest row is older than the job, else at the end when all is loaded.
  const target = pages.findIndex((page, i) => {
    const oldest = page.items.at(-1);
    const isLast = i === pages.length - 1;
    return (oldest !== undefined && oldest.id < job.id) || (isLast && page.nextCursor === null);
  });
  if (target === -1) return data;
  return {
    ...data,
    pages: pages.map((page, i) => (i === target ? { ...page, items: [...page.items, job].sort(newerFirst) } : page)),
  };
}

/** A deleted job leaves every loaded page (its own delete, or job.onChange's "deleted" push). */
export function removeJob<TPageParam>(data: InfiniteData<JobListPage, TPageParam> | undefined, jobId: string): InfiniteData<JobListPage, TPageParam> | undefined {
  if (!data) return data;
  return { ...data, pages: data.pages.map((page) => ({ ...page, items: page.items.filter((item) => item.id !== jobId) })) };
}
