# Vault policy `eso-policy`: what External Secrets may do. Rendered by `cargo xtask render`
# from the environment's `secrets` settings; edit those, not this file.
# Read and list everything under the KV v2 mount `secret` (data and metadata paths).
path "secret/*" {
  capabilities = ["read", "list"]
}
