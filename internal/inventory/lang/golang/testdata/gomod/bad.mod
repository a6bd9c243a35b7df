module x

require (
	golang.org/x/text v0.3.0
	broken
)
