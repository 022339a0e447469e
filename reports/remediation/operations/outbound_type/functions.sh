# Move a cluster to outbound type userDefinedRouting, once every one of its subnets still uses the
# route table, with the routes, that the scan saw sending all Internet traffic to a firewall.
# After the first three arguments: per subnet, its subscription, resource group, VNet and name,
# then its route table's resource group, name and id, and that table's routes as scanned.
set_outbound_udr() {
    local sub=$1 rg=$2 cluster=$3 scanned=$4 now table routes
    shift 4
    now=$(az_read aks show --subscription="$sub" --resource-group="$rg" --name="$cluster" --query=networkProfile.outboundType --output tsv)
    info "now:  outbound type $now"
    if [ "$now" = "$ABSENT" ]; then
        skip "the cluster no longer exists"
        return 0
    elif [ "$now" = userDefinedRouting ]; then
        unchanged "the cluster already uses userDefinedRouting"
        return 0
    elif [ "$now" != "$scanned" ]; then
        skip "the outbound type changed since the scan, which saw $scanned"
        return 0
    fi
    while [ "$#" -ge 8 ]; do
        table=$(az_read network vnet subnet show --subscription="$1" --resource-group="$2" --vnet-name="$3" \
            --name="$4" --query="routeTable.id || ''" --output tsv)
        if [ "$table" = "$ABSENT" ] || ! same_id "$table" "$7"; then
            skip "subnet $4 no longer uses route table $6 (now: '$table')"
            return 0
        fi
        routes=$(az_read network route-table show --subscription="$1" --resource-group="$5" --name="$6" \
            --query="$ROUTES_STATE" --output tsv)
        if [ "$routes" != "$8" ]; then
            skip "route table $6 changed since the scan, which saw $8"
            return 0
        fi
        shift 8
    done
    change aks update --subscription="$sub" --resource-group="$rg" --name="$cluster" --outbound-type userDefinedRouting --output none
}
