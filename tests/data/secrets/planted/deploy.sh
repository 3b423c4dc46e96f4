#!/bin/sh
# FAKE credentials generated for psr-engine tests: random values, never real ones
export VAULT_TOKEN=s.kcW5pEJpNGNvV0s7BabZ0sIC
export NPM_TOKEN="npm_UdOSXap8CJ0Kn6q4MlgEzo0w5wFceqT9vztB"
curl -H "Authorization: token ghs_8weQhgkCstSuXDBYZtbqvkq3yxmVSiNe4y2o" https://api.github.com/user
psql postgres://admin:Bni5DFJUH3a3@10.0.0.5/prod
export API_TOKEN=43u7PYtIMsIFe3jBy4mL1DTwUWmJ8B
