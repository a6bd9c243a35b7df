package javascript

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/wardsec/ward/internal/inventory"
)

// syntheticLockV3 builds a package-lock.json (lockfileVersion 3) with n
// packages, a third of them nested, each depending on two others.
func syntheticLockV3(n int) []byte {
	pkgs := map[string]any{"": map[string]any{"name": "big", "version": "1.0.0", "dependencies": map[string]string{"pkg-0": "^1.0.0", "pkg-1": "^1.0.0"}}}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("node_modules/pkg-%d", i)
		if i%3 == 2 {
			key = fmt.Sprintf("node_modules/pkg-%d/node_modules/pkg-%d", i-1, i)
		}
		pkgs[key] = map[string]any{
			"version":   fmt.Sprintf("1.%d.%d", i%17, i%5),
			"resolved":  fmt.Sprintf("https://registry.npmjs.org/pkg-%d/-/pkg-%d-1.0.0.tgz", i, i),
			"integrity": "sha512-PYAthTa2m2VKxuvSD3DPC/Gy+U+sOA1LAuT8mkmRuvw+NACSaeXEQ+NHcVF7rONl6qcaxV3Uuemwawk+7+SJLw==",
			"license":   "MIT",
			"dev":       i%7 == 0,
			"dependencies": map[string]string{
				fmt.Sprintf("pkg-%d", (i+1)%n):   "^1.0.0",
				fmt.Sprintf("pkg-%d", (i*7+3)%n): "^1.0.0",
			},
		}
	}
	b, _ := json.MarshalIndent(map[string]any{"name": "big", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": pkgs}, "", "  ")
	return b
}

func BenchmarkPackageLockV3(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		data := syntheticLockV3(n)
		b.Run(fmt.Sprintf("packages=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				pkgs, err := PackageLock{}.Extract(context.Background(), &inventory.Input{Path: "package-lock.json", Reader: bytes.NewReader(data), Size: int64(len(data))})
				if err != nil || len(pkgs) != n {
					b.Fatalf("%d packages, %v", len(pkgs), err)
				}
			}
		})
	}
}

func BenchmarkYarnLockBerry(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("__metadata:\n  version: 8\n  cacheKey: 10c0\n\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&buf, "\"pkg-%d@npm:^1.0.0\":\n  version: 1.0.%d\n  resolution: \"pkg-%d@npm:1.0.%d\"\n  dependencies:\n    pkg-%d: \"npm:^1.0.0\"\n  checksum: 10c0/abc\n  languageName: node\n  linkType: hard\n\n", i, i%9, i, i%9, (i+1)%5000)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		pkgs, err := YarnLock{}.Extract(context.Background(), &inventory.Input{Path: "yarn.lock", Reader: bytes.NewReader(data), Size: int64(len(data))})
		if err != nil || len(pkgs) != 5000 {
			b.Fatalf("%d packages, %v", len(pkgs), err)
		}
	}
}
