-- Reserved: another branch lands its migration 006 under this number. This
-- placeholder keeps the numbering continuous until then; it is dropped at merge.
SELECT 1;
