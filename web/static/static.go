// Package static embeds the console's CSS, images and its little JavaScript.
package static

import "embed"

// FS holds every asset, served under /static/.
//
//go:embed *.css *.js *.svg
var FS embed.FS
