-- Placeholder: number 005 is taken by a migration on another branch (Organizations).
-- tern needs the numbers without gaps, so this branch carries an empty 005
-- until that one lands; drop this file when merging it (tern refuses two 005s).
SELECT 1;
