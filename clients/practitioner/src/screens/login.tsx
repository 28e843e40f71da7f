// Login: email and password, then the one-time code when the account has one; the first
// time a role that sees personal data logs in where TOTP is required, enrolment.
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Schemas, api, login, logout, ok } from "../api";
import { L } from "../i18n";
import { ErrorBox, Field, Form, useAction } from "../ui";

type Props = { onDone: () => Promise<void>; langButton: JSX.Element; lockedEmail?: string };

export function Login({ onDone, langButton, lockedEmail }: Props) {
  const [email, setEmail] = useState(lockedEmail ?? "");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [needsCode, setNeedsCode] = useState(false);
  const codeInput = useRef<HTMLInputElement>(null);
  // The code field appears after the password: it takes the focus (keyboard and screen readers).
  useEffect(() => {
    if (needsCode) codeInput.current?.focus();
  }, [needsCode]);
  const submit = useAction(async () => {
    try {
      await login(email.trim(), password, needsCode ? code.trim() : undefined);
    } catch (e) {
      if (e instanceof ApiError && e.type === "totp-required") {
        setNeedsCode(true);
        return;
      }
      throw e;
    }
    setPassword("");
    await onDone();
  });
  return (
    <main class="login" id="main">
      <div class="login-top">{langButton}</div>
      <h1>Relais</h1>
      {lockedEmail !== undefined ? (
        <p class="notice" role="status">
          {L("Session verrouillée après inactivité. Reconnectez-vous pour continuer.", "Locked after inactivity. Log in again to go on.")}
        </p>
      ) : (
        <p class="muted">{L("Espace professionnel", "For professionals")}</p>
      )}
      <Form onSubmit={() => submit.run()}>
        <Field label={L("Adresse e-mail", "Email address")}>
          {(id) => (
            <input id={id} type="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          )}
        </Field>
        <Field label={L("Mot de passe", "Password")}>
          {(id) => (
            <input
              id={id}
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          )}
        </Field>
        {needsCode ? (
          <Field label={L("Code à usage unique", "One-time code")} hint={L("Les 6 chiffres de votre application d'authentification.", "The 6 digits from your authenticator app.")}>
            {(id, hint) => (
              <input
                id={id}
                aria-describedby={hint}
                inputMode="numeric"
                autocomplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                ref={codeInput}
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
              />
            )}
          </Field>
        ) : null}
        <ErrorBox error={submit.error} />
        <button class="primary" type="submit" disabled={submit.busy}>
          {L("Se connecter", "Log in")}
        </button>
      </Form>
    </main>
  );
}

export function Enrol({ onDone, langButton }: Omit<Props, "lockedEmail">) {
  const [enrolment, setEnrolment] = useState<Schemas["TotpEnrolment"]>();
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [enrolmentCode, setEnrolmentCode] = useState("");
  const start = useAction(async () => {
    setEnrolment(await ok(api.POST("/v1/auth/totp/enrol", { body: { password, enrolment_code: enrolmentCode.trim() } })));
    setPassword("");
  });
  const confirm = useAction(async () => {
    await ok(api.POST("/v1/auth/totp/confirm", { body: { code: code.trim(), enrolment_code: enrolmentCode.trim() } }));
    setEnrolment(undefined);
    setEnrolmentCode("");
    await onDone();
  });
  return (
    <main class="login" id="main">
      <div class="login-top">{langButton}</div>
      <h1>{L("Double authentification", "Two-step verification")}</h1>
      <p>
        {L(
          "Votre rôle donne accès à des données personnelles : ajoutez Relais à votre application d'authentification.",
          "Your role reaches personal data: add Relais to your authenticator app.",
        )}
      </p>
      {!enrolment ? (
        <Form onSubmit={() => start.run()}>
          <Field
            label={L("Code d'enrôlement", "Enrolment code")}
            hint={L(
              "Les 16 caractères remis par votre responsable (valables 72 heures).",
              "The 16 characters given by your manager (valid 72 hours).",
            )}
          >
            {(id, hint) => (
              <input
                id={id}
                aria-describedby={hint}
                autocomplete="off"
                autocapitalize="characters"
                spellcheck={false}
                maxLength={24}
                required
                value={enrolmentCode}
                onInput={(e) => setEnrolmentCode(e.currentTarget.value)}
              />
            )}
          </Field>
          <Field label={L("Mot de passe du compte", "Account password")}>
            {(id) => (
              <input
                id={id}
                type="password"
                autocomplete="current-password"
                required
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            )}
          </Field>
          <ErrorBox error={start.error} />
          <button class="primary" type="submit" disabled={start.busy}>
            {L("Commencer", "Start")}
          </button>
        </Form>
      ) : (
        <Form onSubmit={() => confirm.run()}>
          <p>{L("Clé à saisir dans l'application :", "Key to type in the app:")}</p>
          <p class="secret" data-testid="totp-secret">
            {enrolment.secret}
          </p>
          <p>
            <a href={enrolment.otpauth_uri}>{L("Ouvrir dans l'application d'authentification", "Open in the authenticator app")}</a>
          </p>
          <Field label={L("Code affiché par l'application", "Code shown by the app")}>
            {(id) => (
              <input
                id={id}
                inputMode="numeric"
                autocomplete="one-time-code"
                pattern="[0-9]{6}"
                maxLength={6}
                required
                value={code}
                onInput={(e) => setCode(e.currentTarget.value)}
              />
            )}
          </Field>
          <ErrorBox error={confirm.error} />
          <button class="primary" type="submit" disabled={confirm.busy}>
            {L("Valider", "Confirm")}
          </button>
        </Form>
      )}
      <button class="link" type="button" onClick={() => logout().then(() => location.reload())}>
        {L("Annuler et se déconnecter", "Cancel and log out")}
      </button>
    </main>
  );
}
