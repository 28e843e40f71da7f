// The practitioner app: login (password, then TOTP), the shell with each role's screens, the
// live socket, the inactivity lock. Served by relais at /app.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, type Schemas, api, logout, ok, session } from "./api";
import { L, lang, setLang } from "./i18n";
import { type LiveState, live } from "./live";
import { Login, Enrol } from "./screens/login";
import { navFor, Routes } from "./routes";
import { Toasts, announce, go, useHash } from "./ui";

type Phase = { name: "boot" } | { name: "login" } | { name: "enrol" } | { name: "locked"; email: string } | { name: "ready"; me: Schemas["Me"] };

/** Minutes without a touch or a key before the app locks (`?lock=<seconds>` shortens it). */
const LOCK_MS = (() => {
  const asked = Number(new URLSearchParams(location.search).get("lock"));
  return Number.isFinite(asked) && asked >= 5 ? Math.min(asked, 300) * 1000 : 5 * 60 * 1000;
})();

async function whoAmI(): Promise<Schemas["Me"]> {
  return ok(api.GET("/v1/me"));
}

function App() {
  const [phase, setPhase] = useState<Phase>({ name: "boot" });
  const [, rerender] = useState(0);

  const enter = async () => {
    const me = await whoAmI();
    if (me.second_factor_required && !me.second_factor) setPhase({ name: "enrol" });
    else setPhase({ name: "ready", me });
  };

  useEffect(() => {
    // A reload in the same tab: the refresh token kept for the session opens it again.
    (async () => {
      if (session.refreshToken && (await session.refresh())) await enter().catch(() => setPhase({ name: "login" }));
      else setPhase({ name: "login" });
    })();
    return session.onChange(() => {
      if (session.refreshToken || session.access) return;
      // The session is gone (logout, lock, refused refresh): the socket and the screens go with it.
      live.stop();
      setPhase((p) => (p.name === "ready" ? { name: "login" } : p));
    });
  }, []);

  // The inactivity lock: the session is ended on the server and everything shown is dropped.
  useEffect(() => {
    if (phase.name !== "ready") return;
    let last = Date.now();
    const touch = () => (last = Date.now());
    const events = ["pointerdown", "keydown", "touchstart", "wheel"] as const;
    events.forEach((e) => addEventListener(e, touch, { passive: true }));
    const timer = setInterval(() => {
      if (Date.now() - last < LOCK_MS) return;
      clearInterval(timer);
      // The screen is cleared at once; the server ends the session without being waited for.
      setPhase({ name: "locked", email: phase.me.user?.email ?? "" });
      void logout();
    }, 1000);
    return () => {
      clearInterval(timer);
      events.forEach((e) => removeEventListener(e, touch));
    };
  }, [phase]);

  const switchLang = () => {
    setLang(lang() === "fr" ? "en" : "fr");
    rerender((n) => n + 1);
  };
  const langButton = (
    <button class="link lang" type="button" onClick={switchLang} lang={lang() === "fr" ? "en" : "fr"}>
      {lang() === "fr" ? "English" : "Français"}
    </button>
  );

  switch (phase.name) {
    case "boot":
      return <p class="boot" role="status">{L("Chargement…", "Loading…")}</p>;
    case "login":
      return <Login onDone={enter} langButton={langButton} />;
    case "locked":
      return <Login onDone={enter} langButton={langButton} lockedEmail={phase.email} />;
    case "enrol":
      return <Enrol onDone={enter} langButton={langButton} />;
    case "ready":
      return (
        <Shell
          me={phase.me}
          langButton={langButton}
          onLogout={() => {
            setPhase({ name: "login" });
            go("/");
            void logout();
          }}
        />
      );
  }
}

function Shell({ me, langButton, onLogout }: { me: Schemas["Me"]; langButton: preact.JSX.Element; onLogout: () => void }) {
  const hash = useHash();
  const nav = navFor(me);
  const [liveState, setLiveState] = useState<LiveState>(live.state);

  useEffect(() => {
    const helpline = me.organisation.kind === "helpline";
    const centre = me.organisation.kind === "centre";
    if (!helpline && !centre) return;
    const offState = live.onState(setLiveState);
    const off = live.on((event) => {
      // Announcements name what happened, never who.
      if (helpline && event.kind === "queue.changed") announce(L("Nouvelle conversation en attente", "New conversation waiting"), true);
      if (centre && event.kind === "referral.new") announce(L("Nouvelle orientation reçue", "New referral received"), true);
      if (centre && event.kind === "appointment.booked") announce(L("Nouveau rendez-vous", "New appointment"), true);
    });
    live.start();
    return () => {
      off();
      offState();
    };
  }, [me]);

  useEffect(() => {
    if ((hash === "/" || hash === "") && nav[0]) go(nav[0].path);
  }, [hash]);

  const askNotifications =
    "Notification" in window && Notification.permission === "default" ? (
      <button class="link" type="button" onClick={() => Notification.requestPermission()}>
        {L("Activer les notifications", "Turn on notifications")}
      </button>
    ) : null;

  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        {L("Aller au contenu", "Skip to content")}
      </a>
      <header class="top">
        <div class="brand">
          <strong>Relais</strong>
          <span class="org">{me.organisation.name}</span>
        </div>
        <div class="top-actions">
          {me.organisation.kind === "helpline" || me.organisation.kind === "centre" ? (
            <span class={`live ${liveState}`} role="status" aria-label={L("Connexion en direct", "Live connection")}>
              {liveState === "live" ? L("En direct", "Live") : liveState === "connecting" ? L("Connexion…", "Connecting…") : L("Hors ligne", "Offline")}
            </span>
          ) : null}
          {askNotifications}
          {langButton}
          <button class="link" type="button" onClick={onLogout}>
            {L("Se déconnecter", "Log out")}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes me={me} path={hash} />
      </main>
      <nav class="tabs" aria-label={L("Navigation principale", "Main navigation")}>
        {nav.map((item) => (
          <a key={item.path} href={`#${item.path}`} aria-current={hash.startsWith(item.path) ? "page" : undefined}>
            {item.label()}
          </a>
        ))}
      </nav>
      <Toasts />
    </div>
  );
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).catch(() => undefined);
}
addEventListener("unhandledrejection", (e) => {
  if (e.reason instanceof ApiError && e.reason.status === 401) session.forget();
});

const root = document.getElementById("root");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
