// What several parts of the case file use: the centre's context, badge tones, today's date,
// optional text, the authorities' and measures' names, multi-line text and saving a file.
import { useEffect, useState } from "preact/hooks";
import type { Schemas } from "../../../api";
import { L, label } from "../../../i18n";
import { localInput, useAction } from "../../../ui";

type Measure = Schemas["Measure"];

export type Context = { timeZone: string | undefined; names: Map<string, string> };

export type Tone = "warn" | "ok" | "info" | undefined;

export const today = () => localInput().slice(0, 10);
export const orNull = (value: string) => (value.trim() ? value.trim() : null);

export function authorityLabel(authority: string | null | undefined): string {
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

export function measureName(m: Measure): string {
  return `${label(m.kind)} (${m.decision_reference})`;
}

/** Today (yyyy-mm-dd) in the centre's time zone, or the device's without one. */
export function todayIn(timeZone: string | undefined): string {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date());
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** A measure has ended once its last day (`ends_on`) is past; one without an end goes on. */
export function measureEnded(m: Measure, today: string): boolean {
  return m.ends_on !== null && m.ends_on < today;
}

/** A text with its line breaks kept. */
export function Lines({ text }: { text: string }) {
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

/** A blob answer saved as a file: the browser's download starts, and a link stays as a fallback. */
export function useDownload(fetchBlob: () => Promise<Blob>, filename: string) {
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
