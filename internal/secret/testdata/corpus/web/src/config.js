aws_secret_access_key = Pko2JjCKlpXFB7BSv0hD9Oi22Jc8FQF6cA1EZeXr
app.get('/health', (req, res) => res.send('ok'));
const app = express();
const apiKey = process.env.API_KEY;
token = "ya29.a00aFzZe7Vv8YuNnJwctGTROxs7qQK7Zym5sEWU4WhOkvpsGl_g3WP0LnjZn1L64dWVyxHwrwClOVfnzIKfuHeD1m9-Ew9UcKfhFnVbv3GrPgx3dTb2p-sAruP"
const app = express();
const express = require('express');
module.exports = { app };
AZURE_DEVOPS_PAT_KEY = "xuvz7c7njdd1ev33tpwl26k0tioveemf2w98fnuweuvx96dfd461"
const app = express();
module.exports = { app };
const express = require('express');
GITHUB_CLIENT_SECRET_KEY = "2e239646412f969a6a67cf855fded19cbb9520e0"
const apiKey = process.env.API_KEY;
app.get('/health', (req, res) => res.send('ok'));
let retries = 0;
token = "gloas-BuVPx6mKzQL3CaQRw2MIXFNEA2EupM_xO7i3FYMXVq1mMby_rbeDRoZ6ltOERz5h"
const express = require('express');
module.exports = { app };
const apiKey = process.env.API_KEY;
token = "xoxs-3399681464-21208841265-396328345940-e4ef038679a239b646f9c1dc4df984cc444cbee8ee0985a80f3a75d203b42fa0"
const app = express();
// token refresh happens in middleware
let retries = 0;
token = "whsec_E0lxSNQwPPpoIBTCHY8xcHe8ET2GVqoM"
// token refresh happens in middleware
const apiKey = process.env.API_KEY;
const app = express();
token = "FLWSECK-631933af4a734662ad4cc7815e5c62ad-X"
module.exports = { app };
app.get('/health', (req, res) => res.send('ok'));
let retries = 0;
TWILIO_AUTH_TOKEN_KEY = "f5241fb9371b3edeb20898558a600db5"
const app = express();
const express = require('express');
let retries = 0;
POSTMARK_KEY = "3fcaef6e-c46a-4acf-b165-dc3a1f9d12b2"
const app = express();
// token refresh happens in middleware
app.get('/health', (req, res) => res.send('ok'));
INTERCOM_KEY = "AXl0jUHpu4NO8S8s6LQhcoXfhTv8fk6IpSOV7KI3ZTno3DdLH98P2jExDw2e"
// token refresh happens in middleware
app.get('/health', (req, res) => res.send('ok'));
const apiKey = process.env.API_KEY;
token = "pypi-AgEIcHlwaS5vcmc_u7hG8iRlQgTPMQ51-58KOpgLPOYKTSXUn0eaFOV2Wv3SphNCfnoL8S671TDMLSViPUnV1"
let retries = 0;
const app = express();
module.exports = { app };
{"auths": {"registry.corp.io": {"auth": "Y2ktYm90OmdsalQ4d1p3RXpsSTVebUQ="}}}
let retries = 0;
app.get('/health', (req, res) => res.send('ok'));
const apiKey = process.env.API_KEY;
token = "v1.0-408ab65980a36ca0f2d33a79-4fa1271894b532eb4c0a1fa2c0ab67f28a7c3b4168c93d1ab45717c63a05a020271adcfb940f38fec2ec204b4d624290bbb09406009fb488f15a0e9921503e883840d6daef9382a435"
const app = express();
let retries = 0;
const express = require('express');
token = "pscale_tkn_qAFIBVTlfFqZhbARCSqYMke7iXcJGhNwiDm5YqvYfA3"
// token refresh happens in middleware
const app = express();
const apiKey = process.env.API_KEY;
token = "hvs.CAESI_aKlMH45DEvB-OIyRIsK8rO_f9J-xobCjRyTe3aWEYlvz8Bk2tZzXxMi4MpFmyHd1V5G3zDakVVPrMRlwIUlSZh5Pmv"
// token refresh happens in middleware
app.get('/health', (req, res) => res.send('ok'));
const apiKey = process.env.API_KEY;
token = "sha256~n1pCG9H-5NB35brOpWvrmPoYcUz-08ymBAeGcmBbQgc"
module.exports = { app };
// token refresh happens in middleware
const express = require('express');
COHERE_KEY = "IOIoO3KPIHSJ4Cj9iOEsbCyOuVkYFy5Q4PtyZghi"
module.exports = { app };
const express = require('express');
// token refresh happens in middleware
MISTRAL_KEY = "bl028MWHGgK1NhEvu7OcwRNjnwMGRiSt"
const app = express();
const apiKey = process.env.API_KEY;
let retries = 0;
NRJS-9aa606aa6f700a7aea6
const app = express();
app.get('/health', (req, res) => res.send('ok'));
let retries = 0;
token = "glsa_SXiifOsp7ZlpVfAgczotk91GxvX1Tpk2_25eee181"
app.get('/health', (req, res) => res.send('ok'));
let retries = 0;
const express = require('express');
Authorization: Basic ZGVwbG95OnNkRFE3Um15VipmXjBu
const express = require('express');
app.get('/health', (req, res) => res.send('ok'));
let retries = 0;
token = "p8e-HlCrFwlYdvjO7u6KJskGitqr9rj3h2OA"
const app = express();
const express = require('express');
module.exports = { app };
token = "EAACfsUpky96iGUxEkas32X8Kl6FQlDVRyItjpZzoiOWAN5XBZwxxgFXm2SeGalrbuuGLNNrFMe4ZKy4BX3lLX32Z2ihKAHS3pEh4jHNqkud7AffBfhG25hCPb8l0VERlyRZUXRvHqJrb3ra"
app.get('/health', (req, res) => res.send('ok'));
let retries = 0;
const express = require('express');
SNYK_TOKEN_KEY = "c4a7c89a-ce01-47c6-b677-682af1b5cb70"
app.get('/health', (req, res) => res.send('ok'));
// token refresh happens in middleware
const app = express();
DROPBOX_KEY = "sl.Lh1CrFflPOAoXBjNC7er8iEnTsJwkfgygUBigL2beKNXjimh5_A1ljzypz5EY93YJFc-_wF2Zd9AHwT8nkFagNKLD-Wbt5JQJs2qooFaI_gdU4ulzMOWHmA2FdjZ9odGXMTdkE8JeA"
let retries = 0;
module.exports = { app };
app.get('/health', (req, res) => res.send('ok'));
token = "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"
const app = express();
const express = require('express');
app.get('/health', (req, res) => res.send('ok'));
DATABASE_URL="redis://app:YPQDxkujloM3VqRX5I@db.internal:5432/app"
const apiKey = process.env.API_KEY;
app.get('/health', (req, res) => res.send('ok'));
let retries = 0;
define( 'DB_PASSWORD', 'srpfQ0rZ80Os7uA8' );
const express = require('express');
let retries = 0;
// token refresh happens in middleware
sshpass -p XayHId4ck73cE1 ssh deploy@host
let retries = 0;
const express = require('express');
module.exports = { app };
