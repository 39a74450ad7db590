#!/usr/bin/env bash
# Configures Vault so that External Secrets can read app secrets: the KV v2 engine at
# `secret/`, the kubernetes auth method at `kubernetes/`, the policy `eso-policy` and the
# role `external-secrets-role` bound to service account `external-secrets` in namespace `external-secrets`.
#
# Rendered by `cargo xtask render` from the environment's `secrets` settings, the same that
# render the ClusterSecretStore; edit those, not this file.
#
# Usage: VAULT_ADDR=... VAULT_TOKEN=... ./setup.sh [--dry-run]
#   --dry-run  print the commands instead of running them (no Vault needed)
# Idempotent: run it again at any time. It never prints the token or a secret value.
# KUBERNETES_HOST overrides the API server URL Vault uses to review tokens; inside a pod it
# defaults to the in-cluster address.
set -euo pipefail

dry_run=false
case "${1:-}" in
  --dry-run) dry_run=true ;;
  "") ;;
  *)
    echo "usage: $0 [--dry-run]" >&2
    exit 2
    ;;
esac

# POSIX apart from pipefail, so the vault image's busybox sh runs it too.
script_dir="$(cd "$(dirname "$0")" && pwd)"
policy_file="${POLICY_FILE:-${script_dir}/eso-policy.hcl}"
kubernetes_host="${KUBERNETES_HOST:-https://${KUBERNETES_SERVICE_HOST:-kubernetes.default.svc}:${KUBERNETES_SERVICE_PORT:-443}}"

run() {
  if [ "${dry_run}" = true ]; then
    printf '%s\n' "$*"
  else
    "$@"
  fi
}

# Whether the listing (secrets or auth methods) has a mount at the given path. A dry run
# assumes nothing is there, so it always prints every command.
mounted() {
  [ "${dry_run}" = false ] && vault "$1" list -format=json | grep -q "\"$2/\""
}

if [ "${dry_run}" = false ]; then
  : "${VAULT_ADDR:?set VAULT_ADDR to the address of Vault, e.g. http://127.0.0.1:8200}"
  : "${VAULT_TOKEN:?set VAULT_TOKEN to a token allowed to configure Vault}"
  # Vault may still be starting: wait up to two minutes for it to answer unsealed.
  for attempt in $(seq 1 24); do
    if vault status >/dev/null 2>&1; then
      break
    fi
    if [ "${attempt}" -eq 24 ]; then
      echo "Vault at ${VAULT_ADDR} is not reachable or sealed" >&2
      exit 1
    fi
    sleep 5
  done
fi

if ! mounted secrets "secret"; then
  run vault secrets enable -path="secret" -version=2 kv
fi

if ! mounted auth "kubernetes"; then
  run vault auth enable -path="kubernetes" kubernetes
fi

run vault write "auth/kubernetes/config" kubernetes_host="${kubernetes_host}"

run vault policy write "eso-policy" "${policy_file}"

run vault write "auth/kubernetes/role/external-secrets-role" \
  bound_service_account_names="external-secrets" \
  bound_service_account_namespaces="external-secrets" \
  policies="eso-policy" \
  ttl="1h"
