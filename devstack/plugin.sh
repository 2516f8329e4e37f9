#!/bin/bash
# devstack plugin entry point for freezer-api.

source $DEST/freezer-api/devstack/lib/freezer-api

FREEZER_API_BIN_DIR=$(get_python_exec_prefix)

if is_service_enabled freezer-api; then
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
        stop_freezer_api
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_freezer_api
    fi
fi
