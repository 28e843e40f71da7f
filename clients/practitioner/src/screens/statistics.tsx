// The statistics of the service for helpline supervisors (in full), national coordinators
// (counts under 5 masked) and administrators: the helpline's volumes, waits, outcomes and
// contact kinds over a period, the national coverage of care centres, and the housing
// inventory's totals. Aggregates only: never a person. Each chart has a table of the same
// numbers next to it.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Schemas, api, ok } from "../api";
import { L, day, label, lang, number } from "../i18n";
import { Badge, ErrorBox, Field, Form, Loading, Screen, announce, useAction, useLoad } from "../ui";
import { BarChart, ColumnChart, type Datum } from "./charts";
import { nightsText } from "./housing/requests";
import { CONTACT_KINDS, OUTCOMES } from "../vocabulary";

type Me = Schemas["Me"];
type Stats = Schemas["HelplineStatistics"];
type Counts = Record<string, number | null>;

const CHANNELS: Schemas["Channel"][] = ["telegram", "sms", "webchat"];
const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, "0"));
const WEEKDAYS = ["1", "2", "3", "4", "5", "6", "7"];
const MAX_DAYS = 366;

const has = (me: Me, ...roles: Schemas["Role"][]) => roles.some((r) => me.roles.includes(r));

// ---------------------------------------------------------------------------------------------
// Dates of the period: the inputs hold local calendar days, both included.

function dateInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function localDate(value: string): Date {
  const [y = 0, m = 1, d = 1] = value.split("-").map(Number);
  return new Date(y, m - 1, d);
}

function daysAgo(n: number): string {
  const d = new Date();
  d.setDate(d.getDate() - n);
  return dateInput(d);
}

type Period = { from: string; to: string };

const lastDays = (n: number): Period => ({ from: daysAgo(n - 1), to: dateInput(new Date()) });

/** The helpline's query: from the first day's midnight to the midnight after the last day. */
function instants(p: Period): { from: string; to: string } {
  const end = localDate(p.to);
  end.setDate(end.getDate() + 1);
  return { from: localDate(p.from).toISOString(), to: end.toISOString() };
}

function spanDays(p: Period): number {
  return Math.round((localDate(p.to).getTime() - localDate(p.from).getTime()) / 86_400_000) + 1;
}

// ---------------------------------------------------------------------------------------------
// Formats and labels the shared list does not have.

const NBSP = "\u00a0";

/** A length of time with its units, kept on one line: "45 s", "2 min 05 s", "3 h 10 min". */
function duration(seconds: number): string {
  if (seconds < 60) return `${number(seconds)}${NBSP}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes < 60) return rest ? `${minutes}${NBSP}min${NBSP}${String(rest).padStart(2, "0")}${NBSP}s` : `${minutes}${NBSP}min`;
  const hours = Math.floor(minutes / 60);
  return `${number(hours)}${NBSP}h${NBSP}${String(minutes % 60).padStart(2, "0")}${NBSP}min`;
}

function euros(cents: number): string {
  return new Intl.NumberFormat(lang() === "en" ? "en-GB" : "fr-FR", { style: "currency", currency: "EUR" }).format(cents / 100);
}

function channelLabel(key: string): string {
  if (key === "webchat") return L("Chat web", "Web chat");
  return label(key);
}

function weekdayLabel(key: string): string {
  const names: Record<string, [string, string]> = {
    "1": ["Lundi", "Monday"],
    "2": ["Mardi", "Tuesday"],
    "3": ["Mercredi", "Wednesday"],
    "4": ["Jeudi", "Thursday"],
    "5": ["Vendredi", "Friday"],
    "6": ["Samedi", "Saturday"],
    "7": ["Dimanche", "Sunday"],
  };
  const pair = names[key];
  return pair ? L(pair[0], pair[1]) : key;
}

function hourLabel(key: string): string {
  const next = String((Number(key) + 1) % 24).padStart(2, "0");
  return L(`${key} h – ${next} h`, `${key}:00 – ${next}:00`);
}

function zoneLabel(zone: Schemas["RegionCoverage"]["zone"]): string {
  if (zone === "metro") return L("Métropole", "Metropolitan France");
  if (zone === "drom") return L("Outre-mer (DROM)", "Overseas (DROM)");
  return L("Outre-mer (COM)", "Overseas (COM)");
}

/** The known keys first, with 0 when absent (the server only lists what it counted), then any other key. */
function rows(counts: Counts, known: string[], name: (key: string) => string): Datum[] {
  const keys = [...known, ...Object.keys(counts).filter((k) => !known.includes(k)).sort()];
  return keys.map((key) => ({ key, label: name(key), value: key in counts ? (counts[key] ?? null) : 0 }));
}

const cell = (value: number | null, format: (n: number) => string = (n) => number(n)) => (value === null ? "—" : format(value));

// ---------------------------------------------------------------------------------------------

export function Statistics({ me }: { me: Me }) {
  const [period, setPeriod] = useState<Period>(lastDays(30));
  const canStats = has(me, "helpline_supervisor", "national_coordinator");
  const canHousing = has(me, "national_coordinator", "admin");
  const query = instants(period);

  const stats = useLoad<Stats | null>(
    // The operation also answers CSV, so its JSON is named here.
    async () => (canStats ? ((await ok(api.GET("/v1/helpline/statistics", { params: { query } }))) as Stats) : null),
    [period.from, period.to],
  );
  const coverage = useLoad(() => ok(api.GET("/v1/centres/coverage")), []);
  const housing = useLoad<Schemas["HousingInventory"] | null>(
    async () =>
      canHousing ? ((await ok(api.GET("/v1/housing/inventory", { params: { query: { from: period.from, to: period.to } } }))) as Schemas["HousingInventory"]) : null,
    [period.from, period.to],
  );
  const statsHidden = stats.error instanceof ApiError && (stats.error.status === 404 || stats.error.status === 403);

  return (
    <Screen title={L("Statistiques", "Statistics")}>
      <p class="muted">
        {L(
          "Des chiffres d'ensemble seulement : aucune personne n'apparaît sur cette page.",
          "Aggregate figures only: no person appears on this page.",
        )}
      </p>
      <PeriodChooser period={period} onChange={setPeriod} />

      {canStats && !statsHidden ? (
        <>
          {stats.loading && stats.data !== undefined ? (
            <p class="muted" role="status">
              {L("Mise à jour…", "Updating…")}
            </p>
          ) : null}
          <CsvDownload period={period} />
          <Loading loaded={stats}>{(s) => (s ? <HelplineSections s={s} /> : null)}</Loading>
        </>
      ) : (
        <>
          <h2>{L("Ligne d'écoute", "Helpline")}</h2>
          <p class="notice">
            {L(
              "Les statistiques de la ligne d'écoute sont réservées à l'équipe de supervision de la ligne et à la coordination nationale.",
              "The helpline's statistics are for the helpline's supervisors and national coordinators.",
            )}
          </p>
        </>
      )}

      <section aria-labelledby="stats-coverage">
        <h2 id="stats-coverage">{L("Couverture des centres par région", "Centre coverage by region")}</h2>
        <Loading loaded={coverage}>{(c) => <CoverageSection c={c} />}</Loading>
      </section>

      {canHousing ? (
        <section aria-labelledby="stats-housing">
          <h2 id="stats-housing">{L("Hébergement : totaux de l'inventaire", "Housing: inventory totals")}</h2>
          <Loading loaded={housing}>{(h) => (h ? <HousingSection h={h} /> : null)}</Loading>
          <p>
            <a href="#/housing/inventory">{L("Voir l'inventaire détaillé", "See the detailed inventory")}</a>
          </p>
        </section>
      ) : null}
    </Screen>
  );
}

// ---------------------------------------------------------------------------------------------

function PeriodChooser({ period, onChange }: { period: Period; onChange: (p: Period) => void }) {
  const [from, setFrom] = useState(period.from);
  const [to, setTo] = useState(period.to);
  const [problem, setProblem] = useState("");
  useEffect(() => {
    setFrom(period.from);
    setTo(period.to);
  }, [period.from, period.to]);

  const apply = (next: Period) => {
    if (!next.from || !next.to) return setProblem(L("Indiquez les deux dates.", "Give both dates."));
    if (next.from > next.to) return setProblem(L("Le début doit précéder la fin.", "The start must come before the end."));
    if (spanDays(next) > MAX_DAYS) return setProblem(L("La période couvre au plus un an.", "The period covers at most a year."));
    setProblem("");
    onChange(next);
  };
  const preset = (n: number) => apply(lastDays(n));
  const today = dateInput(new Date());

  return (
    <Form aria-label={L("Période", "Period")} onSubmit={() => apply({ from, to })}>
      <div class="row">
        {[7, 30, 90].map((n) => (
          <button key={n} type="button" onClick={() => preset(n)} aria-pressed={period.from === lastDays(n).from && period.to === today}>
            {L(`${n} derniers jours`, `Last ${n} days`)}
          </button>
        ))}
      </div>
      <Field label={L("Du (inclus)", "From (included)")}>
        {(id) => <input id={id} type="date" required max={to || today} value={from} onInput={(e) => setFrom(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Au (inclus)", "To (included)")}>
        {(id) => <input id={id} type="date" required min={from} value={to} onInput={(e) => setTo(e.currentTarget.value)} />}
      </Field>
      {problem ? (
        <p class="error" role="alert">
          {problem}
        </p>
      ) : null}
      <button class="primary" type="submit">
        {L("Afficher cette période", "Show this period")}
      </button>
    </Form>
  );
}

/** The helpline's statistics as CSV (`metric,key,value`), made into a file link. */
function CsvDownload({ period }: { period: Period }) {
  const [url, setUrl] = useState<string | undefined>(undefined);
  const link = useRef<HTMLAnchorElement>(null);
  // A new period makes the previous file stale; the link is dropped with its object URL.
  useEffect(() => {
    setUrl(undefined);
  }, [period.from, period.to]);
  useEffect(() => {
    if (!url) return;
    link.current?.focus();
    return () => URL.revokeObjectURL(url);
  }, [url]);
  const make = useAction(async () => {
    const text = await ok(api.GET("/v1/helpline/statistics", { params: { query: { ...instants(period), format: "csv" } }, parseAs: "text" }));
    setUrl(URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" })));
    announce(L("Le fichier CSV est prêt.", "The CSV file is ready."));
  });
  return (
    <div class="row">
      <button type="button" onClick={() => void make.run()} disabled={make.busy}>
        {make.busy ? L("Préparation…", "Preparing…") : L("Préparer le CSV de la ligne d'écoute", "Prepare the helpline CSV")}
      </button>
      {url ? (
        <a ref={link} class="button primary" href={url} download={`relais-statistiques-${period.from}-${period.to}.csv`}>
          {L("Télécharger le CSV", "Download the CSV")}
        </a>
      ) : null}
      <ErrorBox error={make.error} />
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// Pieces: a table of the same numbers as a chart, and the note on masked cells.

type Column = { title: string; values: (number | null)[]; format?: (n: number) => string };

/** A table that may scroll sideways on a phone: a named region reachable with the keyboard. */
function TableWrap({ name, children }: { name: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={`${L("Tableau", "Table")} : ${name}`} tabIndex={0}>
      {children}
    </div>
  );
}

function NumbersTable({ caption, head, names, columns }: { caption: string; head: string; names: ComponentChildren[]; columns: Column[] }) {
  return (
    <TableWrap name={caption}>
      <table>
        <caption class="muted">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{head}</th>
            {columns.map((c) => (
              <th key={c.title} scope="col" class="num">
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {names.map((name, i) => (
            <tr key={i}>
              <th scope="row">{name}</th>
              {columns.map((c) => (
                <td key={c.title} class="num">
                  {cell(c.values[i] ?? null, c.format)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function MaskNote({ s, values }: { s: Stats; values: (number | null)[] }) {
  if (!values.some((v) => v === null)) return null;
  return (
    <p class="muted">
      {s.suppressed_below
        ? L(
            `— : nombre masqué (moins de ${s.suppressed_below}), pour qu'aucune personne ne puisse être reconnue.`,
            `— : number masked (under ${s.suppressed_below}), so that no person can be recognised.`,
          )
        : L("— : aucune donnée.", "— : no data.")}
    </p>
  );
}

function Counted({ s, title, head, data, id }: { s: Stats; title: string; head: string; data: Datum[]; id: string }) {
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <BarChart title={title} data={data} />
      <NumbersTable caption={title} head={head} names={data.map((d) => d.label)} columns={[{ title: L("Nombre", "Count"), values: data.map((d) => d.value) }]} />
      <MaskNote s={s} values={data.map((d) => d.value)} />
    </section>
  );
}

// ---------------------------------------------------------------------------------------------

function HelplineSections({ s }: { s: Stats }) {
  const last = new Date(new Date(s.to).getTime() - 1).toISOString();
  return (
    <>
      <p>
        {L("Ligne d'écoute, du", "Helpline, from")} {day(s.from)} {L("au", "to")} {day(last)}.
      </p>
      {s.suppressed_below ? (
        <p class="notice">
          {L(
            `Vue nationale : les nombres entre 1 et ${s.suppressed_below - 1} sont masqués (—) pour qu'aucune personne ne puisse être reconnue.`,
            `National view: numbers from 1 to ${s.suppressed_below - 1} are masked (—) so that no person can be recognised.`,
          )}
        </p>
      ) : null}
      <Volumes s={s} />
      <Activity s={s} />
      <Waits s={s} />
      <Outcomes s={s} />
      <Counted
        s={s}
        id="stats-kinds"
        title={L("Qui contacte la ligne (écrits et appels)", "Who contacts the line (texts and calls)")}
        head={L("Type de contact", "Contact kind")}
        data={rows(s.by_person_kind, CONTACT_KINDS, label)}
      />
    </>
  );
}

function Volumes({ s }: { s: Stats }) {
  const data: Datum[] = [
    ...rows(s.conversations_by_channel, CHANNELS, channelLabel),
    { key: "phone", label: L("Téléphone (appels)", "Phone (calls)"), value: s.phone_calls, alt: true },
  ];
  const title = L("Volumes par canal", "Volumes by channel");
  const facts: [string, number | null][] = [
    [L("Conversations écrites", "Text conversations"), s.conversations],
    [L("Appels téléphoniques", "Phone calls"), s.phone_calls],
    [L("Conversations passées en prioritaire", "Conversations raised to priority"), s.urgent_conversations],
    [L("Écrits et appels orientés vers un centre ou avec rendez-vous pris", "Texts and calls oriented to a centre or with an appointment booked"), s.orientations],
  ];
  return (
    <section aria-labelledby="stats-volumes">
      <h2 id="stats-volumes">{L("Volumes", "Volume")}</h2>
      <NumbersTable
        caption={L("Chiffres clés de la période", "Key figures of the period")}
        head={L("Mesure", "Measure")}
        names={facts.map((f) => f[0])}
        columns={[{ title: L("Nombre", "Count"), values: facts.map((f) => f[1]) }]}
      />
      <p>
        {L("Durée totale des appels", "Total length of calls")} : {cell(s.phone_call_minutes, (n) => duration(n * 60))}
      </p>
      <BarChart title={title} data={data} />
      <NumbersTable
        caption={title}
        head={L("Canal", "Channel")}
        names={data.map((d) => d.label)}
        columns={[{ title: L("Nombre", "Count"), values: data.map((d) => d.value) }]}
      />
      <MaskNote s={s} values={[...data.map((d) => d.value), ...facts.map((f) => f[1])]} />
    </section>
  );
}

/** The contract gives no per-day series: activity by hour of the day and by day of the week instead. */
function Activity({ s }: { s: Stats }) {
  const hours = rows(s.by_hour, HOURS, hourLabel);
  const weekdays = rows(s.by_weekday, WEEKDAYS, weekdayLabel);
  const byHour = L("Écrits et appels par heure (heure de Paris)", "Texts and calls by hour (Paris time)");
  const byDay = L("Écrits et appels par jour de la semaine", "Texts and calls by day of the week");
  return (
    <section aria-labelledby="stats-activity">
      <h2 id="stats-activity">{L("Activité dans la journée et la semaine", "Activity through the day and the week")}</h2>
      <h3>{byHour}</h3>
      <ColumnChart title={byHour} data={hours} tick={(d) => d.key} />
      <details>
        <summary>{L("Tableau des 24 heures", "Table of the 24 hours")}</summary>
        <NumbersTable caption={byHour} head={L("Heure", "Hour")} names={hours.map((d) => d.label)} columns={[{ title: L("Nombre", "Count"), values: hours.map((d) => d.value) }]} />
      </details>
      <MaskNote s={s} values={hours.map((d) => d.value)} />
      <h3>{byDay}</h3>
      <ColumnChart title={byDay} data={weekdays} tick={(d) => d.label.slice(0, 3)} />
      <NumbersTable caption={byDay} head={L("Jour", "Day")} names={weekdays.map((d) => d.label)} columns={[{ title: L("Nombre", "Count"), values: weekdays.map((d) => d.value) }]} />
      <MaskNote s={s} values={weekdays.map((d) => d.value)} />
    </section>
  );
}

function Waits({ s }: { s: Stats }) {
  const title = L("Attente avant qu'un·e écoutant·e prenne la conversation", "Wait before a listener took the conversation");
  const data: Datum[] = [
    { key: "median", label: L("Médiane", "Median"), value: s.wait_seconds_median },
    { key: "p90", label: L("90e centile (9 attentes sur 10 plus courtes)", "90th percentile (9 waits in 10 shorter)"), value: s.wait_seconds_p90, alt: true },
  ];
  const noWait = s.wait_seconds_median === null;
  return (
    <section aria-labelledby="stats-waits">
      <h2 id="stats-waits">{L("Temps d'attente", "Waiting times")}</h2>
      <NumbersTable
        caption={L("Conversations qui ont attendu un·e écoutant·e", "Conversations that waited for a listener")}
        head={L("Mesure", "Measure")}
        names={[L("Passées à un·e écoutant·e", "Handed to a listener"), L("Terminées avant qu'un·e écoutant·e réponde", "Ended before a listener answered")]}
        columns={[{ title: L("Nombre", "Count"), values: [s.handed_to_listener, s.abandoned_before_answer] }]}
      />
      <BarChart title={title} data={data} format={duration} />
      <NumbersTable
        caption={title}
        head={L("Mesure", "Measure")}
        names={data.map((d) => d.label)}
        columns={[
          { title: L("Durée", "Duration"), values: data.map((d) => d.value), format: duration },
          { title: L("En secondes", "In seconds"), values: data.map((d) => d.value) },
        ]}
      />
      {noWait ? (
        <p class="muted">
          {s.suppressed_below
            ? L(
                `— : aucune attente sur la période, ou moins de ${s.suppressed_below} attentes (masquées).`,
                `— : no wait in the period, or fewer than ${s.suppressed_below} waits (masked).`,
              )
            : L("— : aucune attente sur la période.", "— : no wait in the period.")}
        </p>
      ) : null}
      <MaskNote s={s} values={[s.handed_to_listener, s.abandoned_before_answer]} />
    </section>
  );
}

function Outcomes({ s }: { s: Stats }) {
  const texts = rows(s.conversations_by_outcome, OUTCOMES, label);
  const calls = rows(s.phone_calls_by_outcome, OUTCOMES, label);
  // The same keys, in the same order, in both lists.
  const keys = [...new Set([...texts.map((d) => d.key), ...calls.map((d) => d.key)])];
  const value = (list: Datum[], key: string) => {
    const found = list.find((d) => d.key === key);
    return found ? found.value : 0;
  };
  const textTitle = L("Conversations écrites clôturées, par issue", "Closed text conversations by outcome");
  const callTitle = L("Appels téléphoniques, par issue", "Phone calls by outcome");
  const textValues = keys.map((k) => value(texts, k));
  const callValues = keys.map((k) => value(calls, k));
  return (
    <section aria-labelledby="stats-outcomes">
      <h2 id="stats-outcomes">{L("Issues", "Outcomes")}</h2>
      <h3>{textTitle}</h3>
      <BarChart title={textTitle} data={keys.map((k, i) => ({ key: k, label: label(k), value: textValues[i] ?? null }))} />
      <h3>{callTitle}</h3>
      <BarChart title={callTitle} data={keys.map((k, i) => ({ key: k, label: label(k), value: callValues[i] ?? null, alt: true }))} />
      <NumbersTable
        caption={L("Issues des écrits et des appels", "Outcomes of texts and calls")}
        head={L("Issue", "Outcome")}
        names={keys.map(label)}
        columns={[
          { title: L("Écrits", "Texts"), values: textValues },
          { title: L("Appels", "Calls"), values: callValues },
        ]}
      />
      <MaskNote s={s} values={[...textValues, ...callValues]} />
    </section>
  );
}

// ---------------------------------------------------------------------------------------------

function CoverageSection({ c }: { c: Schemas["CentreCoverage"] }) {
  const target = c.target_per_region;
  const title = L("Centres par région", "Centres per region");
  const none = L("aucun centre", "no centre");
  const data: Datum[] = c.regions.map((r) => ({
    key: r.code,
    label: r.name,
    value: r.centres,
    alt: !r.meets_target,
    note: r.centres === 0 ? none : r.meets_target ? undefined : L("sous l'objectif", "below target"),
  }));
  const status = (r: Schemas["RegionCoverage"]) =>
    r.centres === 0 ? (
      <Badge tone="warn">{L("Aucun centre", "No centre")}</Badge>
    ) : r.meets_target ? (
      <Badge tone="ok">{L("Objectif atteint", "Target met")}</Badge>
    ) : (
      <Badge tone="warn">{L("Sous l'objectif", "Below target")}</Badge>
    );
  const summary: [string, number][] = [
    [L("Centres de prise en charge", "Care centres"), c.centres],
    [L("Objectif de centres par région", "Target of centres per region"), target],
    [L("Régions sous l'objectif", "Regions below target"), c.regions_below_target],
    [L("Régions sans aucun centre", "Regions without any centre"), c.regions_without_centre.length],
    [L("Départements sans centre", "Départements without a centre"), c.departements_without_centre.length],
  ];
  return (
    <>
      <NumbersTable
        caption={L("Couverture nationale", "National coverage")}
        head={L("Mesure", "Measure")}
        names={summary.map((f) => f[0])}
        columns={[{ title: L("Nombre", "Count"), values: summary.map((f) => f[1]) }]}
      />
      <h3>{title}</h3>
      <p class="muted">
        {L(
          `Un centre compte pour chaque région dont il couvre au moins un département ; objectif : ${target} par région.`,
          `A centre counts for every region where it covers at least one département; target: ${target} per region.`,
        )}
      </p>
      <BarChart title={title} data={data} format={(n) => `${number(n)} / ${number(target)}`} />
      <TableWrap name={title}>
        <table>
          <caption class="muted">{title}</caption>
          <thead>
            <tr>
              <th scope="col">{L("Région", "Region")}</th>
              <th scope="col" class="num">
                {L("Centres", "Centres")}
              </th>
              <th scope="col">{L("État", "Status")}</th>
            </tr>
          </thead>
          <tbody>
            {c.regions.map((r) => (
              <tr key={r.code}>
                <th scope="row">
                  {r.name}
                  <br />
                  <span class="meta">{zoneLabel(r.zone)}</span>
                </th>
                <td class="num">{number(r.centres)}</td>
                <td>
                  {status(r)}
                  {r.departements_without_centre.length ? (
                    <span class="meta">
                      <br />
                      {L("Départements sans centre", "Départements without a centre")} :{" "}
                      {r.departements_without_centre.map((d) => `${d.name} (${d.code})`).join(", ")}
                    </span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </>
  );
}

function HousingSection({ h }: { h: Schemas["HousingInventory"] }) {
  const unmet = Object.values(h.requests.unmet).reduce((a, b) => a + b, 0);
  const title = L("Demandes d'hébergement par statut", "Housing requests by status");
  // The words of the inventory and of the requests' screens.
  const data: Datum[] = [
    { key: "open", label: L("Ouvertes", "Open"), value: h.requests.open },
    { key: "placed", label: L("Placées", "Placed"), value: h.requests.placed },
    { key: "withdrawn", label: L("Retirées par le centre", "Withdrawn by the centre"), value: h.requests.withdrawn },
    { key: "unmet", label: L("Sans solution", "Unmet"), value: unmet, alt: true },
  ];
  const period =
    h.from || h.to
      ? `${L("Nuits du", "Nights from")} ${day(h.from)} ${L("au", "to")} ${day(h.to)}.`
      : L("Toutes les nuits.", "Every night.");
  return (
    <>
      <p class="muted">{period}</p>
      <TableWrap name={L("Totaux des placements", "Placement totals")}>
        <table>
          <caption class="muted">{L("Totaux des placements", "Placement totals")}</caption>
          <thead>
            <tr>
              <th scope="col">{L("Mesure", "Measure")}</th>
              <th scope="col" class="num">
                {L("Total", "Total")}
              </th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">{L("Placements", "Placements")}</th>
              <td class="num">{number(h.totals.placements)}</td>
            </tr>
            <tr>
              <th scope="row">{L("Nuits", "Nights")}</th>
              <td class="num">{number(h.totals.nights)}</td>
            </tr>
            <tr>
              <th scope="row">{L("Coût", "Cost")}</th>
              <td class="num">{euros(h.totals.cost_cents)}</td>
            </tr>
            <tr>
              <th scope="row">{L("Durée moyenne d'un placement", "Mean length of a placement")}</th>
              <td class="num">
                {nightsText(h.durations.mean_nights, 1)}
              </td>
            </tr>
            <tr>
              <th scope="row">{L("Durée médiane d'un placement", "Median length of a placement")}</th>
              <td class="num">
                {nightsText(h.durations.median_nights)}
              </td>
            </tr>
          </tbody>
        </table>
      </TableWrap>
      <h3>{title}</h3>
      <BarChart title={title} data={data} />
      <NumbersTable
        caption={title}
        head={L("Statut", "Status")}
        names={[...data.map((d) => d.label), L("Total", "Total")]}
        columns={[{ title: L("Demandes", "Requests"), values: [...data.map((d) => d.value), h.requests.total] }]}
      />
    </>
  );
}
