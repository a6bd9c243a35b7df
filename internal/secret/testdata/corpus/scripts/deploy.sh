AWS_BEARER_TOKEN_BEDROCK=ABSKmx/gwsmr/mYVJ/6WSpC9GYXDcg4BAXl/L0bkXmCCqrsvG1utdWt2kLkW8ymfi34Dcntk7OmAODTJZwDY3FhoM4d9bvWTcEMqDWJ9wBztdiD8XXfDgulkDl6WKkrnwGOl9guX
TOKEN="$(vault read -field=token secret/ci)"
#!/usr/bin/env bash
echo "deploying $APP"
DefaultEndpointsProtocol=https;AccountName=sti7ok55zvzp;AccountKey=Kq4yIwYAcfVMdhwTZ26+P2VsB3qfuNiQ01tElxhfrAZhs0F4qquphGGBAGkjHPbDmYujKg9Z6Un94zSiKwa/sm==;EndpointSuffix=core.windows.net
set -euo pipefail
#!/usr/bin/env bash
echo "deploying $APP"
token = "GR1348941wtFwKjd8nwgll66TFt9W"
#!/usr/bin/env bash
echo "deploying $APP"
kubectl apply -f k8s/
token = "glcbt-uB_8l8NxZTlhQZljfdoQFz5"
#!/usr/bin/env bash
echo "deploying $APP"
set -euo pipefail
JIRA_API_KEY = "M7Gvnz11VyG6Pn8RHV5wy8C7"
kubectl apply -f k8s/
echo "deploying $APP"
#!/usr/bin/env bash
token = "xoxe-1-ZA4RPCSNFL7STJ6ZY94RRBT5DEDSN07IYWAZ8KD0ESMGIG1PHABX0L5NH7GQVHSTNKWF75IE14WNEC3URDF7GCCZ0ZMORHSQ3H2JSLK24CYQHK4PGKLRIVYZXKK1H2MX0FCLX5N2M9XJZV90HI"
kubectl apply -f k8s/
#!/usr/bin/env bash
TOKEN="$(vault read -field=token secret/ci)"
token = "EAAAxHRFje3xm6c-GGAmLfhxKEVaKItUnJU4WaSNwvnOsL_QHW16M-OFmhXcoI_g"
#!/usr/bin/env bash
kubectl apply -f k8s/
echo "deploying $APP"
plaid_token = "access-production-e5100e16-90b2-4d9c-969a-74abf9826369"
kubectl apply -f k8s/
TOKEN="$(vault read -field=token secret/ci)"
set -euo pipefail
MAILGUN_KEY = "61a6959895a1fd96d0ad4ff7321e1453-094058d3-e99a4408"
#!/usr/bin/env bash
TOKEN="$(vault read -field=token secret/ci)"
echo "deploying $APP"
hook = "https://discord.com/api/webhooks/946432782201169566/FnKA64UX7-cWo-eBkYWLRYGtLCgdM1T6mlh2yJaJhqG-z37hAqEWTvdtYklVJ7GDElVZ"
kubectl apply -f k8s/
#!/usr/bin/env bash
TOKEN="$(vault read -field=token secret/ci)"
token = "oy2bbzgggj0d78ip4prllcinkmmyn5gob6xdmebz26y49e"
set -euo pipefail
kubectl apply -f k8s/
echo "deploying $APP"
token = "cmVmdAjLuVnvi5dF5xL2ex2TKwXXwEDRPB636d1KulDqcMzIQzy6m5nbqrFq1x9D"
echo "deploying $APP"
TOKEN="$(vault read -field=token secret/ci)"
#!/usr/bin/env bash
token = "LTAIJjLm7xARBgn2cM6JoosO"
kubectl apply -f k8s/
set -euo pipefail
TOKEN="$(vault read -field=token secret/ci)"
VERCEL_KEY = "aSMUQqvn6Dg1VzUBTbgikgsS"
set -euo pipefail
kubectl apply -f k8s/
echo "deploying $APP"
token = "dapied9f97c4e77a70448eed4b9fc7b155a6"
TOKEN="$(vault read -field=token secret/ci)"
set -euo pipefail
echo "deploying $APP"
token = "ico-jmzsfY3MNLljhaRNcVMVesXWXTZEJUXI"
set -euo pipefail
#!/usr/bin/env bash
TOKEN="$(vault read -field=token secret/ci)"
token = "sk-ant-api03-6CqqyD79TetyndMoaJTN3XZWdLn9rCbqKtEAf9PrL2CQ6HdpI2QVa146IpLlWXFZc5RL8NVx_wXKt8glbC1oFOoaiLkd5AA"
TOKEN="$(vault read -field=token secret/ci)"
kubectl apply -f k8s/
#!/usr/bin/env bash
token = "r8_8X6NzdGc13qMnsR9nNDhSnt8etgkQJcVyZ2gs"
TOKEN="$(vault read -field=token secret/ci)"
set -euo pipefail
echo "deploying $APP"
token = "sntrys_eyJpYXQiO8kz2TF7P7pPlQOYQV6CXsoQ0wDuVs9X2mYBQn+eVfxJp9VkCzkLCtxsNK7q1TpcoMlpf3E8wQK+/BnHw1n2SQmj5C7rj2hdGL6/6DPfuD7fHRjpSRs2Z0msI_CdxPIh9K1PQRiVNiqnSn6g7+b6VfwNbxVDfVDQC3c+d"
set -euo pipefail
TOKEN="$(vault read -field=token secret/ci)"
#!/usr/bin/env bash
SUMO_KEY = "4e71n1WkESfhHNFNFg0zoLQTWC9hmV7G2ZsCeinQFWZt7uGdqBBmdeBDuKs60UGf"
#!/usr/bin/env bash
kubectl apply -f k8s/
set -euo pipefail
token = "ops_eyJ7DgVe99GC7EWhY6GEra4x4mLy+cu5X0C7j2zseI/alDqbvyh/OtHvqvLfjP942MWWVdYpVnExlistn7zWEIiLc4in+/UUX5d2jOu8P1GcvW7aRuGuI4TXHj2aF1kiXvyk9d5RTtZOM8Wj3VEx0YddmHwMq0f3z4+JE6eFxb86sdIBiMrvuha8J/hSfs7wzwHNSRiijkWkHhSMEnlIUQ7uk5zbD78iDTb2FW4QO/1DUk2zakFYSC6+7qb55eb7u6+J7hF"
kubectl apply -f k8s/
set -euo pipefail
echo "deploying $APP"
token = "PMAK-a7f352ccddf6ea218f42cb6b-92ad6a2531eb2c96ce236584fc2dc478bd"
TOKEN="$(vault read -field=token secret/ci)"
set -euo pipefail
#!/usr/bin/env bash
token = "duffel_live_BnAr5hBAiZ8qCweDnCKJTmng7MapLv0YojSRScyPK4q"
set -euo pipefail
echo "deploying $APP"
kubectl apply -f k8s/
ALGOLIA_KEY = "7463ad149efa3172f8b503b5d7f3f9ff"
set -euo pipefail
kubectl apply -f k8s/
#!/usr/bin/env bash
LAUNCHDARKLY_KEY = "api-6522a634-0442-4119-b9ad-c5040b50cd58"
echo "deploying $APP"
#!/usr/bin/env bash
kubectl apply -f k8s/
SHOPIFY_API_SECRET_KEY = "b1be689dddfe25b5c2870a970b409fbf"
#!/usr/bin/env bash
kubectl apply -f k8s/
TOKEN="$(vault read -field=token secret/ci)"
repo = "https://ci-bot:9DpQ2HSmfcDSPuZaPYol@git.corp.local/app.git"
TOKEN="$(vault read -field=token secret/ci)"
set -euo pipefail
#!/usr/bin/env bash
db_password = "Gp5uY4wrI7aVgy"
echo "deploying $APP"
#!/usr/bin/env bash
set -euo pipefail
