package main

import (
	"go/token"
	"os"
)

var fset = token.NewFileSet()

func main() {
	password := os.Getenv("PASSWORD")
	secretKey := make([]byte, 32)
	_ = password
	_ = secretKey
	const commit = "9b8fc5b5e219d82a44d0ab2a30718b2e0570c3f7"
	const sum = "407d7114766bbf0dafed74f59c19746d2b62cda961107d517c1b43c08a74a34e"
}
