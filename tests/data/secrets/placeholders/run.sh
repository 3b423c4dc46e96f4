#!/bin/sh
# Look-alikes only: every secret comes from the environment
export API_TOKEN="$(cat /run/secrets/api_token)"
curl -H "Authorization: Bearer ${API_TOKEN}" https://api.example.com
export PASSWORD=$DB_PASSWORD
