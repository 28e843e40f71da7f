// What the centre's screens (the agenda and the case file) share.
import { lang } from "../../i18n";

/** A mistake caught before sending, shown as is by ErrorBox. */
export class Invalid extends Error {
  override toString(): string {
    return this.message;
  }
}

export const locale = () => (lang() === "en" ? "en-GB" : "fr-FR");
