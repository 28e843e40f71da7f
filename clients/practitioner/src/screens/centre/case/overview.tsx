// The person and the case: the identity, the follow-up's status, the referral the case comes from.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L, day, label, when } from "../../../i18n";
import { Badge, Loading, useLoad } from "../../../ui";
import { IdentityForm } from "./identity";
import { type Context, Lines, type Tone, authorityLabel } from "./shared";
import { CaseStatus } from "./status";

type Me = Schemas["Me"];
type Case = Schemas["Case"];

// Labels this screen needs beyond the shared ones.
function originLabel(origin: Schemas["CaseOrigin"]): string {
  switch (origin) {
    case "helpline":
      return L("Ligne d'écoute", "Helpline");
    case "justice":
      return L("Justice", "Justice system");
    case "housing":
      return L("Hébergement", "Housing");
    case "self":
      return L("Démarche personnelle", "Self-referred");
    default:
      return L("Autre", "Other");
  }
}

const CASE_TONE: Record<Schemas["CaseStatus"], Tone> = { open: "ok", suspended: "warn", closed: undefined };

export function Overview({ me, file: c, ctx, onChanged }: { me: Me; file: Case; ctx: Context; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const followers = c.practitioner_ids.map((p) => (p === me.user?.id ? L("vous", "you") : (ctx.names.get(p) ?? L("un·e collègue", "a colleague"))));
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
      <h2>{L("Prise en charge", "Follow-up")}</h2>
      <dl class="facts">
        <dt>{L("Statut", "Status")}</dt>
        <dd>
          <Badge tone={CASE_TONE[c.status]}>{label(c.status)}</Badge>
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
        <dt>{L("Ouverte le", "Opened")}</dt>
        <dd>{when(c.created_at, ctx.timeZone)}</dd>
        {c.closed_at ? (
          <>
            <dt>{L("Clôturée le", "Closed")}</dt>
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
