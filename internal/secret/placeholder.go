package secret

import (
	"strings"
)

// documentedExamples are keys published in vendor documentation; they are
// never real credentials.
var documentedExamples = []string{
	"AKIAIOSFODNN7EXAMPLE",
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"ASIAIOSFODNN7EXAMPLE",
	"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
}

// isDocumentedExample reports a vendor-documented example key or an
// obviously synthetic value (the word EXAMPLE, long runs of x or 0).
func isDocumentedExample(s string) bool {
	for _, d := range documentedExamples {
		if s == d {
			return true
		}
	}
	u := strings.ToUpper(s)
	if strings.Contains(u, "EXAMPLE") || strings.Contains(u, "XXXXXXXX") ||
		strings.Contains(s, "00000000000000") || strings.Contains(s, "********") {
		return true
	}
	return false
}

// placeholderWords mark values that are not real secrets when they appear
// inside the value (case-insensitive). Only obvious placeholders belong
// here: weak but real passwords ("password123", "hunter22", "testpass",
// "AdminPassword123!") are credentials someone can log in with and are
// reported.
var placeholderWords = []string{
	"example", "changeme", "change_me", "change-me", "changeit", "placeholder",
	"your_", "your-", "yourpass", "yoursecret", "yourtoken", "yourkey", "<your",
	"dummy", "redacted", "sample", "fake", "notreal", "not_real", "not-real",
	"insert", "replace", "put your", "unique phrase", "xxxx", "****", "....", "todo", "fixme", "secret_here",
	"password_here", "token_here", "key_here", "mysecret", "mypassword",
	"foobar", "abcdef", "undefined", "process.env", "os.environ", "getenv", "env(",
	"secretkeyref", "valuefrom", "secretref", "vault:", "ref+",
}

// placeholderExact are whole values that are never secrets outside a
// credential store: words that name a field rather than fill it.
var placeholderExact = map[string]bool{
	"password": true, "passwd": true, "secret": true, "token": true, "null": true,
	"none": true, "nil": true, "true": true, "false": true, "empty": true,
	"string": true, "required": true, "optional": true, "default": true,
	"test": true, "admin": true, "root": true, "user": true, "guest": true,
	"pass": true, "pwd": true, "apikey": true, "api_key": true, "value": true,
}

// storeExact are whole values that are not credentials even in a
// credential store (an unset field).
var storeExact = map[string]bool{
	"null": true, "none": true, "nil": true, "true": true, "false": true, "empty": true, "undefined": true,
}

// Placeholder filtering levels.
const (
	// levelStore: a credential store (.pgpass, FileZilla, shadow): only
	// templates and obvious placeholders are dropped.
	levelStore = iota
	// levelRule: a provider or format rule with placeholders: true.
	levelRule
	// levelGenericValue: a generic rule whose name is a password field
	// (db_password, userPassword, IRC_PASS): its value is taken at face
	// value even when it is made of letters only.
	levelGenericValue
	// levelGeneric: generic rules: identifiers, paths and URLs too.
	levelGeneric
)

// isPlaceholderLevel reports template references, environment lookups,
// masked values and other non-secrets, at a filtering level: the higher
// the level, the more is treated as a placeholder (see the level
// constants).
func isPlaceholderLevel(s string, level int) bool {
	if isDocumentedExample(s) {
		return true
	}
	l := strings.ToLower(strings.Trim(s, `'"`+"`"))
	if l == "" {
		return true
	}
	if level == levelStore {
		if storeExact[l] {
			return true
		}
	} else if placeholderExact[l] {
		return true
	}
	if isTemplateRef(l, level == levelStore) {
		return true
	}
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	if repeated(l) {
		return true
	}
	if level == levelStore {
		return false
	}
	if sequential(l) {
		return true
	}
	if level < levelGenericValue {
		return false
	}
	// Paths and URLs without credentials; identifiers and dotted names
	// (config references, code) unless the name says the value is a
	// password.
	if strings.HasPrefix(l, "/") || strings.HasPrefix(l, "./") ||
		strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") ||
		strings.HasPrefix(l, "file:") || strings.HasPrefix(l, "arn:") {
		return true
	}
	return level == levelGeneric && isIdentifierLike(s)
}

// isTemplateRef reports template and variable references: ${VAR},
// {{ x }}, #{x}, $(cmd), $VAR, %VAR%, %(name)s, <password>, [secret],
// @VAR@. In a credential store (exact) the delimiters must be balanced and
// a crypt hash ($6$salt$hash) is not a reference: a random salt or
// password may contain "#{" or start with "<".
func isTemplateRef(l string, exact bool) bool {
	if !exact {
		return strings.HasPrefix(l, "$") || strings.Contains(l, "${") || strings.Contains(l, "{{") ||
			strings.Contains(l, "}}") || strings.HasPrefix(l, "%") || strings.HasPrefix(l, "<") ||
			strings.HasSuffix(l, ">") || strings.HasPrefix(l, "[") || strings.HasPrefix(l, "@") ||
			strings.Contains(l, "#{")
	}
	if isCryptHash(l) {
		return false
	}
	closed := func(open, close string) bool {
		i := strings.Index(l, open)
		return i >= 0 && strings.Contains(l[i+len(open):], close)
	}
	return closed("${", "}") || closed("{{", "}}") || closed("#{", "}") || closed("$(", ")") ||
		len(l) > 1 && l[0] == '$' && (l[1] == '_' || isLowerASCII(l[1])) && isIdentifierLike(l[1:]) ||
		len(l) > 2 && (l[0] == '%' && l[len(l)-1] == '%' || l[0] == '<' && l[len(l)-1] == '>' ||
			l[0] == '[' && l[len(l)-1] == ']' || l[0] == '@' && l[len(l)-1] == '@') ||
		strings.HasPrefix(l, "%(")
}

// isCryptHash recognises modular crypt format hashes: $id$[params$]salt$hash
// with id 1, 2a/2b/2x/2y, 5, 6, y (yescrypt), gy, 7, apr1, md5, sha1.
func isCryptHash(l string) bool {
	for _, p := range []string{"$1$", "$2a$", "$2b$", "$2x$", "$2y$", "$5$", "$6$", "$y$", "$gy$", "$7$", "$apr1$", "$md5$", "$sha1$"} {
		if strings.HasPrefix(l, p) && len(l) >= len(p)+8 && strings.Count(l, "$") >= 3 {
			return true
		}
	}
	return false
}

// passwordNames are the last words of a field name that hold a password.
var passwordNames = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "pass": true, "passphrase": true, "pword": true,
}

// nameIsPassword reports whether the assignment name before a value ends
// with a password word: "db_password", "userPassword", "sshPassphrase",
// "IRC_PASS", `"pass"`, but not "passwordField", "password_policy" or
// "bypass".
func nameIsPassword(name string) bool {
	name = strings.TrimRight(name, " \t\r\n\"'`:=>,?|\\([{")
	// Python string prefixes (r"...", b'...') after the operator were
	// trimmed with the quotes; a trailing letter here is part of the name.
	end := len(name)
	i := end
	for i > 0 && isLowerASCII(name[i-1]) {
		i--
	}
	switch {
	case i == end:
		// Upper-case word (SNAKE_CASE) or nothing.
		for i > 0 && isUpperASCII(name[i-1]) {
			i--
		}
	case i > 0 && isUpperASCII(name[i-1]):
		i-- // camelCase: the capital starts the word
	}
	return i < end && passwordNames[strings.ToLower(name[i:end])]
}

func isLowerASCII(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpperASCII(c byte) bool { return c >= 'A' && c <= 'Z' }

// isIdentifierLike: only letters, '_', '.', '-', '/' (no digits): variable
// names, camelCase references, dotted config keys, relative paths.
func isIdentifierLike(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == '-' || c == '/') {
			return false
		}
	}
	return true
}

// repeated: one character (or a two-character pattern) repeated.
func repeated(s string) bool {
	if len(s) < 4 {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] != s[i-2] {
			return false
		}
	}
	return true
}

// sequential: runs like "0123456789" or "abcdefgh".
func sequential(s string) bool {
	if len(s) < 6 {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] != s[i-1]+1 {
			return false
		}
	}
	return true
}
