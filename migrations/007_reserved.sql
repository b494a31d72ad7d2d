-- Reserved: this number belongs to a migration of another branch. This
-- placeholder keeps the numbering in order until that branch lands.
SELECT 1;
