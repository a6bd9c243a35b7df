mws_token = amzn.mws.3cfcbcbc-1c4b-4ef2-9adb-850099052988
	Password string `json:"password"`

func Token() string { return os.Getenv("API_TOKEN") }
conn = "AccountEndpoint=https://demo-1dzrp.documents.azure.com:443/;AccountKey=VabXdhG0Fnxqmjt/+FgHaceriYIPzd3N+Fkuoo59fMwsgeo4BQAADGQLIglhOqdcZVY+ZbXrvUrLPE2UeYtucr==;"

package config

token = "ghp_BBuwHvvLwAUMgK4zaZRDxUubLJ3bIZsTgDjL"
	TokenURL string `json:"token_url"`
}

token = "glptt-fb17755e7495d38dd71ea2f7be623a784c2f75ff"

import "os"
}
token = "glsoat-nehnDMuWx4KA5fvRGc9b"
type Config struct {

package config
token = "ATATT3Ivi7pX9ZT-gScppRGnXL9-Zku-_2XxxGluMGZkRnJhKv2KCTn69P0Su2Kw92fpqmaHeOjInGEi99IKl89yGSDeBvTNxknzZs-9EnRBm0_Ibu21x6IdDiMZjzpywqWdjISr7fsqvZjnycRWIXa1SkwYi9A1EKh5WhqBTxDo8dyc0_9lfAaHIXYqJl0k"
	TokenURL string `json:"token_url"`
type Config struct {
// Token returns the API token from the environment.
token = "sq0csp-5ZFPrwfDeJbS7RfsgoYY6cANn07lE7qOJDkJOeTReVz"
import "os"

	TokenURL string `json:"token_url"`
PLAID_SECRET_KEY = "uw4txv8f9go2zb4mkgvehvuw4dnm3c"
	Password string `json:"password"`
	TokenURL string `json:"token_url"`
package config
MAILGUN_KEY = "key-664cd9fb12d0149f8f3515c0ce7aac4b"
func Token() string { return os.Getenv("API_TOKEN") }
	TokenURL string `json:"token_url"`
package config
TELEGRAM_TOKEN=1943719884:AAjhTG4rFrfUsil9j8TSTxQ2EUbi6F9qfHF
func Token() string { return os.Getenv("API_TOKEN") }
	TokenURL string `json:"token_url"`
}
SENDBIRD_KEY = "316d24855d31ec1c063ab5ad68c16ec71a420adc"
	Password string `json:"password"`
func Token() string { return os.Getenv("API_TOKEN") }
import "os"
token = "rubygems_88f7499cbb2ee5972151d02f91a7507ffb3b523ff67ac177"
}

	TokenURL string `json:"token_url"`
token = "AKCpjgn773Hgaqloukq9UJwH6DVgeJmUFNfJsddgfpZhYSsdfgSBa4lWugZIlPQ5GPwLvmKgo"
	TokenURL string `json:"token_url"`
func Token() string { return os.Getenv("API_TOKEN") }
type Config struct {
token = "dor_v1_7efc63dd9f5a78f534348a14707d19bdfbf003f1923ca1faaf55aaf49d1681cd"
func Token() string { return os.Getenv("API_TOKEN") }

	TokenURL string `json:"token_url"`
token = "pscale_oauth_sP5HbY4HuvtGuOrdrgGaGgZcp1J8F1dCyhKWPCNjdHt"
// Token returns the API token from the environment.

}
VAULT_TOKEN_KEY = "s.M1pFS3gFnVBuCKqN8Mgp3NJE"
	Password string `json:"password"`
import "os"
}
token = "sk-proj-J5s4K5fbQqFyLTDnTTBsr_LDaHpOQVI6Yb0nqkrCP5u99shu5ucMfEg5hGyBZSmyDr8ZfXwiHMIwFzWJWIWHDs_uVj1DiCeo-B2o_NYP3FtqIbcEMRt2Gpo4xnnMO1Lj5G24CGHyc1HWATokH47WX_1L2CqS"
}
	Password string `json:"password"`
	TokenURL string `json:"token_url"`
token = "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"
type Config struct {
func Token() string { return os.Getenv("API_TOKEN") }
	Password string `json:"password"`
ASSEMBLYAI_KEY = "12ac52e823e1b5ab0ca492c9a4e1ea22"
type Config struct {
func Token() string { return os.Getenv("API_TOKEN") }

token = "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"


type Config struct {
SPLUNK_KEY = "b0f6aa3c-8454-4474-a3d7-b7ae16fffee7"
	Password string `json:"password"`
type Config struct {
	TokenURL string `json:"token_url"`
AUTH0_CLIENT_SECRET_KEY = "EDLp9KwbXIvZ5Yi5hDLvRmgaMvyaWvPZR_TQU-IbKRc8CL019nDQgkce-22DtEJa"
import "os"

// Token returns the API token from the environment.
token = "EZAKlZq1Fk0IH88T3sVm0hrOIWHaetABOlymy9RmJxcE6q9GtnlhlsTO6h"
// Token returns the API token from the environment.
package config
import "os"
TWITTER_API_SECRET_KEY = "1oXNVavMYPfKJYSEh6D7irJkUH0Xs1tOKlqaWSJWZHi20kioJD"
package config
	Password string `json:"password"`
	TokenURL string `json:"token_url"`
CODECOV_KEY = "62eb4162-7fe1-4433-802b-d1ca830520d2"
}
import "os"

RAPIDAPI_KEY = "3IleQuf5PWueUZSAX8FXNHatM87nBEdXhhMRkFCHr5cEy4QXs5"
	TokenURL string `json:"token_url"`

// Token returns the API token from the environment.
NOMAD_TOKEN_KEY = "1af9c888-a027-4beb-aba6-7c8261c5c4a8"
package config
func Token() string { return os.Getenv("API_TOKEN") }

mysqldump -u root -pGKZxQAPsTB3E app > dump.sql
	Password string `json:"password"`

type Config struct {
