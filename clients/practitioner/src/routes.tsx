// Which screens each role has, and which screen an address shows.
import type { Schemas } from "./api";
import { L } from "./i18n";
import { hearsPush } from "./push";
import { Agenda } from "./screens/centre/agenda";
import { CaseFile } from "./screens/centre/case";
import { Cases } from "./screens/centre/cases";
import { Inbox } from "./screens/centre/inbox";
import { Overview } from "./screens/centre/overview";
import { Calls } from "./screens/helpline/calls";
import { Conversation } from "./screens/helpline/conversation";
import { Queue } from "./screens/helpline/queue";
import { Replies } from "./screens/helpline/replies";
import { Inventory } from "./screens/housing/inventory";
import { Offers } from "./screens/housing/offers";
import { HousingRequest } from "./screens/housing/request";
import { HousingRequests } from "./screens/housing/requests";
import { Devices } from "./screens/devices";
import { Statistics } from "./screens/statistics";
import { Empty, Screen } from "./ui";

export type Role = Schemas["Role"];
type NavItem = { path: string; label: () => string };

const has = (me: Schemas["Me"], ...roles: Role[]) => roles.some((r) => me.roles.includes(r));

export function navFor(me: Schemas["Me"]): NavItem[] {
  const items: NavItem[] = [];
  const kind = me.organisation.kind;
  if (kind === "helpline" && has(me, "listener", "helpline_supervisor")) {
    items.push({ path: "/queue", label: () => L("File", "Queue") });
    items.push({ path: "/calls", label: () => L("Appels", "Calls") });
    items.push({ path: "/replies", label: () => L("Réponses", "Replies") });
  }
  if (kind === "centre" && has(me, "practitioner", "centre_manager")) {
    items.push({ path: "/inbox", label: () => L("Accueil", "Inbox") });
    items.push({ path: "/agenda", label: () => L("Agenda", "Calendar") });
    items.push({ path: "/cases", label: () => L("Dossiers", "Cases") });
  }
  if (kind === "centre" && has(me, "centre_manager")) {
    items.push({ path: "/overview", label: () => L("Vue d'ensemble", "Overview") });
  }
  if (kind === "housing_platform" && has(me, "housing_operator")) {
    items.push({ path: "/housing/requests", label: () => L("Demandes", "Requests") });
    items.push({ path: "/housing/offers", label: () => L("Offres", "Offers") });
  }
  if (has(me, "helpline_supervisor", "national_coordinator", "admin")) {
    items.push({ path: "/stats", label: () => L("Statistiques", "Statistics") });
  }
  if (has(me, "housing_operator", "national_coordinator", "admin")) {
    items.push({ path: "/housing/inventory", label: () => L("Inventaire", "Inventory") });
  }
  return items;
}

export function Routes({ me, path }: { me: Schemas["Me"]; path: string }) {
  const [, first = "", second = "", third = ""] = path.split("/");
  // From the menu, for those whose role is told of something.
  if (first === "devices") return hearsPush(me) ? <Devices me={me} /> : <NotFound />;
  // A detail screen belongs to the list it opens from.
  const home: Record<string, string> = { conversation: "/queue", case: "/cases", "housing/request": "/housing/requests" };
  const section = first === "housing" ? `${first}/${second}` : first;
  const allowed = navFor(me).some((item) => item.path === (home[section] ?? `/${section}`));
  if (!allowed && path !== "/") return <NotFound />;
  switch (first) {
    case "queue":
      return <Queue me={me} />;
    case "conversation":
      return <Conversation me={me} id={second} />;
    case "calls":
      return <Calls me={me} />;
    case "replies":
      return <Replies me={me} />;
    case "inbox":
      return <Inbox me={me} />;
    case "agenda":
      return <Agenda me={me} />;
    case "cases":
      return <Cases me={me} />;
    case "case":
      return <CaseFile me={me} id={second} />;
    case "overview":
      return <Overview me={me} />;
    case "stats":
      return <Statistics me={me} />;
    case "housing":
      if (second === "requests") return <HousingRequests me={me} />;
      if (second === "request") return <HousingRequest me={me} id={third} />;
      if (second === "offers") return <Offers me={me} />;
      if (second === "inventory") return <Inventory me={me} />;
      return <NotFound />;
    default:
      return navFor(me).length ? null : <NotFound />;
  }
}

function NotFound() {
  return (
    <Screen title={L("Page introuvable", "Page not found")}>
      <Empty>{L("Cette page n'existe pas ou n'est pas pour votre rôle.", "This page does not exist or is not for your role.")}</Empty>
    </Screen>
  );
}
