// Places as people say them. The place picker finds communes and départements by name
// (/v1/geo/places: nobody has to know an INSEE code), each told from its namesakes by its
// département; the address picker finds addresses through the operator's geocoder
// (/v1/geo/addresses), and says so when that service is off or down (503), so the form can fall
// back. `PlaceName` shows a commune's or a département's name where only its code is stored,
// each code asked once per session.
import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { type Schemas, ApiError, api, ok } from "./api";
import { L, count } from "./i18n";
import { ErrorBox } from "./ui";

export type Place = Schemas["Place"];
export type Address = Schemas["Address"];
export type PlaceKind = Place["kind"];

/** How long typing must pause before a search is sent. */
const PAUSE_MS = 250;
/** The geocoder refuses fewer characters. */
const ADDRESS_MIN = 3;

/** A place as a list shows it: "Saint-Denis (Seine-Saint-Denis, 93)", "Val-de-Marne (tout le
 * département, 94)". */
export function placeText(p: Place): string {
  if (p.kind === "departement") return L(`${p.name} (tout le département, ${p.code})`, `${p.name} (whole département, ${p.code})`);
  return `${p.name} (${p.departement_name}, ${p.departement})`;
}

// Names of codes, asked once per session: what the server said (null: a code it does not know),
// and the questions on their way.
const names = new Map<string, Place | null>();
const asking = new Map<string, Promise<Place | null>>();
const keyOf = (kind: PlaceKind, code: string) => `${kind}:${code.toUpperCase()}`;

/** Keeps the names of places chosen here, so lists show them without asking. */
export function remember(places: Place[]): void {
  for (const p of places) names.set(keyOf(p.kind, p.code), p);
}

/** The commune or département with this code: asked by its exact code, then kept for the session.
 * A few answers are read, since a commune's INSEE code may also be another's postal code. */
export function placeOf(kind: PlaceKind, code: string): Promise<Place | null> {
  const key = keyOf(kind, code);
  const known = names.get(key);
  if (known !== undefined) return Promise.resolve(known);
  let asked = asking.get(key);
  if (!asked) {
    asked = ok(api.GET("/v1/geo/places", { params: { query: { q: code, limit: 10 } } })).then(
      (list) => {
        const found = list.items.find((p) => p.kind === kind && p.code.toUpperCase() === code.toUpperCase()) ?? null;
        names.set(key, found);
        asking.delete(key);
        return found;
      },
      (error: unknown) => {
        // Asked again next time: the network may be back.
        asking.delete(key);
        throw error;
      },
    );
    asking.set(key, asked);
  }
  return asked;
}

/** A code's place by name, its code in small print ("Créteil (94028)"); the code alone until the
 * name is known, or when nobody knows it. */
export function PlaceName({ kind, code }: { kind: PlaceKind; code: string }) {
  const [place, setPlace] = useState<Place | null | undefined>(() => names.get(keyOf(kind, code)));
  useEffect(() => {
    let live = true;
    const known = names.get(keyOf(kind, code));
    if (known !== undefined) setPlace(known);
    else placeOf(kind, code).then((p) => live && setPlace(p), () => live && setPlace(null));
    return () => void (live = false);
  }, [kind, code]);
  if (!place) return <>{code}</>;
  return (
    <>
      {place.name}
      {"\u00a0"}
      <small class="code">({code})</small>
    </>
  );
}

/** Codes as a list of names, separated by commas: from `known` (names the server sent with the
 * codes) where it has them, else looked up. */
export function PlaceNames({ kind, codes, known }: { kind: PlaceKind; codes: string[]; known?: Record<string, string> }) {
  return (
    <>
      {codes.map((code, i) => (
        <span key={code}>
          {i ? ", " : null}
          {known?.[code] ? (
            <>
              {known[code]}
              {"\u00a0"}
              <small class="code">({code})</small>
            </>
          ) : (
            <PlaceName kind={kind} code={code} />
          )}
        </span>
      ))}
    </>
  );
}

type Search<T> = { items: T[] | undefined; busy: boolean; error: unknown };

/** Searches `query` once typing pauses; an answer to an earlier query is dropped. */
function useSearch<T>(query: string, ready: (q: string) => boolean, search: (q: string) => Promise<T[]>): Search<T> {
  const [state, setState] = useState<Search<T>>({ items: undefined, busy: false, error: undefined });
  useEffect(() => {
    const q = query.trim();
    if (!ready(q)) {
      setState({ items: undefined, busy: false, error: undefined });
      return;
    }
    let live = true;
    setState((s) => ({ ...s, busy: true }));
    const timer = setTimeout(() => {
      search(q).then(
        (items) => live && setState({ items, busy: false, error: undefined }),
        (error: unknown) => live && setState({ items: undefined, busy: false, error }),
      );
    }, PAUSE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [query]);
  return state;
}

/** Arrow keys move between the suggestions and back to the box; Escape goes back to the box. */
function moveAmong(event: KeyboardEvent, list: HTMLElement | null, input: HTMLInputElement | null, close: () => void): void {
  const buttons = [...(list?.querySelectorAll<HTMLButtonElement>("button") ?? [])];
  const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
  if (event.key === "ArrowDown") {
    event.preventDefault();
    buttons[Math.min(at + 1, buttons.length - 1)]?.focus();
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    if (at <= 0) input?.focus();
    else buttons[at - 1]?.focus();
  } else if (event.key === "Escape") {
    event.preventDefault();
    input?.focus();
    close();
  }
}

/** What the status line says of a search: searching, how many found, none. */
function searchStatus(search: Search<unknown>, shown: number, none: string): string {
  if (search.busy) return L("Recherche…", "Searching…");
  if (!search.items) return "";
  if (shown === 0) return none;
  return count(shown, {
    one: ["# proposition : flèche bas ou Tab pour l'atteindre", "# suggestion: down arrow or Tab to reach it"],
    other: ["# propositions : flèche bas ou Tab pour les parcourir", "# suggestions: down arrow or Tab to go through them"],
  });
}

/** The box (and what goes just above it), its hint and its status, then the suggestions. */
function PickerShell({
  id,
  label,
  hint,
  status,
  box,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  status: string;
  box: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <div class="field picker">
      <label for={id}>{label}</label>
      {box}
      {hint ? (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      ) : null}
      <small id={`${id}-status`} class="hint" role="status">
        {status}
      </small>
      {children}
    </div>
  );
}

/**
 * Communes and départements chosen by name: a box, the places found as buttons ("Saint-Denis
 * (Seine-Saint-Denis, 93)"), the chosen ones as chips, each with a button to remove it.
 * `kinds` keeps one kind only; `single` replaces the choice instead of adding to it.
 */
export function PlacePicker({
  label,
  hint,
  chosen,
  onChange,
  kinds,
  single = false,
}: {
  label: string;
  hint?: string;
  chosen: Place[];
  onChange: (places: Place[]) => void;
  kinds?: PlaceKind[];
  single?: boolean;
}) {
  const id = `place-${useId()}`;
  const [text, setText] = useState("");
  const [said, setSaid] = useState("");
  // Escape closes the suggestions until the next key typed.
  const [closed, setClosed] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const search = useSearch(
    text,
    (q) => q.length >= 1,
    async (q) => (await ok(api.GET("/v1/geo/places", { params: { query: { q, limit: 10 } } }))).items,
  );
  const same = (a: Place, b: Place) => a.kind === b.kind && a.code === b.code;
  const found = closed ? [] : (search.items ?? []).filter((p) => (!kinds || kinds.includes(p.kind)) && !chosen.some((c) => same(c, p)));
  const none = L(`Aucun lieu trouvé pour « ${text.trim()} ».`, `No place found for "${text.trim()}".`);
  const status = (closed ? "" : searchStatus(search, found.length, none)) || said;

  const choose = (p: Place) => {
    remember([p]);
    onChange(single ? [p] : [...chosen, p]);
    setText("");
    setSaid(L(`Choisi : ${placeText(p)}.`, `Chosen: ${placeText(p)}.`));
    input.current?.focus();
  };
  const remove = (p: Place) => {
    onChange(chosen.filter((c) => !same(c, p)));
    setSaid(L(`Retiré : ${placeText(p)}.`, `Removed: ${placeText(p)}.`));
    input.current?.focus();
  };

  return (
    <PickerShell
      id={id}
      label={label}
      hint={hint}
      status={status}
      box={
        <>
          {chosen.length ? (
            <ul class="chips" aria-label={L(`Choisis : ${label}`, `Chosen: ${label}`)}>
              {chosen.map((p) => (
                <li key={`${p.kind}:${p.code}`} class="chip">
                  <span>{placeText(p)}</span>
                  <button type="button" onClick={() => remove(p)}>
                    {L("Retirer", "Remove")}
                    <span class="visually-hidden"> {placeText(p)}</span>
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          <input
            id={id}
            ref={input}
            autocomplete="off"
            spellcheck={false}
            maxLength={100}
            aria-describedby={`${hint ? `${id}-hint ` : ""}${id}-status`}
            value={text}
            onInput={(e) => {
              setText(e.currentTarget.value);
              setSaid("");
              setClosed(false);
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                // A search box: Enter chooses the one place found, or goes to the list; it never sends the form.
                e.preventDefault();
                if (found.length === 1 && found[0]) choose(found[0]);
                else list.current?.querySelector("button")?.focus();
              } else if (e.key === "ArrowDown") {
                e.preventDefault();
                list.current?.querySelector("button")?.focus();
              } else if (e.key === "Escape" && found.length) {
                e.preventDefault();
                setClosed(true);
              }
            }}
          />
        </>
      }
    >
      {search.error ? <ErrorBox error={search.error} /> : null}
      {found.length ? (
        <ul class="suggestions" ref={list} aria-label={L(`Propositions : ${label}`, `Suggestions: ${label}`)} onKeyDown={(e) => moveAmong(e, list.current, input.current, () => setClosed(true))}>
          {found.map((p) => (
            <li key={`${p.kind}:${p.code}`}>
              <button type="button" onClick={() => choose(p)}>
                {placeText(p)}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </PickerShell>
  );
}

/** A candidate's precision in words. */
export function precisionText(precision: Address["precision"]): string {
  switch (precision) {
    case "housenumber":
      return L("numéro", "house number");
    case "street":
      return L("rue, sans numéro", "street, no number");
    case "locality":
      return L("lieu-dit", "named place");
    case "municipality":
      return L("commune entière", "whole commune");
  }
}

/** Where a candidate is: "Créteil (Val-de-Marne, 94)". */
export function communeText(a: { commune_name: string; departement_name: string; departement: string }): string {
  return `${a.commune_name} (${a.departement_name}, ${a.departement})`;
}

/** The answer that says the address service is off or down. */
export function addressServiceDown(error: unknown): error is ApiError {
  return error instanceof ApiError && (error.status === 503 || error.type === "dependency-unavailable");
}

/**
 * An address found through the geocoder: a box (its text is the parent's, `text`/`onText`), the
 * candidates as buttons (label, commune, precision). Choosing one calls `onChoose`, unless
 * `refuse` gives a reason, said at once. When the service is off or down (503), `onDown` gets
 * the answer; given back as `down`, the box stays a plain text box with the service's words
 * under it, and the form offers its fallback.
 */
export function AddressPicker({
  label,
  hint,
  text,
  onText,
  onChoose,
  refuse,
  down,
  onDown,
  required = false,
}: {
  label: string;
  hint?: string;
  text: string;
  onText: (text: string) => void;
  onChoose: (address: Address) => void;
  refuse?: (address: Address) => string | undefined;
  down: ApiError | undefined;
  onDown: (error: ApiError) => void;
  required?: boolean;
}) {
  const id = `address-${useId()}`;
  // What is searched: what the person typed, not a candidate's label once chosen.
  const [query, setQuery] = useState("");
  const [said, setSaid] = useState("");
  const [refused, setRefused] = useState<string | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const search = useSearch(
    down ? "" : query,
    (q) => q.length >= ADDRESS_MIN && /^[\p{L}\p{N}]/u.test(q),
    async (q) => (await ok(api.GET("/v1/geo/addresses", { params: { query: { q, limit: 8 } } }))).items,
  );
  useEffect(() => {
    if (addressServiceDown(search.error)) onDown(search.error);
  }, [search.error]);
  const found = down ? [] : (search.items ?? []);
  const none = L("Aucune adresse trouvée : précisez le numéro, la rue et la commune.", "No address found: give the number, the street and the commune.");
  const status = down ? "" : searchStatus(search, found.length, none) || said;

  const choose = (a: Address) => {
    const reason = refuse?.(a);
    if (reason) {
      setRefused(reason);
      return;
    }
    setRefused(undefined);
    onChoose(a);
    setQuery("");
    setSaid(L(`Adresse choisie : ${a.label}.`, `Address chosen: ${a.label}.`));
    input.current?.focus();
  };

  return (
    <PickerShell
      id={id}
      label={label}
      hint={down ? undefined : hint}
      status={status}
      box={
        <input
          id={id}
          ref={input}
          autocomplete="off"
          spellcheck={false}
          required={required}
          maxLength={400}
          aria-describedby={`${hint && !down ? `${id}-hint ` : ""}${id}-status`}
          value={text}
          onInput={(e) => {
            onText(e.currentTarget.value);
            setQuery(e.currentTarget.value);
            setSaid("");
            setRefused(undefined);
          }}
          onKeyDown={(e) => {
            if (down) return;
            if (e.key === "Enter" && query.trim()) {
              // While searching, Enter goes to the candidates; it does not send the form.
              e.preventDefault();
              list.current?.querySelector("button")?.focus();
            } else if (e.key === "ArrowDown") {
              e.preventDefault();
              list.current?.querySelector("button")?.focus();
            } else if (e.key === "Escape" && found.length) {
              e.preventDefault();
              setQuery("");
            }
          }}
        />
      }
    >
      {down ? <ErrorBox error={down} /> : search.error ? <ErrorBox error={search.error} /> : null}
      {refused ? (
        <p class="error" role="alert">
          {refused}
        </p>
      ) : null}
      {found.length ? (
        <ul class="suggestions" ref={list} aria-label={L(`Propositions : ${label}`, `Suggestions: ${label}`)} onKeyDown={(e) => moveAmong(e, list.current, input.current, () => setQuery(""))}>
          {found.map((a, i) => (
            <li key={`${i}:${a.label}`}>
              <button type="button" onClick={() => choose(a)}>
                <span class="suggestion-main">{a.label}</span>
                <span class="suggestion-meta">
                  {communeText(a)} · {precisionText(a.precision)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </PickerShell>
  );
}
