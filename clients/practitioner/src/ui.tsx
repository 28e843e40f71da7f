// Shared pieces of every screen: routing by the address's hash, loading with errors shown,
// form fields with labels, announcements for screen readers, notifications without content.
import type { ComponentChildren, JSX, Ref } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { L } from "./i18n";
import { type FieldLabels, problemText, technical } from "./problems";

export function useHash(): string {
  const [hash, setHash] = useState(location.hash.slice(1) || "/");
  useEffect(() => {
    const update = () => setHash(location.hash.slice(1) || "/");
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return hash;
}

export function go(path: string): void {
  location.hash = path;
}

export type Loaded<T> = { data: T | undefined; error: unknown; loading: boolean; reload: () => void };

/** Loads once, and again on `reload()` or when `deps` change; keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const current = useRef(0);
  useEffect(() => {
    const mine = ++current.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === current.current && setState({ data, error: undefined, loading: false }),
      (error) => mine === current.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Runs an action from a button or a form, showing its error and blocking double submits. */
export function useAction<A extends unknown[]>(
  action: (...args: A) => Promise<unknown>,
): { run: (...args: A) => Promise<boolean>; busy: boolean; error: unknown; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (...args: A) => {
    if (busy) return false;
    setBusy(true);
    setError(undefined);
    try {
      await action(...args);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clear: () => setError(undefined) };
}

/** What went wrong, in the reader's language: the server's problems by type and status (see
 * problems.ts), the network, or a mistake a screen caught before sending (its own text). */
export function message(error: unknown, fields?: FieldLabels): string {
  if (error instanceof ApiError) return problemText(error, fields);
  if (error instanceof TypeError) return L("Réseau indisponible. Réessayez.", "Network unavailable. Try again.");
  if (error instanceof Error) return error.message;
  return String(error);
}

/** An error, said at once to screen readers; the server's own (English) words stay folded in
 * "Technical details", for support. `fields` names the screen's fields the server may point at. */
export function ErrorBox({ error, fields }: { error: unknown; fields?: FieldLabels }) {
  if (!error) return null;
  return (
    <div class="error">
      <p role="alert">{message(error, fields)}</p>
      {error instanceof ApiError ? <TechnicalDetails error={error} /> : null}
    </div>
  );
}

/** The server's answer as it was, folded: what support asks for. */
export function TechnicalDetails({ error }: { error: ApiError }) {
  return (
    <details class="technical">
      <summary>{L("Détails techniques", "Technical details")}</summary>
      <pre lang="en">{technical(error).join("\n")}</pre>
    </details>
  );
}

/** Names the screen in the tab's title, and gives its heading the focus so screen readers say it. */
export function useScreenTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Relais`;
    // Move focus to the new screen's heading, so screen readers announce it.
    document.getElementById("screen-title")?.focus();
  }, [title]);
}

export function Screen({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  useScreenTitle(title);
  return (
    <section class="screen" aria-labelledby="screen-title">
      <div class="screen-head">
        <h1 id="screen-title" tabIndex={-1}>
          {title}
        </h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function Loading<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.data === undefined) {
    return loaded.error ? <ErrorBox error={loaded.error} /> : <p class="muted" role="status">{L("Chargement…", "Loading…")}</p>;
  }
  return (
    <>
      {loaded.error ? <ErrorBox error={loaded.error} /> : null}
      {children(loaded.data)}
    </>
  );
}

type FieldProps = { label: string; hint?: string; children: (id: string, describedBy?: string) => JSX.Element };
let fieldCount = 0;

export function Field({ label, hint, children }: FieldProps) {
  const id = useRef(`f${++fieldCount}`).current;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id, hint ? `${id}-hint` : undefined)}
      {hint ? (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      ) : null}
    </div>
  );
}

/** A form whose submit stays in the page: `onSubmit` runs instead of the browser's navigation.
 * Other attributes (class, aria-label, autocomplete…) reach the `<form>`; `formRef` its ref. */
export function Form({
  onSubmit,
  formRef,
  children,
  ...attributes
}: Omit<JSX.FormHTMLAttributes<HTMLFormElement>, "onSubmit" | "ref" | "children" | "class"> & {
  onSubmit: () => unknown;
  children: ComponentChildren;
  class?: string;
  formRef?: Ref<HTMLFormElement>;
}) {
  return (
    <form
      {...attributes}
      ref={formRef}
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit();
      }}
    >
      {children}
    </form>
  );
}

/** A labelled choice among the values of an enumeration, each shown by `text`; `placeholder`
 * adds a first, empty option. */
export function Choice<T extends string>({
  label,
  value,
  options,
  text,
  onChange,
  hint,
  required,
  placeholder,
}: {
  label: string;
  value: T | "";
  options: readonly T[];
  text: (option: T) => string;
  onChange: (value: T) => void;
  hint?: string;
  required?: boolean;
  placeholder?: string;
}) {
  return (
    <Field label={label} hint={hint}>
      {(id, describedBy) => (
        <select id={id} value={value} required={required} aria-describedby={describedBy} onChange={(e) => onChange(e.currentTarget.value as T)}>
          {placeholder === undefined ? null : <option value="">{placeholder}</option>}
          {options.map((o) => (
            <option key={o} value={o}>
              {text(o)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function Badge({ children, tone }: { children: ComponentChildren; tone?: "warn" | "ok" | "info" }) {
  return <span class={`badge ${tone ?? ""}`}>{children}</span>;
}

// Announcements: a polite live region, and a system notification when the person allowed
// them. They never carry a name, a message or anything about a person.
type Toast = { id: number; text: string; quiet: boolean };
let toastListener: ((toasts: Toast[]) => void) | undefined;
let toasts: Toast[] = [];
let toastId = 0;

/** Says `text` to screen readers and shows it a moment (`quiet`: to screen readers only, when
 * the screen already shows what happened); `notifyToo` adds a system notification while the app
 * is in the background, under `tag` (a push of the same topic, sw.js, replaces it rather than
 * adding a second one). */
export function announce(text: string, notifyToo = false, quiet = false, tag = "relais"): void {
  const toast = { id: ++toastId, text, quiet };
  toasts = [...toasts.slice(-1), toast];
  toastListener?.(toasts);
  setTimeout(() => {
    toasts = toasts.filter((t) => t.id !== toast.id);
    toastListener?.(toasts);
  }, 5000);
  if (notifyToo && "Notification" in window && Notification.permission === "granted" && document.hidden) {
    // Through the service worker: phones refuse `new Notification` from a page.
    navigator.serviceWorker?.ready
      .then((worker) => worker.showNotification("Relais", { body: text, tag, icon: "/app/icon-192.png" }))
      .catch(() => undefined);
  }
}

export function Toasts() {
  const [list, setList] = useState<Toast[]>(toasts);
  useEffect(() => {
    toastListener = setList;
    return () => (toastListener = undefined);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <p key={t.id} class={t.quiet ? "visually-hidden" : "toast"}>
          {t.text}
        </p>
      ))}
    </div>
  );
}

/** Now as the value of a datetime-local input, in the device's zone. */
export function localInput(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local value as an instant: read in `timeZone` (the centre's, so a time typed for an
 * overseas centre means that centre's hour), or in the device's zone without one. */
export function isoFromInput(value: string, timeZone?: string): string {
  if (!timeZone) return new Date(value).toISOString();
  const wall = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  const offset = (instant: number) => {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(new Date(instant));
    const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    return Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second")) - instant;
  };
  // Twice, so a wall time next to a change of offset settles on the right side of it.
  const first = wall - offset(wall);
  return new Date(wall - offset(first)).toISOString();
}
