# Vault policy `eso-policy`: what External Secrets may do. Rendered by `cargo xtask render`
# from the environment's `secrets` settings; edit those, not this file.
# Everything under the KV v2 mount `secret`, and no more than ESO uses: it reads a
# secret's data, and reads and lists metadata to find secrets. Nothing here may write,
# delete or destroy a version, or touch the mount's configuration (`secret/config`).
path "secret/data/*" {
  capabilities = ["read"]
}
path "secret/metadata/*" {
  capabilities = ["read", "list"]
}

# Paths that belong to a team: only that team's policy (`team-<team>`) reads them. An exact
# path is more specific than the globs above, and `deny` wins over every other policy.
path "secret/data/finops-db-creds" {
  capabilities = ["deny"]
}
path "secret/metadata/finops-db-creds" {
  capabilities = ["deny"]
}
