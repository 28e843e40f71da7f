// "My devices": the notifications while the app is closed (push.ts). This device's switch, and
// the person's devices that receive them (at most ten), each with when it subscribed and when
// a notification last went to it, to remove one (a lost phone, an old browser).
import { useRef, useState } from "preact/hooks";
import type { Schemas } from "../api";
import { L, count, day, when } from "../i18n";
import { type Device, type DeviceState, look, outcomeText, removeDevice, turnOff, turnOn, whatIsHeard } from "../push";
import { ListScreen } from "../pull";
import { Badge, Empty, ErrorBox, Loading, announce, useAction, useLoad } from "../ui";

/** This device's state, in a sentence. */
function stateText(state: DeviceState): string {
  switch (state) {
    case "on":
      return L("Cet appareil reçoit vos notifications, même quand l'application est fermée.", "This device receives your notifications, even when the app is closed.");
    case "off":
      return L("Cet appareil ne reçoit pas vos notifications.", "This device does not receive your notifications.");
    case "denied":
      return L(
        "Les notifications sont bloquées pour Relais sur cet appareil : autorisez-les dans les réglages du navigateur (ou du téléphone), puis actualisez.",
        "Notifications are blocked for Relais on this device: allow them in the browser's settings (or the phone's), then refresh.",
      );
    case "unsupported":
      return L(
        "Ce navigateur ne peut pas recevoir de notifications. Sur iPhone ou iPad, ajoutez d'abord Relais à l'écran d'accueil, puis ouvrez-le depuis l'écran d'accueil.",
        "This browser cannot receive notifications. On an iPhone or iPad, first add Relais to the home screen, then open it from there.",
      );
    case "unavailable":
      return L("Les notifications ne sont pas activées sur ce serveur Relais.", "Notifications are not turned on on this Relais server.");
    case "unknown":
      return L("Vérification…", "Checking…");
  }
}

export function Devices({ me }: { me: Schemas["Me"] }) {
  const seen = useLoad(look);
  const heading = useRef<HTMLHeadingElement>(null);
  return (
    <ListScreen title={L("Mes appareils", "My devices")} refresh={seen.reload} busy={seen.loading}>
      <p>
        {whatIsHeard(me)}{" "}
        {L("Une notification ne nomme personne et ne cite aucun message.", "A notification names no one and quotes no message.")}
      </p>
      <Loading loaded={seen}>
        {({ state, id, devices }) => (
          <>
            <h2>{L("Cet appareil", "This device")}</h2>
            <ThisDevice state={state} onChange={seen.reload} />
            {state === "unavailable" ? null : (
              <>
                <h2 ref={heading} tabIndex={-1}>
                  {L("Appareils qui reçoivent vos notifications", "Devices receiving your notifications")}{" "}
                  <Badge>{count(devices.length, { one: ["# appareil", "# device"], other: ["# appareils", "# devices"] })}</Badge>
                </h2>
                <DeviceList
                  devices={devices}
                  thisDevice={id}
                  onRemoved={() => {
                    seen.reload();
                    heading.current?.focus();
                  }}
                />
                <p class="hint">
                  {L(
                    "Dix appareils au plus : un onzième remplace le plus ancien. Se déconnecter arrête les notifications de l'appareil.",
                    "Ten devices at most: an eleventh replaces the oldest. Logging out stops the device's notifications.",
                  )}
                </p>
              </>
            )}
          </>
        )}
      </Loading>
    </ListScreen>
  );
}

/** The switch for this device, and what it can do. */
function ThisDevice({ state, onChange }: { state: DeviceState; onChange: () => void }) {
  // What the person asked for while it is being done: the switch shows it at once.
  const [asked, setAsked] = useState<boolean | undefined>(undefined);
  const change = useAction(async (on: boolean) => {
    if (on) {
      const outcome = await turnOn();
      if (outcome !== "on") throw new Error(outcomeText(outcome));
      announce(outcomeText(outcome));
    } else {
      await turnOff();
      announce(L("Notifications arrêtées sur cet appareil.", "Notifications stopped for this device."));
    }
  });
  const possible = state === "on" || state === "off";
  return (
    <>
      <label class="check">
        <input
          type="checkbox"
          role="switch"
          checked={asked ?? state === "on"}
          disabled={!possible}
          aria-describedby="device-state"
          onChange={(e) => {
            const on = e.currentTarget.checked;
            if (change.busy) return;
            setAsked(on);
            void change.run(on).finally(() => {
              setAsked(undefined);
              onChange();
            });
          }}
        />
        {L("Recevoir les notifications sur cet appareil", "Receive notifications on this device")}
      </label>
      <p id="device-state" class="muted" role="status">
        {change.busy ? (asked ? L("Activation…", "Turning on…") : L("Arrêt…", "Turning off…")) : stateText(state)}
      </p>
      <ErrorBox error={change.error} fields={SUBSCRIPTION_FIELDS} />
    </>
  );
}

/** The fields relais may refuse in a subscription: the browser's, never typed by the person. */
const SUBSCRIPTION_FIELDS = {
  get endpoint() {
    return L("Service de notifications du navigateur", "The browser's notification service");
  },
  get p256dh() {
    return L("Clé de l'appareil", "The device's key");
  },
  get auth() {
    return L("Secret de l'appareil", "The device's secret");
  },
  get device() {
    return L("Nom de l'appareil", "Device name");
  },
};

function DeviceList({ devices, thisDevice, onRemoved }: { devices: Device[]; thisDevice: string | undefined; onRemoved: () => void }) {
  const remove = useAction(async (device: Device) => {
    await removeDevice(device.id);
    announce(L(`Appareil retiré : ${device.device}.`, `Device removed: ${device.device}.`));
    onRemoved();
  });
  if (!devices.length) return <Empty>{L("Aucun appareil ne reçoit vos notifications.", "No device receives your notifications.")}</Empty>;
  return (
    <>
      <ErrorBox error={remove.error} />
      <ul class="list">
        {devices.map((d) => (
          <li key={d.id}>
            <span class="item-title">{d.device}</span> {d.id === thisDevice ? <Badge tone="ok">{L("Cet appareil", "This device")}</Badge> : null}
            <p class="meta">
              {L("Abonné le", "Subscribed on")} {day(d.created_at)}
              <br />
              {d.last_sent_at ? `${L("Dernière notification le", "Last notification on")} ${when(d.last_sent_at)}` : L("Aucune notification pour l'instant", "No notification yet")}
            </p>
            <div class="row">
              <button class="danger" type="button" onClick={() => remove.run(d)} disabled={remove.busy}>
                {L("Retirer", "Remove")}{" "}
                <span class="visually-hidden">
                  {d.device}, {L("abonné le", "subscribed on")} {day(d.created_at)}
                </span>
              </button>
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}
