# keyguard audit --live: read the Vault configuration the policies judge. Reads and lists only:
# never a write, never <mount>/creds (which would issue credentials).

# Secrets and auth mounts with their TTLs (one read each for every mount).
path "sys/mounts" {
  capabilities = ["read"]
}
path "sys/auth" {
  capabilities = ["read"]
}

# The AWS secrets engine's roles.
path "${AwsMount}/roles" {
  capabilities = ["list"]
}
path "${AwsMount}/roles/+" {
  capabilities = ["read"]
}

# ACL policies.
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/+" {
  capabilities = ["read"]
}

# AppRole roles.
path "auth/${AppRoleMount}/role" {
  capabilities = ["list"]
}
path "auth/${AppRoleMount}/role/+" {
  capabilities = ["read"]
}
