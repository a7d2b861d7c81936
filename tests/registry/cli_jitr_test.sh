#!/bin/sh
# The just-in-time registration walk-through through the CLI:
# make-ca → registration-code → verification certificate → register-ca →
# device → authenticate (PENDING_ACTIVATION + event) → update-cert → accepted
# → revoke → rejected; a wrong verification certificate is refused.
# Usage: cli_jitr_test.sh path/to/iotblocks
set -eu
cli=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

"$cli" x509 make-ca --out ca --cn "Acme Devices CA" --key p256 >/dev/null
code=$("$cli" x509 registration-code | field registrationCode)
[ ${#code} -eq 64 ] || fail "registration code '$code'"
[ "$("$cli" x509 registration-code | field registrationCode)" = "$code" ] || fail "code changed"

"$cli" x509 make-cert --ca ca.pem --ca-key ca.key --out wrong --cn not-the-code >/dev/null
set +e
"$cli" x509 register-ca --ca ca.pem --verification wrong.pem 2>err.txt
status=$?
set -e
[ $status -eq 3 ] || fail "wrong verification certificate: exit $status"
grep -q "registration code" err.txt || fail "wrong verification certificate: $(cat err.txt)"

"$cli" x509 make-cert --ca ca.pem --ca-key ca.key --out verification --cn "$code" >/dev/null
ca_id=$("$cli" x509 register-ca --ca ca.pem --verification verification.pem | field certificateId)
"$cli" x509 update-ca --id "$ca_id" --status ACTIVE --auto-registration ENABLE | grep -q '"autoRegistrationStatus":"ENABLE"' \
  || fail "update-ca"

"$cli" x509 make-cert --ca ca.pem --ca-key ca.key --out device --cn device-1 --client-auth >/dev/null
cat device.pem ca.pem >chain.pem
set +e
out=$("$cli" x509 authenticate chain.pem 2>/dev/null)
status=$?
set -e
[ $status -eq 1 ] || fail "first connection: exit $status"
echo "$out" | grep -q '"status":"PENDING_ACTIVATION"' || fail "not pending: $out"
echo "$out" | grep -q "\"topic\":\"\$aws/events/certificates/registered/$ca_id\"" || fail "no event: $out"
id=$(echo "$out" | field certificateId)

"$cli" x509 update-cert --id "$id" --status ACTIVE >/dev/null
"$cli" x509 authenticate chain.pem | grep -q '"accepted":true' || fail "not accepted after activation"
"$cli" x509 list --ca "$ca_id" | grep -q "$id" || fail "list by CA"
"$cli" x509 verify chain.pem --trust ca.pem --purpose client | grep -q '"valid":true' || fail "verify"

"$cli" x509 update-cert --id "$id" --status REVOKED >/dev/null
set +e
"$cli" x509 authenticate chain.pem >out.txt 2>/dev/null
status=$?
set -e
[ $status -eq 1 ] || fail "revoked certificate accepted"
grep -q '"status":"REVOKED"' out.txt || fail "revoked: $(cat out.txt)"
echo "cli JITR walk-through: ok"
