-- Issue 21: partners find their referrals by their own reference, and walk the list by pages.
-- The referring organisation's own reference for the person's file (a SPIP file number):
-- given at creation, never changed, searched only within the referring organisation.
ALTER TABLE referrals ADD COLUMN partner_reference TEXT;
CREATE INDEX referrals_partner_reference ON referrals (source_org_id, partner_reference);
-- The lists' keyset order: newest first, then by id.
CREATE INDEX referrals_incoming_page ON referrals (target_org_id, created_at, id);
CREATE INDEX referrals_outgoing_page ON referrals (source_org_id, created_at, id);
