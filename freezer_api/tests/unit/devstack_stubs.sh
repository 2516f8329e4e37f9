#!/bin/bash
# Stand-ins for the devstack functions the freezer-api plugin calls, for
# freezer_api/tests/unit/test_devstack.py. Each records its call, with
# its arguments shell-quoted, as one line of $STUB_LOG. iniset writes the
# ini file for real (with $STUB_PYTHON's configparser), and the uWSGI and
# keystonemiddleware helpers write what devstack's would, so the test can
# read the files the plugin leaves. Nothing here needs root or a network.
#
# Environment: STUB_LOG, STUB_BIN (get_python_exec_prefix),
# STUB_PYTHON, STUB_APACHE_DIR and STUB_SOCKET_DIR (where the uWSGI
# helpers put Apache sites and sockets), STUB_DB_URL (a database URL with
# "%s" for the database name), STUB_CURL_FAILURES (how many health checks
# fail before one succeeds), ENABLED_SERVICES, DISABLED_SERVICES.

function _stub_call {
    printf '%q ' "$@" >>"$STUB_LOG"
    echo >>"$STUB_LOG"
}

# Set one option of an ini file, creating the file and section as needed.
function _stub_ini_set {
    "$STUB_PYTHON" - "$@" <<'PY'
import configparser
import sys

path, section, option, value = sys.argv[1:]
parser = configparser.RawConfigParser()
parser.optionxform = str
parser.read(path)
if section != 'DEFAULT' and not parser.has_section(section):
    parser.add_section(section)
parser.set(section, option, value)
with open(path, 'w') as f:
    parser.write(f)
PY
}

# Services: what enable_service and disable_service in devstack do with
# the two lists, not recorded (they are questions, not actions).
function is_service_enabled {
    local service
    for service in "$@"; do
        [[ ,$ENABLED_SERVICES, == *,$service,* ]] && return 0
    done
    return 1
}

function enable_service {
    local service
    for service in "$@"; do
        [[ ,$DISABLED_SERVICES, == *,$service,* ]] && continue
        is_service_enabled $service || ENABLED_SERVICES+=,$service
    done
}

function iniset {
    _stub_call iniset "$@"
    if [[ $1 == -sudo ]]; then
        shift
    fi
    _stub_ini_set "$@"
}

# Like devstack's: a module path or, deprecated, a WSGI script; an HTTP
# address, or a socket that an Apache site proxies $url to.
function write_uwsgi_config {
    _stub_call write_uwsgi_config "$@"
    local conf=$1 wsgi=$2 url=$3 http=$4 name=$5
    rm -f $conf
    if [[ $wsgi =~ ^[a-zA-Z0-9_.]+:[a-zA-Z0-9_]+$ ]]; then
        _stub_ini_set $conf uwsgi module $wsgi
    else
        _stub_ini_set $conf uwsgi wsgi-file $wsgi
    fi
    _stub_ini_set $conf uwsgi processes $API_WORKERS
    _stub_ini_set $conf uwsgi master true
    _stub_ini_set $conf uwsgi die-on-term true
    _stub_ini_set $conf uwsgi enable-threads true
    _stub_ini_set $conf uwsgi buffer-size 65535
    if [[ -n $http ]]; then
        _stub_ini_set $conf uwsgi http $http
    else
        mkdir -p $STUB_SOCKET_DIR
        _stub_ini_set $conf uwsgi socket $STUB_SOCKET_DIR/$name.socket
        _stub_ini_set $conf uwsgi chmod-socket 666
        mkdir -p $STUB_APACHE_DIR
        echo "ProxyPass \"$url\" \"unix:$STUB_SOCKET_DIR/$name.socket|uwsgi://uwsgi-uds-$name\" retry=0" \
            >$STUB_APACHE_DIR/$name.conf
    fi
}

function remove_uwsgi_config {
    _stub_call remove_uwsgi_config "$@"
    rm -f $1 $STUB_APACHE_DIR/$2.conf
}

# Like devstack's, for the password auth of a service user.
function configure_keystone_authtoken_middleware {
    _stub_call configure_keystone_authtoken_middleware "$@"
    local conf=$1 user=$2 section=${3:-keystone_authtoken}
    _stub_ini_set $conf $section auth_type password
    _stub_ini_set $conf $section auth_url $KEYSTONE_SERVICE_URI
    _stub_ini_set $conf $section username $user
    _stub_ini_set $conf $section password $SERVICE_PASSWORD
    _stub_ini_set $conf $section user_domain_name Default
    _stub_ini_set $conf $section project_name service
    _stub_ini_set $conf $section project_domain_name Default
}

function database_connection_url {
    _stub_call database_connection_url "$@"
    printf "$STUB_DB_URL\n" $1
}

function get_python_exec_prefix {
    _stub_call get_python_exec_prefix "$@"
    echo $STUB_BIN
}

# The health check: fails $STUB_CURL_FAILURES times, then succeeds.
function curl {
    _stub_call curl "$@"
    local failed
    failed=$(grep -c '^curl ' $STUB_LOG)
    [[ $failed -gt ${STUB_CURL_FAILURES:-0} ]]
}

# The command, as the current user.
function sudo {
    _stub_call sudo "$@"
    "$@"
}

function die {
    _stub_call die "$@"
    exit 1
}

function _stub_record_only {
    local name
    for name in "$@"; do
        eval "function $name { _stub_call $name \"\$@\"; }"
    done
}

_stub_record_only echo_summary setup_develop recreate_database \
    create_service_user get_or_create_service get_or_create_endpoint \
    run_process stop_process restart_apache_server enable_apache_site \
    disable_apache_site
