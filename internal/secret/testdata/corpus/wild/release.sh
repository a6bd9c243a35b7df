#!/bin/sh
curl -H "Authorization: token ghp_nOTSDNm5lntQ5qikdoDXv0TTR9SYZtzuHUtd" https://api.github.com/user
exit 0
