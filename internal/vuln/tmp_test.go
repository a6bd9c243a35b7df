package vuln

import "os"

func mkTemp() (string, error) { return os.MkdirTemp("", "ward-vuln-test-*") }
