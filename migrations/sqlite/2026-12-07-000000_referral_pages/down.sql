DROP INDEX referrals_outgoing_page;
DROP INDEX referrals_incoming_page;
DROP INDEX referrals_partner_reference;
ALTER TABLE referrals DROP COLUMN partner_reference;
