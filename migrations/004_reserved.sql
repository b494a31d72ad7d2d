-- Placeholder, reserved for another branch that adds migration 004 (tern
-- refuses a gap in the numbering). It changes nothing: drop this file when
-- that branch's 004 is merged.
SELECT 1;
