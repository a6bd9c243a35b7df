token = "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"

token = request.headers.get("Authorization")
import logging
AZURE_CLIENT_SECRET="lUS8Q~gIdY5IIecKVHXndYShAqwuN5g7rdnx1i93"

def handler(event, context):

token = "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"
log = logging.getLogger(__name__)
RETRIES = 3
TIMEOUT = 30  # seconds
token = "glft-HFfqYe37DM_kmnFWg33W"
def handler(event, context):
API_URL = "https://api.internal.invalid/v2"
import logging
token = "ATBBQVtPAHMtVPVtq3b2jVePSiuxvrtJaK6A"
RETRIES = 3
password = os.environ.get("DB_PASSWORD")
import logging
token = "xapp-1-AJXHSN4VDW0-5198364096344-6642ccce4b59fc3a145bdbee348c1af75df4dd643ea79db41da942b89e659000"
import os
log = logging.getLogger(__name__)
def handler(event, context):
token = "rk_live_TmJh7CIMAwjtidCEO7VojDCttHLPWqzP"
def handler(event, context):

    return {"status": 200}
PAYPAL_SECRET_KEY = "TvqIkHLJurHND4vO4RdKKGFgdF78Vhp6bFx3UibtmqPhBZ7HSFbYAbPgaxG_j52O0JrGVHOQ1iWrp4zm"
import os


token = "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"
log = logging.getLogger(__name__)
API_URL = "https://api.internal.invalid/v2"

PAGERDUTY_KEY = "u+OC_bYtC7dpDxoU80Bw"

import logging
    return {"status": 200}
//registry.corp.local/:_password=bgQNwYuHeoe2UksahhAubbsb
    return {"status": 200}

token = request.headers.get("Authorization")
token = "dckr_oat_rQzi-vtHlZs4QKyCRXE90Yure2jSC9Aj"
    return {"status": 200}
import os
password = os.environ.get("DB_PASSWORD")
token = "HRKU-AA8I1VzYejleu8qfuK19zg3rimQiNyFT4NdXHYbRXlRrJMrOHvDPnpDMcPUi"
log = logging.getLogger(__name__)
RETRIES = 3
API_URL = "https://api.internal.invalid/v2"
CLOUDFLARE_KEY = "9c58afea3ee0db1b1ced071c59ce26458bf36"

import logging

token = "sbp_f568ec52a8e627ef2ebd2cf9b980fa06b5f8e399"
password = os.environ.get("DB_PASSWORD")
import logging
TIMEOUT = 30  # seconds
TFE_TOKEN=03e1lbayzp3li3.atlasv1.jjmxj09kdssl7ahj3mm23j3x1t0uljrvz52gtjgefnh2c2nhqi9got3guevuilegbdp


import os
token = "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"
import logging
TIMEOUT = 30  # seconds
RETRIES = 3
token = "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"
TIMEOUT = 30  # seconds
def handler(event, context):
token = request.headers.get("Authorization")
insert_key: NRII-yHEn_ZQyPHVekxbI1MGqSYKlni2MK2rc

password = os.environ.get("DB_PASSWORD")
    return {"status": 200}
token = "glc_SvxdP3aG5EOGS6iGtKoOpwqJCTsGEha+YpSDTRQ77msHBTGPCWjz4UkxX35X"
    return {"status": 200}

log = logging.getLogger(__name__)
BUGSNAG_KEY = "52743f23c2e3772ee9d808cac3689264"
import logging
def handler(event, context):
password = os.environ.get("DB_PASSWORD")
curl -H "Authorization: Bearer YZTdZPx9EqbhGLmlv70KmnQWs1SPQ3HYuJ82CEjr" https://api.corp.local
token = request.headers.get("Authorization")


token = "tfp_yYQLPPfQ7a7aRy9lkPuLiTfYnw0UTXUj7eHHecMn7Nz-_zsT1pPSHnbqEEI"

def handler(event, context):
API_URL = "https://api.internal.invalid/v2"
token = "sk.eyJ1j8rx5jGOlmYmHZAIkBbqNOgLCasYcmFKRhNC_WdIvsPGeVX7CqbGVlm_kXOz.yLaztKNkx_4bhZkuWwSOQm"
RETRIES = 3
TIMEOUT = 30  # seconds

ASANA_KEY = "1/1655376344575103:d5201686a5f603d4aa674a61339d4551"
import logging
password = os.environ.get("DB_PASSWORD")

token = "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"
    return {"status": 200}
TIMEOUT = 30  # seconds
token = request.headers.get("Authorization")
SNOWFLAKE_PASSWORD_KEY = "QcRupCwpTbubUn0LyI"
TIMEOUT = 30  # seconds
import os
import logging
DATABASE_URL="mongodb://app:21Lu1XCS1bL3Bd8iHE@db.internal:5432/app"
TIMEOUT = 30  # seconds

API_URL = "https://api.internal.invalid/v2"
