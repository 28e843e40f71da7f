// One case file: the person, the case's status and where it comes from, then one folding section
// per part (measures, protected persons, sessions, notes, tasks, certificates, housing). A section
// loads its data only when opened: every read of a case is recorded in the audit log. Protected
// persons' locations are write-only: this screen sends them and never shows them.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../api";
import { L, day, label, lang, when } from "../../i18n";
import { Badge, Empty, ErrorBox, Field, Loading, Screen, announce, isoFromInput, localInput, useAction, useLoad } from "../../ui";

type Me = Schemas["Me"];
type Case = Schemas["Case"];
type Measure = Schemas["Measure"];
type MeasureKind = Schemas["MeasureKind"];
type Authority = Schemas["Authority"];
type SessionKind = Schemas["SessionKind"];
type SessionStatus = Schemas["SessionStatus"];
type Tone = "warn" | "ok" | "info" | undefined;

/** A mistake caught before sending, shown as is by ErrorBox. */
class Invalid extends Error {
  override toString(): string {
    return this.message;
  }
}

const locale = () => (lang() === "en" ? "en-GB" : "fr-FR");
const today = () => localInput().slice(0, 10);
const orNull = (value: string) => (value.trim() ? value.trim() : null);

function euros(cents: number): string {
  return new Intl.NumberFormat(locale(), { style: "currency", currency: "EUR" }).format(cents / 100);
}

// Labels this screen needs beyond the shared ones.
function originLabel(origin: Schemas["CaseOrigin"]): string {
  switch (origin) {
    case "helpline":
      return L("Ligne d'écoute", "Helpline");
    case "justice":
      return L("Justice", "Justice");
    case "housing":
      return L("Hébergement", "Housing");
    case "self":
      return L("Démarche personnelle", "Self-referred");
    default:
      return L("Autre", "Other");
  }
}

const AUTHORITIES: Authority[] = ["procureur", "juge_instruction", "jaf", "jap", "spip"];
function authorityLabel(authority: string | null | undefined): string {
  switch (authority) {
    case "procureur":
      return L("Procureur de la République", "Public prosecutor");
    case "juge_instruction":
      return L("Juge d'instruction", "Investigating judge");
    case "jaf":
      return L("Juge aux affaires familiales", "Family court judge");
    case "jap":
      return L("Juge de l'application des peines", "Sentence enforcement judge");
    case "spip":
      return L("SPIP (probation)", "Probation service (SPIP)");
    default:
      return authority ?? "—";
  }
}

const MEASURE_KINDS: MeasureKind[] = ["care_obligation", "contact_ban", "place_ban", "residence_ban", "eviction"];

const SESSION_KINDS: SessionKind[] = ["individual", "group", "responsibility_course"];
function sessionKindLabel(kind: SessionKind): string {
  switch (kind) {
    case "individual":
      return L("Entretien individuel", "Individual session");
    case "group":
      return L("Séance de groupe", "Group session");
    case "responsibility_course":
      return L("Stage de responsabilisation", "Responsibility course");
  }
}

const SESSION_TONE: Record<SessionStatus, Tone> = { planned: "info", attended: "ok", excused: undefined, unexcused: "warn" };
const CASE_TONE: Record<Schemas["CaseStatus"], Tone> = { open: "ok", suspended: "warn", closed: undefined };

function requestStatusLabel(status: Schemas["HousingRequestStatus"]): string {
  switch (status) {
    case "open":
      return L("En cours", "Open");
    case "placed":
      return L("Hébergement trouvé", "Placed");
    case "unmet":
      return L("Non satisfaite", "Unmet");
    case "withdrawn":
      return L("Retirée", "Withdrawn");
  }
}

function urgencyLabel(urgency: Schemas["Urgency"]): string {
  return urgency === "tonight" ? L("Ce soir", "Tonight") : L("Dans les prochains jours", "Within days");
}

function unmetLabel(reason: Schemas["UnmetReason"]): string {
  switch (reason) {
    case "no_compliant_offer":
      return L("Aucune offre compatible avec les mesures", "No offer compatible with the measures");
    case "no_capacity":
      return L("Plus de place", "No capacity");
    case "declined":
      return L("Refusée par la personne", "Declined by the person");
    default:
      return L("Autre raison", "Other reason");
  }
}

function placementStatusLabel(status: Schemas["PlacementStatus"]): string {
  switch (status) {
    case "active":
      return L("En cours", "Active");
    case "ended":
      return L("Terminé", "Ended");
    case "no_show":
      return L("Personne non venue", "No-show");
  }
}

function needsText(needs: Schemas["HousingNeeds"]): string {
  const list = [
    needs.accessible ? L("accessible (mobilité réduite)", "accessible (reduced mobility)") : "",
    needs.pets ? L("animaux acceptés", "pets allowed") : "",
    needs.couple ? L("couple accepté", "couples allowed") : "",
  ].filter(Boolean);
  return list.length ? list.join(", ") : L("aucun besoin particulier", "no particular need");
}

function measureName(m: Measure): string {
  return `${label(m.kind)} (${m.decision_reference})`;
}

/** A blob answer saved as a file: the browser's download starts, and a link stays as a fallback. */
function useDownload(fetchBlob: () => Promise<Blob>, filename: string) {
  const [url, setUrl] = useState<string | undefined>(undefined);
  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);
  const action = useAction(async () => {
    const blob = await fetchBlob();
    const next = URL.createObjectURL(blob);
    setUrl(next);
    const a = document.createElement("a");
    a.href = next;
    a.download = filename;
    document.body.append(a);
    a.click();
    a.remove();
  });
  const link = url ? (
    <a href={url} download={filename}>
      {L("Enregistrer le fichier", "Save the file")} ({filename})
    </a>
  ) : null;
  return { ...action, link };
}

type Context = { timeZone: string | undefined; names: Map<string, string> };

/** The centre's time zone and its staff's names; both optional. */
async function loadContext(me: Me): Promise<Context> {
  const id = me.organisation.id;
  const [centre, users] = await Promise.all([
    ok(api.GET("/v1/centres/{id}", { params: { path: { id } } })).catch(() => undefined),
    ok(api.GET("/v1/organisations/{id}/users", { params: { path: { id } } }))
      .then((list) => list.items)
      .catch(() => [] as Schemas["User"][]),
  ]);
  return { timeZone: centre?.timezone, names: new Map(users.map((u) => [u.id, u.display_name])) };
}

export function CaseFile({ me, id }: { me: Me; id: string }) {
  const file = useLoad(() => ok(api.GET("/v1/cases/{id}", { params: { path: { id } } })), [id]);
  const context = useLoad(() => loadContext(me), [me.organisation.id]);
  const ctx: Context = context.data ?? { timeZone: undefined, names: new Map() };
  return (
    <Screen title={L("Dossier", "Case file")} actions={<ExportButton id={id} />}>
      <p>
        <a href="#/cases">{L("← Tous les dossiers", "← All case files")}</a>
      </p>
      <Loading loaded={file}>
        {(c) => (
          <>
            <Overview me={me} file={c} ctx={ctx} onChanged={file.reload} />
            <Section title={L("Mesures judiciaires", "Judicial measures")}>{() => <Measures caseId={c.id} />}</Section>
            <Section title={L("Personnes protégées", "Protected persons")}>{() => <ProtectedPersons caseId={c.id} />}</Section>
            <Section title={L("Séances et présence", "Sessions and attendance")}>{() => <Sessions caseId={c.id} ctx={ctx} />}</Section>
            <Section title={L("Notes", "Notes")}>{() => <Notes me={me} caseId={c.id} ctx={ctx} />}</Section>
            <Section title={L("Tâches", "Tasks")}>{() => <Tasks caseId={c.id} ctx={ctx} />}</Section>
            <Section title={L("Attestations de suivi", "Attendance certificates")}>{() => <Certificates caseId={c.id} />}</Section>
            <Section title={L("Hébergement", "Housing")}>{() => <Housing caseId={c.id} />}</Section>
          </>
        )}
      </Loading>
    </Screen>
  );
}

/** A folding section whose content is made (and its data loaded) only while it is open. */
function Section({ title, children }: { title: string; children: () => ComponentChildren }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <h2>{title}</h2>
      </summary>
      {open ? children() : null}
    </details>
  );
}

function ExportButton({ id }: { id: string }) {
  const download = useDownload(
    () => ok(api.GET("/v1/cases/{id}/export", { params: { path: { id } }, parseAs: "blob" })),
    `dossier-${id}.json`,
  );
  return (
    <div>
      <div class="row">
        <button type="button" disabled={download.busy} onClick={() => void download.run()}>
          {download.busy ? L("Export…", "Exporting…") : L("Exporter (droit d'accès)", "Export (right of access)")}
        </button>
        {download.link}
      </div>
      <ErrorBox error={download.error} />
    </div>
  );
}

// ——— The person and the case ———

function Overview({ me, file: c, ctx, onChanged }: { me: Me; file: Case; ctx: Context; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const followers = c.practitioner_ids.map((p) => (p === me.user?.id ? L("vous", "you") : (ctx.names.get(p) ?? L("un collègue", "a colleague"))));
  return (
    <>
      <h2>{L("Personne suivie", "Person followed")}</h2>
      {editing ? (
        <IdentityForm file={c} onDone={() => (setEditing(false), onChanged())} onCancel={() => setEditing(false)} />
      ) : (
        <>
          <dl class="facts">
            <dt>{L("Nom", "Name")}</dt>
            <dd>{c.identity.name ?? "—"}</dd>
            <dt>{L("Date de naissance", "Date of birth")}</dt>
            <dd>{day(c.identity.date_of_birth)}</dd>
            <dt>{L("Téléphone", "Phone")}</dt>
            <dd>{c.identity.phone ?? "—"}</dd>
            <dt>{L("Adresse", "Address")}</dt>
            <dd>{c.identity.address ? <Lines text={c.identity.address} /> : "—"}</dd>
          </dl>
          <div class="row">
            <button type="button" onClick={() => setEditing(true)}>
              {L("Rectifier l'identité", "Rectify the identity")}
            </button>
          </div>
        </>
      )}
      <h2>{L("Suivi", "Follow-up")}</h2>
      <dl class="facts">
        <dt>{L("Statut", "Status")}</dt>
        <dd>
          <Badge tone={CASE_TONE[c.status]}>{c.status === "closed" ? L("Clos", "Closed") : label(c.status)}</Badge>
        </dd>
        {c.close_reason ? (
          <>
            <dt>{L("Motif de clôture", "Reason for closing")}</dt>
            <dd>{c.close_reason}</dd>
          </>
        ) : null}
        <dt>{L("Origine", "Origin")}</dt>
        <dd>{originLabel(c.origin)}</dd>
        <dt>{L("Base légale", "Legal basis")}</dt>
        <dd>{label(c.legal_basis)}</dd>
        <dt>{L("Ouvert le", "Opened")}</dt>
        <dd>{when(c.created_at, ctx.timeZone)}</dd>
        {c.closed_at ? (
          <>
            <dt>{L("Clos le", "Closed")}</dt>
            <dd>{when(c.closed_at, ctx.timeZone)}</dd>
          </>
        ) : null}
        <dt>{L("Suivi par", "Followed by")}</dt>
        <dd>{followers.length ? followers.join(", ") : "—"}</dd>
        <dt>{L("Orientation", "Referral")}</dt>
        <dd>{c.referral_id ? L("Oui (voir ci-dessous)", "Yes (see below)") : L("Aucune", "None")}</dd>
      </dl>
      {c.referral_id ? <ReferralDetails id={c.referral_id} ctx={ctx} /> : null}
      <CaseStatus file={c} onChanged={onChanged} />
    </>
  );
}

function ReferralDetails({ id, ctx }: { id: string; ctx: Context }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{L("L'orientation d'origine", "The original referral")}</summary>
      {open ? <ReferralFacts id={id} ctx={ctx} /> : null}
    </details>
  );
}

function ReferralFacts({ id, ctx }: { id: string; ctx: Context }) {
  const referral = useLoad(() => ok(api.GET("/v1/referrals/{id}", { params: { path: { id } } })), [id]);
  return (
    <Loading loaded={referral}>
      {(r) => (
        <dl class="facts">
          <dt>{L("Envoyée par", "Sent by")}</dt>
          <dd>{r.source.name}</dd>
          <dt>{L("Envoyée le", "Sent on")}</dt>
          <dd>{when(r.created.at, ctx.timeZone)}</dd>
          <dt>{L("Alias", "Alias")}</dt>
          <dd>{r.subject_alias}</dd>
          <dt>{L("Base légale", "Legal basis")}</dt>
          <dd>{label(r.legal_basis)}</dd>
          {r.authority ? (
            <>
              <dt>{L("Autorité", "Authority")}</dt>
              <dd>{authorityLabel(r.authority)}</dd>
            </>
          ) : null}
          {r.decision_reference ? (
            <>
              <dt>{L("Référence de la décision", "Decision reference")}</dt>
              <dd>{r.decision_reference}</dd>
            </>
          ) : null}
          {r.order_ends_on ? (
            <>
              <dt>{L("Fin de la mesure", "Order ends")}</dt>
              <dd>{day(r.order_ends_on)}</dd>
            </>
          ) : null}
          <dt>{L("Statut", "Status")}</dt>
          <dd>{label(r.status)}</dd>
          <dt>{L("Résumé", "Summary")}</dt>
          <dd>
            <Lines text={r.summary} />
          </dd>
        </dl>
      )}
    </Loading>
  );
}

/** A text with its line breaks kept. */
function Lines({ text }: { text: string }) {
  const lines = text.split("\n");
  return (
    <>
      {lines.map((line, i) => (
        <span key={i}>
          {line}
          {i < lines.length - 1 ? <br /> : null}
        </span>
      ))}
    </>
  );
}

function IdentityForm({ file: c, onDone, onCancel }: { file: Case; onDone: () => void; onCancel: () => void }) {
  const [name, setName] = useState(c.identity.name ?? "");
  const [birth, setBirth] = useState(c.identity.date_of_birth ?? "");
  const [phone, setPhone] = useState(c.identity.phone ?? "");
  const [address, setAddress] = useState(c.identity.address ?? "");
  const save = useAction(async () => {
    if (birth && birth > today()) throw new Invalid(L("La date de naissance est dans le futur.", "The date of birth is in the future."));
    const identity = { name: orNull(name), date_of_birth: birth || null, phone: orNull(phone), address: orNull(address) };
    await ok(api.PATCH("/v1/cases/{id}", { params: { path: { id: c.id } }, body: { identity } }));
    announce(L("Identité rectifiée", "Identity rectified"));
    onDone();
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <p class="muted">{L("La rectification remplace toute l'identité ; un champ vide est effacé.", "A rectification replaces the whole identity; an empty field is erased.")}</p>
      <Field label={L("Nom", "Name")}>
        {(id) => <input id={id} autocomplete="off" maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Date de naissance", "Date of birth")}>
        {(id) => <input id={id} type="date" min="1900-01-01" max={today()} value={birth} onInput={(e) => setBirth(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Téléphone", "Phone")}>
        {(id) => <input id={id} type="tel" autocomplete="off" maxLength={40} value={phone} onInput={(e) => setPhone(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Adresse", "Address")}>
        {(id) => <textarea id={id} autocomplete="off" maxLength={400} value={address} onInput={(e) => setAddress(e.currentTarget.value)} />}
      </Field>
      <ErrorBox error={save.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={save.busy}>
          {L("Enregistrer la rectification", "Save the rectification")}
        </button>
        <button type="button" onClick={onCancel}>
          {L("Annuler", "Cancel")}
        </button>
      </div>
    </form>
  );
}

function CaseStatus({ file: c, onChanged }: { file: Case; onChanged: () => void }) {
  const [closing, setClosing] = useState(false);
  const [reason, setReason] = useState("");
  const change = useAction(async (status: Schemas["CaseStatus"]) => {
    const body: Schemas["CaseChanges"] = { status };
    if (status === "closed") {
      if (!reason.trim()) throw new Invalid(L("Indiquez le motif de clôture.", "Give the reason for closing."));
      body.close_reason = reason.trim();
    }
    await ok(api.PATCH("/v1/cases/{id}", { params: { path: { id: c.id } }, body }));
    announce(status === "closed" ? L("Dossier clos", "Case closed") : status === "suspended" ? L("Dossier suspendu", "Case suspended") : L("Dossier rouvert", "Case reopened"));
    setClosing(false);
    setReason("");
    onChanged();
  });
  if (closing) {
    return (
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void change.run("closed");
        }}
      >
        <Field label={L("Motif de clôture", "Reason for closing")} hint={L("300 caractères au plus.", "300 characters at most.")}>
          {(id, hint) => <input id={id} aria-describedby={hint} required maxLength={300} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />}
        </Field>
        <ErrorBox error={change.error} />
        <div class="row">
          <button type="submit" class="danger" disabled={change.busy}>
            {L("Clore le dossier", "Close the case")}
          </button>
          <button type="button" onClick={() => (setClosing(false), change.clear())}>
            {L("Retour", "Back")}
          </button>
        </div>
      </form>
    );
  }
  return (
    <>
      <div class="row">
        {c.status === "open" ? (
          <button type="button" disabled={change.busy} onClick={() => void change.run("suspended")}>
            {L("Suspendre le suivi", "Suspend the follow-up")}
          </button>
        ) : (
          <button type="button" disabled={change.busy} onClick={() => void change.run("open")}>
            {L("Rouvrir le dossier", "Reopen the case")}
          </button>
        )}
        {c.status !== "closed" ? (
          <button type="button" class="danger" onClick={() => setClosing(true)}>
            {L("Clore le dossier…", "Close the case…")}
          </button>
        ) : null}
      </div>
      <ErrorBox error={change.error} />
    </>
  );
}

// ——— Judicial measures ———

function Measures({ caseId }: { caseId: string }) {
  const data = useLoad(async () => {
    const path = { id: caseId };
    const [measures, persons] = await Promise.all([
      ok(api.GET("/v1/cases/{id}/measures", { params: { path } })),
      ok(api.GET("/v1/cases/{id}/protected-persons", { params: { path } })),
    ]);
    return { measures: measures.items, persons: persons.items };
  }, [caseId]);
  return (
    <Loading loaded={data}>
      {({ measures, persons }) => (
        <>
          {measures.length === 0 ? <Empty>{L("Aucune mesure enregistrée.", "No measure recorded.")}</Empty> : null}
          <ul class="list">
            {measures.map((m) => (
              <li key={m.id}>
                <div class="item-title">{label(m.kind)}</div>
                <div class="meta">
                  {authorityLabel(m.authority)} · {L("réf.", "ref.")} {m.decision_reference}
                </div>
                <div class="meta">
                  {m.ends_on ? `${L("Du", "From")} ${day(m.starts_on)} ${L("au", "to")} ${day(m.ends_on)}` : `${L("Depuis le", "Since")} ${day(m.starts_on)}`}
                </div>
                {m.sessions_required !== null ? (
                  <div class="meta">
                    {L("Séances suivies", "Sessions attended")} : {m.sessions_attended ?? 0} / {m.sessions_required}{" "}
                    {(m.sessions_attended ?? 0) >= m.sessions_required ? <Badge tone="ok">{L("Atteint", "Reached")}</Badge> : null}
                  </div>
                ) : null}
                {m.zone ? (
                  <>
                    {m.zone.communes.length ? (
                      <div class="meta">
                        {L("Communes (INSEE)", "Communes (INSEE)")} : {m.zone.communes.join(", ")}
                      </div>
                    ) : null}
                    {m.zone.departements.length ? (
                      <div class="meta">
                        {L("Départements", "Départements")} : {m.zone.departements.join(", ")}
                      </div>
                    ) : null}
                    {m.zone.polygon ? <div class="meta">{L("Et une zone tracée sur une carte", "And an area drawn on a map")}</div> : null}
                  </>
                ) : null}
                {m.kind === "contact_ban" ? (
                  <div class="meta">
                    {L("Personnes protégées", "Protected persons")} :{" "}
                    {m.protected_person_ids.length
                      ? m.protected_person_ids.map((p) => persons.find((x) => x.id === p)?.label ?? "?").join(", ")
                      : L("aucune désignée", "none named")}
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
          <h3>{L("Ajouter une mesure", "Add a measure")}</h3>
          <MeasureForm caseId={caseId} persons={persons} onDone={data.reload} />
        </>
      )}
    </Loading>
  );
}

/** Codes typed with spaces, commas or semicolons between them. */
function codes(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((c) => c.trim().toUpperCase())
    .filter(Boolean);
}

function MeasureForm({ caseId, persons, onDone }: { caseId: string; persons: Schemas["ProtectedPerson"][]; onDone: () => void }) {
  const [kind, setKind] = useState<MeasureKind>("care_obligation");
  const [authority, setAuthority] = useState<Authority>("procureur");
  const [reference, setReference] = useState("");
  const [starts, setStarts] = useState(today());
  const [ends, setEnds] = useState("");
  const [required, setRequired] = useState("");
  const [communes, setCommunes] = useState("");
  const [departements, setDepartements] = useState("");
  const [covered, setCovered] = useState<string[]>([]);
  const zoned = kind === "place_ban" || kind === "residence_ban";

  const add = useAction(async () => {
    if (!reference.trim()) throw new Invalid(L("Indiquez la référence de la décision.", "Give the decision's reference."));
    if (!starts) throw new Invalid(L("Indiquez la date de la décision.", "Give the decision's date."));
    if (ends && ends < starts) throw new Invalid(L("La fin précède le début.", "The end comes before the start."));
    const body: Schemas["NewMeasure"] = { kind, authority, decision_reference: reference.trim(), starts_on: starts, ends_on: ends || null };
    if (kind === "care_obligation") {
      const n = Number(required);
      if (!Number.isInteger(n) || n < 1 || n > 200) throw new Invalid(L("Séances à suivre : un nombre entier de 1 à 200.", "Sessions to attend: a whole number from 1 to 200."));
      body.sessions_required = n;
    }
    if (zoned) {
      const zone = { communes: codes(communes), departements: codes(departements) };
      if (!zone.communes.length && !zone.departements.length) {
        throw new Invalid(L("Indiquez au moins une commune ou un département.", "Give at least one commune or département."));
      }
      const badCommune = zone.communes.find((c) => !/^[0-9][0-9AB][0-9]{3}$/.test(c));
      if (badCommune) throw new Invalid(L(`Code commune INSEE invalide : ${badCommune}`, `Invalid INSEE commune code: ${badCommune}`));
      const badDepartement = zone.departements.find((d) => !/^([0-9]{2,3}|2[AB])$/.test(d));
      if (badDepartement) throw new Invalid(L(`Code de département invalide : ${badDepartement}`, `Invalid département code: ${badDepartement}`));
      body.zone = zone;
    }
    if (kind === "contact_ban") body.protected_person_ids = covered;
    await ok(api.POST("/v1/cases/{id}/measures", { params: { path: { id: caseId } }, body }));
    announce(L("Mesure ajoutée", "Measure added"));
    setReference("");
    setEnds("");
    setRequired("");
    setCommunes("");
    setDepartements("");
    setCovered([]);
    onDone();
  });

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void add.run();
      }}
    >
      <Field label={L("Nature", "Kind")}>
        {(id) => (
          <select id={id} value={kind} onChange={(e) => setKind(e.currentTarget.value as MeasureKind)}>
            {MEASURE_KINDS.map((k) => (
              <option key={k} value={k}>
                {label(k)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={L("Autorité", "Authority")}>
        {(id) => (
          <select id={id} value={authority} onChange={(e) => setAuthority(e.currentTarget.value as Authority)}>
            {AUTHORITIES.map((a) => (
              <option key={a} value={a}>
                {authorityLabel(a)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={L("Référence de la décision", "Decision reference")}>
        {(id) => <input id={id} required maxLength={100} value={reference} onInput={(e) => setReference(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Date de la décision (début)", "Decision date (start)")}>
        {(id) => <input id={id} type="date" required min="2000-01-01" max="2199-12-31" value={starts} onInput={(e) => setStarts(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Fin (facultatif)", "End (optional)")}>
        {(id) => <input id={id} type="date" min={starts || "2000-01-01"} max="2199-12-31" value={ends} onInput={(e) => setEnds(e.currentTarget.value)} />}
      </Field>
      {kind === "care_obligation" ? (
        <Field label={L("Séances à suivre", "Sessions to attend")}>
          {(id) => <input id={id} type="number" inputMode="numeric" required min={1} max={200} value={required} onInput={(e) => setRequired(e.currentTarget.value)} />}
        </Field>
      ) : null}
      {zoned ? (
        <fieldset>
          <legend>{L("Zone interdite", "Forbidden zone")}</legend>
          <Field label={L("Communes (codes INSEE)", "Communes (INSEE codes)")} hint={L("Séparés par des espaces ou des virgules, par exemple 75056, 69123.", "Separated by spaces or commas, for instance 75056, 69123.")}>
            {(id, hint) => <input id={id} aria-describedby={hint} autocomplete="off" value={communes} onInput={(e) => setCommunes(e.currentTarget.value)} />}
          </Field>
          <Field label={L("Départements (codes)", "Départements (codes)")} hint={L("Par exemple 75, 92, 2A.", "For instance 75, 92, 2A.")}>
            {(id, hint) => <input id={id} aria-describedby={hint} autocomplete="off" value={departements} onInput={(e) => setDepartements(e.currentTarget.value)} />}
          </Field>
        </fieldset>
      ) : null}
      {kind === "contact_ban" ? (
        <fieldset>
          <legend>{L("Personnes protégées couvertes", "Protected persons covered")}</legend>
          {persons.length === 0 ? (
            <p class="muted">{L("Aucune personne protégée dans ce dossier : ajoutez-en dans la section dédiée.", "No protected person in this case: add them in their section.")}</p>
          ) : (
            persons.map((p) => (
              <label key={p.id} class="check">
                <input
                  type="checkbox"
                  checked={covered.includes(p.id)}
                  onChange={(e) => setCovered(e.currentTarget.checked ? [...covered, p.id] : covered.filter((x) => x !== p.id))}
                />
                {p.label}
              </label>
            ))
          )}
        </fieldset>
      ) : null}
      <ErrorBox error={add.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={add.busy}>
          {L("Ajouter la mesure", "Add the measure")}
        </button>
      </div>
    </form>
  );
}

// ——— Protected persons ———

function ProtectedPersons({ caseId }: { caseId: string }) {
  const persons = useLoad(() => ok(api.GET("/v1/cases/{id}/protected-persons", { params: { path: { id: caseId } } })), [caseId]);
  return (
    <>
      <p class="muted">
        {L(
          "Leur adresse et leur position ne sont jamais affichées : elles servent seulement au serveur pour écarter les hébergements trop proches.",
          "Their address and position are never shown: only the server uses them, to rule out housing that is too close.",
        )}
      </p>
      <Loading loaded={persons}>
        {(list) =>
          list.items.length === 0 ? (
            <Empty>{L("Aucune personne protégée.", "No protected person.")}</Empty>
          ) : (
            <ul class="list">
              {list.items.map((p) => (
                <li key={p.id}>
                  <div class="item-title">{p.label}</div>
                  <div class="meta">
                    {L("Distance d'alerte", "Alert distance")} : {p.radius_km} km · {L("ajoutée le", "added")} {day(p.created_at)}
                  </div>
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
      <h3>{L("Ajouter une personne protégée", "Add a protected person")}</h3>
      <ProtectedPersonForm caseId={caseId} onDone={persons.reload} />
    </>
  );
}

function ProtectedPersonForm({ caseId, onDone }: { caseId: string; onDone: () => void }) {
  const [personLabel, setPersonLabel] = useState("");
  const [radius, setRadius] = useState("1");
  const [latitude, setLatitude] = useState("");
  const [longitude, setLongitude] = useState("");
  const [address, setAddress] = useState("");
  const add = useAction(async () => {
    if (!personLabel.trim()) throw new Invalid(L("Indiquez un libellé.", "Give a label."));
    const r = Number(radius);
    if (!Number.isInteger(r) || r < 1 || r > 10) throw new Invalid(L("Distance d'alerte : un nombre entier de 1 à 10 km.", "Alert distance: a whole number from 1 to 10 km."));
    const lat = Number(latitude.replace(",", "."));
    const lon = Number(longitude.replace(",", "."));
    if (!latitude.trim() || !Number.isFinite(lat) || lat < -90 || lat > 90) throw new Invalid(L("Latitude : entre -90 et 90 degrés.", "Latitude: between -90 and 90 degrees."));
    if (!longitude.trim() || !Number.isFinite(lon) || lon < -180 || lon > 180) throw new Invalid(L("Longitude : entre -180 et 180 degrés.", "Longitude: between -180 and 180 degrees."));
    await ok(
      api.POST("/v1/cases/{id}/protected-persons", {
        params: { path: { id: caseId } },
        body: { label: personLabel.trim(), radius_km: r, location: { latitude: lat, longitude: lon, address: orNull(address) } },
      }),
    );
    announce(L("Personne protégée ajoutée", "Protected person added"));
    // The location leaves the screen as soon as it is sent.
    setPersonLabel("");
    setLatitude("");
    setLongitude("");
    setAddress("");
    onDone();
  });
  return (
    <form
      autocomplete="off"
      onSubmit={(e) => {
        e.preventDefault();
        void add.run();
      }}
    >
      <Field label={L("Libellé", "Label")} hint={L("Pas son nom : par exemple « Ex-conjointe ».", "Not their name: for instance “Former partner”.")}>
        {(id, hint) => <input id={id} aria-describedby={hint} required maxLength={100} value={personLabel} onInput={(e) => setPersonLabel(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Distance d'alerte (km)", "Alert distance (km)")}>
        {(id) => <input id={id} type="number" inputMode="numeric" required min={1} max={10} step={1} value={radius} onInput={(e) => setRadius(e.currentTarget.value)} />}
      </Field>
      <fieldset>
        <legend>{L("Lieu de vie (jamais réaffiché)", "Where they live (never shown again)")}</legend>
        <Field label={L("Latitude (degrés)", "Latitude (degrees)")}>
          {(id) => <input id={id} inputMode="decimal" required value={latitude} onInput={(e) => setLatitude(e.currentTarget.value)} />}
        </Field>
        <Field label={L("Longitude (degrés)", "Longitude (degrees)")}>
          {(id) => <input id={id} inputMode="decimal" required value={longitude} onInput={(e) => setLongitude(e.currentTarget.value)} />}
        </Field>
        <Field label={L("Adresse (facultatif)", "Address (optional)")}>
          {(id) => <input id={id} maxLength={400} value={address} onInput={(e) => setAddress(e.currentTarget.value)} />}
        </Field>
      </fieldset>
      <ErrorBox error={add.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={add.busy}>
          {L("Ajouter la personne protégée", "Add the protected person")}
        </button>
      </div>
    </form>
  );
}

// ——— Sessions and attendance ———

function Sessions({ caseId, ctx }: { caseId: string; ctx: Context }) {
  const data = useLoad(async () => {
    const path = { id: caseId };
    const [sessions, measures] = await Promise.all([
      ok(api.GET("/v1/cases/{id}/sessions", { params: { path } })),
      ok(api.GET("/v1/cases/{id}/measures", { params: { path } })),
    ]);
    return { sessions: sessions.items, measures: measures.items };
  }, [caseId]);
  return (
    <Loading loaded={data}>
      {({ sessions, measures }) => (
        <>
          {sessions.length === 0 ? <Empty>{L("Aucune séance prévue.", "No session planned.")}</Empty> : null}
          <ul class="list">
            {sessions.map((s) => (
              <SessionItem key={s.id} session={s} measures={measures} ctx={ctx} onChanged={data.reload} />
            ))}
          </ul>
          <h3>{L("Prévoir une séance", "Plan a session")}</h3>
          <SessionForm caseId={caseId} measures={measures} onDone={data.reload} />
        </>
      )}
    </Loading>
  );
}

const ATTENDANCE: SessionStatus[] = ["attended", "excused", "unexcused"];

function SessionItem({ session: s, measures, ctx, onChanged }: { session: Schemas["Session"]; measures: Measure[]; ctx: Context; onChanged: () => void }) {
  const record = useAction(async (status: SessionStatus) => {
    await ok(api.PATCH("/v1/sessions/{id}", { params: { path: { id: s.id } }, body: { status } }));
    announce(`${L("Présence", "Attendance")} : ${label(status)}`);
    onChanged();
  });
  const measure = measures.find((m) => m.id === s.measure_id);
  const past = new Date(s.planned_at).getTime() <= Date.now();
  return (
    <li>
      <div class="item-title">
        {sessionKindLabel(s.kind)} · {when(s.planned_at, ctx.timeZone)} <Badge tone={SESSION_TONE[s.status]}>{label(s.status)}</Badge>
      </div>
      <div class="meta">
        {L("Mesure", "Measure")} : {measure ? measureName(measure) : L("aucune", "none")}
        {s.appointment_id ? ` · ${L("liée à un rendez-vous", "linked to an appointment")}` : ""}
      </div>
      {past ? (
        <div class="row" role="group" aria-label={`${L("Présence à la séance du", "Attendance at the session of")} ${when(s.planned_at, ctx.timeZone)}`}>
          {ATTENDANCE.filter((status) => status !== s.status).map((status) => (
            <button key={status} type="button" class={status === "attended" ? "primary" : ""} disabled={record.busy} onClick={() => void record.run(status)}>
              {label(status)}
            </button>
          ))}
          {s.status !== "planned" ? (
            <button type="button" class="link" disabled={record.busy} onClick={() => void record.run("planned")}>
              {L("Remettre à « prévue »", "Set back to planned")}
            </button>
          ) : null}
        </div>
      ) : (
        <div class="meta">{L("À venir : la présence se note après la séance.", "Upcoming: attendance is recorded after the session.")}</div>
      )}
      <ErrorBox error={record.error} />
    </li>
  );
}

function SessionForm({ caseId, measures, onDone }: { caseId: string; measures: Measure[]; onDone: () => void }) {
  const [kind, setKind] = useState<SessionKind>("individual");
  const [plannedAt, setPlannedAt] = useState("");
  const [measureId, setMeasureId] = useState("");
  const add = useAction(async () => {
    if (!plannedAt) throw new Invalid(L("Indiquez la date et l'heure.", "Give the date and time."));
    const year = Number(plannedAt.slice(0, 4));
    if (year < 2000 || year > 2199) throw new Invalid(L("Date hors des limites (2000 à 2199).", "Date out of range (2000 to 2199)."));
    await ok(
      api.POST("/v1/cases/{id}/sessions", {
        params: { path: { id: caseId } },
        body: { kind, planned_at: isoFromInput(plannedAt), measure_id: measureId || null },
      }),
    );
    announce(L("Séance prévue", "Session planned"));
    setPlannedAt("");
    onDone();
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void add.run();
      }}
    >
      <Field label={L("Type de séance", "Kind of session")}>
        {(id) => (
          <select id={id} value={kind} onChange={(e) => setKind(e.currentTarget.value as SessionKind)}>
            {SESSION_KINDS.map((k) => (
              <option key={k} value={k}>
                {sessionKindLabel(k)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={L("Date et heure", "Date and time")} hint={L("Une séance passée peut être saisie pour noter la présence.", "A past session may be entered to record attendance.")}>
        {(id, hint) => <input id={id} aria-describedby={hint} type="datetime-local" required value={plannedAt} onInput={(e) => setPlannedAt(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Compte pour la mesure", "Counts toward the measure")}>
        {(id) => (
          <select id={id} value={measureId} onChange={(e) => setMeasureId(e.currentTarget.value)}>
            <option value="">{L("Aucune", "None")}</option>
            {measures.map((m) => (
              <option key={m.id} value={m.id}>
                {measureName(m)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <ErrorBox error={add.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={add.busy}>
          {L("Prévoir la séance", "Plan the session")}
        </button>
      </div>
    </form>
  );
}

// ——— Notes ———

function Notes({ me, caseId, ctx }: { me: Me; caseId: string; ctx: Context }) {
  const notes = useLoad(() => ok(api.GET("/v1/cases/{id}/notes", { params: { path: { id: caseId } } })), [caseId]);
  const [body, setBody] = useState("");
  const add = useAction(async () => {
    if (!body.trim()) throw new Invalid(L("La note est vide.", "The note is empty."));
    await ok(api.POST("/v1/cases/{id}/notes", { params: { path: { id: caseId } }, body: { body: body.trim() } }));
    announce(L("Note ajoutée", "Note added"));
    setBody("");
    notes.reload();
  });
  const author = (id: string) => (id === me.user?.id ? L("Vous", "You") : (ctx.names.get(id) ?? L("Un collègue", "A colleague")));
  return (
    <>
      <Loading loaded={notes}>
        {(list) =>
          list.items.length === 0 ? (
            <Empty>{L("Aucune note.", "No note.")}</Empty>
          ) : (
            <ul class="list">
              {list.items.map((n) => (
                <li key={n.id}>
                  <div class="meta">
                    {author(n.author_id)} · {when(n.created_at, ctx.timeZone)}
                  </div>
                  <p>
                    <Lines text={n.body} />
                  </p>
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
      >
        <Field label={L("Nouvelle note", "New note")}>
          {(id) => <textarea id={id} required maxLength={10000} value={body} onInput={(e) => setBody(e.currentTarget.value)} />}
        </Field>
        <ErrorBox error={add.error} />
        <div class="row">
          <button type="submit" class="primary" disabled={add.busy}>
            {L("Ajouter la note", "Add the note")}
          </button>
        </div>
      </form>
    </>
  );
}

// ——— Tasks ———

function Tasks({ caseId, ctx }: { caseId: string; ctx: Context }) {
  const tasks = useLoad(() => ok(api.GET("/v1/cases/{id}/tasks", { params: { path: { id: caseId } } })), [caseId]);
  const [title, setTitle] = useState("");
  const [due, setDue] = useState(today());
  const add = useAction(async () => {
    if (!title.trim()) throw new Invalid(L("Indiquez la tâche.", "Give the task."));
    if (!due) throw new Invalid(L("Indiquez l'échéance.", "Give the due date."));
    await ok(api.POST("/v1/cases/{id}/tasks", { params: { path: { id: caseId } }, body: { title: title.trim(), due_on: due } }));
    announce(L("Tâche ajoutée", "Task added"));
    setTitle("");
    tasks.reload();
  });
  return (
    <>
      <Loading loaded={tasks}>
        {(list) =>
          list.items.length === 0 ? (
            <Empty>{L("Aucune tâche.", "No task.")}</Empty>
          ) : (
            <ul class="list">
              {list.items.map((t) => (
                <TaskItem key={t.id} task={t} ctx={ctx} onChanged={tasks.reload} />
              ))}
            </ul>
          )
        }
      </Loading>
      <h3>{L("Ajouter une tâche", "Add a task")}</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void add.run();
        }}
      >
        <Field label={L("Tâche", "Task")}>
          {(id) => <input id={id} required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />}
        </Field>
        <Field label={L("Échéance", "Due date")}>
          {(id) => <input id={id} type="date" required min="2000-01-01" max="2199-12-31" value={due} onInput={(e) => setDue(e.currentTarget.value)} />}
        </Field>
        <ErrorBox error={add.error} />
        <div class="row">
          <button type="submit" class="primary" disabled={add.busy}>
            {L("Ajouter la tâche", "Add the task")}
          </button>
        </div>
      </form>
    </>
  );
}

function TaskItem({ task: t, ctx, onChanged }: { task: Schemas["CaseTask"]; ctx: Context; onChanged: () => void }) {
  const toggle = useAction(async (done: boolean) => {
    await ok(api.PATCH("/v1/tasks/{id}", { params: { path: { id: t.id } }, body: { done } }));
    announce(done ? L("Tâche faite", "Task done") : L("Tâche à faire", "Task to do"));
    onChanged();
  });
  const late = !t.done_at && t.due_on < today();
  return (
    <li>
      <label class="check">
        <input type="checkbox" checked={!!t.done_at} disabled={toggle.busy} onChange={(e) => void toggle.run(e.currentTarget.checked)} />
        <span>
          {t.title} — {L("pour le", "due")} {day(t.due_on)}
        </span>
      </label>
      {late ? <Badge tone="warn">{L("En retard", "Overdue")}</Badge> : null}
      {t.done_at ? (
        <div class="meta">
          {L("Faite le", "Done")} {when(t.done_at, ctx.timeZone)}
        </div>
      ) : null}
      <ErrorBox error={toggle.error} />
    </li>
  );
}

// ——— Attendance certificates ———

function Certificates({ caseId }: { caseId: string }) {
  const data = useLoad(async () => {
    const path = { id: caseId };
    const [certificates, measures] = await Promise.all([
      ok(api.GET("/v1/cases/{id}/certificates", { params: { path } })),
      ok(api.GET("/v1/cases/{id}/measures", { params: { path } })),
    ]);
    return { certificates: certificates.items, measures: measures.items };
  }, [caseId]);
  const [issued, setIssued] = useState<Schemas["IssuedCertificate"] | undefined>(undefined);
  return (
    <>
      {issued ? <Issued certificate={issued} onHide={() => setIssued(undefined)} /> : null}
      <Loading loaded={data}>
        {({ certificates, measures }) => (
          <>
            {certificates.length === 0 ? <Empty>{L("Aucune attestation délivrée.", "No certificate issued.")}</Empty> : null}
            <ul class="list">
              {certificates.map((c) => {
                const measure = measures.find((m) => m.id === c.measure_id);
                return (
                  <li key={c.id}>
                    <div class="item-title">
                      {L("Attestation du", "Certificate of")} {day(c.issued_at)}
                    </div>
                    <div class="meta">
                      {c.period_from ? `${L("Du", "From")} ${day(c.period_from)} ${L("au", "to")} ${day(c.period_to)}` : `${L("Jusqu'au", "Until")} ${day(c.period_to)}`}
                    </div>
                    <div class="meta">
                      {L(`${c.sessions.length} séance(s) suivie(s)`, `${c.sessions.length} session(s) attended`)}
                      {c.sessions_required !== null ? ` ${L("sur", "of")} ${c.sessions_required} ${L("requises", "required")}` : ""}
                      {" · "}
                      {L("Mesure", "Measure")} : {measure ? measureName(measure) : L("toutes", "all")}
                    </div>
                    <div class="meta">
                      {L("Délivrée par", "Issued by")} {c.issued_by}
                    </div>
                    <PdfButton id={c.id} />
                  </li>
                );
              })}
            </ul>
            <h3>{L("Délivrer une attestation", "Issue a certificate")}</h3>
            <CertificateForm
              caseId={caseId}
              measures={measures}
              onDone={(made) => {
                setIssued(made);
                data.reload();
              }}
            />
          </>
        )}
      </Loading>
    </>
  );
}

function PdfButton({ id }: { id: string }) {
  const download = useDownload(() => ok(api.GET("/v1/certificates/{id}/pdf", { params: { path: { id } }, parseAs: "blob" })), `attestation-${id}.pdf`);
  return (
    <>
      <div class="row">
        <button type="button" disabled={download.busy} onClick={() => void download.run()}>
          {L("Télécharger le PDF", "Download the PDF")}
        </button>
        {download.link}
      </div>
      <ErrorBox error={download.error} />
    </>
  );
}

/** The certificate just issued: its verification code is shown here, this once. */
function Issued({ certificate: c, onHide }: { certificate: Schemas["IssuedCertificate"]; onHide: () => void }) {
  return (
    <div class="notice" role="status">
      <p>
        <strong>{L("Attestation délivrée.", "Certificate issued.")}</strong>{" "}
        {L(`${c.sessions.length} séance(s) attestée(s).`, `${c.sessions.length} session(s) certified.`)}
      </p>
      {c.verification_code ? (
        <>
          <p>{L("Code de vérification (imprimé sur l'attestation) :", "Verification code (printed on the certificate):")}</p>
          <p class="secret">{c.verification_code}</p>
          <p class="meta">
            {L("Vérifiable à l'adresse", "Can be checked at")} {c.check_url}
          </p>
        </>
      ) : null}
      <PdfButton id={c.id} />
      <button type="button" class="link" onClick={onHide}>
        {L("Masquer", "Hide")}
      </button>
    </div>
  );
}

function CertificateForm({ caseId, measures, onDone }: { caseId: string; measures: Measure[]; onDone: (made: Schemas["IssuedCertificate"]) => void }) {
  const [measureId, setMeasureId] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const issue = useAction(async () => {
    if (from && to && from > to) throw new Invalid(L("La période commence après sa fin.", "The period starts after it ends."));
    if (to && to > today()) throw new Invalid(L("La fin de la période ne peut pas dépasser aujourd'hui.", "The period cannot end after today."));
    const made = await ok(
      api.POST("/v1/cases/{id}/certificates", {
        params: { path: { id: caseId } },
        body: { measure_id: measureId || null, from: from || null, to: to || null },
      }),
    );
    announce(L("Attestation délivrée", "Certificate issued"));
    onDone(made);
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void issue.run();
      }}
    >
      <p class="muted">
        {L(
          "L'attestation reprend seulement les séances où la présence a été notée « présent ».",
          "The certificate lists only the sessions recorded as attended.",
        )}
      </p>
      <Field label={L("Mesure", "Measure")}>
        {(id) => (
          <select id={id} value={measureId} onChange={(e) => setMeasureId(e.currentTarget.value)}>
            <option value="">{L("Toutes les séances du dossier", "Every session of the case")}</option>
            {measures.map((m) => (
              <option key={m.id} value={m.id}>
                {measureName(m)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={L("Du (facultatif)", "From (optional)")} hint={L("Par défaut, le début de la mesure.", "By default, the measure's start.")}>
        {(id, hint) => <input id={id} aria-describedby={hint} type="date" min="2000-01-01" max={today()} value={from} onInput={(e) => setFrom(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Au (facultatif)", "To (optional)")} hint={L("Par défaut, aujourd'hui.", "By default, today.")}>
        {(id, hint) => <input id={id} aria-describedby={hint} type="date" min={from || "2000-01-01"} max={today()} value={to} onInput={(e) => setTo(e.currentTarget.value)} />}
      </Field>
      <ErrorBox error={issue.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={issue.busy}>
          {L("Délivrer l'attestation", "Issue the certificate")}
        </button>
      </div>
    </form>
  );
}

// ——— Housing ———

const REQUEST_STATUSES: Schemas["HousingRequestStatus"][] = ["open", "placed", "unmet", "withdrawn"];

function Housing({ caseId }: { caseId: string }) {
  const data = useLoad(async () => {
    // The centre's requests come by status; those of this case are kept.
    const [housing, ...lists] = await Promise.all([
      ok(api.GET("/v1/cases/{id}/housing", { params: { path: { id: caseId } } })),
      ...REQUEST_STATUSES.map((status) => ok(api.GET("/v1/housing/requests", { params: { query: { status } } }))),
    ]);
    const mine = new Map<string, Schemas["HousingRequest"]>();
    for (const list of lists) for (const r of (list as Schemas["HousingRequestList"]).items) if (r.case_id === caseId) mine.set(r.id, r);
    const requests = [...mine.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
    return { placements: (housing as Schemas["CaseHousing"]).placements, requests };
  }, [caseId]);
  return (
    <Loading loaded={data}>
      {({ placements, requests }) => (
        <>
          <h3>{L("Hébergements", "Placements")}</h3>
          {placements.length === 0 ? (
            <Empty>{L("Aucun hébergement pour ce dossier.", "No placement for this case.")}</Empty>
          ) : (
            <ul class="list">
              {placements.map((p) => (
                <li key={p.id}>
                  <div class="item-title">
                    {p.offer_name} <Badge tone={p.status === "active" ? "ok" : p.status === "no_show" ? "warn" : undefined}>{placementStatusLabel(p.status)}</Badge>
                  </div>
                  <div class="meta">{p.address}</div>
                  <div class="meta">
                    {p.first_night && p.last_night
                      ? `${L("Nuits du", "Nights from")} ${day(p.first_night)} ${L("au", "to")} ${day(p.last_night)} (${p.nights.length})`
                      : L("Aucune nuit retenue", "No night held")}
                  </div>
                  <div class="meta">
                    {L("Coût", "Cost")} : {euros(p.cost_cents)} ·{" "}
                    {p.source === "platform" ? L("par la plateforme", "by the platform") : L("déclaré par le centre", "declared by the centre")}
                  </div>
                </li>
              ))}
            </ul>
          )}
          <h3>{L("Demandes à la plateforme", "Requests to the platform")}</h3>
          {requests.length === 0 ? (
            <Empty>{L("Aucune demande.", "No request.")}</Empty>
          ) : (
            <ul class="list">
              {requests.map((r) => (
                <HousingRequestItem key={r.id} request={r} onChanged={data.reload} />
              ))}
            </ul>
          )}
          <h3>{L("Demander un hébergement", "Ask for housing")}</h3>
          <HousingRequestForm caseId={caseId} onDone={data.reload} />
        </>
      )}
    </Loading>
  );
}

function HousingRequestItem({ request: r, onChanged }: { request: Schemas["HousingRequest"]; onChanged: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const withdraw = useAction(async () => {
    await ok(api.POST("/v1/housing/requests/{id}/withdraw", { params: { path: { id: r.id } } }));
    announce(L("Demande retirée", "Request withdrawn"));
    setConfirming(false);
    onChanged();
  });
  return (
    <li>
      <div class="item-title">
        {L("Du", "From")} {day(r.first_night)} {L("au", "to")} {day(r.last_night)} ({L(`${r.nights} nuit(s)`, `${r.nights} night(s)`)}){" "}
        <Badge tone={r.status === "open" ? "info" : r.status === "placed" ? "ok" : r.status === "unmet" ? "warn" : undefined}>{requestStatusLabel(r.status)}</Badge>
      </div>
      <div class="meta">
        {urgencyLabel(r.urgency)} · {needsText(r.needs)}
        {r.court_eviction ? ` · ${L("éviction ordonnée par le juge", "court-ordered eviction")}` : ""}
      </div>
      {r.unmet_reason ? (
        <div class="meta">
          {L("Motif", "Reason")} : {unmetLabel(r.unmet_reason)}
        </div>
      ) : null}
      <div class="meta">
        {L("Demandée le", "Asked")} {when(r.created_at)}
      </div>
      {r.status === "open" ? (
        confirming ? (
          <div>
            <p>{L("Retirer cette demande ? L'orientation vers la plateforme sera annulée.", "Withdraw this request? The referral to the platform will be revoked.")}</p>
            <div class="row">
              <button type="button" class="danger" disabled={withdraw.busy} onClick={() => void withdraw.run()}>
                {L("Confirmer le retrait", "Confirm withdrawal")}
              </button>
              <button type="button" onClick={() => (setConfirming(false), withdraw.clear())}>
                {L("Garder la demande", "Keep the request")}
              </button>
            </div>
          </div>
        ) : (
          <div class="row">
            <button type="button" class="danger" onClick={() => setConfirming(true)}>
              {L("Retirer la demande", "Withdraw the request")}
            </button>
          </div>
        )
      ) : null}
      <ErrorBox error={withdraw.error} />
    </li>
  );
}

function nightsBetween(first: string, last: string): number {
  return Math.round((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86400000) + 1;
}

function HousingRequestForm({ caseId, onDone }: { caseId: string; onDone: () => void }) {
  const [first, setFirst] = useState(today());
  const [last, setLast] = useState("");
  const [urgency, setUrgency] = useState<Schemas["Urgency"]>("within_days");
  const [needs, setNeeds] = useState<Schemas["HousingNeeds"]>({ accessible: false, pets: false, couple: false });
  const ask = useAction(async () => {
    if (!first || !last) throw new Invalid(L("Indiquez la première et la dernière nuit.", "Give the first and last nights."));
    if (last < first) throw new Invalid(L("La dernière nuit précède la première.", "The last night comes before the first."));
    if (nightsBetween(first, last) > 366) throw new Invalid(L("366 nuits au plus.", "366 nights at most."));
    await ok(api.POST("/v1/cases/{id}/housing-requests", { params: { path: { id: caseId } }, body: { first_night: first, last_night: last, urgency, needs } }));
    announce(L("Demande d'hébergement envoyée", "Housing request sent"));
    setLast("");
    setNeeds({ accessible: false, pets: false, couple: false });
    onDone();
  });
  const need = (key: keyof Schemas["HousingNeeds"], text: string) => (
    <label class="check">
      <input type="checkbox" checked={needs[key]} onChange={(e) => setNeeds({ ...needs, [key]: e.currentTarget.checked })} />
      {text}
    </label>
  );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void ask.run();
      }}
    >
      <p class="muted">
        {L(
          "La plateforme voit la demande, le centre et les besoins, jamais le dossier ; les règles des mesures s'appliquent sans être montrées.",
          "The platform sees the request, the centre and the needs, never the case; the measures' rules apply without being shown.",
        )}
      </p>
      <Field label={L("Première nuit", "First night")}>
        {(id) => <input id={id} type="date" required min="2000-01-01" max="2199-12-31" value={first} onInput={(e) => setFirst(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Dernière nuit (incluse)", "Last night (included)")}>
        {(id) => <input id={id} type="date" required min={first || "2000-01-01"} max="2199-12-31" value={last} onInput={(e) => setLast(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Urgence", "Urgency")}>
        {(id) => (
          <select id={id} value={urgency} onChange={(e) => setUrgency(e.currentTarget.value as Schemas["Urgency"])}>
            <option value="tonight">{urgencyLabel("tonight")}</option>
            <option value="within_days">{urgencyLabel("within_days")}</option>
          </select>
        )}
      </Field>
      <fieldset>
        <legend>{L("Besoins", "Needs")}</legend>
        {need("accessible", L("Accessible à une personne à mobilité réduite", "Accessible to a person with reduced mobility"))}
        {need("pets", L("Avec un animal", "With a pet"))}
        {need("couple", L("En couple", "As a couple"))}
      </fieldset>
      <ErrorBox error={ask.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={ask.busy}>
          {L("Envoyer la demande", "Send the request")}
        </button>
      </div>
    </form>
  );
}
