-- The audit log no longer holds anything that ties a person's submissions together or to an
-- address (docs/AUDIT.md): no blind index, no list of submission ids.
--
-- Privacy entries listed the submissions they touched ("submissions: <id>,<id>"): keep the
-- count only.
UPDATE audit_log
SET detail = CASE
        WHEN detail = 'submissions: ' THEN 'submissions=0'
        ELSE 'submissions=' || (length(detail) - length(replace(detail, ',', '')) + 1)
    END
WHERE action LIKE 'privacy_%' AND detail LIKE 'submissions: %';

-- Views of contact details whose contact is gone (erased or removed) no longer name the
-- submission: the anonymous feedback left behind cannot be grouped by who sent it.
UPDATE audit_log SET submission_id = NULL
WHERE action IN ('view_contact', 'export_contact')
  AND submission_id IS NOT NULL
  AND submission_id NOT IN (SELECT submission_id FROM contacts);

-- No per-person key at all: the blind index column goes (values cleared first, so no row
-- version written from now on carries one).
UPDATE audit_log SET blind_index = NULL WHERE blind_index IS NOT NULL;
ALTER TABLE audit_log DROP COLUMN blind_index;
