// The practitioner app: login (password, then TOTP), the shell with each role's screens, the
// live socket, the inactivity lock, notifications while the app is closed (push.ts). Served by
// relais at /app.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Schemas, api, logout, network, ok, session } from "./api";
import { L, lang, setLang } from "./i18n";
import { type LiveState, live } from "./live";
import { Login, Enrol } from "./screens/login";
import { navFor, Routes } from "./routes";
import { Menu, type MenuItem } from "./menu";
import { hearsPush, outcomeText, pushSupported, renew, tellWorkerLanguage, turnOn, useDevice } from "./push";
import { Toasts, announce, go, message, useHash } from "./ui";

type Phase =
  | { name: "boot" }
  | { name: "login" }
  | { name: "enrol" }
  | { name: "locked"; email: string }
  | { name: "offline" }
  | { name: "ready"; me: Schemas["Me"] };

/** Minutes without a touch or a key before the app locks (`?lock=<seconds>` shortens it). */
const LOCK_MS = (() => {
  const asked = Number(new URLSearchParams(location.search).get("lock"));
  return Number.isFinite(asked) && asked >= 5 ? Math.min(asked, 300) * 1000 : 5 * 60 * 1000;
})();

/** The person's activity is told to the other tabs of the session at most this often. */
const SHARE_ACTIVITY_MS = 10000;

async function whoAmI(): Promise<Schemas["Me"]> {
  return ok(api.GET("/v1/me"));
}

/** A failure to reach the server (no answer, or a server or proxy failing for now), as opposed
 * to an answer that refuses the session. */
const unreachable = (e: unknown) => e instanceof TypeError || (e instanceof ApiError ? e.status >= 500 : session.unreachable);

function App() {
  const [phase, setPhase] = useState<Phase>({ name: "boot" });
  const [, rerender] = useState(0);
  const current = useRef(phase);
  current.current = phase;

  const enter = async () => {
    const me = await whoAmI();
    if (me.second_factor_required && !me.second_factor) setPhase({ name: "enrol" });
    else setPhase({ name: "ready", me });
  };

  /** Opens the session this tab (or another one) has: "none" when there is none to open. */
  const resume = async (): Promise<"ready" | "none" | "offline"> => {
    if (!session.valid && session.refreshToken && !(await session.refresh())) {
      return session.unreachable ? "offline" : session.refreshToken ? "offline" : "none";
    }
    if (!session.valid) return "none";
    try {
      await enter();
      return "ready";
    } catch (e) {
      if (unreachable(e)) return "offline";
      throw e;
    }
  };

  useEffect(() => {
    // Another tab may hold the session (a new tab, a reload): it hands it over. Otherwise the
    // refresh token kept for this tab opens it again after a reload. Offline, the session is
    // kept and the app says it reconnects by itself.
    (async () => {
      await session.join();
      const got = await resume().catch(() => "none" as const);
      if (got === "offline") setPhase({ name: "offline" });
      else if (got === "none") setPhase({ name: "login" });
    })();
    const offAdopt = session.onAdopt(() => {
      // A login in another tab, while this one showed the login or the lock: it comes in too.
      const p = current.current.name;
      if (p === "login" || p === "locked") void enter().catch(() => undefined);
    });
    const offChange = session.onChange(() => {
      if (session.refreshToken || session.access) return;
      // The session is gone (logout, lock, refused refresh, here or in another tab): the socket
      // and the screens go with it.
      live.stop();
      const p = current.current;
      const reason = session.ended;
      if (p.name !== "ready" && p.name !== "enrol" && p.name !== "offline") return;
      go("/");
      if (reason !== "lock") setPhase({ name: "login" });
      else setPhase({ name: "locked", email: p.name === "ready" ? (p.me.user?.email ?? "") : "" });
    });
    return () => {
      offAdopt();
      offChange();
    };
  }, []);

  // Offline at start: tried again with growing pauses, and at once when the network returns.
  useEffect(() => {
    if (phase.name !== "offline") return;
    let pause = 2000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let trying = false;
    let done = false;
    const attempt = async () => {
      if (trying || done) return;
      trying = true;
      clearTimeout(timer);
      const got = await resume().catch(() => "none" as const);
      trying = false;
      if (done) return;
      if (got === "none") setPhase({ name: "login" });
      if (got !== "offline") return;
      timer = setTimeout(attempt, pause);
      pause = Math.min(pause * 2, 60000);
    };
    timer = setTimeout(attempt, pause);
    const offNetwork = network.on((online) => online && void attempt());
    const offChange = session.onChange(() => session.valid && void attempt());
    retryNow = () => void attempt();
    return () => {
      done = true;
      clearTimeout(timer);
      offNetwork();
      offChange();
      retryNow = () => undefined;
    };
  }, [phase.name]);

  // The inactivity lock: the session is ended on the server and everything shown is dropped, in
  // every tab of the session. A touch in any of its tabs counts.
  useEffect(() => {
    if (phase.name !== "ready" && phase.name !== "offline") return;
    let last = Date.now();
    let shared = 0;
    const touch = () => {
      last = Date.now();
      if (last - shared > SHARE_ACTIVITY_MS) {
        shared = last;
        session.shareActivity(last);
      }
    };
    const offActivity = session.onActivity((at) => (last = Math.max(last, Math.min(at, Date.now()))));
    const events = ["pointerdown", "keydown", "touchstart", "wheel"] as const;
    events.forEach((e) => addEventListener(e, touch, { passive: true }));
    const timer = setInterval(() => {
      if (Date.now() - last < LOCK_MS) return;
      clearInterval(timer);
      // The screen is cleared at once; the server ends the session without being waited for.
      setPhase({ name: "locked", email: phase.name === "ready" ? (phase.me.user?.email ?? "") : "" });
      go("/");
      void logout("lock");
    }, 1000);
    return () => {
      clearInterval(timer);
      offActivity();
      events.forEach((e) => removeEventListener(e, touch));
    };
  }, [phase]);

  const switchLang = () => {
    setLang(lang() === "fr" ? "en" : "fr");
    tellWorkerLanguage();
    rerender((n) => n + 1);
  };
  const langButton = (
    <button class="link lang" type="button" onClick={switchLang} lang={lang() === "fr" ? "en" : "fr"}>
      {lang() === "fr" ? "English" : "Français"}
    </button>
  );
  const leave = () => {
    setPhase({ name: "login" });
    go("/");
    void logout();
  };

  switch (phase.name) {
    case "boot":
      return <p class="boot" role="status">{L("Chargement…", "Loading…")}</p>;
    case "login":
      return <Login onDone={enter} langButton={langButton} />;
    case "locked":
      return <Login onDone={enter} langButton={langButton} lockedEmail={phase.email} />;
    case "enrol":
      return <Enrol onDone={enter} langButton={langButton} />;
    case "offline":
      return <Offline langButton={langButton} onLogout={leave} />;
    case "ready":
      return <Shell me={phase.me} switchLang={switchLang} onLogout={leave} />;
  }
}

/** Set by the offline screen's effect: tries at once instead of waiting for the next pause. */
let retryNow: () => void = () => undefined;

/** The session is kept but the server cannot be reached (a start or a reload without network). */
function Offline({ langButton, onLogout }: { langButton: preact.JSX.Element; onLogout: () => void }) {
  useEffect(() => {
    document.title = `${L("Hors ligne", "Offline")} · Relais`;
  }, []);
  return (
    <main class="login" id="main">
      <div class="login-top">{langButton}</div>
      <h1>Relais</h1>
      <p class="notice offline-state" role="status">
        <strong>{L("Hors ligne — reconnexion automatique", "Offline — reconnecting automatically")}</strong>
      </p>
      <p>
        {L(
          "Votre session est gardée dans cet onglet : l'application reprend d'elle-même dès que le réseau revient.",
          "Your session is kept in this tab: the app resumes by itself as soon as the network is back.",
        )}
      </p>
      <div class="row">
        <button type="button" onClick={() => retryNow()}>
          {L("Réessayer maintenant", "Try again now")}
        </button>
        <button class="link" type="button" onClick={onLogout}>
          {L("Se déconnecter", "Log out")}
        </button>
      </div>
    </main>
  );
}

function Shell({ me, switchLang, onLogout }: { me: Schemas["Me"]; switchLang: () => void; onLogout: () => void }) {
  const hash = useHash();
  const nav = navFor(me);
  const [liveState, setLiveState] = useState<LiveState>(live.state);
  const [online, setOnline] = useState(network.online);
  const [, rerender] = useState(0);
  const hears = hearsPush(me);
  const device = useDevice();
  const followsLive = hasLive(me);

  useEffect(() => network.on(setOnline), []);

  // Notifications while the app is closed: this device's subscription, if it is the person's,
  // goes with this session (relais wakes a device only while the session that subscribed it
  // lives).
  useEffect(() => {
    tellWorkerLanguage();
    if (hears) void renew().catch(() => undefined);
  }, [me]);

  useEffect(() => {
    const helpline = me.organisation.kind === "helpline";
    const centre = me.organisation.kind === "centre";
    const housing = me.organisation.kind === "housing_platform";
    if (!followsLive) return;
    const offState = live.onState(setLiveState);
    const off = live.on((event) => {
      // Announcements name what happened, never who; a system notification of the same topic
      // as a push (sw.js) replaces it rather than adding a second one.
      if (helpline && event.kind === "queue.changed") announce(L("Nouvelle conversation en attente", "New conversation waiting"), true, false, "queue");
      if (centre && event.kind === "referral.new") announce(L("Nouvelle orientation reçue", "New referral received"), true, false, "referral");
      if (centre && event.kind === "appointment.booked") announce(L("Nouveau rendez-vous", "New appointment"), true);
      if (housing && event.kind === "referral.new") announce(L("Nouvelle demande d'hébergement", "New housing request"), true, false, "housing");
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

  // Turning notifications on: this device subscribed (push), or, for a role told of nothing
  // while the app is closed, the permission for the announcements shown while it is open.
  const turnOnNotifications = async () => {
    if (hears && pushSupported()) {
      const outcome = await turnOn().catch((e: unknown) => {
        announce(message(e));
        return undefined;
      });
      if (outcome) announce(outcomeText(outcome));
    } else {
      await Notification.requestPermission().catch(() => undefined);
    }
    rerender((n) => n + 1);
  };
  const items: MenuItem[] = [];
  items.push({ text: lang() === "fr" ? "English" : "Français", lang: lang() === "fr" ? "en" : "fr", run: switchLang });
  const permission = "Notification" in window ? Notification.permission : "denied";
  if (permission === "default" || (permission === "granted" && hears && pushSupported() && device.state === "off")) {
    items.push({ text: L("Activer les notifications", "Turn on notifications"), run: () => void turnOnNotifications() });
  }
  if (hears) items.push({ text: L("Mes appareils", "My devices"), run: () => go("/devices"), refocus: false });
  items.push({ text: L("Se déconnecter", "Log out"), run: onLogout, refocus: false });

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
        {followsLive ? (
          <span class={`live ${liveState}`} role="status" aria-label={L("Connexion en direct", "Live connection")}>
            {liveState === "live" ? L("En direct", "Live") : liveState === "connecting" ? L("Connexion…", "Connecting…") : L("Hors ligne", "Offline")}
          </span>
        ) : null}
        <Menu label={L("Menu", "Menu")} heading={me.user?.email ?? me.organisation.name} items={items} />
      </header>
      {online ? null : (
        <p class="offline-banner" role="status">
          {L("Hors ligne — reconnexion automatique", "Offline — reconnecting automatically")}
        </p>
      )}
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

/** Whether the person's screens follow the live socket: the helpline's and a centre's staff,
 * and the housing platform's operators. */
function hasLive(me: Schemas["Me"]): boolean {
  const kind = me.organisation.kind;
  return kind === "helpline" || kind === "centre" || (kind === "housing_platform" && me.roles.includes("housing_operator"));
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).catch(() => undefined);
  // A notification touched while the app is open: the service worker names the screen to show.
  navigator.serviceWorker.addEventListener("message", (event: MessageEvent) => {
    const data: unknown = event.data;
    if (!data || typeof data !== "object" || (data as { kind?: unknown }).kind !== "open") return;
    const url = new URL(String((data as { url?: unknown }).url), location.origin);
    if (url.origin === location.origin && url.pathname === "/app" && url.hash.startsWith("#/")) go(url.hash.slice(1));
  });
}
addEventListener("unhandledrejection", (e) => {
  if (e.reason instanceof ApiError && e.reason.status === 401) session.forget("refused");
});

const root = document.getElementById("root");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
