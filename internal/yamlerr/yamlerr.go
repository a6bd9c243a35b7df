// Package yamlerr reads the position out of go.yaml.in/yaml/v3 syntax
// errors and corrects it: for parser errors ("did not find expected key",
// "did not find expected ',' or ']'", ...) yaml.v3 reports the 0-based line
// of the construct, one less than the line a user sees; scanner errors are
// already 1-based. For an unfinished construct (a sequence or mapping that
// is never closed) the line is where the construct starts.
package yamlerr

import (
	"regexp"
	"strconv"
	"strings"
)

var lineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parserMessages start the messages of yaml.v3's parser errors.
var parserMessages = []string{
	"did not find expected",
	"found undefined tag handle",
	"found duplicate %YAML directive",
	"found duplicate %TAG directive",
	"found incompatible YAML document",
}

// Position returns the 1-based line of a yaml.v3 syntax error and its
// message without the "yaml: line N:" prefix. ok is false when err carries
// no line (the message is then returned whole, without "yaml: ").
func Position(err error) (line int, msg string, ok bool) {
	if err == nil {
		return 0, "", false
	}
	s := err.Error()
	m := lineRe.FindStringSubmatch(s)
	if m == nil {
		return 0, strings.TrimPrefix(s, "yaml: "), false
	}
	line, _ = strconv.Atoi(m[1])
	msg = m[2]
	for _, p := range parserMessages {
		if strings.HasPrefix(msg, p) {
			line++
			break
		}
	}
	return line, msg, true
}
