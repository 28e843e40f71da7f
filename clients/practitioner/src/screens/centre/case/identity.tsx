// Rectifying the identity of the person followed.
import { useState } from "preact/hooks";
import { type Schemas, api, ok } from "../../../api";
import { L } from "../../../i18n";
import { ErrorBox, Field, Form, announce, useAction } from "../../../ui";
import { Invalid } from "../shared";
import { orNull, today } from "./shared";

type Case = Schemas["Case"];

export function IdentityForm({ file: c, onDone, onCancel }: { file: Case; onDone: () => void; onCancel: () => void }) {
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
    <Form onSubmit={() => save.run()}>
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
    </Form>
  );
}
