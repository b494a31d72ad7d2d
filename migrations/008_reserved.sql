-- Reserved: this number belongs to a migration of another branch in progress.
SELECT 1;
