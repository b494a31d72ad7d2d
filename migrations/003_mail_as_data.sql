-- Mail as data: the outbox keeps what a mail states (a JSON payload), not
-- its rendered subject and bodies; the sender composes it at delivery. And an
-- invitation's closing reason becomes a code plus the person who acted,
-- instead of an English sentence.

-- Mail queued, already rendered, by the previous version cannot be composed
-- again: let that version deliver its queue before upgrading.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM email_outbox WHERE status IN ('queued', 'retrying')) THEN
    RAISE EXCEPTION 'email_outbox still has unsent mail from the previous version; run it until the queue is empty, then migrate';
  END IF;
END
$$;

ALTER TABLE email_outbox
  DROP COLUMN subject,
  DROP COLUMN body_text,
  DROP COLUMN body_html,
  -- MailData as JSON. Its "token" key is the only secret and is removed once
  -- the mail is sent, has failed for good or is cancelled.
  ADD COLUMN payload jsonb NOT NULL DEFAULT '{}',
  -- The same Message-ID on every attempt, so that a mail sent again after a
  -- crash (between the SMTP server's reply and our commit) is recognisably
  -- the same message.
  ADD COLUMN message_id uuid NOT NULL DEFAULT gen_random_uuid();

ALTER TABLE invitations ADD COLUMN status_by bigint REFERENCES users (id);
UPDATE invitations SET status_reason = CASE
    WHEN status_reason LIKE 'Revoked because %was removed%' THEN 'inviter_removed'
    WHEN status_reason LIKE 'Revoked because %left%' THEN 'inviter_left'
    WHEN status = 'revoked' THEN 'revoked'
    WHEN status = 'declined' THEN 'declined'
    ELSE ''
  END;
-- Why an invitation closed: '' (pending or accepted), revoked (status_by
-- revoked it), declined (by the invitee), inviter_removed / inviter_left /
-- inviter_demoted (its sender lost the authority it needs).
ALTER TABLE invitations ADD CONSTRAINT invitations_status_reason_known
  CHECK (status_reason IN ('', 'revoked', 'declined', 'inviter_removed', 'inviter_left', 'inviter_demoted'));
