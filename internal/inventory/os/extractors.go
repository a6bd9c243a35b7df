package os

import "github.com/wardsec/ward/internal/inventory"

// Extractors returns the OS detector and the OS package extractors, in a
// fixed order.
func Extractors() []inventory.Extractor {
	return []inventory.Extractor{Release{}, Dpkg{}, DpkgCopyright{}, Apk{}, Rpm{}}
}
