#!/usr/bin/env bash
# Configures Vault so that External Secrets can read app secrets: the KV v2 engine at
# `secret/`, the kubernetes auth method at `kubernetes/`, the platform's policy `eso-policy` and
# role `external-secrets-role` bound to service account `external-secrets` in namespace `external-secrets`,
# and for each team with secrets a policy and a role `team-<team>` that read that team's
# paths only, bound to service account `vault-secrets` in that team's namespaces.
# Roles and policies of teams no longer declared are deleted.
#
# Rendered by `cargo xtask render` from the environment's `secrets` settings, the same that
# render the ClusterSecretStore; edit those, not this file.
#
# Usage: VAULT_ADDR=... VAULT_TOKEN=... ./setup.sh [--dry-run]
#   (or VAULT_TOKEN_FILE=<file holding the token> instead of VAULT_TOKEN)
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
policy_dir="${POLICY_DIR:-${script_dir}}"
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

# The keys under a Vault path, one per line; none in a dry run, or where there are none.
keys_under() {
  if [ "${dry_run}" = false ]; then
    vault list -format=json "$1" 2>/dev/null | tr -d '[]", ' | grep -v '^$' || true
  fi
}

# A token mounted as a file (the hook's) rather than passed in the environment.
if [ -z "${VAULT_TOKEN:-}" ] && [ -n "${VAULT_TOKEN_FILE:-}" ]; then
  VAULT_TOKEN="$(cat "${VAULT_TOKEN_FILE}")"
  export VAULT_TOKEN
fi

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

run vault policy write "eso-policy" "${policy_dir}/eso-policy.hcl"

run vault write "auth/kubernetes/role/external-secrets-role" \
  bound_service_account_names="external-secrets" \
  bound_service_account_namespaces="external-secrets" \
  policies="eso-policy" \
  ttl="1h"

run vault policy write "team-finops" "${policy_dir}/team-finops.hcl"

run vault write "auth/kubernetes/role/team-finops" \
  bound_service_account_names="vault-secrets" \
  bound_service_account_namespaces="finops-app" \
  policies="team-finops" \
  ttl="1h"

# A role left behind by a removed team would still admit its namespaces, which another team
# may be given next: delete every `team-*` role and policy no team declares.
declared=" team-finops "
prune() {
  for name in $(keys_under "$1"); do
    case "${name}" in
      team-*)
        case "${declared}" in
          *" ${name} "*) ;;
          *) "$2" "${name}" ;;
        esac
        ;;
    esac
  done
}
delete_role() { run vault delete "auth/kubernetes/role/$1"; }
delete_policy() { run vault policy delete "$1"; }
prune "auth/kubernetes/role" delete_role
prune "sys/policies/acl" delete_policy
