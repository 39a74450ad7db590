# Vault policy `team-finops`: the secrets of team finops's apps, and nothing else.
# Rendered by `cargo xtask render` from the `secrets` of the team's apps; edit those, not this
# file. ESO reads a secret's data through the team's store; it needs no metadata or listing.
path "secret/data/finops-db-creds" {
  capabilities = ["read"]
}
