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
