#!/usr/bin/env bash
# Renders one of the shipped Nginx sites (config/nginx/) into DIR, ready for
#   nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'
# Only what a test must change differs from the shipped files: the addresses (loopback, the ports
# given), the certificate (a self-signed one for 127.0.0.1, made here with openssl) and, when asked,
# proxy_read_timeout. The site's `include snippets/ssecast-locations.conf;` is kept: Nginx resolves
# it against DIR as it would against /etc/nginx. Used by tests/integration/nginx_test.cpp and
# tests/interop/browser_h2_test.mjs, so that both run the files exactly one way.
#
#   nginx_site.sh --site ssecast.conf|ssecast-tls.conf --dir DIR --upstream PORT --http-port PORT
#                 [--tls-port PORT] [--read-timeout DURATION]
set -euo pipefail

fail() { echo "nginx_site.sh: $*" >&2; exit 1; }

config=$(cd "$(dirname "$0")/../../config/nginx" && pwd)
site= dir= upstream= http_port= tls_port= read_timeout=
while (($#)); do
    (($# >= 2)) || fail "$1 needs a value"
    case $1 in
        --site) site=$2 ;;
        --dir) dir=$2 ;;
        --upstream) upstream=$2 ;;
        --http-port) http_port=$2 ;;
        --tls-port) tls_port=$2 ;;
        --read-timeout) read_timeout=$2 ;;
        *) fail "unknown option $1" ;;
    esac
    shift 2
done
[ -n "$site" ] && [ -n "$dir" ] && [ -n "$upstream" ] && [ -n "$http_port" ] ||
    fail "--site, --dir, --upstream and --http-port are required"
[ -f "$config/$site" ] || fail "no such site: $config/$site"
[ -d "$dir" ] || fail "no such directory: $dir"

# replace VAR FROM FILE TO: every FROM in the text held by VAR; a FROM that is not there is an error
# (the shipped file changed: the test must follow it, not silently run something else).
replace() {
    local -n replace_in=$1
    [[ $replace_in == *"$2"* ]] || fail "$3 has no \"$2\""
    replace_in=${replace_in//"$2"/"$4"}
}

locations=$(<"$config/ssecast-locations.conf")
if [ -n "$read_timeout" ]; then
    replace locations "proxy_read_timeout 1h;" ssecast-locations.conf "proxy_read_timeout $read_timeout;"
fi
text=$(<"$config/$site")
replace text "server 127.0.0.1:8080;" "$site" "server 127.0.0.1:$upstream;"
replace text "listen 80;" "$site" "listen 127.0.0.1:$http_port;"
if [ -n "$tls_port" ]; then
    replace text "listen 443 ssl http2;" "$site" "listen 127.0.0.1:$tls_port ssl http2;"
    # The redirect names the HTTPS port, as it is not the default one here.
    replace text 'return 301 https://$host$request_uri;' "$site" "return 301 https://\$host:$tls_port\$request_uri;"
    replace text /etc/letsencrypt/live/example.com/fullchain.pem "$site" "$dir/cert.pem"
    replace text /etc/letsencrypt/live/example.com/privkey.pem "$site" "$dir/key.pem"
    command -v openssl >/dev/null || fail "openssl is not installed: run scripts/install-test-deps.sh"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>"$dir/openssl.log" ||
        fail "openssl could not make the certificate: $(cat "$dir/openssl.log")"
fi

# Nginx's workers run as nobody when it is started as root: they must reach the directory.
chmod 755 "$dir"
mkdir -p "$dir/snippets"
printf '%s\n' "$locations" >"$dir/snippets/ssecast-locations.conf"
printf '%s\n' "$text" >"$dir/site.conf"
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  include $dir/site.conf;
}
CONF
