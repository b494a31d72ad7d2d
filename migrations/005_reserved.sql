-- Reserved for the Organizations migration, which is being written on
-- another branch; tern refuses a gap in the numbering, so this placeholder
-- keeps 006 applicable until that migration lands and replaces it.
SELECT 1;
