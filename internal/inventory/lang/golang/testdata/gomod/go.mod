module example.com/wardsample/api

go 1.21

toolchain go1.21.5

require (
	github.com/gin-gonic/gin v1.6.0
	golang.org/x/text v0.3.0
	github.com/dgrijalva/jwt-go v3.2.0+incompatible
	example.com/internal/lib v0.0.0-00010101000000-000000000000
)

require (
	github.com/golang/protobuf v1.3.3 // indirect
	golang.org/x/sys v0.0.0-20200116001909-b77594299b42 // indirect
	gopkg.in/yaml.v2 v2.2.8 // indirect
)

replace example.com/internal/lib => ../lib

replace golang.org/x/sys v0.0.0-20200116001909-b77594299b42 => golang.org/x/sys v0.0.0-20220412211240-33da011f77ad

exclude github.com/gin-gonic/gin v1.5.0
