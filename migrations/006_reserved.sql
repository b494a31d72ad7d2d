-- Placeholder: number 006 is taken by a migration on another branch (two-factor).
-- tern needs the numbers without gaps, so this branch carries an empty 006
-- until that one lands; drop this file when merging it (tern refuses two 006s).
SELECT 1;
