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
// inside the value (case-insensitive).
var placeholderWords = []string{
	"example", "changeme", "change_me", "change-me", "changeit", "placeholder",
	"your_", "your-", "yourpass", "yoursecret", "yourtoken", "yourkey", "<your",
	"dummy", "redacted", "sample", "fake", "notreal", "not_real", "not-real",
	"insert", "replace", "put your", "unique phrase", "xxxx", "****", "....", "todo", "fixme", "secret_here",
	"password_here", "token_here", "key_here", "mysecret", "mypassword",
	"secretpassword", "supersecret", "s3cr3t", "p@ssw0rd", "passw0rd",
	"password1", "password123", "hunter2", "letmein", "qwerty", "123456",
	"abcdef", "abc123", "foobar", "test123", "testpass", "testing",
	"undefined", "process.env", "os.environ", "getenv", "env(",
	"secretkeyref", "valuefrom", "secretref", "vault:", "ref+",
}

// placeholderExact are whole values that are never secrets.
var placeholderExact = map[string]bool{
	"password": true, "passwd": true, "secret": true, "token": true, "null": true,
	"none": true, "nil": true, "true": true, "false": true, "empty": true,
	"string": true, "required": true, "optional": true, "default": true,
	"test": true, "admin": true, "root": true, "user": true, "guest": true,
	"pass": true, "pwd": true, "apikey": true, "api_key": true, "value": true,
}

// isPlaceholder reports template references, environment lookups, masked
// values and other non-secrets. strict adds the checks used by generic
// rules (identifiers, paths, repeated characters).
func isPlaceholder(s string, strict bool) bool {
	if isDocumentedExample(s) {
		return true
	}
	l := strings.ToLower(strings.Trim(s, `'"`+"`"))
	if l == "" || placeholderExact[l] {
		return true
	}
	// Template and variable references: ${VAR}, {{ x }}, $(cmd), %VAR%,
	// %(name)s, <password>, [secret], @VAR@.
	if strings.HasPrefix(l, "$") || strings.Contains(l, "${") || strings.Contains(l, "{{") ||
		strings.Contains(l, "}}") || strings.HasPrefix(l, "%") || strings.HasPrefix(l, "<") ||
		strings.HasSuffix(l, ">") || strings.HasPrefix(l, "[") || strings.HasPrefix(l, "@") ||
		strings.Contains(l, "#{") {
		return true
	}
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	if repeated(l) || sequential(l) {
		return true
	}
	if !strict {
		return false
	}
	// Identifiers and dotted names (config references, code), paths, URLs
	// without credentials.
	if isIdentifierLike(s) || strings.HasPrefix(l, "/") || strings.HasPrefix(l, "./") ||
		strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") ||
		strings.HasPrefix(l, "file:") || strings.HasPrefix(l, "arn:") {
		return true
	}
	return false
}

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
