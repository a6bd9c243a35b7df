// Package java extracts Maven packages from Java archives (JAR, WAR, EAR
// and nested archives: pom.properties, then MANIFEST.MF, then the file
// name), from pom.xml (declared dependencies, properties substituted
// within the file) and from Gradle lockfiles.
package java

import (
	"github.com/wardsec/ward/internal/inventory/lang/langutil"
	"github.com/wardsec/ward/pkg/sbom"
)

// Ecosystem is OSV's name for Maven.
const Ecosystem = "Maven"

// mavenPackage builds a package named "groupId:artifactId" (just the
// artifactId when the group is unknown).
func mavenPackage(group, artifact, version, path string, line int) sbom.Package {
	name := artifact
	if group != "" {
		name = group + ":" + artifact
	}
	purl := langutil.PURL("maven", group, artifact, version)
	return sbom.Package{
		ID:        langutil.ID(purl, path),
		Name:      name,
		Version:   version,
		Ecosystem: Ecosystem,
		PURL:      purl,
		Type:      sbom.TypeLibrary,
		Path:      path,
		Line:      line,
	}
}

func validCoord(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == ':' || c == '/' || c == '\\' || c == '$' || c == '{' || c == '}' || c >= 0x7f {
			return false
		}
	}
	return true
}
