#!/usr/bin/env bash
# Quick start: install what the build needs, fetch a GeoIP country database, build Sen and run
# `sen serve --demo` (a simulated province) with the console on http://127.0.0.1:8080.
# Extra arguments are passed to `sen serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

. deploy/lib.sh
ensure_tools cc:build-essential pkg-config:pkg-config npm:npm

# GeoIP country database: ip-location-db geo-whois-asn-country (CC BY 4.0, data by the NRO),
# from the npm registry. Attribution: deploy/geoip/NOTICE.
mkdir -p data/geoip
if [ ! -f data/geoip/geo-whois-asn-country.mmdb ]; then
  (
    cd data/geoip
    npm pack --silent @ip-location-db/geo-whois-asn-country-mmdb >/dev/null
    tar xzf ip-location-db-geo-whois-asn-country-mmdb-*.tgz --strip-components=1 \
      package/geo-whois-asn-country.mmdb package/NRO_LICENSE
    rm -f ip-location-db-geo-whois-asn-country-mmdb-*.tgz
  )
fi

cargo build --release --locked --bin sen
exec ./target/release/sen serve --demo --config deploy/demo.toml "$@"
