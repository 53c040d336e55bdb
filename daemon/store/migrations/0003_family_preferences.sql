-- A school's "do not contact" flag on a guardian: only legally required messages reach them.
ALTER TABLE guardians ADD COLUMN do_not_contact INTEGER NOT NULL DEFAULT 0
  CHECK (do_not_contact IN (0, 1));
-- Messages an admin marked as legally required.
ALTER TABLE messages ADD COLUMN legally_required INTEGER NOT NULL DEFAULT 0
  CHECK (legally_required IN (0, 1));
