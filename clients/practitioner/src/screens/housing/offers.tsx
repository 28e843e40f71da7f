// The housing platform's offers: hotels, shelters, apartments, host families and centre
// places, with their capacity, price and calendar; added and replaced whole. By name, a page at
// a time. An offer's place is entered by its address (its commune and position come from it), or
// by its commune when the address service is off or down.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Schemas, ApiError, api, ok } from "../../api";
import { type Address, AddressPicker, type Place, PlacePicker, communeText } from "../../geo";
import { L, day, number } from "../../i18n";
import { PAGE_SIZE, ShowMore, usePages } from "../../pages";
import { ListScreen } from "../../pull";
import { Badge, Choice, Empty, ErrorBox, Field, Form, Loading, TechnicalDetails, announce, useAction } from "../../ui";
import { euros, kindLabel, today } from "./requests";

type Offer = Schemas["HousingOffer"];
type Kind = Schemas["OfferKind"];

const KINDS: Kind[] = ["hotel", "shelter", "apartment", "host_family", "centre_place"];

/** The form's values, as typed. */
type Draft = {
  kind: Kind;
  name: string;
  provider: string;
  address: string;
  /** The commune's INSEE code, from the address or the commune chosen, and its names to show. */
  commune: string;
  commune_name: string;
  departement: string;
  departement_name: string;
  /** The address the commune and the position came from (they stay when the text is edited). */
  placed_at: string;
  latitude: string;
  longitude: string;
  capacity: string;
  price: string;
  available_from: string;
  available_until: string;
  accessible: boolean;
  pets: boolean;
  couples: boolean;
  hosts_victims: boolean;
  active: boolean;
};

function blank(): Draft {
  return {
    kind: "hotel",
    name: "",
    provider: "",
    address: "",
    commune: "",
    commune_name: "",
    departement: "",
    departement_name: "",
    placed_at: "",
    latitude: "",
    longitude: "",
    capacity: "1",
    price: "",
    available_from: today(),
    available_until: "",
    accessible: false,
    pets: false,
    couples: false,
    hosts_victims: false,
    active: true,
  };
}

function draftOf(o: Offer): Draft {
  return {
    kind: o.kind,
    name: o.name,
    provider: o.provider,
    address: o.address,
    commune: o.commune,
    commune_name: o.commune_name ?? "",
    departement: o.departement,
    departement_name: o.departement_name ?? "",
    placed_at: o.address,
    latitude: String(o.latitude),
    longitude: String(o.longitude),
    capacity: String(o.capacity),
    price: (o.price_cents / 100).toFixed(2),
    available_from: o.available_from,
    available_until: o.available_until ?? "",
    accessible: o.accessible,
    pets: o.pets,
    couples: o.couples,
    hosts_victims: o.hosts_victims,
    active: o.active,
  };
}

const decimal = (text: string) => Number(text.trim().replace(",", "."));

/** The offer to send, or the first problem found in the form. */
function bodyOf(d: Draft): Schemas["NewHousingOffer"] | string {
  const latitude = decimal(d.latitude);
  const longitude = decimal(d.longitude);
  const capacity = Number(d.capacity);
  const price = decimal(d.price);
  if (!d.address.trim()) return L("Indiquez l'adresse de l'offre.", "Give the offer's address.");
  if (!d.commune) {
    return L(
      "Choisissez l'adresse parmi les propositions (ou, sans service d'adresses, la commune) : la commune et la position en viennent.",
      "Choose the address among the suggestions (or, without the address service, the commune): the commune and the position come from it.",
    );
  }
  if (d.latitude.trim() === "" && d.longitude.trim() === "")
    return L("Position inconnue : indiquez-la sous « Position (avancé) ».", "Position unknown: give it under “Position (advanced)”.");
  if (d.latitude.trim() === "" || !Number.isFinite(latitude) || latitude < -90 || latitude > 90)
    return L("La latitude est un nombre entre -90 et 90.", "The latitude is a number between -90 and 90.");
  if (d.longitude.trim() === "" || !Number.isFinite(longitude) || longitude < -180 || longitude > 180)
    return L("La longitude est un nombre entre -180 et 180.", "The longitude is a number between -180 and 180.");
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1000)
    return L("Le nombre de places est un entier de 1 à 1 000.", "The number of places is a whole number from 1 to 1,000.");
  if (d.price.trim() === "" || !Number.isFinite(price) || price < 0 || price > 100_000)
    return L("Le prix d'une nuit est un montant de 0 à 100 000 €.", "The price of a night is an amount from €0 to €100,000.");
  if (d.available_until && d.available_until < d.available_from)
    return L("La dernière nuit ne peut précéder la première.", "The last night cannot come before the first.");
  return {
    kind: d.kind,
    name: d.name.trim(),
    provider: d.provider.trim(),
    address: d.address.trim(),
    commune: d.commune,
    latitude,
    longitude,
    capacity,
    price_cents: Math.round(price * 100),
    available_from: d.available_from,
    available_until: d.available_until || null,
    accessible: d.accessible,
    pets: d.pets,
    couples: d.couples,
    hosts_victims: d.hosts_victims,
    active: d.active,
  };
}

export function Offers({ me: _me }: { me: Schemas["Me"] }) {
  const offers = usePages((cursor) => ok(api.GET("/v1/housing/offers", { params: { query: { limit: PAGE_SIZE, cursor } } })));
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [hideWithdrawn, setHideWithdrawn] = useState(false);

  return (
    <ListScreen
      title={L("Offres d'hébergement", "Housing offers")}
      refresh={offers.reload}
      busy={offers.loading}
      actions={
        adding ? null : (
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            {L("Ajouter une offre", "Add an offer")}
          </button>
        )
      }
    >
      {adding ? (
        <NewOffer
          onCancel={() => setAdding(false)}
          onSaved={() => {
            setAdding(false);
            offers.reload();
          }}
        />
      ) : null}
      <h2>{L("Les offres de la plateforme", "The platform's offers")}</h2>
      <label class="check">
        <input type="checkbox" checked={hideWithdrawn} onChange={(e) => setHideWithdrawn(e.currentTarget.checked)} />
        {L("Masquer les offres retirées", "Hide withdrawn offers")}
      </label>
      <Loading loaded={offers}>
        {(loaded) => {
          // The withdrawn ones are hidden among the pages read: "Show more" may still bring active ones.
          const items = hideWithdrawn ? loaded.filter((o) => o.active) : loaded;
          return (
            <>
              {items.length ? (
                <ul class="list">
                  {items.map((o) => (
                    <li key={o.id}>
                      {editing === o.id ? (
                        <EditOffer
                          offer={o}
                          onCancel={() => setEditing(undefined)}
                          onSaved={() => {
                            setEditing(undefined);
                            offers.reload();
                          }}
                        />
                      ) : (
                        <OfferCard offer={o} onEdit={() => setEditing(o.id)} />
                      )}
                    </li>
                  ))}
                </ul>
              ) : (
                <Empty>{emptyText(loaded.length > 0, !!offers.more)}</Empty>
              )}
              <ShowMore pages={offers} />
            </>
          );
        }}
      </Loading>
    </ListScreen>
  );
}

/** Why no offer is listed: none yet, or only withdrawn ones (hidden) among those read so far. */
function emptyText(withdrawnHidden: boolean, more: boolean): string {
  if (!withdrawnHidden) return L("Aucune offre pour l'instant.", "No offer yet.");
  return more ? L("Aucune offre active parmi celles affichées.", "No active offer among those shown.") : L("Aucune offre active.", "No active offer.");
}

/** The form to add an offer; its heading takes the focus when it opens. */
function NewOffer({ onCancel, onSaved }: { onCancel: () => void; onSaved: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section aria-labelledby="new-offer">
      <h2 id="new-offer" tabIndex={-1} ref={heading}>
        {L("Nouvelle offre", "New offer")}
      </h2>
      <OfferForm onCancel={onCancel} onSaved={onSaved} />
    </section>
  );
}

function EditOffer({ offer, onCancel, onSaved }: { offer: Offer; onCancel: () => void; onSaved: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <>
      <h3 tabIndex={-1} ref={heading}>
        {L(`Modifier « ${offer.name} »`, `Edit "${offer.name}"`)}
      </h3>
      <OfferForm offer={offer} onCancel={onCancel} onSaved={onSaved} />
    </>
  );
}

function OfferCard({ offer: o, onEdit }: { offer: Offer; onEdit: () => void }) {
  const flags = [
    o.accessible ? L("accessible (mobilité réduite)", "accessible (reduced mobility)") : L("non accessible", "not accessible"),
    o.pets ? L("animaux acceptés", "pets welcome") : L("sans animaux", "no pets"),
    o.couples ? L("couples acceptés", "couples welcome") : L("sans couples", "no couples"),
  ];
  return (
    <>
      <h3 class="item-title">{o.name}</h3>
      <p>
        <Badge>{kindLabel(o.kind)}</Badge> {o.active ? null : <Badge tone="warn">{L("Retirée", "Withdrawn")}</Badge>}{" "}
        {o.hosts_victims ? <Badge tone="warn">{L("Accueille des victimes : jamais proposée à un auteur", "Shelters victims: never proposed to an author")}</Badge> : null}
      </p>
      <dl class="facts">
        <dt>{L("Gestionnaire", "Provider")}</dt>
        <dd>{o.provider}</dd>
        <dt>{L("Adresse", "Address")}</dt>
        <dd>{o.address}</dd>
        <dt>{L("Commune", "Commune")}</dt>
        <dd>
          {o.commune_name ?? o.commune} · {o.departement_name ?? o.departement} ({o.departement}) · {o.region_name ?? o.region}
        </dd>
        <dt>{L("Places", "Capacity")}</dt>
        <dd>{L(`${number(o.capacity)} par nuit`, `${number(o.capacity)} a night`)}</dd>
        <dt>{L("Prix", "Price")}</dt>
        <dd>{L(`${euros(o.price_cents)} la nuit`, `${euros(o.price_cents)} a night`)}</dd>
        <dt>{L("Ouverte", "Open")}</dt>
        <dd>
          {o.available_until
            ? L(`du ${day(o.available_from)} au ${day(o.available_until)}`, `from ${day(o.available_from)} to ${day(o.available_until)}`)
            : L(`à partir du ${day(o.available_from)}, sans fin`, `from ${day(o.available_from)}, with no end`)}
        </dd>
        <dt>{L("Accueil", "Welcomes")}</dt>
        <dd>{flags.join(", ")}</dd>
      </dl>
      <div class="row">
        <button type="button" onClick={onEdit} aria-label={L(`Modifier : ${o.name}`, `Edit: ${o.name}`)}>
          {L("Modifier", "Edit")}
        </button>
      </div>
    </>
  );
}

function OfferForm({ offer, onCancel, onSaved }: { offer?: Offer; onCancel: () => void; onSaved: () => void }) {
  const [draft, setDraft] = useState<Draft>(() => (offer ? draftOf(offer) : blank()));
  const [invalid, setInvalid] = useState<string | undefined>(undefined);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const save = useAction(async (body: Schemas["NewHousingOffer"]) => {
    if (offer) {
      await ok(api.PUT("/v1/housing/offers/{id}", { params: { path: { id: offer.id } }, body }));
      announce(L("Offre enregistrée.", "Offer saved."));
    } else {
      await ok(api.POST("/v1/housing/offers", { body }));
      announce(L("Offre ajoutée.", "Offer added."));
    }
    onSaved();
  });
  const submit = () => {
    const body = bodyOf(draft);
    if (typeof body === "string") {
      setInvalid(body);
      return;
    }
    setInvalid(undefined);
    void save.run(body);
  };
  const text = (key: "name" | "provider", labelText: string, max: number) => (
    <Field label={labelText}>
      {(id) => <input id={id} required maxLength={max} value={draft[key]} onInput={(e) => set(key, e.currentTarget.value)} />}
    </Field>
  );
  const flag = (key: "accessible" | "pets" | "couples" | "hosts_victims" | "active", labelText: string) => (
    <label class="check">
      <input type="checkbox" checked={draft[key]} onChange={(e) => set(key, e.currentTarget.checked)} />
      {labelText}
    </label>
  );

  return (
    <Form onSubmit={submit}>
      <Choice label={L("Type", "Kind")} value={draft.kind} options={KINDS} text={kindLabel} onChange={(k) => set("kind", k)} />
      {text("name", L("Nom", "Name"), 200)}
      {text("provider", L("Gestionnaire (chaîne hôtelière, association…)", "Provider (hotel chain, association…)"), 200)}
      <OfferPlace draft={draft} setDraft={setDraft} />
      <Field label={L("Places chaque nuit", "Places each night")}>
        {(id) => (
          <input
            id={id}
            type="number"
            inputMode="numeric"
            min={1}
            max={1000}
            step={1}
            required
            value={draft.capacity}
            onInput={(e) => set("capacity", e.currentTarget.value)}
          />
        )}
      </Field>
      <Field label={L("Prix d'une nuit (€)", "Price of a night (€)")}>
        {(id) => (
          <input
            id={id}
            type="number"
            inputMode="decimal"
            min={0}
            max={100000}
            step="0.01"
            required
            value={draft.price}
            onInput={(e) => set("price", e.currentTarget.value)}
          />
        )}
      </Field>
      <fieldset>
        <legend>{L("Ouverture", "Opening")}</legend>
        <Field label={L("Première nuit", "First night")}>
          {(id) => <input id={id} type="date" required value={draft.available_from} onInput={(e) => set("available_from", e.currentTarget.value)} />}
        </Field>
        <Field label={L("Dernière nuit (facultatif)", "Last night (optional)")} hint={L("Vide : sans fin.", "Empty: no end.")}>
          {(id, hint) => (
            <input
              id={id}
              type="date"
              min={draft.available_from}
              aria-describedby={hint}
              value={draft.available_until}
              onInput={(e) => set("available_until", e.currentTarget.value)}
            />
          )}
        </Field>
      </fieldset>
      <fieldset>
        <legend>{L("Accueil", "Welcomes")}</legend>
        {flag("accessible", L("Accessible (mobilité réduite)", "Accessible (reduced mobility)"))}
        {flag("pets", L("Accepte les animaux", "Takes pets"))}
        {flag("couples", L("Accepte les couples", "Takes couples"))}
        {flag("hosts_victims", L("Accueille aussi des victimes", "Also shelters victims"))}
        {offer ? flag("active", L("Active", "Active")) : null}
        <p class="hint">
          {L(
            "Une offre qui accueille des victimes n'est jamais proposée à un auteur. Décocher « Active » retire l'offre des propositions et des nouveaux placements.",
            "An offer that shelters victims is never proposed to an author. Unticking “Active” withdraws it from proposals and new placements.",
          )}
        </p>
      </fieldset>
      {invalid ? (
        <p class="error" role="alert">
          {invalid}
        </p>
      ) : null}
      <SaveError error={save.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? L("Enregistrement…", "Saving…") : offer ? L("Enregistrer", "Save") : L("Ajouter l'offre", "Add the offer")}
        </button>
        <button type="button" class="link" onClick={onCancel} disabled={save.busy}>
          {L("Annuler", "Cancel")}
        </button>
      </div>
    </Form>
  );
}

/** The offer's place: its address found through the address service, which gives its commune and
 * position; without the service, the address as typed and the commune chosen by name (the position
 * is then its town hall's). The position can be read and corrected under "advanced". */
function OfferPlace({ draft, setDraft }: { draft: Draft; setDraft: (change: (d: Draft) => Draft) => void }) {
  const [down, setDown] = useState<ApiError | undefined>(undefined);
  const fromAddress = (a: Address) =>
    setDraft((d) => ({
      ...d,
      address: a.label,
      commune: a.commune,
      commune_name: a.commune_name,
      departement: a.departement,
      departement_name: a.departement_name,
      placed_at: a.label,
      latitude: String(a.latitude),
      longitude: String(a.longitude),
    }));
  const fromCommune = (p: Place | undefined) =>
    setDraft((d) =>
      p
        ? {
            ...d,
            commune: p.code,
            commune_name: p.name,
            departement: p.departement,
            departement_name: p.departement_name,
            placed_at: "",
            // The town hall's point, when the commune has one; else the position is typed.
            latitude: p.latitude === null ? "" : String(p.latitude),
            longitude: p.longitude === null ? "" : String(p.longitude),
          }
        : { ...d, commune: "", commune_name: "", departement: "", departement_name: "", placed_at: "" },
    );
  const commune: Place[] = draft.commune
    ? [
        {
          kind: "commune",
          code: draft.commune,
          name: draft.commune_name || draft.commune,
          departement: draft.departement,
          departement_name: draft.departement_name,
          postal_codes: [],
          latitude: null,
          longitude: null,
        },
      ]
    : [];
  const where = draft.commune ? communeText({ commune_name: draft.commune_name || draft.commune, departement_name: draft.departement_name, departement: draft.departement }) : "";
  // Checked when the form is sent (bodyOf), not by the browser: folded away, they could not show why.
  const coordinate = (key: "latitude" | "longitude", labelText: string, hint: string) => (
    <Field label={labelText} hint={hint}>
      {(id, described) => (
        <input
          id={id}
          inputMode="decimal"
          autocomplete="off"
          aria-describedby={described}
          value={draft[key]}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setDraft((d) => ({ ...d, [key]: value }));
          }}
        />
      )}
    </Field>
  );
  return (
    <fieldset>
      <legend>{L("Lieu", "Place")}</legend>
      <AddressPicker
        label={L("Adresse", "Address")}
        hint={L("Numéro, rue et commune, puis choisissez parmi les propositions : la commune et la position en viennent.", "Number, street and commune, then choose among the suggestions: the commune and the position come from it.")}
        text={draft.address}
        onText={(address) => setDraft((d) => ({ ...d, address }))}
        onChoose={fromAddress}
        down={down}
        onDown={setDown}
        required
      />
      {down ? (
        <>
          <p>
            {L(
              "Sans le service d'adresses, l'adresse est gardée telle que vous l'écrivez : choisissez sa commune, l'offre sera placée à sa mairie (position corrigeable ci-dessous).",
              "Without the address service, the address is kept as you write it: choose its commune, and the offer is placed at its town hall (the position can be corrected below).",
            )}
          </p>
          <PlacePicker
            label={L("Commune", "Commune")}
            hint={L("Tapez son nom ou son code postal, puis choisissez-la.", "Type its name or postal code, then choose it.")}
            kinds={["commune"]}
            single
            chosen={commune}
            onChange={(places) => fromCommune(places[0])}
          />
        </>
      ) : (
        <p class="hint">
          {draft.commune
            ? L(`Commune : ${where}.`, `Commune: ${where}.`)
            : L("Commune : pas encore choisie, elle vient de l'adresse.", "Commune: not chosen yet, it comes from the address.")}{" "}
          {draft.commune && draft.placed_at && draft.address !== draft.placed_at
            ? L(
                `La commune et la position restent celles de « ${draft.placed_at} » : choisissez une proposition pour les changer.`,
                `The commune and the position stay those of "${draft.placed_at}": choose a suggestion to change them.`,
              )
            : null}
        </p>
      )}
      <details>
        <summary>{L("Position (avancé)", "Position (advanced)")}</summary>
        <p class="hint">{L("En degrés WGS84, remplie par l'adresse ou la commune choisie.", "In WGS84 degrees, filled in from the address or the commune chosen.")}</p>
        {coordinate("latitude", L("Latitude", "Latitude"), L("De -90 à 90, par exemple 48.8566", "From -90 to 90, e.g. 48.8566"))}
        {coordinate("longitude", L("Longitude", "Longitude"), L("De -180 à 180, par exemple 2.3522", "From -180 to 180, e.g. 2.3522"))}
      </details>
    </fieldset>
  );
}

/** A refused save; a 409 means booked nights hold the offer where and as it is. */
function SaveError({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError && error.status === 409) {
    return (
      <div class="error" role="alert">
        <p>
          <strong>{L("Des nuits sont réservées dans cette offre à partir d'aujourd'hui.", "Nights are booked in this offer from today on.")}</strong>
        </p>
        <p>
          {L(
            "Tant qu'elles le sont, l'offre ne peut ni changer de lieu ou de commune, ni accueillir des victimes, ni être retirée, ni avoir moins de places que de réservations, ni fermer une nuit réservée.",
            "While they are, the offer cannot change place or commune, shelter victims, be withdrawn, have fewer places than booked, or close a booked night.",
          )}
        </p>
        <TechnicalDetails error={error} />
      </div>
    );
  }
  return <ErrorBox error={error} />;
}
