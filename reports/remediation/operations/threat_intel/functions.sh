# Turn threat intelligence on (Alert) for a firewall policy or classic firewall whose own mode is
# still the one the scan saw ('' when unset, i.e. inherited from its base policy).
set_threat_intel() {
    local sub=$1 id=$2 scanned=$3 now
    now=$(az_read resource show --subscription="$sub" --ids="$id" --query="properties.threatIntelMode || ''" --output tsv)
    info "now:  threat intelligence mode '${now}'"
    if [ "$now" = "$ABSENT" ]; then
        skip "the resource no longer exists"
    elif [ "$(lower "$now")" = alert ] || [ "$(lower "$now")" = deny ]; then
        unchanged "threat intelligence is already $now"
    elif [ "$now" != "$scanned" ]; then
        skip "the mode changed since the scan, which saw '$scanned'"
    else
        change resource update --subscription="$sub" --ids="$id" --set properties.threatIntelMode=Alert --output none
    fi
}
