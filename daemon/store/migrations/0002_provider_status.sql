-- Provider status callbacks find deliveries by the provider's id.
CREATE INDEX deliveries_by_provider_id ON deliveries (channel, provider_id)
  WHERE provider_id IS NOT NULL;

-- SMS segments the text needed (recorded when sent; NULL for other channels).
ALTER TABLE deliveries ADD COLUMN segments INTEGER;

-- Secrets homeroomd generates for itself (e.g. the key of reply and unsubscribe tokens).
CREATE TABLE secrets (
  name        TEXT PRIMARY KEY,
  value       BLOB NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;

-- Why a contact point stopped being used: 'active' | 'gone' (expired push subscription) |
-- 'stopped' (opted out at the provider) | 'bounced'. With when and why.
ALTER TABLE contact_points ADD COLUMN status_changed_at INTEGER;
ALTER TABLE contact_points ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
