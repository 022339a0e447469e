# Wait until an ARM resource finished provisioning after a PUT.
wait_provisioned() {
    local sub=$1 url=$2 state tries=0
    while :; do
        state=$(az_call rest --method get --subscription="$sub" --url="$url" --query="properties.provisioningState" --output tsv)
        case "$state" in
            Succeeded) return 0 ;;
            Failed | Canceled)
                say "    provisioning ended in state $state"
                return 1
                ;;
        esac
        tries=$((tries + 1))
        if [ "$tries" -ge 90 ]; then
            say "    still $state after 15 minutes; stopping"
            return 1
        fi
        sleep 10
    done
}

# Remove one firewall rule (rule collection group or classic firewall) through ARM: GET, check
# the rule still looks as the scan saw it, then PUT the body without it, with If-Match set to
# the ETag of the checked GET, so that any change in between makes Azure refuse the PUT (412).
remove_rule() {
    local sub=$1 url=$2 query=$3 scanned=$4 edit=$5 out etag now count rest
    out=$(az_read rest --method get --subscription="$sub" --url="$url" --query="$query" --output tsv)
    if [ "$out" = "$ABSENT" ]; then
        skip "the resource holding the rule no longer exists"
        return 0
    fi
    etag=${out%%$'\n'*}
    rest=${out#*$'\n'}
    now=${rest%%$'\n'*}
    count=${rest#*$'\n'}
    if [ "$count" = 0 ]; then
        unchanged "the rule is not there any more"
        return 0
    fi
    info "now:  $now"
    if [ "$now" != "$scanned" ]; then
        skip "the rule or its collection changed since the scan, which saw $scanned"
        return 0
    fi
    if [ "$MODE" != apply ]; then
        change rest --method put --subscription="$sub" --url="$url" --headers "If-Match=$etag" "Content-Type=application/json" \
            --body="@<the current body without the rule>" --output none
        return 0
    fi
    az_call rest --method get --subscription="$sub" --url="$url" --query="$edit" --output json >"$WORK/body.json"
    change rest --method put --subscription="$sub" --url="$url" --headers "If-Match=$etag" "Content-Type=application/json" \
        --body="@$WORK/body.json" --output none
    wait_provisioned "$sub" "$url"
}
