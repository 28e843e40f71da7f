// Agenda: the centre's slots and appointments over two weeks, day by day in the centre's time
// zone; moving an appointment through its statuses; publishing availability; the caller's
// private calendar feed. Appointments show the person's alias only.
import { useRef, useState } from "preact/hooks";
import { ApiError, type Schemas, api, ok } from "../../api";
import { L, count, label, number, time } from "../../i18n";
import { WHOLE_PAGE_SIZE, everyPage } from "../../pages";
import { Badge, Choice, Empty, ErrorBox, Field, Form, Loading, Screen, announce, isoFromInput, localInput, useAction, useLoad } from "../../ui";
import { CorrectAttendance } from "./appointment";
import { Invalid, locale } from "./shared";

type Me = Schemas["Me"];
type Slot = Schemas["Slot"];
type Appointment = Schemas["Appointment"];
type AppointmentStatus = Schemas["AppointmentStatus"];
type Modality = Schemas["Modality"];
type User = Schemas["User"];

const DAYS = 14;

function modalityLabel(m: Modality): string {
  switch (m) {
    case "on_site":
      return L("Sur place", "On site");
    case "phone":
      return L("Téléphone", "Phone");
    case "video":
      return L("Visio", "Video");
  }
}

/** The calendar day (YYYY-MM-DD) of an instant in a time zone. */
function dayKey(iso: string, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date(iso));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

function dayHeading(key: string): string {
  const text = new Intl.DateTimeFormat(locale(), { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" }).format(new Date(`${key}T12:00:00Z`));
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function shortDate(date: Date): string {
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long" }).format(date);
}

/** Local midnight today, moved by whole periods. */
function periodStart(offset: number): Date {
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  start.setDate(start.getDate() + offset * DAYS);
  return start;
}

function newKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

const hasRole = (me: Me, ...roles: Schemas["Role"][]) => roles.some((r) => me.roles.includes(r));

type Context = { timeZone: string | undefined; users: User[] };

/** The centre's time zone and its staff (names of practitioners on slots); both optional. */
async function loadContext(me: Me): Promise<Context> {
  const id = me.organisation.id;
  const [centre, users] = await Promise.all([
    ok(api.GET("/v1/centres/{id}", { params: { path: { id } } })).catch(() => undefined),
    ok(api.GET("/v1/organisations/{id}/users", { params: { path: { id } } }))
      .then((list) => list.items)
      .catch(() => [] as User[]),
  ]);
  return { timeZone: centre?.timezone, users };
}

export function Agenda({ me }: { me: Me }) {
  const [offset, setOffset] = useState(0);
  const context = useLoad(() => loadContext(me), [me.organisation.id]);
  const from = periodStart(offset);
  const to = periodStart(offset + 1);
  const agenda = useLoad(async () => {
    const query = { from: from.toISOString(), to: to.toISOString() };
    // Every page of the appointments: each is placed on its slot, and none may be missing.
    const [slots, appointments] = await Promise.all([
      ok(api.GET("/v1/slots", { params: { query } })),
      everyPage((cursor) => ok(api.GET("/v1/appointments", { params: { query: { ...query, limit: WHOLE_PAGE_SIZE, cursor } } }))),
    ]);
    return { slots: slots.items, appointments };
  }, [offset]);
  const last = new Date(to.getTime() - 1);
  const ctx: Context = context.data ?? { timeZone: undefined, users: [] };

  return (
    <Screen title={L("Agenda", "Calendar")}>
      <nav class="row" aria-label={L("Période affichée", "Period shown")}>
        <button type="button" onClick={() => setOffset(offset - 1)}>
          {L("Quinzaine précédente", "Previous two weeks")}
        </button>
        {offset !== 0 ? (
          <button type="button" onClick={() => setOffset(0)}>
            {L("Aujourd'hui", "Today")}
          </button>
        ) : null}
        <button type="button" onClick={() => setOffset(offset + 1)}>
          {L("Quinzaine suivante", "Next two weeks")}
        </button>
      </nav>
      <h2>
        {L("Du", "From")} {shortDate(from)} {L("au", "to")} {shortDate(last)}
      </h2>
      {ctx.timeZone && ctx.timeZone !== Intl.DateTimeFormat().resolvedOptions().timeZone ? (
        <p class="notice">
          {L("Heures affichées dans le fuseau du centre", "Times shown in the centre's time zone")} : {ctx.timeZone}
        </p>
      ) : null}
      <Loading loaded={agenda}>
        {(data) => <Days me={me} ctx={ctx} slots={data.slots} appointments={data.appointments} onChanged={agenda.reload} />}
      </Loading>
      <details>
        <summary>
          <h2>{L("Publier des disponibilités", "Publish availability")}</h2>
        </summary>
        <Publish me={me} ctx={ctx} onDone={agenda.reload} />
      </details>
      {me.kind === "staff" && hasRole(me, "practitioner", "centre_manager") ? <CalendarFeed /> : null}
    </Screen>
  );
}

function Days({ me, ctx, slots, appointments, onChanged }: { me: Me; ctx: Context; slots: Slot[]; appointments: Appointment[]; onChanged: () => void }) {
  const [mineOnly, setMineOnly] = useState(false);
  const myId = me.user?.id;
  const shown = mineOnly ? slots.filter((s) => s.practitioner_id === myId) : slots;
  const bySlot = new Map<string, Appointment[]>();
  for (const a of appointments) bySlot.set(a.slot.id, [...(bySlot.get(a.slot.id) ?? []), a]);
  // Appointments whose slot is not listed (it should not happen, but nothing is hidden).
  const slotIds = new Set(slots.map((s) => s.id));
  const orphans = appointments.filter((a) => !slotIds.has(a.slot.id) && (!mineOnly || a.slot.practitioner_id === myId));
  const days = new Map<string, { slots: Slot[]; orphans: Appointment[] }>();
  const dayOf = (key: string) => {
    let entry = days.get(key);
    if (!entry) days.set(key, (entry = { slots: [], orphans: [] }));
    return entry;
  };
  for (const s of shown) dayOf(dayKey(s.starts_at, ctx.timeZone)).slots.push(s);
  for (const a of orphans) dayOf(dayKey(a.slot.starts_at, ctx.timeZone)).orphans.push(a);
  const keys = [...days.keys()].sort();
  const booked = appointments.filter((a) => a.status === "booked" || a.status === "arrived").length;

  return (
    <>
      <p class="muted">
        {count(shown.length, { one: ["# créneau", "# slot"], other: ["# créneaux", "# slots"] })},{" "}
        {count(booked, { one: ["# rendez-vous à venir ou en cours", "# appointment booked or in progress"], other: ["# rendez-vous à venir ou en cours", "# appointments booked or in progress"] })}
      </p>
      {myId ? (
        <label class="check">
          <input type="checkbox" checked={mineOnly} onChange={(e) => setMineOnly(e.currentTarget.checked)} />
          {L("Seulement mes créneaux", "Only my slots")}
        </label>
      ) : null}
      {keys.length === 0 ? <Empty>{L("Aucun créneau sur cette période.", "No slot in this period.")}</Empty> : null}
      {keys.map((key) => {
        const entry = days.get(key)!;
        return (
          <section key={key} aria-labelledby={`day-${key}`}>
            <h3 id={`day-${key}`}>{dayHeading(key)}</h3>
            <ul class="list">
              {entry.slots.map((s) => (
                <SlotItem key={s.id} me={me} ctx={ctx} slot={s} appointments={bySlot.get(s.id) ?? []} onChanged={onChanged} />
              ))}
              {entry.orphans.map((a) => (
                <li key={a.id}>
                  <div class="item-title">
                    {time(a.slot.starts_at, ctx.timeZone)}–{time(a.slot.ends_at, ctx.timeZone)} · {modalityLabel(a.slot.modality)}
                  </div>
                  <ul class="list">
                    <AppointmentItem appointment={a} onChanged={onChanged} />
                  </ul>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </>
  );
}

function SlotItem({ me, ctx, slot, appointments, onChanged }: { me: Me; ctx: Context; slot: Slot; appointments: Appointment[]; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const withdraw = useAction(async () => {
    await ok(api.DELETE("/v1/slots/{id}", { params: { path: { id: slot.id } } }));
    announce(L("Créneau retiré", "Slot withdrawn"));
    setConfirming(false);
    onChanged();
  });
  const who =
    slot.practitioner_id === null
      ? L("Créneau du centre", "Centre slot")
      : slot.practitioner_id === me.user?.id
        ? L("Vous", "You")
        : (ctx.users.find((u) => u.id === slot.practitioner_id)?.display_name ?? L("Un·e autre praticien·ne", "Another practitioner"));
  const free = slot.status === "free";
  return (
    <li>
      <div class="item-title">
        {time(slot.starts_at, ctx.timeZone)}–{time(slot.ends_at, ctx.timeZone)} · {modalityLabel(slot.modality)}{" "}
        <Badge tone={free ? "ok" : "info"}>{free ? L("Libre", "Free") : L("Complet", "Full")}</Badge>
      </div>
      <div class="meta">{slot.location}</div>
      <div class="meta">
        {who} ·{" "}
        {count(slot.booked, {
          one: [`# place réservée sur ${number(slot.seats)}`, `# seat booked out of ${number(slot.seats)}`],
          other: [`# places réservées sur ${number(slot.seats)}`, `# seats booked out of ${number(slot.seats)}`],
        })}
      </div>
      {appointments.length ? (
        <ul class="list" aria-label={L("Rendez-vous de ce créneau", "Appointments of this slot")}>
          {appointments.map((a) => (
            <AppointmentItem key={a.id} appointment={a} onChanged={onChanged} />
          ))}
        </ul>
      ) : null}
      {slot.booked === 0 ? (
        confirming ? (
          <div>
            <p>{L("Retirer ce créneau ? Il ne pourra plus être réservé.", "Withdraw this slot? It can no longer be booked.")}</p>
            <div class="row">
              <button type="button" class="danger" disabled={withdraw.busy} onClick={() => void withdraw.run()}>
                {L("Confirmer le retrait", "Confirm withdrawal")}
              </button>
              <button type="button" onClick={() => (setConfirming(false), withdraw.clear())}>
                {L("Garder le créneau", "Keep the slot")}
              </button>
            </div>
          </div>
        ) : (
          <div class="row">
            <button type="button" class="danger" onClick={() => setConfirming(true)}>
              {L("Retirer le créneau", "Withdraw the slot")}
            </button>
          </div>
        )
      ) : null}
      <ErrorBox error={withdraw.error} />
    </li>
  );
}

const STATUS_TONE: Partial<Record<AppointmentStatus, "warn" | "ok" | "info">> = { booked: "info", arrived: "info", fulfilled: "ok", noshow: "warn" };

/** The moves the contract allows from each status (cancelling is asked separately, with a reason). */
const MOVES: Partial<Record<AppointmentStatus, AppointmentStatus[]>> = { booked: ["arrived", "noshow"], arrived: ["fulfilled"] };

function moveLabel(status: AppointmentStatus): string {
  switch (status) {
    case "arrived":
      return L("Arrivé", "Arrived");
    case "noshow":
      return L("Absent", "No-show");
    case "fulfilled":
      return L("Honoré", "Fulfilled");
    default:
      return label(status);
  }
}

function AppointmentItem({ appointment: a, onChanged }: { appointment: Appointment; onChanged: () => void }) {
  const [cancelling, setCancelling] = useState(false);
  const [reason, setReason] = useState("");
  const move = useAction(async (status: AppointmentStatus, cancellation_reason?: string) => {
    await ok(api.POST("/v1/appointments/{id}/status", { params: { path: { id: a.id } }, body: { status, cancellation_reason } }));
    announce(`${L("Rendez-vous", "Appointment")} : ${label(status)}`);
    setCancelling(false);
    setReason("");
    onChanged();
  });
  const moves = MOVES[a.status] ?? [];
  const canCancel = a.status === "booked" || a.status === "arrived";
  return (
    <li>
      <div class="item-title">
        {a.subject_alias} <Badge tone={STATUS_TONE[a.status]}>{label(a.status)}</Badge>
      </div>
      {a.cancellation_reason ? (
        <div class="meta">
          {L("Motif d'annulation", "Reason for cancelling")} : {a.cancellation_reason}
        </div>
      ) : null}
      {cancelling ? (
        <Form onSubmit={() => move.run("cancelled", reason.trim())}>
          <Field label={L("Motif d'annulation", "Reason for cancelling")}>
            {(id) => <input id={id} required maxLength={300} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />}
          </Field>
          <div class="row">
            <button type="submit" class="danger" disabled={move.busy || !reason.trim()}>
              {L("Confirmer l'annulation", "Confirm cancellation")}
            </button>
            <button type="button" onClick={() => (setCancelling(false), move.clear())}>
              {L("Retour", "Back")}
            </button>
          </div>
        </Form>
      ) : moves.length || canCancel ? (
        <div class="row" role="group" aria-label={`${L("Statut du rendez-vous de", "Status of the appointment of")} ${a.subject_alias}`}>
          {moves.map((status) => (
            <button key={status} type="button" class={status === "noshow" ? "" : "primary"} disabled={move.busy} onClick={() => void move.run(status)}>
              {moveLabel(status)}
            </button>
          ))}
          {canCancel ? (
            <button type="button" class="danger" onClick={() => setCancelling(true)}>
              {L("Annuler…", "Cancel…")}
            </button>
          ) : null}
        </div>
      ) : null}
      <ErrorBox error={move.error} />
      <CorrectAttendance appointment={a} onDone={onChanged} />
    </li>
  );
}

/** The next full hour, as a datetime-local value. */
function nextHour(): string {
  const d = new Date();
  d.setHours(d.getHours() + 1, 0, 0, 0);
  return localInput(d);
}

function wholeNumber(value: string, min: number, max: number, what: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new Invalid(L(`${what} : un nombre entier entre ${min} et ${max}.`, `${what}: a whole number from ${min} to ${max}.`));
  }
  return n;
}

function Publish({ me, ctx, onDone }: { me: Me; ctx: Context; onDone: () => void }) {
  const manager = hasRole(me, "centre_manager");
  const myId = me.user?.id ?? "";
  const [whose, setWhose] = useState(manager && !hasRole(me, "practitioner") ? "" : myId);
  const [modality, setModality] = useState<Modality>("on_site");
  const [location, setLocation] = useState("");
  const [startsAt, setStartsAt] = useState(nextHour());
  const [duration, setDuration] = useState("60");
  const [seats, setSeats] = useState("1");
  const [weekly, setWeekly] = useState(false);
  const [until, setUntil] = useState("");
  const [buffer, setBuffer] = useState("0");
  const [bookingNotice, setBookingNotice] = useState("0");
  const [cancellationNotice, setCancellationNotice] = useState("0");
  // The same key is sent again only when the previous attempt got no answer at all.
  const pendingKey = useRef<string | undefined>(undefined);

  const publish = useAction(async () => {
    if (!location.trim()) throw new Invalid(L("Indiquez le lieu ou comment rejoindre.", "Give the place or how to join."));
    if (!startsAt || Date.parse(isoFromInput(startsAt, ctx.timeZone)) <= Date.now()) throw new Invalid(L("Le début doit être dans le futur.", "The start must be in the future."));
    const body: Schemas["NewAvailability"] = {
      modality,
      location: location.trim(),
      starts_at: isoFromInput(startsAt, ctx.timeZone),
      duration_minutes: wholeNumber(duration, 5, 480, L("Durée", "Duration")),
      seats: wholeNumber(seats, 1, 50, L("Places", "Seats")),
      buffer_minutes: wholeNumber(buffer, 0, 240, L("Battement", "Buffer")),
      booking_notice_minutes: wholeNumber(bookingNotice, 0, 43200, L("Délai de réservation", "Booking notice")),
      cancellation_notice_minutes: wholeNumber(cancellationNotice, 0, 43200, L("Délai d'annulation", "Cancellation notice")),
    };
    if (manager) body.practitioner_id = whose || null;
    if (weekly) {
      if (!until) throw new Invalid(L("Indiquez jusqu'à quand répéter.", "Say until when to repeat."));
      if (until < startsAt.slice(0, 10)) throw new Invalid(L("La fin de la répétition précède le premier créneau.", "The repetition ends before the first slot."));
      body.repeat_weekly_until = until;
    }
    const key = pendingKey.current ?? newKey();
    pendingKey.current = key;
    let made: Schemas["Availability"];
    try {
      made = await ok(api.POST("/v1/availabilities", { params: { header: { "Idempotency-Key": key } }, body }));
    } catch (e) {
      if (e instanceof ApiError) pendingKey.current = undefined;
      throw e;
    }
    pendingKey.current = undefined;
    announce(count(made.slots.length, { one: ["# créneau publié", "# slot published"], other: ["# créneaux publiés", "# slots published"] }));
    setStartsAt(nextHour());
    onDone();
  });

  const practitioners = ctx.users.filter((u) => u.active && u.roles.includes("practitioner"));
  const deviceZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <Form onSubmit={() => publish.run()}>
      {manager ? (
        <Field label={L("Pour qui", "For whom")}>
          {(id) => (
            <select id={id} value={whose} onChange={(e) => setWhose(e.currentTarget.value)}>
              <option value="">{L("Le centre (sans praticien·ne)", "The centre (no practitioner)")}</option>
              {myId && !practitioners.some((u) => u.id === myId) ? <option value={myId}>{L("Vous", "You")}</option> : null}
              {practitioners.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.id === myId ? `${u.display_name} (${L("vous", "you")})` : u.display_name}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      <Choice label={L("Modalité", "Modality")} value={modality} options={["on_site", "phone", "video"] as const} text={modalityLabel} onChange={setModality} />
      <Field
        label={modality === "on_site" ? L("Lieu", "Place") : L("Comment rejoindre", "How to join")}
        hint={modality === "on_site" ? L("L'adresse ou la salle.", "The address or room.") : L("Le numéro appelé ou le lien de visio.", "The number called or the video link.")}
      >
        {(id, hint) => <input id={id} aria-describedby={hint} required maxLength={300} value={location} onInput={(e) => setLocation(e.currentTarget.value)} />}
      </Field>
      <Field
        label={L("Début du premier créneau", "Start of the first slot")}
        hint={ctx.timeZone && ctx.timeZone !== deviceZone ? L(`Heure de votre appareil (${deviceZone}).`, `Your device's time (${deviceZone}).`) : undefined}
      >
        {(id, hint) => (
          <input id={id} aria-describedby={hint} type="datetime-local" required min={localInput()} value={startsAt} onInput={(e) => setStartsAt(e.currentTarget.value)} />
        )}
      </Field>
      <Field label={L("Durée (minutes)", "Duration (minutes)")}>
        {(id) => <input id={id} type="number" inputMode="numeric" required min={5} max={480} step={5} value={duration} onInput={(e) => setDuration(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Places par créneau", "Seats per slot")} hint={L("Plusieurs pour une séance de groupe.", "Several for a group session.")}>
        {(id, hint) => (
          <input id={id} aria-describedby={hint} type="number" inputMode="numeric" required min={1} max={50} value={seats} onInput={(e) => setSeats(e.currentTarget.value)} />
        )}
      </Field>
      <label class="check">
        <input type="checkbox" checked={weekly} onChange={(e) => setWeekly(e.currentTarget.checked)} />
        {L("Répéter chaque semaine", "Repeat every week")}
      </label>
      {weekly ? (
        <Field label={L("Jusqu'au (inclus)", "Until (included)")} hint={L("Deux ans au plus.", "Two years at most.")}>
          {(id, hint) => (
            <input id={id} aria-describedby={hint} type="date" required min={startsAt.slice(0, 10)} value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
          )}
        </Field>
      ) : null}
      <details>
        <summary>{L("Battement et délais", "Buffer and notices")}</summary>
        <Field label={L("Battement entre deux créneaux (minutes)", "Buffer between two slots (minutes)")}>
          {(id) => <input id={id} type="number" inputMode="numeric" min={0} max={240} value={buffer} onInput={(e) => setBuffer(e.currentTarget.value)} />}
        </Field>
        <Field
          label={L("Délai de réservation (minutes avant le début)", "Booking notice (minutes before the start)")}
          hint={L("La réservation ferme ce délai avant le début. 1 jour = 1440 minutes.", "Booking closes this long before the start. 1 day = 1440 minutes.")}
        >
          {(id, hint) => (
            <input id={id} aria-describedby={hint} type="number" inputMode="numeric" min={0} max={43200} value={bookingNotice} onInput={(e) => setBookingNotice(e.currentTarget.value)} />
          )}
        </Field>
        <Field
          label={L("Délai d'annulation (minutes avant le début)", "Cancellation notice (minutes before the start)")}
          hint={L("Jusqu'où la personne peut encore annuler.", "Until when the person may still cancel.")}
        >
          {(id, hint) => (
            <input
              id={id}
              aria-describedby={hint}
              type="number"
              inputMode="numeric"
              min={0}
              max={43200}
              value={cancellationNotice}
              onInput={(e) => setCancellationNotice(e.currentTarget.value)}
            />
          )}
        </Field>
      </details>
      <ErrorBox error={publish.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={publish.busy}>
          {publish.busy ? L("Publication…", "Publishing…") : L("Publier", "Publish")}
        </button>
      </div>
    </Form>
  );
}

/** The caller's private calendar feed: created or replaced on demand, its address shown once. */
function CalendarFeed() {
  const [url, setUrl] = useState<string | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [copied, setCopied] = useState(false);
  const create = useAction(async () => {
    const feed = await ok(api.POST("/v1/me/calendar-feed"));
    setUrl(feed.url);
    setConfirming(false);
    setCopied(false);
    announce(L("Nouveau lien d'agenda créé", "New calendar link created"));
  });
  const copy = async () => {
    if (!url || !navigator.clipboard) return;
    await navigator.clipboard.writeText(url).then(
      () => (setCopied(true), announce(L("Lien copié", "Link copied"))),
      () => undefined,
    );
  };
  return (
    <section aria-labelledby="feed-title">
      <h2 id="feed-title">{L("Mon agenda personnel", "My personal calendar")}</h2>
      <p class="muted">
        {L(
          "Abonnez l'agenda de votre téléphone ou de votre messagerie à vos créneaux réservés (sans nom ni alias). Le lien n'est affiché qu'une fois ; en créer un nouveau désactive le précédent.",
          "Subscribe your phone's or email calendar to your booked slots (no name or alias). The link is shown only once; creating a new one turns the previous one off.",
        )}
      </p>
      {url ? (
        <div class="notice">
          <p>{L("Votre lien d'abonnement (gardez-le pour vous : il suffit pour lire votre agenda) :", "Your subscription link (keep it to yourself: it is enough to read your calendar):")}</p>
          <p class="secret">{url}</p>
          <div class="row">
            {navigator.clipboard ? (
              <button type="button" onClick={() => void copy()}>
                {copied ? L("Copié", "Copied") : L("Copier le lien", "Copy the link")}
              </button>
            ) : null}
            <a class="button" href={url.replace(/^https?:/, "webcal:")}>
              {L("Ouvrir dans l'agenda", "Open in the calendar")}
            </a>
            <button type="button" class="link" onClick={() => setUrl(undefined)}>
              {L("Masquer le lien", "Hide the link")}
            </button>
          </div>
        </div>
      ) : null}
      {confirming ? (
        <div>
          <p>{L("Créer un nouveau lien ? L'ancien, s'il existe, cessera de fonctionner.", "Create a new link? The old one, if any, will stop working.")}</p>
          <div class="row">
            <button type="button" class="primary" disabled={create.busy} onClick={() => void create.run()}>
              {L("Créer le lien", "Create the link")}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              {L("Retour", "Back")}
            </button>
          </div>
        </div>
      ) : (
        <div class="row">
          <button type="button" onClick={() => setConfirming(true)}>
            {L("Créer ou remplacer mon lien", "Create or replace my link")}
          </button>
        </div>
      )}
      <ErrorBox error={create.error} />
    </section>
  );
}
