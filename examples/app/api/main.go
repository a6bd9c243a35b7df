// Command app is Ward's sample application: a tiny HTTP service whose
// dependencies are pinned to old, vulnerable versions on purpose.
package main

import (
	"fmt"
	"net/http"

	jwt "github.com/dgrijalva/jwt-go"
	"golang.org/x/text/language"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
		_, err := jwt.Parse(r.Header.Get("Authorization"), func(*jwt.Token) (interface{}, error) { return []byte("k"), nil })
		fmt.Fprintln(w, tags, err)
	})
	_ = http.ListenAndServe("127.0.0.1:8080", nil)
}
