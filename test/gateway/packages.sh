# Debian 12 packages the gateway client suites (test/gateway/run.sh) need.
# Source this file and call kgw_install_packages as root:
#
#   source test/gateway/packages.sh && kgw_install_packages
#
#   python3-boto3, python3-botocore  boto3 1.26 / botocore 1.29 (test_boto3.py, test_cbor.py, load.py)
#   python3-cbor2                    the CBOR suite (test_cbor.py)
#   awscli                           AWS CLI 2.9 as /usr/bin/aws (test_awscli.sh)
#   postgresql-client                psql, for the harness's roles and access keys
#   procps                           ps/kill for the harness
#   nodejs, npm                      only when no node and npm are on PATH: the image's
#                                    nodesource nodejs 20 bundles npm, and Debian's npm
#                                    package conflicts with it.  Debian 12's nodejs is 18;
#                                    @aws-sdk/client-kinesis asks for node >= 20 (it warns
#                                    and works on 18).
# The JavaScript SDK itself comes from the npm registry: run.sh runs `npm ci` in
# test/gateway/sdk_js (package-lock.json) when node_modules is missing.

kgw_install_packages() {
	local pkgs=(python3 python3-boto3 python3-botocore python3-cbor2 awscli postgresql-client procps ca-certificates)
	if ! command -v node >/dev/null 2>&1; then
		pkgs+=(nodejs)
	fi
	if ! command -v npm >/dev/null 2>&1; then
		pkgs+=(npm)
	fi
	local missing=()
	local p
	for p in "${pkgs[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	echo "kgw_install_packages: installing ${missing[*]}"
	if [ -z "${KGW_APT_UPDATED:-}" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
		KGW_APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
