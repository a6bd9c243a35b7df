package secret

import "testing"

func TestPlaceholderLevels(t *testing.T) {
	for _, tc := range []struct {
		value string
		// placeholder at levelStore, levelRule, levelGenericValue, levelGeneric
		want [4]bool
	}{
		// Obvious placeholders: dropped everywhere.
		{"changeme", [4]bool{true, true, true, true}},
		{"<password>", [4]bool{true, true, true, true}},
		{"${DB_PASSWORD}", [4]bool{true, true, true, true}},
		{"{{ .Values.password }}", [4]bool{true, true, true, true}},
		{"xxxxxxxx", [4]bool{true, true, true, true}},
		{"your-secret-key-here", [4]bool{true, true, true, true}},
		{"AKIAIOSFODNN7EXAMPLE", [4]bool{true, true, true, true}},
		{"", [4]bool{true, true, true, true}},
		// Weak but real passwords: reported everywhere.
		{"AdminPassword123!", [4]bool{false, false, false, false}},
		{"hunter22", [4]bool{false, false, false, false}},
		{"testpass", [4]bool{false, false, false, true}}, // letters only: an identifier to a generic rule
		{"password123", [4]bool{false, false, false, false}},
		{"123456", [4]bool{false, true, true, true}}, // sequential outside a store
		// Field words: a value only in a credential store.
		{"password", [4]bool{false, true, true, true}},
		{"admin", [4]bool{false, true, true, true}},
		{"null", [4]bool{true, true, true, true}},
		// Letters-only values: identifiers in code, passwords under a password name.
		{"mongopass", [4]bool{false, false, false, true}},
		{"/etc/app/secret", [4]bool{false, false, true, true}},
		// Crypt hashes start with "$" but are not variables in a store.
		{"$6$Zs9GdXf2$iy8jjMj8wtybqIesRin..k90mLc", [4]bool{false, true, true, true}},
		// Random salts may contain template-looking characters.
		{"Ed&1cr+{3T$a+{[8LP~i5-[|Z`x-V>;Di_C/E~Un#{D[-t>yIUZ8YqSu3t", [4]bool{false, true, true, true}},
		{"#{vault_password}", [4]bool{true, true, true, true}},
		{"$SSH_PASS", [4]bool{true, true, true, true}},
	} {
		for lvl := levelStore; lvl <= levelGeneric; lvl++ {
			if got := isPlaceholderLevel(tc.value, lvl); got != tc.want[lvl] {
				t.Errorf("isPlaceholderLevel(%q, %d) = %v, want %v", tc.value, lvl, got, tc.want[lvl])
			}
		}
	}
}

func TestNameIsPassword(t *testing.T) {
	for name, want := range map[string]bool{
		`db_password = "`:    true,
		`"userPassword" : "`: true,
		`"sshPassphrase": "`: true,
		`IRC_PASS=`:          true,
		`"pass": "`:          true,
		`DB_PWD: `:           true,
		`"passwordField": "`: false,
		`password_policy: `:  false,
		`bypass = "`:         false,
		`compass = "`:        false,
		`token = "`:          false,
		``:                   false,
	} {
		if got := nameIsPassword(name); got != want {
			t.Errorf("nameIsPassword(%q) = %v, want %v", name, got, want)
		}
	}
}
