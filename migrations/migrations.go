// Package migrations embeds Roster's numbered, forward-only SQL migrations.
// Files are named NNN_name.sql and applied in order by tern; a file is never
// edited once it has landed: add a new one instead.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
