// Lists the server gives by pages (`limit`, then `cursor` set to the previous page's
// `next_cursor`, as it was given): the whole list where a screen filters, counts or looks up in
// it (a first page alone would make it wrong without a word), one page at a time with
// "Show more" where a person scrolls.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { L } from "./i18n";
import { ErrorBox, type Loaded } from "./ui";

/** One page of a list, as every paged list of the contract gives it. */
export type Page<T> = { items: T[]; next_cursor: string | null };

/** Reads one page: the first without a cursor, the next ones after the cursor given. */
export type PageReader<T> = (cursor?: string) => Promise<Page<T>>;

/** A page a person reads. */
export const PAGE_SIZE = 100;

/** A page read to have a whole list: the largest the server allows, so fewer requests (and,
 * for case files, fewer entries in the audit log, one per page). */
export const WHOLE_PAGE_SIZE = 500;

/** At most this many pages for one whole list (10 000 items at WHOLE_PAGE_SIZE): a server that
 * kept giving a next cursor would otherwise be asked forever. */
const MAX_PAGES = 20;

/** `items` then those of `more` not already there: an item that moved from one page to the
 * next while they were read (a queue's order changes) is shown once, and keys stay unique. */
function joined<T extends { id: string }>(items: T[], more: T[]): T[] {
  const seen = new Set(items.map((item) => item.id));
  return [...items, ...more.filter((item) => !seen.has(item.id))];
}

type Pages<T> = { items: T[]; next: string | null; pages: number };

/** The first `count` pages (fewer when the list ends before). */
async function firstPages<T extends { id: string }>(read: PageReader<T>, count: number): Promise<Pages<T>> {
  let items: T[] = [];
  let next: string | null = null;
  let pages = 0;
  do {
    const page: Page<T> = await read(next ?? undefined);
    items = joined(items, page.items);
    next = page.next_cursor;
    pages++;
  } while (next !== null && pages < count);
  return { items, next, pages };
}

/** Every item of a list, its pages followed to the last one (or to MAX_PAGES). */
export async function everyPage<T extends { id: string }>(read: PageReader<T>): Promise<T[]> {
  return (await firstPages(read, MAX_PAGES)).items;
}

/** A list read page by page: the items shown so far as `data` (so `<Loading>` shows it), and
 * `more`, while the server has more, to add the next page. `error` is that of the first pages
 * (shown by `<Loading>`); `moreError` that of the last "Show more" (shown beside the button). */
export type Paged<T> = Loaded<T[]> & { more: (() => void) | undefined; moreError: unknown };

type State<T> = { data: T[] | undefined; next: string | null; pages: number; error: unknown; moreError: unknown; loading: boolean };

/** Reads the first page, and again when `deps` change (a filter); `more()` appends the next
 * page; `reload()` reads again from the first page as many pages as are shown and replaces them
 * at once, so a live event or a save refreshes the list without taking the person back to its
 * top. Keeps the items shown while reading, like `useLoad`. */
export function usePages<T extends { id: string }>(read: PageReader<T>, deps: unknown[] = []): Paged<T> {
  const [state, setState] = useState<State<T>>({ data: undefined, next: null, pages: 0, error: undefined, moreError: undefined, loading: true });
  // The latest reader and page count: `reload` is kept by live-event listeners registered once.
  const reader = useRef(read);
  reader.current = read;
  const shown = useRef(0);
  shown.current = state.pages;
  const current = useRef(0);

  /** Runs one read; only the latest one started lands (a slow answer never replaces a newer one). */
  const start = useCallback((work: () => Promise<(s: State<T>) => State<T>>, failed: (s: State<T>, error: unknown) => State<T>) => {
    const mine = ++current.current;
    setState((s) => ({ ...s, loading: true }));
    work().then(
      (update) => mine === current.current && setState(update),
      (error) => mine === current.current && setState((s) => failed(s, error)),
    );
  }, []);

  const fromFirst = useCallback(
    (count: number) =>
      start(
        async () => {
          const got = await firstPages(reader.current, count);
          return () => ({ data: got.items, next: got.next, pages: got.pages, error: undefined, moreError: undefined, loading: false });
        },
        (s, error) => ({ ...s, error, loading: false }),
      ),
    [],
  );

  useEffect(() => fromFirst(1), deps);
  const reload = useCallback(() => fromFirst(Math.max(1, shown.current)), []);

  const next = state.next;
  const more =
    next === null || state.data === undefined
      ? undefined
      : () =>
          start(
            async () => {
              const page = await reader.current(next);
              return (s) => ({ ...s, data: joined(s.data ?? [], page.items), next: page.next_cursor, pages: s.pages + 1, moreError: undefined, loading: false });
            },
            (s, moreError) => ({ ...s, moreError, loading: false }),
          );

  return { data: state.data, error: state.error, loading: state.loading, reload, more, moreError: state.moreError };
}

/** "Show more" under a paged list, while the server has more. While a page loads it is
 * `aria-disabled` rather than `disabled`: a disabled button loses the focus, and a keyboard or
 * screen reader user would be sent back to the top of the page instead of carrying on. */
export function ShowMore({ pages }: { pages: { more: (() => void) | undefined; loading: boolean; moreError: unknown } }) {
  const { more, loading, moreError } = pages;
  if (!more) return null;
  return (
    <>
      <ErrorBox error={moreError} />
      <div class="row">
        <button type="button" aria-disabled={loading ? "true" : undefined} onClick={() => loading || more()}>
          {L("Afficher plus", "Show more")}
        </button>
      </div>
    </>
  );
}
