// Protected persons: their labels and alert distances, and adding one, its home found by address
// (a number and a street at least; the position is typed only when the address service is off or
// down). Their locations are write-only: sent to the server, never shown again.
import { useState } from "preact/hooks";
import { type ApiError, type Schemas, api, ok } from "../../../api";
import { type Address, AddressPicker, communeText } from "../../../geo";
import { L, day, quantity } from "../../../i18n";
import { Empty, ErrorBox, Field, Form, Loading, announce, useAction, useLoad } from "../../../ui";
import { Invalid } from "../shared";
import { orNull } from "./shared";

export function ProtectedPersons({ caseId }: { caseId: string }) {
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
                    {L("Distance d'alerte", "Alert distance")} : {quantity(p.radius_km, "kilometer")} · {L("ajoutée le", "added")} {day(p.created_at)}
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

/** A home needs its street at least: a whole commune or a named place does not protect anyone. */
function refuseHome(a: Address): string | undefined {
  if (a.precision === "housenumber" || a.precision === "street") return undefined;
  return L(
    "Précisez le numéro et la rue : une commune entière ne suffit pas pour protéger une personne.",
    "Give the number and the street: a whole commune is not enough to protect a person.",
  );
}

function ProtectedPersonForm({ caseId, onDone }: { caseId: string; onDone: () => void }) {
  const [personLabel, setPersonLabel] = useState("");
  const [radius, setRadius] = useState("1");
  const [address, setAddress] = useState("");
  // The candidate chosen, while the text is still its label.
  const [home, setHome] = useState<Address | undefined>(undefined);
  // The address service is off or down: the position is typed instead.
  const [down, setDown] = useState<ApiError | undefined>(undefined);
  const [latitude, setLatitude] = useState("");
  const [longitude, setLongitude] = useState("");
  // Moves at each person added: the address box starts afresh.
  const [round, setRound] = useState(0);
  const add = useAction(async () => {
    if (!personLabel.trim()) throw new Invalid(L("Indiquez un libellé.", "Give a label."));
    const r = Number(radius);
    if (!Number.isInteger(r) || r < 1 || r > 10) throw new Invalid(L("Distance d'alerte : un nombre entier de 1 à 10 km.", "Alert distance: a whole number from 1 to 10 km."));
    let location: Schemas["NewProtectedPerson"]["location"];
    if (down) {
      const lat = Number(latitude.replace(",", "."));
      const lon = Number(longitude.replace(",", "."));
      if (!latitude.trim() || !Number.isFinite(lat) || lat < -90 || lat > 90) throw new Invalid(L("Latitude : entre -90 et 90 degrés.", "Latitude: between -90 and 90 degrees."));
      if (!longitude.trim() || !Number.isFinite(lon) || lon < -180 || lon > 180) throw new Invalid(L("Longitude : entre -180 et 180 degrés.", "Longitude: between -180 and 180 degrees."));
      location = { latitude: lat, longitude: lon, address: orNull(address) };
    } else {
      if (!home) {
        throw new Invalid(
          L(
            "Choisissez l'adresse du domicile parmi les propositions : tapez le numéro, la rue et la commune.",
            "Choose the home's address among the suggestions: type the number, the street and the commune.",
          ),
        );
      }
      const refused = refuseHome(home);
      if (refused) throw new Invalid(refused);
      location = { address: home.label, latitude: home.latitude, longitude: home.longitude };
    }
    await ok(
      api.POST("/v1/cases/{id}/protected-persons", {
        params: { path: { id: caseId } },
        body: { label: personLabel.trim(), radius_km: r, location },
      }),
    );
    announce(L("Personne protégée ajoutée", "Protected person added"));
    // The location leaves the screen as soon as it is sent.
    setPersonLabel("");
    setAddress("");
    setHome(undefined);
    setLatitude("");
    setLongitude("");
    setRound((n) => n + 1);
    onDone();
  });
  return (
    <Form autocomplete="off" onSubmit={() => add.run()}>
      <Field label={L("Libellé", "Label")} hint={L("Pas son nom : par exemple « Ex-conjointe ».", "Not their name: for instance “Former partner”.")}>
        {(id, hint) => <input id={id} aria-describedby={hint} required maxLength={100} value={personLabel} onInput={(e) => setPersonLabel(e.currentTarget.value)} />}
      </Field>
      <Field label={L("Distance d'alerte (km)", "Alert distance (km)")}>
        {(id) => <input id={id} type="number" inputMode="numeric" required min={1} max={10} step={1} value={radius} onInput={(e) => setRadius(e.currentTarget.value)} />}
      </Field>
      <fieldset>
        <legend>{L("Lieu de vie (jamais réaffiché)", "Where they live (never shown again)")}</legend>
        <AddressPicker
          key={round}
          label={down ? L("Adresse (facultatif)", "Address (optional)") : L("Adresse du domicile", "Home address")}
          hint={L("Numéro, rue et commune, puis choisissez parmi les propositions.", "Number, street and commune, then choose among the suggestions.")}
          text={address}
          onText={(text) => {
            setAddress(text);
            if (home && text !== home.label) setHome(undefined);
          }}
          onChoose={(a) => {
            setAddress(a.label);
            setHome(a);
          }}
          refuse={refuseHome}
          down={down}
          onDown={setDown}
        />
        {home && !down ? (
          <p class="hint">
            {L(`Domicile retenu, à ${communeText(home)}.`, `Home set, in ${communeText(home)}.`)}{" "}
            {home.precision === "street"
              ? L("Sans numéro, la position est celle de la rue : choisissez le numéro s'il est proposé.", "Without a number, the position is the street's: choose the number if it is offered.")
              : null}
          </p>
        ) : null}
        {down ? (
          <>
            <p>
              {L(
                "Sans le service d'adresses, donnez la position du domicile en degrés, lue par exemple sur une carte.",
                "Without the address service, give the home's position in degrees, read for instance on a map.",
              )}
            </p>
            <Field label={L("Latitude (degrés)", "Latitude (degrees)")}>
              {(id) => <input id={id} inputMode="decimal" required value={latitude} onInput={(e) => setLatitude(e.currentTarget.value)} />}
            </Field>
            <Field label={L("Longitude (degrés)", "Longitude (degrees)")}>
              {(id) => <input id={id} inputMode="decimal" required value={longitude} onInput={(e) => setLongitude(e.currentTarget.value)} />}
            </Field>
          </>
        ) : null}
      </fieldset>
      <ErrorBox error={add.error} />
      <div class="row">
        <button type="submit" class="primary" disabled={add.busy}>
          {L("Ajouter la personne protégée", "Add the protected person")}
        </button>
      </div>
    </Form>
  );
}
