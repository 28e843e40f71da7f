// The contract's enumerations that screens offer as choices, in the order people read them.
import type { Schemas } from "./api";

export const OUTCOMES: Schemas["ConversationOutcome"][] = ["information_given", "oriented_to_centre", "appointment_booked", "emergency_redirected", "abandoned", "out_of_scope"];
export const CONTACT_KINDS: Schemas["ContactKind"][] = ["author", "potential_author", "relative", "professional", "victim", "unknown"];
export const CALL_TOPICS: Schemas["CallTopic"][] = ["violence_in_couple", "fear_of_acting_out", "court_measure", "housing", "addiction", "children", "mental_health", "information", "other"];
