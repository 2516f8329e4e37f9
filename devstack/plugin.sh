#!/bin/bash
# devstack plugin entry point for freezer-api: devstack sources this file
# with the phase ("stack install", "stack post-config", "stack extra",
# "unstack", "clean") as arguments, after sourcing devstack/settings.

_XTRACE_FREEZER_API_PLUGIN=$(set +o | grep xtrace)
set -o xtrace

source $(dirname ${BASH_SOURCE[0]})/lib/freezer-api

if is_service_enabled freezer-api; then
    FREEZER_API_BIN_DIR=$(get_python_exec_prefix)

    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing freezer-api"
        install_freezer_api
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring freezer-api"
        configure_freezer_api
        create_freezer_api_accounts
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Initializing and starting freezer-api"
        init_freezer_api
        start_freezer_api
    fi

    if [[ "$1" == "unstack" ]]; then
        echo_summary "Stopping freezer-api"
        stop_freezer_api
    fi

    if [[ "$1" == "clean" ]]; then
        echo_summary "Cleaning up freezer-api"
        cleanup_freezer_api
    fi
fi

$_XTRACE_FREEZER_API_PLUGIN
